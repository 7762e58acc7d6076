"""A volunteer's wellbeing answers in the API, for coordinators only, and the opt-in on the
volunteer endpoints."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from matching.models import WellbeingCheckIn
from tests.api.conftest import problem_of
from tests.api.test_sign_in import sign_in, token_client
from tests.factories import UserFactory, VolunteerFactory, area
from volunteers.models import Volunteer

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
VOLUNTEERS = "/api/v1/volunteers/"
MONDAY = datetime.date(2026, 11, 23)
WEEK = datetime.timedelta(weeks=1)
NOW = datetime.datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def url_of(volunteer_id):
    return f"{VOLUNTEERS}{volunteer_id}/wellbeing/"


def answers(volunteer, scores):
    """Check-ins answered with `scores`, this week's first, then one a week before."""
    made = []
    for weeks_ago, score in enumerate(scores):
        week = MONDAY - weeks_ago * WEEK
        asked = datetime.datetime.combine(week, datetime.time(10), tzinfo=UTC)
        made.append(
            WellbeingCheckIn.objects.create(
                volunteer=volunteer,
                week=week,
                asked_at=asked,
                score=score,
                answered_at=None if score is None else asked + datetime.timedelta(hours=2),
            )
        )
    return made


def test_a_coordinator_reads_the_answers_newest_first_with_the_trend(api):
    volunteer = VolunteerFactory(wellbeing_opt_in=True)
    answers(volunteer, [2, None, 3, 2, 4, 4, 5, 4])
    answers(VolunteerFactory(), [5])  # someone else's

    response = api.get(url_of(volunteer.pk))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 8
    assert body["results"][:2] == [
        {
            "week": "2026-11-23",
            "asked_at": "2026-11-23T10:00:00+00:00",
            "score": 2,
            "answered_at": "2026-11-23T12:00:00+00:00",
        },
        {
            "week": "2026-11-16",
            "asked_at": "2026-11-16T10:00:00+00:00",
            "score": None,
            "answered_at": None,
        },
    ]
    assert [row["week"] for row in body["results"]] == sorted(
        (row["week"] for row in body["results"]), reverse=True
    )
    assert body["trend"] == {
        "direction": "lower",
        "words": "Lower than the 4 weeks before: 2.3 on average, was 4.2.",
        "weeks": 4,
        "recent_average": 2.3,
        "earlier_average": 4.2,
    }


def test_a_volunteer_without_answers_has_an_empty_page_and_no_trend_yet(api):
    body = api.get(url_of(VolunteerFactory().pk)).json()
    assert (body["count"], body["results"]) == (0, [])
    assert body["trend"]["direction"] == "not_enough_answers"
    assert body["trend"]["words"] == "Not enough answers yet to show a trend."


def test_pages_follow_the_conventions_and_each_carries_the_trend(api):
    volunteer = VolunteerFactory()
    answers(volunteer, [3, 4, 5])

    first = api.get(url_of(volunteer.pk), {"page_size": 2}).json()
    last = api.get(url_of(volunteer.pk), {"page_size": 2, "page": 2}).json()

    assert first.keys() == {"count", "next", "previous", "results", "trend"}
    assert (first["count"], len(first["results"]), first["previous"]) == (3, 2, None)
    assert "page=2" in first["next"]
    assert [row["week"] for row in last["results"]] == ["2026-11-09"]
    assert first["trend"] == last["trend"]


def test_an_unknown_volunteer_is_a_404_problem(api):
    response = api.get(url_of(987654))
    assert response.status_code == 404
    assert problem_of(response)["code"] == "not_found"


@pytest.mark.parametrize("params", [{"score": "1"}, {"ordering": "week"}, {"page_size": "500"}])
def test_parameters_it_does_not_take_are_refused_in_words(api, params):
    response = api.get(url_of(VolunteerFactory().pk), params)
    assert response.status_code == 400
    (name,) = params
    assert name in problem_of(response)["errors"]


def test_anyone_not_signed_in_gets_401(anonymous_api):
    response = anonymous_api.get(url_of(VolunteerFactory().pk))
    assert response.status_code == 401
    problem_of(response)


def test_a_volunteer_signed_in_with_their_own_token_cannot_read_even_their_own(db):
    user = UserFactory(email="senga@example.org")
    volunteer = VolunteerFactory(user=user)
    answers(volunteer, [2])
    token = sign_in(user.email).json()["meta"]["session_token"]

    response = token_client(token).get(url_of(volunteer.pk))

    assert response.status_code == 403
    assert problem_of(response)["detail"] == "Only coordinators may use this part of the API."


def test_a_signed_in_non_coordinator_gets_403_even_for_an_unknown_volunteer(non_coordinator_api):
    assert non_coordinator_api.get(url_of(987654)).status_code == 403


def test_the_list_costs_the_same_queries_for_1_answer_and_50(api):
    volunteer = VolunteerFactory()

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = api.get(url_of(volunteer.pk), {"page_size": 100})
        assert response.status_code == 200
        return len(captured), response.json()["count"]

    answers(volunteer, [3])
    one = queries()
    WellbeingCheckIn.objects.all().delete()
    answers(volunteer, [weeks_ago % 5 + 1 for weeks_ago in range(50)])
    fifty = queries()

    assert (one[1], fifty[1]) == (1, 50)
    assert fifty[0] == one[0]


# The opt-in on the volunteer endpoints ----------------------------------------------------


def test_the_opt_in_is_read_on_the_list_and_the_detail(api):
    volunteer = VolunteerFactory(wellbeing_opt_in=True)
    assert api.get(VOLUNTEERS).json()["results"][0]["wellbeing_opt_in"] is True
    assert api.get(f"{VOLUNTEERS}{volunteer.pk}/").json()["wellbeing_opt_in"] is True


def test_the_opt_in_is_set_on_create_and_changed_on_its_own(api):
    created = api.post(
        VOLUNTEERS,
        {
            "preferred_name": "Aileen",
            "full_name": "Aileen Docherty",
            "area": area().slug,
            "wellbeing_opt_in": True,
        },
    )
    assert created.status_code == 201, created.content
    assert created.json()["wellbeing_opt_in"] is True

    changed = api.patch(f"{VOLUNTEERS}{created.json()['id']}/", {"wellbeing_opt_in": False})

    assert changed.status_code == 200, changed.content
    assert changed.json()["wellbeing_opt_in"] is False
    assert not Volunteer.objects.get(pk=created.json()["id"]).wellbeing_opt_in


def test_a_new_volunteer_is_not_opted_in_unless_asked(api):
    created = api.post(
        VOLUNTEERS,
        {"preferred_name": "Tam", "full_name": "Tam Reid", "area": area().slug},
    )
    assert created.json()["wellbeing_opt_in"] is False


def test_an_opt_in_that_is_not_true_or_false_is_a_field_error_and_nothing_changes(api):
    volunteer = VolunteerFactory(wellbeing_opt_in=True)
    response = api.patch(f"{VOLUNTEERS}{volunteer.pk}/", {"wellbeing_opt_in": "sometimes"})
    assert response.status_code == 400
    assert "wellbeing_opt_in" in problem_of(response)["errors"]
    volunteer.refresh_from_db()
    assert volunteer.wellbeing_opt_in
