"""/api/v1/me/: a volunteer's own profile; and a volunteer who leaves is signed out at once."""

import json

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from community.models import Area
from messaging import backends
from tests.accounts.test_sms_sign_in import PartnerApp, texted_code
from tests.api.conftest import problem_of
from tests.factories import (
    AppVolunteerUserFactory,
    UserFactory,
    VolunteerFactory,
    focus,
    language,
)
from tests.messaging.conftest import queue  # noqa: F401 (fixture)
from volunteers import services
from volunteers.models import Volunteer

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
PHONE = "+447700900123"
PROFILE_FIELDS = {
    "id",
    "preferred_name",
    "full_name",
    "phone",
    "email",
    "area",
    "travel_radius_km",
    "meets_in_person",
    "meets_by_phone",
    "meets_by_video",
    "languages",
    "focuses",
    "wellbeing_opt_in",
    "status",
    "training_state",
}


@pytest.fixture
def aileen(db):
    volunteer = VolunteerFactory(
        preferred_name="Aileen",
        full_name="Aileen Docherty",
        phone=PHONE,
        email="aileen@example.org",
        notes="Prefers mornings.",
        user=AppVolunteerUserFactory(phone=PHONE),
    )
    volunteer.languages.set([language("en")])
    return volunteer


@pytest.fixture
def app(aileen):
    client = APIClient()
    client.force_login(aileen.user)
    return client


def saved(volunteer):
    return Volunteer.objects.get(pk=volunteer.pk)


def test_the_profile_shows_what_the_office_knows_and_no_office_notes(app, aileen):
    response = app.get(ME)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PROFILE_FIELDS
    assert body["id"] == aileen.pk
    assert body["preferred_name"] == "Aileen"
    assert body["phone"] == PHONE
    assert body["email"] == "aileen@example.org"
    assert body["area"] == aileen.area.slug
    assert body["languages"] == ["en"]
    assert body["status"] == "active"
    assert body["training_state"] in {"complete", "expiring", "lapsed"}
    assert "Prefers mornings" not in response.content.decode()


def test_no_email_on_record_is_null_not_an_empty_string(app, aileen):
    """An empty string is no email address: the schema says `format: email`."""
    Volunteer.objects.filter(pk=aileen.pk).update(email="")

    read = app.get(ME)
    sent_back = app.patch(ME, {"email": None, "travel_radius_km": 12}, format="json")

    assert read.status_code == 200 and read.json()["email"] is None
    assert sent_back.status_code == 200, sent_back.content
    assert sent_back.json()["email"] is None
    assert saved(aileen).email == "" and saved(aileen).travel_radius_km == 12


def test_a_volunteer_changes_what_is_theirs_through_the_service(app, aileen):
    area = Area.objects.exclude(pk=aileen.area_id).first()

    response = app.patch(
        ME,
        {
            "preferred_name": "Ailie",
            "area": area.slug.upper(),
            "travel_radius_km": 25,
            "meets_by_video": True,
            "languages": ["en", "gd"],
            "focuses": ["alcohol"],
            "wellbeing_opt_in": True,
        },
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["preferred_name"] == "Ailie" and body["area"] == area.slug
    assert sorted(body["languages"]) == ["en", "gd"] and body["focuses"] == ["alcohol"]
    volunteer = saved(aileen)
    assert volunteer.preferred_name == "Ailie"
    assert volunteer.area == area
    assert volunteer.travel_radius_km == 25
    assert volunteer.meets_by_video is True
    assert volunteer.wellbeing_opt_in is True
    assert set(volunteer.languages.all()) == {language("en"), language("gd")}
    assert list(volunteer.focuses.all()) == [focus("alcohol")]
    assert app.get(ME).json() == body


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("phone", "07700 900999", "phone number"),
        ("phone", None, "phone number"),
        ("phone", "not a number", "phone number"),
        ("email", "someone@example.org", "email address"),
        ("email", 7, "email address"),
    ],
)
def test_a_change_to_phone_or_email_is_a_400_saying_the_office_keeps_it(
    app, aileen, settings, field, value, words
):
    settings.OFFICE_PHONE = "01236 555000"

    response = app.patch(ME, {field: value, "preferred_name": "Ailie"})

    assert response.status_code == 400
    [message] = problem_of(response)["errors"][field]
    assert f"The office keeps your {words}" in message
    assert "01236 555000" in message
    volunteer = saved(aileen)
    assert volunteer.preferred_name == "Aileen"
    assert volunteer.phone == PHONE
    assert volunteer.email == "aileen@example.org"


def test_sending_back_the_same_phone_and_email_is_no_change(app, aileen):
    response = app.patch(
        ME, {"phone": "07700 900123", "email": "Aileen@example.org", "travel_radius_km": 12}
    )

    assert response.status_code == 200, response.content
    assert saved(aileen).travel_radius_km == 12


