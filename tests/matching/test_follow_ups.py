"""Follow-ups: raised once per cause, handled once with a note, most urgent first."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from community.errors import StateConflict
from matching.follow_ups import Kind, Urgency, handle_follow_up, raise_follow_up
from matching.models import FollowUp
from tests.factories import SessionFactory, UserFactory, VolunteerFactory

pytestmark = pytest.mark.django_db


def test_a_cause_raises_one_follow_up_however_often_it_is_seen():
    session = SessionFactory()
    first, created = raise_follow_up(
        kind=Kind.SESSION_DECLINED,
        cause=f"declined:{session.pk}",
        summary="Call Senga",
        session=session,
    )
    again, created_again = raise_follow_up(
        kind=Kind.SESSION_DECLINED,
        cause=f"declined:{session.pk}",
        summary="Call Senga again",
        session=session,
    )
    assert (created, created_again) == (True, False)
    assert again == first
    assert FollowUp.objects.count() == 1
    assert first.volunteer == session.match.volunteer  # the session's volunteer, found


def test_handling_records_who_when_and_what_and_twice_is_a_conflict(time_machine):
    volunteer = VolunteerFactory()
    coordinator = UserFactory()
    follow_up, _ = raise_follow_up(
        kind=Kind.TRAINING_LAPSED, cause="lapsed:1", summary="Book PVG", volunteer=volunteer
    )
    handled = handle_follow_up(follow_up, by=coordinator, note="  Booked for 3 March. ")
    assert (handled.handled_by, handled.handled_note) == (coordinator, "Booked for 3 March.")
    assert handled.handled_at is not None
    assert not FollowUp.objects.open().exists()
    with pytest.raises(StateConflict, match="already handled"):
        handle_follow_up(follow_up, by=coordinator, note="again")


def test_a_note_too_long_is_refused_and_nothing_changes():
    follow_up, _ = raise_follow_up(
        kind=Kind.NO_SHOW, cause="no_show:1", summary="x", volunteer=VolunteerFactory()
    )
    with pytest.raises(ValidationError, match="2,000"):
        handle_follow_up(follow_up, note="x" * 2001)
    follow_up.refresh_from_db()
    assert follow_up.is_open


def test_a_follow_up_about_nothing_is_refused_by_the_database():
    with pytest.raises(IntegrityError):
        FollowUp.objects.create(kind=Kind.NO_SHOW, cause="nothing", summary="About nothing")


def test_most_urgent_first_then_oldest(time_machine):
    volunteer = VolunteerFactory()
    raised = {}
    for cause, urgency in [
        ("a", Urgency.ROUTINE),
        ("b", Urgency.SOON),
        ("c", Urgency.URGENT),
        ("d", Urgency.SOON),
    ]:
        raised[cause], _ = raise_follow_up(
            kind=Kind.NO_SHOW, cause=cause, summary=cause, urgency=urgency, volunteer=volunteer
        )
    order = [f.cause for f in FollowUp.objects.open().most_urgent_first()]
    assert order == ["c", "b", "d", "a"]


def test_a_low_wellbeing_answer_goes_ahead_of_every_other_follow_up(time_machine):
    volunteer = VolunteerFactory()
    for cause, kind, urgency in [
        ("at risk", Kind.SESSION_AT_RISK, Urgency.URGENT),
        ("low", Kind.WELLBEING_LOW, Urgency.URGENT),
        ("no show", Kind.NO_SHOW, Urgency.SOON),
    ]:
        raise_follow_up(kind=kind, cause=cause, summary=cause, urgency=urgency, volunteer=volunteer)
    order = [f.cause for f in FollowUp.objects.open().most_urgent_first()]
    assert order == ["low", "at risk", "no show"]
