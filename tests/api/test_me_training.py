"""A volunteer's own training records and training state in the partner app."""

import datetime

import pytest
from django.utils import timezone

from tests.api.conftest import problem_of
from tests.api.signed_in_volunteers import (
    queries_for_list,
    signed_in_by_texted_code,
    signed_in_volunteer,
    signed_in_without_a_volunteer,
)
from tests.factories import TrainingRecordFactory, VolunteerFactory, course, fully_trained
from volunteers.models import TrainingRecord, Volunteer, add_months

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/training/"


@pytest.fixture
def me():
    return signed_in_volunteer()


@pytest.fixture
def volunteer(me):
    return me[0]


@pytest.fixture
def app(me):
    return me[1]


def naloxone_expiring_in(volunteer, days):
    """Replace the volunteer's Naloxone record with one that lapses in `days` days."""
    volunteer.training_records.filter(course__code="NALOXONE").delete()
    expires = timezone.localdate() + datetime.timedelta(days=days)
    return TrainingRecordFactory(
        volunteer=volunteer,
        course=course("NALOXONE"),
        completed_on=add_months(expires, -12),
        notes="Certificate seen by the office.",
    )


def test_the_app_can_say_when_naloxone_training_expires(app, volunteer):
    fully_trained(volunteer)
    record = naloxone_expiring_in(volunteer, 10)

    body = app.get(URL).json()

    assert body["training_state"] == "expiring"
    assert body["training_gaps"] == [
        {
            "course": "NALOXONE",
            "course_name": "Naloxone administration",
            "state": "expiring",
            "expires_on": (timezone.localdate() + datetime.timedelta(days=10)).isoformat(),
        }
    ]
    naloxone = next(row for row in body["results"] if row["course"] == "NALOXONE")
    assert naloxone == {
        "id": record.pk,
        "course": "NALOXONE",
        "course_name": "Naloxone administration",
        "completed_on": record.completed_on.isoformat(),
        "expires_on": (timezone.localdate() + datetime.timedelta(days=10)).isoformat(),
        "is_current": True,
    }


def test_the_office_notes_on_a_record_are_not_shown(app, volunteer):
    naloxone_expiring_in(volunteer, 100)

    body = app.get(URL).json()

    assert "notes" not in body["results"][0]
    assert "Certificate seen" not in str(body)


def test_complete_training_has_no_gaps(app, volunteer):
    fully_trained(volunteer)

    body = app.get(URL).json()

    assert (body["training_state"], body["training_gaps"]) == ("complete", [])
    assert body["count"] == TrainingRecord.objects.filter(volunteer=volunteer).count() > 0
    assert all(row["is_current"] for row in body["results"])


def test_missing_and_expired_courses_are_gaps_that_make_the_volunteer_lapsed(app, volunteer):
    TrainingRecordFactory(
        volunteer=volunteer,
        course=course("NALOXONE"),
        completed_on=timezone.localdate().replace(year=timezone.localdate().year - 2),
    )

    body = app.get(URL).json()

    assert body["training_state"] == "lapsed"
    states = {gap["course"]: gap["state"] for gap in body["training_gaps"]}
    assert states["NALOXONE"] == "expired"
    assert states["PVG"] == "missing"
    assert body["results"][0]["is_current"] is False


def test_the_state_and_gaps_are_the_ones_the_office_sees(app, volunteer, api):
    fully_trained(volunteer)
    naloxone_expiring_in(volunteer, 5)
    volunteer.training_records.filter(course__code="PVG").delete()

    mine = app.get(URL).json()
    office = api.get(f"/api/v1/volunteers/{volunteer.pk}/").json()

    assert mine["training_state"] == office["training_state"] == "lapsed"
    assert mine["training_gaps"] == office["training_gaps"]
    assert len(mine["training_gaps"]) == 2


def test_only_the_volunteers_own_records_are_listed(app, volunteer):
    fully_trained(VolunteerFactory())
    TrainingRecordFactory(volunteer=volunteer)

    body = app.get(URL).json()

    assert body["count"] == 1
    assert body["results"][0]["course"] == "ROSC"


def test_records_come_latest_first_and_filter_by_course_and_date(app, volunteer):
    older = TrainingRecordFactory(
        volunteer=volunteer,
        course=course("PVG"),
        completed_on=timezone.localdate() - datetime.timedelta(400),
    )
    newer = naloxone_expiring_in(volunteer, 20)

    assert [row["id"] for row in app.get(URL).json()["results"]] == [newer.pk, older.pk]
    assert app.get(URL, {"course": "PVG"}).json()["count"] == 1
    later = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    assert [row["id"] for row in app.get(URL, {"current_on": later}).json()["results"]] == [
        older.pk
    ]
    by_expiry = app.get(URL, {"ordering": "expires_on"}).json()["results"]
    assert [row["id"] for row in by_expiry] == [newer.pk, older.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"volunteer": "1"}, "volunteer"),
        ({"course": ""}, "course"),
        ({"course": "NO-SUCH"}, "course"),
        ({"current_on": "soon"}, "current_on"),
        ({"ordering": "notes"}, "ordering"),
        ({"page_size": "0"}, "page_size"),
        ({"current_on": "2026-01-01\x00"}, "current_on"),
    ],
)
def test_bad_parameters_are_refused(app, volunteer, params, field):
    response = app.get(URL, params)

    assert response.status_code == 400
    assert field in problem_of(response)["errors"]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_training_is_read_only_in_the_app(app, volunteer, method):
    response = getattr(app, method)(
        URL, {"course": "NALOXONE", "completed_on": timezone.localdate().isoformat()}, format="json"
    )

    assert response.status_code == 405
    assert not TrainingRecord.objects.exists()


def test_anonymous_callers_get_401(anonymous_api):
    response = anonymous_api.get(URL)

    assert response.status_code == 401
    assert problem_of(response)["code"] == "not_authenticated"


def test_a_sign_in_without_a_volunteer_gets_403(api):
    for client in [api, signed_in_without_a_volunteer()]:
        response = client.get(URL)

        assert response.status_code == 403
        assert problem_of(response)["code"] == "not_a_volunteer"


def test_a_volunteer_who_has_left_gets_403():
    _, app = signed_in_volunteer(status=Volunteer.Status.LEFT)

    assert problem_of(app.get(URL))["code"] == "volunteer_left"


def test_the_app_signed_in_by_texted_code_reads_its_training(
    volunteer, monkeypatch, django_capture_on_commit_callbacks
):
    fully_trained(volunteer)
    app = signed_in_by_texted_code(volunteer, monkeypatch, django_capture_on_commit_callbacks)

    response = app.get(URL)

    assert response.status_code == 200, response.content
    assert response.json()["training_state"] == "complete"


def test_the_list_costs_the_same_queries_for_1_record_and_50(app, volunteer):
    TrainingRecordFactory(
        volunteer=volunteer, completed_on=timezone.localdate() - datetime.timedelta(1)
    )
    one, count = queries_for_list(app, URL)
    assert count == 1
    for i in range(1, 50):
        TrainingRecordFactory(
            volunteer=volunteer,
            course=course("NALOXONE" if i % 2 else "PVG"),
            completed_on=timezone.localdate() - datetime.timedelta(days=i + 1),
        )

    fifty, count = queries_for_list(app, URL)

    assert count == 50
    assert fifty == one
