"""A volunteer's own hours per month in the partner app, from the sessions that took place."""

import datetime
from decimal import Decimal

import pytest

from matching.models import Session
from tests.api.conftest import problem_of
from tests.api.signed_in_volunteers import (
    queries_for_list,
    signed_in_by_texted_code,
    signed_in_volunteer,
    signed_in_without_a_volunteer,
)
from tests.factories import MatchFactory, SessionFactory
from volunteers.models import Volunteer

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/hours/"
UTC = datetime.UTC


@pytest.fixture
def me():
    return signed_in_volunteer()


@pytest.fixture
def volunteer(me):
    return me[0]


@pytest.fixture
def app(me):
    return me[1]


@pytest.fixture
def match(volunteer):
    return MatchFactory(volunteer=volunteer, active=True)


def took_place(match, starts_at, hours, status=Session.Status.COMPLETED):
    return SessionFactory(
        match=match,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(hours=1),
        status=status,
        hours=Decimal(hours) if status == Session.Status.COMPLETED else None,
    )


def test_hours_per_month_newest_first(app, match):
    took_place(match, datetime.datetime(2025, 5, 6, 13, tzinfo=UTC), "1.5")
    took_place(match, datetime.datetime(2025, 5, 13, 13, tzinfo=UTC), "1.5")
    took_place(match, datetime.datetime(2025, 5, 20, 13, tzinfo=UTC), "3.5")
    took_place(match, datetime.datetime(2025, 7, 1, 13, tzinfo=UTC), "2")

    body = app.get(URL).json()

    assert body["count"] == 2
    assert body["results"] == [
        {"month": "2025-07", "hours": 2.0, "sessions": 1},
        {"month": "2025-05", "hours": 6.5, "sessions": 3},
    ]


def test_months_are_uk_local(app, match):
    # 23:30 UTC on 31 May is 00:30 on 1 June in London (summer time).
    took_place(match, datetime.datetime(2025, 5, 31, 23, 30, tzinfo=UTC), "1")

    assert app.get(URL).json()["results"][0]["month"] == "2025-06"


def test_only_completed_sessions_of_the_volunteer_count(app, match):
    took_place(match, datetime.datetime(2025, 3, 3, 13, tzinfo=UTC), "1.25")
    took_place(match, datetime.datetime(2025, 3, 4, 13, tzinfo=UTC), None, Session.Status.NO_SHOW)
    took_place(match, datetime.datetime(2025, 3, 5, 13, tzinfo=UTC), None, Session.Status.CANCELLED)
    someone_elses = MatchFactory(active=True)
    took_place(someone_elses, datetime.datetime(2025, 3, 6, 13, tzinfo=UTC), "4")

    assert app.get(URL).json()["results"] == [{"month": "2025-03", "hours": 1.25, "sessions": 1}]


def test_no_sessions_yet_is_an_empty_page(app, volunteer):
    assert app.get(URL).json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_year_keeps_one_uk_calendar_year(app, match):
    took_place(match, datetime.datetime(2024, 12, 31, 23, 30, tzinfo=UTC), "1")  # 2024 in UK
    took_place(match, datetime.datetime(2025, 1, 2, 13, tzinfo=UTC), "2")
    took_place(match, datetime.datetime(2026, 1, 2, 13, tzinfo=UTC), "3")

    assert app.get(URL, {"year": "2025"}).json()["results"] == [
        {"month": "2025-01", "hours": 2.0, "sessions": 1}
    ]
    assert app.get(URL, {"year": "2024"}).json()["results"][0]["month"] == "2024-12"
    assert app.get(URL, {"year": "2030"}).json()["count"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("year=", "year"),
        ("year=twenty", "year"),
        ("year=25", "year"),
        ("year=2025.0", "year"),
        ("year=%D9%A2%D9%A0%D9%A2%D9%A5", "year"),  # 2025 in Arabic-Indic digits
        ("year=1999", "year"),
        ("year=2101", "year"),
        ("year=2025%00", "year"),
        ("year=2025&year=2026", "year"),
        ("month=2025-05", "month"),
        ("volunteer=1", "volunteer"),
        ("ordering=month", "ordering"),
        ("page=0", "page"),
    ],
)
def test_bad_parameters_are_refused(app, volunteer, query, field):
    response = app.get(f"{URL}?{query}")

    assert response.status_code == 400
    assert field in problem_of(response)["errors"]


def test_a_bad_year_says_what_to_give(app, volunteer):
    response = app.get(URL, {"year": "last"})

    assert problem_of(response)["errors"]["year"] == [
        "Give a year as four digits, 2000 to 2100, e.g. 2026."
    ]


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


def test_the_app_signed_in_by_texted_code_reads_its_hours(
    volunteer, match, monkeypatch, django_capture_on_commit_callbacks
):
    took_place(match, datetime.datetime(2025, 5, 6, 13, tzinfo=UTC), "1.5")
    app = signed_in_by_texted_code(volunteer, monkeypatch, django_capture_on_commit_callbacks)

    response = app.get(URL)

    assert response.status_code == 200, response.content
    assert response.json()["results"] == [{"month": "2025-05", "hours": 1.5, "sessions": 1}]


def test_the_list_costs_the_same_queries_for_1_month_and_50(app, match):
    def month(n):
        year, month = divmod(n, 12)
        starts = datetime.datetime(2020 + year, month + 1, 10, 13, tzinfo=UTC)
        took_place(match, starts, "1.5")
        took_place(match, starts + datetime.timedelta(days=7), "1")

    month(0)
    one, count = queries_for_list(app, URL)
    assert count == 1
    for n in range(1, 50):
        month(n)

    fifty, count = queries_for_list(app, URL)

    assert count == 50
    assert fifty == one
