"""A reply in the coordinator's inbox is answered through the outbox or handled with a note,
and the follow-up raised for it goes with it; and each reply knows the text it answers."""

import datetime
import itertools

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from community.errors import StateConflict
from matching.follow_ups import handle_reply, raise_for_texts, text_back
from matching.models import FollowUp
from messaging import services
from messaging.models import Message
from messaging.services import COORDINATOR_TEXT_TOPIC, record_opt_out
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PHONE = "+447700900321"
OFFICE = "+447700900999"
_sids = itertools.count(1)


def sent(body, *, hours_ago, question=False, **fields):
    sent_at = timezone.now() - datetime.timedelta(hours=hours_ago)
    values = {
        "direction": Message.Direction.OUTBOUND,
        "to_number": PHONE,
        "from_number": OFFICE,
        "body": body,
        "status": Message.Status.DELIVERED,
        "topic": "test.question" if question else "coordinator.text",
        "created_at": sent_at,
        "sent_at": sent_at,
    }
    if question:
        values.update(
            reply_handler="no.such.handler",
            question_open=True,
            reply_expires_at=sent_at + datetime.timedelta(hours=24),
        )
    values.update(fields)
    return Message.objects.create(**values)


def received(body="eh?"):
    reply, _ = services.receive(
        sid=f"SMR{next(_sids):031d}", from_number=PHONE, to_number=OFFICE, body=body
    )
    assert reply.needs_attention
    return reply


def what_it_answers(reply):
    return Message.objects.with_what_they_answer().get(pk=reply.pk)


# What a reply answers ---------------------------------------------------------------------


def test_a_reply_answers_the_question_open_when_it_came():
    sent("Older text", hours_ago=5)
    question = sent("Are you coming on Friday?", hours_ago=3, question=True)
    sent("A later notice", hours_ago=1)
    row = what_it_answers(received())
    assert row.answered_a_question
    assert row.answers_id == question.pk


def test_a_question_whose_window_had_closed_is_not_what_it_answers():
    sent("Are you coming on Friday?", hours_ago=30, question=True, question_open=False)
    notice = sent("A later notice", hours_ago=1)
    row = what_it_answers(received())
    assert not row.answered_a_question
    assert row.answers_id == notice.pk


def test_a_question_answered_by_an_earlier_reply_is_not_what_a_later_one_answers():
    question = sent("Are you coming on Friday?", hours_ago=3, question=True, question_open=False)
    earlier = Message.objects.create(
        direction=Message.Direction.INBOUND,
        status=Message.Status.RECEIVED,
        from_number=PHONE,
        to_number=OFFICE,
        body="YES",
        created_at=timezone.now() - datetime.timedelta(hours=2),
    )
    question.answered_by = earlier
    question.save(update_fields=["answered_by"])
    row = what_it_answers(received("and also"))
    assert not row.answered_a_question
    assert row.answers_id == question.pk  # the last text they were sent, still


def test_a_text_never_sent_or_sent_after_is_not_what_it_answers():
    sent("Queued, never sent", hours_ago=1, status=Message.Status.QUEUED, sent_at=None)
    reply = received()
    sent("Sent after", hours_ago=-1)
    row = what_it_answers(reply)
    assert row.answers_id is None


def test_the_automatic_answers_to_replies_are_not_what_a_reply_answers():
    text = sent("Can you do Thursday?", hours_ago=2)
    sent("Sorry, we did not understand.", hours_ago=1, topic="reply.not_understood")
    sent("Call the office on ...", hours_ago=1, topic="keyword.help")
    row = what_it_answers(received())
    assert row.answers_id == text.pk


# Handling ---------------------------------------------------------------------------------


def test_handling_a_reply_keeps_the_note_and_who():
    coordinator = UserFactory()
    reply = handle_reply(received(), by=coordinator, note="  Phoned them.  ")
    reply.refresh_from_db()
    assert not reply.needs_attention
    assert reply.handled_note == f"Phoned them. ({coordinator})"


def test_handling_a_reply_handles_its_follow_up_with_the_same_note():
    reply = received()
    raise_for_texts()
    handle_reply(reply, note="Phoned them.")
    follow_up = FollowUp.objects.get(message=reply)
    assert not follow_up.is_open
    assert follow_up.handled_note == "Phoned them."
    reply.refresh_from_db()
    assert not reply.needs_attention
    assert reply.handled_note == f"Handled as follow-up {follow_up.pk}: Phoned them."


def test_handling_twice_is_a_conflict():
    reply = received()
    handle_reply(reply, note="First")
    with pytest.raises(StateConflict, match="already handled"):
        handle_reply(reply, note="Second")
    reply.refresh_from_db()
    assert reply.handled_note == "First"


@pytest.mark.parametrize(
    ("note", "says"),
    [("Holi\x00day", "invisible character"), ("\u202eyadiloH", "invisible"), ("a" * 2001, "2,000")],
)
def test_a_note_with_hidden_characters_or_too_long_is_refused(note, says):
    reply = received()
    with pytest.raises(ValidationError) as refused:
        handle_reply(reply, note=note)
    assert says in refused.value.message_dict["note"][0]
    reply.refresh_from_db()
    assert reply.needs_attention


# Answering --------------------------------------------------------------------------------


def test_texting_back_queues_the_answer_and_handles_the_reply():
    coordinator = UserFactory()
    reply = received()
    answer = text_back(reply, body="Thursday at 2 is fine.", by=coordinator)
    assert answer.topic == COORDINATOR_TEXT_TOPIC
    assert answer.status == Message.Status.QUEUED
    assert str(answer.to_number) == PHONE
    assert answer.context == {"in_answer_to": reply.pk, "sent_by": coordinator.pk}
    reply.refresh_from_db()
    assert not reply.needs_attention
    assert reply.handled_note.startswith(f"Answered by text {answer.pk}: “Thursday at 2")


def test_texting_back_holds_the_answer_in_quiet_hours(settings, time_machine):
    settings.SMS_QUIET_HOURS = "21:00-08:00"
    uk = timezone.get_default_timezone()
    time_machine.move_to(datetime.datetime(2026, 12, 3, 23, 0, tzinfo=uk), tick=False)
    answer = text_back(received(), body="Speak tomorrow.")
    assert timezone.localtime(answer.send_after, uk).hour == 8


def test_texting_back_a_number_that_opted_out_is_refused_and_nothing_is_written():
    reply = received()
    record_opt_out(PHONE, word="STOP")
    before = Message.objects.count()
    with pytest.raises(ValidationError, match="has opted out of texts"):
        text_back(reply, body="Hello")
    assert Message.objects.count() == before
    reply.refresh_from_db()
    assert reply.needs_attention


def test_texting_back_a_reply_handled_already_is_a_conflict_and_sends_nothing():
    reply = received()
    handle_reply(reply, note="Phoned")
    with pytest.raises(StateConflict):
        text_back(reply, body="Hello")
    assert not Message.objects.filter(topic=COORDINATOR_TEXT_TOPIC).exists()


def test_only_a_received_text_is_texted_back():
    failed = sent("Reminder", hours_ago=1, status=Message.Status.FAILED, needs_attention=True)
    with pytest.raises(ValidationError, match="Only a received text"):
        text_back(failed, body="Hello")
    assert Message.objects.count() == 1
    failed.refresh_from_db()
    assert failed.needs_attention