@pytest.mark.parametrize(
    "body, field",
    [
        ({"preferred_name": "Ai\u202eleen"}, "preferred_name"),
        ({"preferred_name": "\ud800"}, "non_field_errors"),  # refused by the parser
        ({"preferred_name": ""}, "preferred_name"),
        ({"preferred_name": "A" * 500}, "preferred_name"),
        ({"area": "atlantis"}, "area"),
        ({"area": "%s%(x)s"}, "area"),
        ({"languages": ["en", "xx"]}, "languages"),
        ({"focuses": "alcohol"}, "focuses"),
        ({"travel_radius_km": "10"}, "travel_radius_km"),
        ({"travel_radius_km": -3}, "travel_radius_km"),
        ({"wellbeing_opt_in": "yes"}, "wellbeing_opt_in"),
        ({"notes": "I am the coordinator now"}, "notes"),
        ({"max_active_matches": 9}, "max_active_matches"),
        ({"sms_consent": False}, "sms_consent"),
    ],
)
def test_bad_or_hostile_changes_are_a_400_and_nothing_is_saved(app, aileen, body, field):
    before = app.get(ME).json()

    body = body if field == "travel_radius_km" else {**body, "travel_radius_km": 30}

    # json.dumps writes a lone surrogate as the escape \ud800, as a client's JSON would.
    response = app.generic("PATCH", ME, json.dumps(body), "application/json")

    assert response.status_code == 400, response.content
    assert field in problem_of(response)["errors"]
    assert app.get(ME).json() == before


def test_read_only_fields_sent_back_change_nothing(app, aileen):
    response = app.patch(ME, {"status": "left", "full_name": "Someone Else"})

    assert response.status_code == 200
    volunteer = saved(aileen)
    assert volunteer.status == Volunteer.Status.ACTIVE
    assert volunteer.full_name == "Aileen Docherty"


def test_the_profile_is_read_and_patched_never_replaced_or_deleted(app):
    assert app.put(ME, {"preferred_name": "X"}).status_code == 405
    assert app.delete(ME).status_code == 405


def test_anonymous_is_401_and_an_account_without_a_volunteer_403(db, coordinator):
    assert APIClient().get(ME).status_code == 401
    office = APIClient()
    office.force_login(coordinator)
    refused = office.patch(ME, {"preferred_name": "X"})
    assert refused.status_code == 403
    assert problem_of(refused)["code"] == "not_a_volunteer"


def test_a_volunteer_who_left_is_refused_with_403(app, aileen):
    Volunteer.objects.filter(pk=aileen.pk).update(status=Volunteer.Status.LEFT)

    refused = app.get(ME)

    assert refused.status_code == 403
    assert problem_of(refused)["code"] == "volunteer_left"


# Leaving ends every app session ------------------------------------------------------------


@pytest.fixture
def new_app(django_capture_on_commit_callbacks, queue):  # noqa: F811
    return lambda: PartnerApp(django_capture_on_commit_callbacks)


def signed_in(new_app, phone=PHONE):
    app = new_app()
    before = len(backends.outbox)
    app.request_code(phone)
    assert len(backends.outbox) == before + 1, "no sign-in code was texted"
    assert app.confirm(texted_code(backends.outbox[-1])).status_code == 200
    return app


def test_leaving_ends_every_app_session_and_sign_in_until_they_come_back(new_app, aileen):
    phone, tablet = signed_in(new_app), signed_in(new_app)
    assert phone.get(ME).status_code == 200 and tablet.get(ME).status_code == 200

    services.change_volunteer_status(volunteer=aileen, to=Volunteer.Status.LEFT, note="Moved.")

    for app in (phone, tablet):
        refused = app.get(ME)
        assert refused.status_code == 401, refused.content
        assert problem_of(refused)["code"] == "token_invalid"  # the session has ended
        assert app.get("/_allauth/app/v1/auth/session").status_code == 401
    texts = len(backends.outbox)
    asked = new_app()
    asked.request_code(PHONE)
    assert len(backends.outbox) == texts  # no code for a volunteer who left

    services.change_volunteer_status(volunteer=aileen, to=Volunteer.Status.APPLICANT)

    assert phone.get(ME).status_code == 401  # the old sessions stay ended
    cache.clear()  # past the three sign-in codes a phone may ask for a minute
    back = signed_in(new_app)
    assert back.get(ME).json()["status"] == "applicant"


def test_other_status_changes_keep_the_volunteer_signed_in(new_app, aileen):
    app = signed_in(new_app)

    services.change_volunteer_status(volunteer=aileen, to=Volunteer.Status.PAUSED)

    assert app.get(ME).status_code == 200


def test_a_coordinator_whose_own_volunteer_record_closes_keeps_their_office_sign_in(db):
    office_user = UserFactory(is_staff=True)
    volunteer = VolunteerFactory(user=office_user)
    client = APIClient()
    client.force_login(office_user)

    services.change_volunteer_status(volunteer=volunteer, to=Volunteer.Status.LEFT)

    office_user.refresh_from_db()
    assert office_user.is_active and office_user.has_usable_password()
    assert problem_of(client.get(ME))["code"] == "volunteer_left"
