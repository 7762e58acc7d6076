"""config.compiled_queries: a query compiled once gives, run with other values, what the ORM
gives for those values, converted as the ORM converts them."""

import datetime

import pytest
from django.db import connection
from django.db.models import BooleanField, DateTimeField, ExpressionWrapper, IntegerField, Q
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.compiled_queries import Compiled, Slot
from matching.models import Session
from tests.factories import MatchFactory, SessionFactory

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)


def sessions_query(volunteer, now):
    """Sessions of `volunteer` ending after `now`, with whether each has started."""
    return (
        Session.objects.of_volunteer(volunteer)
        .filter(ends_at__gt=now)
        .annotate(started=ExpressionWrapper(Q(starts_at__lte=now), output_field=BooleanField()))
        .order_by("starts_at", "pk")
        .values_list("pk", "starts_at", "started")
    )


@pytest.fixture
def two_volunteers_sessions():
    base = timezone.now().replace(microsecond=0)
    sessions = []
    for match in (MatchFactory(active=True), MatchFactory(active=True)):
        for hours in (-30, -2, 0, 5, 48):
            starts = base + hours * HOUR
            sessions.append(SessionFactory(match=match, starts_at=starts, ends_at=starts + HOUR))
    return base, sessions


def test_a_compiled_query_run_with_other_values_gives_what_the_orm_gives(
    two_volunteers_sessions,
):
    base, sessions = two_volunteers_sessions
    volunteers = sorted({session.match.volunteer for session in sessions}, key=lambda v: v.pk)
    compiled = Compiled(
        sessions_query(Slot("volunteer", IntegerField()), Slot("now", DateTimeField()))
    )

    for volunteer in volunteers:
        for now in (base - 40 * HOUR, base, base + HOUR / 2, base + 100 * HOUR):
            assert compiled.rows(volunteer=volunteer.pk, now=now) == list(
                sessions_query(volunteer, now)
            ), (volunteer, now)


def test_values_are_converted_as_the_orm_converts_them(two_volunteers_sessions):
    base, sessions = two_volunteers_sessions
    volunteer = sessions[0].match.volunteer
    compiled = Compiled(
        sessions_query(Slot("volunteer", IntegerField()), Slot("now", DateTimeField()))
    )

    rows = compiled.rows(volunteer=volunteer.pk, now=base)

    assert [type(started) for _, _, started in rows] == [bool] * len(rows)
    assert {started for _, _, started in rows} == {True, False}
    assert all(timezone.is_aware(starts_at) for _, starts_at, _ in rows)


def test_it_is_compiled_once_and_run_as_one_query(two_volunteers_sessions, monkeypatch):
    base, sessions = two_volunteers_sessions
    volunteer = sessions[0].match.volunteer
    compiled = Compiled(
        sessions_query(Slot("volunteer", IntegerField()), Slot("now", DateTimeField()))
    )
    compiles = []
    as_sql = SQLCompiler.as_sql
    monkeypatch.setattr(
        SQLCompiler, "as_sql", lambda self, *a, **k: compiles.append(self) or as_sql(self, *a, **k)
    )

    with CaptureQueriesContext(connection) as queries:
        compiled.rows(volunteer=volunteer.pk, now=base)
        compiled.rows(volunteer=volunteer.pk, now=base + HOUR)

    assert compiles == []
    assert len(queries) == 2


@pytest.mark.parametrize(
    "values", [{}, {"volunteer": 1}, {"volunteer": 1, "now": timezone.now(), "other": 2}]
)
def test_it_takes_exactly_its_slots(values):
    compiled = Compiled(
        sessions_query(Slot("volunteer", IntegerField()), Slot("now", DateTimeField()))
    )

    with pytest.raises(TypeError, match=r"Give exactly the slots \['now', 'volunteer'\]"):
        compiled.rows(**values)
