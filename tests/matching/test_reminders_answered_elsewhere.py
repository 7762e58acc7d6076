"""A session answered in the app (or by the office) settles its SMS reminder: a later YES or
NO text is not read as the answer, and the next question held behind it goes."""

import pytest
from django.core.exceptions import ValidationError

from matching import reminders, services
from matching.models import FollowUp, Session
from messaging import texts as messaging_texts
from messaging.models import Message
from tests.matching.conftest import HOUR, NOW, texted_session

pytestmark = pytest.mark.django_db
Status = Session.Status


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def reminded(run_passes):
    session = texted_session(NOW + 5 * HOUR)
    run_passes()
    session.refresh_from_db()
    assert session.reminder.question_open
    return session


def test_a_yes_text_after_a_decline_in_the_app_is_not_read_as_the_answer(reminded, text_in, outbox):
    services.decline_session(reminded, note="Hospital appointment.")

    reply = text_in(reminded.match.volunteer.phone, "YES")

    reminded.refresh_from_db()
    assert reminded.status == Status.DECLINED
    reminder = reminded.reminder
    assert reminder.question_open is False
    assert reminder.answered_by is None
    assert reply.needs_attention  # a change of mind, for a person to read
    assert outbox[-1]["body"] == messaging_texts.not_understood_text()
    assert FollowUp.objects.get(session=reminded).summary.endswith(
        "(“Hospital appointment.”): reschedule or cancel it."
    )


def test_a_no_text_after_a_confirm_in_the_app_declines_nothing(reminded, text_in):
    services.confirm_session(reminded)

    text_in(reminded.match.volunteer.phone, "no")

    reminded.refresh_from_db()
    assert reminded.status == Status.CONFIRMED
    assert not FollowUp.objects.filter(kind=FollowUp.Kind.SESSION_DECLINED).exists()


def test_answering_in_the_app_lets_the_question_held_behind_it_go(
    reminded, run_passes, django_capture_on_commit_callbacks, outbox
):
    later = texted_session(NOW + 8 * HOUR, match__volunteer=reminded.match.volunteer)
    run_passes()
    assert len(outbox) == 1  # held behind the open question

    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_session(reminded)

    assert len(outbox) == 2
    assert "at 20:00" in outbox[-1]["body"]
    later.refresh_from_db()
    assert later.reminder.question_open


def test_a_reminder_not_sent_yet_is_withdrawn_once_answered(reminded, run_passes):
    later = texted_session(NOW + 8 * HOUR, match__volunteer=reminded.match.volunteer)
    run_passes()
    later.refresh_from_db()
    assert later.reminder.status == Message.Status.QUEUED

    services.decline_session(later)

    later.reminder.refresh_from_db()
    assert later.reminder.status == Message.Status.WITHDRAWN


def test_the_yes_text_itself_still_confirms_and_is_the_answer(reminded, text_in, outbox):
    reply = text_in(reminded.match.volunteer.phone, "YES")

    reminded.refresh_from_db()
    assert reminded.status == Status.CONFIRMED
    assert reminded.reminder.answered_by == reply
    assert reminded.reminder.idempotency_key == reminders.reminder_key(reminded)
    assert "is confirmed" in outbox[-1]["body"]


@pytest.mark.parametrize("note", ["\u202eevil", "x" * 161, "bad\x07bell"])
def test_a_hostile_or_long_decline_note_is_refused_and_nothing_changes(reminded, note):
    with pytest.raises(ValidationError) as refused:
        services.decline_session(reminded, note=note)

    assert "note" in refused.value.message_dict
    reminded.refresh_from_db()
    assert reminded.status == Status.SCHEDULED
    assert reminded.reminder.question_open
    assert not FollowUp.objects.filter(kind=FollowUp.Kind.SESSION_DECLINED).exists()
