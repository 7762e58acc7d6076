"""A volunteer's own active matches in the partner app: whom they support, and no more."""

import datetime

import pytest
from django.utils import timezone

from matching.models import Match, Session
from tests.api.conftest import problem_of
from tests.api.signed_in_volunteers import (
    queries_for_list,
    signed_in_by_texted_code,
    signed_in_volunteer,
    signed_in_without_a_volunteer,
)
from tests.factories import MatchFactory, PeerFactory, SessionFactory, VolunteerFactory, area
from volunteers.models import Volunteer

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/matches/"


@pytest.fixture
def me():
    return signed_in_volunteer(meets_in_person=True, meets_by_phone=True, meets_by_video=False)


@pytest.fixture
def volunteer(me):
    return me[0]


@pytest.fixture
def app(me):
    return me[1]


@pytest.fixture
def jamie():
    return PeerFactory(
        preferred_name="Jamie",
        full_name="Jamie Quinn-Baxter",
        phone="+447700900777",
        area=area("Airdrie"),
        meets_in_person=False,
        meets_by_phone=True,
        meets_by_video=True,
        notes="Drinks at weekends; lives with a partner who uses.",
    )


def at(days, hour=14):
    return (timezone.now() + datetime.timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


def session(match, days, **fields):
    starts = at(days)
    return SessionFactory(
        match=match, starts_at=starts, ends_at=starts + datetime.timedelta(hours=1), **fields
    )


def test_an_active_match_shows_the_first_name_area_shared_modes_and_next_session(
    app, volunteer, jamie
):
    match = MatchFactory(volunteer=volunteer, peer=jamie, active=True)
    later = session(match, 9, mode=Session.Mode.PHONE, place="")
    soonest = session(match, 2, place="Airdrie Town Hall")

    response = app.get(URL)

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row == {
        "id": match.pk,
        "peer_name": "Jamie",
        "area": "airdrie",
        "area_name": "Airdrie",
        "shared_modes": ["phone"],
        "started_on": match.started_on.isoformat(),
        "next_session": {
            "id": soonest.pk,
            "starts_at": timezone.localtime(soonest.starts_at).isoformat(),
            "ends_at": timezone.localtime(soonest.ends_at).isoformat(),
            "mode": "in_person",
            "place": "Airdrie Town Hall",
            "status": "scheduled",
        },
    }
    assert later.pk != row["next_session"]["id"]
    assert app.get(f"{URL}{match.pk}/").json() == row


def test_nothing_else_of_the_peer_is_ever_shown(app, volunteer, jamie):
    match = MatchFactory(volunteer=volunteer, peer=jamie, active=True)
    session(match, 2)

    for response in [app.get(URL), app.get(f"{URL}{match.pk}/")]:
        text = response.content.decode()
        for secret in [
            jamie.reference,  # P-000123
            f"{jamie.pk:06d}",
            "Quinn-Baxter",
            jamie.full_name,
            "+447700900777",
            "07700 900777",
            "07700900777",
            "Drinks at weekends",
            "partner who uses",
        ]:
            assert secret not in text
        body = response.json()
        row = body["results"][0] if "results" in body else body
        assert not {"peer", "peer_reference", "full_name", "phone", "notes", "email"} & set(row)


def test_a_match_without_a_session_to_come_has_no_next_session(app, volunteer, jamie):
    match = MatchFactory(volunteer=volunteer, peer=jamie, active=True)
    session(match, -3, status=Session.Status.NO_SHOW)
    session(match, 4, status=Session.Status.CANCELLED)

    [row] = app.get(URL).json()["results"]

    assert row["next_session"] is None


def test_a_declined_session_still_to_rearrange_is_the_next_one(app, volunteer, jamie):
    match = MatchFactory(volunteer=volunteer, peer=jamie, active=True)
    session(match, 3, status=Session.Status.DECLINED)
    session(match, 6, status=Session.Status.CONFIRMED, confirmed_at=timezone.now())

    [row] = app.get(URL).json()["results"]

    assert row["next_session"]["status"] == "declined"


def test_only_the_volunteers_active_matches_are_listed(app, volunteer):
    active = MatchFactory(volunteer=volunteer, active=True)
    MatchFactory(volunteer=volunteer)  # proposed, not yet approved
    declined_at = timezone.now()
    MatchFactory(
        volunteer=volunteer,
        status=Match.Status.DECLINED,
        proposed_at=declined_at,
        decided_at=declined_at,
    )
    MatchFactory(
        volunteer=volunteer,
        active=True,
        status=Match.Status.ENDED,
        ended_on=timezone.localdate(),
    )
    MatchFactory(volunteer=VolunteerFactory(), active=True)

    body = app.get(URL).json()

    assert body["count"] == 1
    assert [row["id"] for row in body["results"]] == [active.pk]


@pytest.mark.parametrize("whose", ["another volunteer's", "proposed", "ended", "unknown"])
def test_a_match_not_theirs_or_not_active_is_not_found(app, volunteer, whose):
    match = {
        "another volunteer's": lambda: MatchFactory(volunteer=VolunteerFactory(), active=True),
        "proposed": lambda: MatchFactory(volunteer=volunteer),
        "ended": lambda: MatchFactory(
            volunteer=volunteer,
            active=True,
            status=Match.Status.ENDED,
            ended_on=timezone.localdate(),
        ),
        "unknown": lambda: None,
    }[whose]()

    response = app.get(f"{URL}{match.pk if match else 987654}/")

    assert response.status_code == 404
    assert problem_of(response)["code"] == "not_found"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "ended"}, "status"),
        ({"volunteer": "1"}, "volunteer"),
        ({"page": ""}, "page"),
        ({"page_size": "101"}, "page_size"),
        ({"ordering": "started_on"}, "ordering"),
    ],
)
def test_bad_parameters_are_refused(app, volunteer, params, field):
    response = app.get(URL, params)

    assert response.status_code == 400
    assert field in problem_of(response)["errors"]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_matches_are_read_only_in_the_app(app, volunteer, method):
    match = MatchFactory(volunteer=volunteer, active=True)

    assert getattr(app, method)(URL, {}, format="json").status_code == 405
    assert getattr(app, method)(f"{URL}{match.pk}/", {}, format="json").status_code == 405
    match.refresh_from_db()
    assert match.status == Match.Status.ACTIVE


def test_anonymous_callers_get_401(anonymous_api):
    match = MatchFactory(active=True)

    for url in [URL, f"{URL}{match.pk}/"]:
        response = anonymous_api.get(url)
        assert response.status_code == 401
        assert problem_of(response)["code"] == "not_authenticated"


def test_a_sign_in_without_a_volunteer_gets_403_even_for_a_real_match(api):
    match = MatchFactory(active=True)

    for client in [api, signed_in_without_a_volunteer()]:
        for url in [URL, f"{URL}{match.pk}/"]:
            response = client.get(url)
            assert response.status_code == 403
            assert problem_of(response)["code"] == "not_a_volunteer"


def test_a_volunteer_who_has_left_sees_no_match():
    volunteer, app = signed_in_volunteer(status=Volunteer.Status.LEFT)
    match = MatchFactory(volunteer=volunteer, active=True)

    assert problem_of(app.get(f"{URL}{match.pk}/"))["code"] == "volunteer_left"


def test_the_app_signed_in_by_texted_code_sees_only_the_first_name(
    volunteer, jamie, monkeypatch, django_capture_on_commit_callbacks
):
    MatchFactory(volunteer=volunteer, peer=jamie, active=True)
    app = signed_in_by_texted_code(volunteer, monkeypatch, django_capture_on_commit_callbacks)

    response = app.get(URL)

    assert response.status_code == 200, response.content
    assert response.json()["results"][0]["peer_name"] == "Jamie"
    assert "Quinn-Baxter" not in response.content.decode()


def test_the_list_costs_the_same_queries_for_1_match_and_50(app, volunteer):
    def supported(days):
        match = MatchFactory(volunteer=volunteer, active=True)
        session(match, days)
        session(match, days + 7)

    supported(1)
    one, count = queries_for_list(app, URL)
    assert count == 1
    for days in range(2, 51):
        supported(days)

    fifty, count = queries_for_list(app, URL)

    assert count == 50
    assert fifty == one
