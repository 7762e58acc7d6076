"""What PeerPath does with a text it receives: keywords first, then the number's open question.

Texts come in through `services.receive`, as the inbound webhook hands them over (the webhook
itself is proven in test_webhooks.py); answers go out through the queue, run in line, to the
locmem outbox.
"""

import logging
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from community.errors import StateConflict
from messaging import replies, services, texts
from messaging.models import Message, OptOut
from messaging.replies import ReplyOutcome

VOLUNTEER = "+447700900123"
OTHER_VOLUNTEER = "+447700900456"
LANDLINE = "+441414960000"
HANDLER = "tests.confirm"
UK = ZoneInfo("Europe/London")
OPT_OUT_WORDS = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]

pytestmark = pytest.mark.django_db


class Handler:
    """A reply handler as another app would register one; it records what it was given."""

    def __init__(self):
        self.calls = []
        self.outcome = ReplyOutcome(understood=True, answer="Thanks, see you on Friday.")
        self.before_answering = None

    def __call__(self, question, reply):
        self.calls.append((question, reply))
        if self.before_answering:
            self.before_answering(question, reply)
        return self.outcome


@pytest.fixture
def handler():
    handler = Handler()
    replies.register(HANDLER, handler)
    yield handler
    replies.unregister(HANDLER)


@pytest.fixture
def text_in(queue, django_capture_on_commit_callbacks):
    """A text arrives from a number, as the inbound webhook passes it on; what it causes to
    be sent is delivered at once."""

    def receive(body, *, from_number=VOLUNTEER):
        with django_capture_on_commit_callbacks(execute=True):
            reply, created = services.receive(
                sid="SM" + uuid.uuid4().hex,
                from_number=from_number,
                to_number="+447700900001",
                body=body,
            )
        assert created
        reply.refresh_from_db()
        return reply

    return receive


@pytest.fixture
def ask(queue, django_capture_on_commit_callbacks, handler):
    """PeerPath texts a question whose reply goes to the test handler."""

    def send(
        body="Your session is Friday at 10:00. Reply YES to confirm.", *, to=VOLUNTEER, **options
    ):
        options.setdefault("topic", "test.question")
        with django_capture_on_commit_callbacks(execute=True):
            question = services.send_sms(to, body, reply_handler=HANDLER, **options)
        question.refresh_from_db()
        return question

    return send


@pytest.fixture
def send(queue, django_capture_on_commit_callbacks):
    def send(body="See you on Friday.", *, to=VOLUNTEER, **options):
        options.setdefault("topic", "test")
        with django_capture_on_commit_callbacks(execute=True):
            message = services.send_sms(to, body, **options)
        message.refresh_from_db()
        return message

    return send


def sent_bodies(outbox, to=VOLUNTEER):
    return [sent["body"] for sent in outbox if sent["to"] == to]


def queued_for_later(to=VOLUNTEER):
    """A text in the outbox that is not due yet, as a reminder for next week would be."""
    return services.send_sms(
        to, "See you next week.", topic="test", send_after=timezone.now() + timedelta(days=7)
    )


# Opting out ---------------------------------------------------------------------------------


@pytest.mark.parametrize("word", OPT_OUT_WORDS)
@pytest.mark.parametrize(
    "written", ["{word}", "{lower}", "  {lower}. ", "{title}!", "\t{word}\n", '"{title}"']
)
def test_every_opt_out_word_records_an_opt_out_and_suppresses_queued_texts(
    word, written, text_in, outbox
):
    later = queued_for_later()
    body = written.format(word=word, lower=word.lower(), title=word.title())

    reply = text_in(body)

    opt_out = OptOut.objects.current().get()
    assert str(opt_out.phone) == VOLUNTEER
    assert opt_out.word == word
    later.refresh_from_db()
    assert later.status == Message.Status.SUPPRESSED
    assert reply.topic == "keyword.opt_out"
    assert not reply.needs_attention
    assert outbox == []  # Twilio itself confirms an opt-out


def test_an_opt_out_leaves_other_numbers_alone(text_in):
    theirs = queued_for_later(to=OTHER_VOLUNTEER)

    text_in("STOP")

    theirs.refresh_from_db()
    assert theirs.status == Message.Status.QUEUED
    assert not services.is_opted_out(OTHER_VOLUNTEER)


def test_saying_stop_twice_keeps_one_current_opt_out(text_in):
    text_in("STOP")
    text_in("stop!")

    assert OptOut.objects.count() == 1
    assert OptOut.objects.current().count() == 1


@pytest.mark.parametrize(
    "body", ["stop please", "I want to stop", "Please don't stop", "Stop it", "stopped"]
)
def test_a_sentence_with_an_opt_out_word_in_it_is_not_a_keyword(body, text_in, outbox):
    reply = text_in(body)

    assert not OptOut.objects.exists()
    assert reply.needs_attention
    assert sent_bodies(outbox) == [texts.not_understood_text()]


def test_after_stop_a_new_text_is_suppressed_and_not_sent(text_in, send, outbox):
    text_in("STOP")

    message = send()

    assert message.status == Message.Status.SUPPRESSED
    assert outbox == []


@pytest.mark.parametrize("word", ["START", "start", "Unstop.", " UNSTOP "])
def test_start_opts_back_in_and_a_later_text_is_sent(word, text_in, send, outbox):
    text_in("STOP")

    reply = text_in(word)
    message = send()

    assert not services.is_opted_out(VOLUNTEER)
    assert reply.topic == "keyword.opt_in"
    ended = OptOut.objects.get()
    assert ended.ended_at is not None
    assert ended.ended_by_word == word.strip(" .").upper()
    assert message.status == Message.Status.SENT
    assert sent_bodies(outbox) == ["See you on Friday."]


def test_yes_while_opted_out_opts_back_in_and_answers_no_question(
    ask, handler, text_in, send, outbox
):
    question = ask()
    text_in("STOP")

    reply = text_in("Yes")

    assert not services.is_opted_out(VOLUNTEER)
    assert OptOut.objects.get().ended_by_word == "YES"
    assert reply.topic == "keyword.opt_in"
    assert not reply.needs_attention
    assert handler.calls == []
    question.refresh_from_db()
    assert question.answered_by is None
    assert send().status == Message.Status.SENT


# Help ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["HELP", "help", "Info", " help? "])
def test_help_and_info_answer_with_the_office_contact(body, text_in, outbox, handler, ask):
    ask()  # an open question does not take HELP

    reply = text_in(body)

    help_text = texts.help_text()
    assert settings.OFFICE_PHONE in help_text
    assert sent_bodies(outbox)[-1] == help_text
    assert reply.topic == "keyword.help"
    assert not reply.needs_attention
    assert handler.calls == []


def test_help_is_answered_at_night_when_other_texts_wait(text_in, send, outbox, settings):
    settings.SMS_QUIET_HOURS = "21:00-08:00"

    with time_machine.travel(datetime(2025, 3, 12, 23, 30, tzinfo=UK), tick=False):
        reminder = send()
        text_in("HELP")

    assert reminder.status == Message.Status.QUEUED
    assert reminder.send_after == datetime(2025, 3, 13, 8, 0, tzinfo=UK)
    assert sent_bodies(outbox) == [texts.help_text()]


# Replies to questions -----------------------------------------------------------------------


def test_yes_to_an_open_question_goes_to_its_handler_and_its_answer_is_sent(
    ask, handler, text_in, outbox
):
    question = ask()
    assert question.question_open

    reply = text_in("YES")

    [(asked, replied)] = handler.calls
    assert (asked.pk, replied.pk) == (question.pk, reply.pk)
    assert replied.body == "YES"
    question.refresh_from_db()
    assert question.answered_by == reply
    assert not question.question_open
    assert reply.topic == "reply.test.question"
    assert not reply.needs_attention
    assert sent_bodies(outbox) == [question.body, "Thanks, see you on Friday."]
    answer = Message.objects.outbound().get(body="Thanks, see you on Friday.")
    assert answer.topic == "test.question.answer"


def test_a_handler_with_nothing_to_say_sends_nothing(ask, handler, text_in, outbox):
    handler.outcome = ReplyOutcome(understood=True)
    question = ask()

    text_in("YES")

    question.refresh_from_db()
    assert question.answered_by is not None
    assert sent_bodies(outbox) == [question.body]


def test_a_reply_goes_to_the_question_sent_to_that_number(ask, handler, text_in):
    mine = ask(to=VOLUNTEER)
    theirs = ask(to=OTHER_VOLUNTEER)

    text_in("YES", from_number=OTHER_VOLUNTEER)

    assert [asked.pk for asked, _ in handler.calls] == [theirs.pk]
    mine.refresh_from_db()
    assert mine.question_open


def test_a_second_question_waits_and_goes_once_the_first_is_answered(
    ask, handler, text_in, outbox, queue
):
    first = ask("Session on Friday at 10:00. Reply YES to confirm.")
    second = ask("Session on Monday at 14:00. Reply YES to confirm.")
    assert second.status == Message.Status.QUEUED
    assert second.send_after == first.reply_expires_at
    assert sent_bodies(outbox) == [first.body]

    text_in("YES")

    assert second.pk in queue.enqueued
    second.refresh_from_db()
    assert second.status == Message.Status.SENT
    assert second.question_open
    assert sent_bodies(outbox) == [first.body, "Thanks, see you on Friday.", second.body]


def test_waiting_questions_go_one_at_a_time(ask, handler, text_in, outbox, queue):
    first, second, third = (ask(f"Question {n}. Reply YES or NO.") for n in (1, 2, 3))

    text_in("YES")
    services.sweep()  # the third was due again too; it waits behind the second

    second.refresh_from_db()
    third.refresh_from_db()
    assert second.question_open
    assert third.status == Message.Status.QUEUED
    assert third.send_after == second.reply_expires_at

    text_in("NO")

    assert [asked.pk for asked, _ in handler.calls] == [first.pk, second.pk]
    third.refresh_from_db()
    assert third.question_open
    assert sent_bodies(outbox)[-1] == third.body


def test_a_question_scheduled_for_later_is_not_sent_early_when_another_is_answered(
    ask, handler, text_in, outbox
):
    ask()
    next_week = timezone.now() + timedelta(days=7)
    later = ask("Next week's session: reply YES to confirm.", send_after=next_week)

    text_in("YES")

    later.refresh_from_db()
    assert later.status == Message.Status.QUEUED
    assert later.send_after == next_week
    assert later.body not in sent_bodies(outbox)


@pytest.mark.parametrize(("status", "code"), [("undelivered", 30003), ("failed", 30005)])
def test_a_question_that_never_arrived_lets_the_next_one_go(
    status, code, ask, handler, outbox, django_capture_on_commit_callbacks
):
    first = ask("Question 1. Reply YES or NO.")
    second = ask("Question 2. Reply YES or NO.")

    with django_capture_on_commit_callbacks(execute=True):
        services.apply_delivery_status(
            sid=first.twilio_sid, provider_status=status, error_code=code
        )

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == status
    assert not first.question_open
    assert second.question_open
    assert sent_bodies(outbox) == [first.body, second.body]


def test_a_reply_with_no_open_question_is_left_for_the_coordinator(text_in, outbox):
    reply = text_in("Running 5 minutes late, sorry")

    assert reply.needs_attention
    assert reply.topic == "reply.unexpected"
    assert sent_bodies(outbox) == [texts.not_understood_text()]


def test_a_reply_the_handler_cannot_read_is_left_for_the_coordinator(ask, handler, text_in, outbox):
    handler.outcome = ReplyOutcome(understood=False)
    question = ask()

    reply = text_in("maybe?")

    assert reply.needs_attention
    assert reply.topic == "reply.test.question"
    question.refresh_from_db()
    assert question.question_open
    assert question.answered_by is None
    assert sent_bodies(outbox) == [question.body, texts.not_understood_text()]

    handler.outcome = ReplyOutcome(understood=True)
    yes = text_in("YES")

    question.refresh_from_db()
    assert question.answered_by == yes


def test_an_expired_question_does_not_take_the_reply(ask, handler, text_in, outbox):
    question = ask()
    Message.objects.filter(pk=question.pk).update(
        reply_expires_at=timezone.now() - timedelta(minutes=1)
    )

    reply = text_in("YES")

    assert handler.calls == []
    assert reply.needs_attention
    assert reply.topic == "reply.unexpected"
    question.refresh_from_db()
    assert question.answered_by is None


def test_a_failing_handler_keeps_the_reply_and_undoes_its_own_writes(
    ask, handler, text_in, outbox, caplog
):
    def write_then_fail(question, reply):
        Message.objects.filter(pk=question.pk).update(context={"confirmed": True})
        raise RuntimeError("the session was deleted")

    handler.before_answering = write_then_fail
    question = ask()

    with caplog.at_level(logging.ERROR, logger="messaging"):
        reply = text_in("YES")

    assert reply.body == "YES"
    assert reply.needs_attention
    assert "the session was deleted" in caplog.text
    question.refresh_from_db()
    assert question.context == {}
    assert question.question_open
    assert sent_bodies(outbox) == [question.body, texts.not_understood_text()]


def test_a_reply_to_a_question_whose_handler_is_gone_is_left_for_the_coordinator(
    ask, handler, text_in, caplog
):
    question = ask()
    replies.unregister(HANDLER)

    with caplog.at_level(logging.ERROR, logger="messaging"):
        reply = text_in("YES")

    assert reply.needs_attention
    assert HANDLER in caplog.text
    question.refresh_from_db()
    assert question.question_open


def test_a_text_from_a_number_that_cannot_be_texted_back_is_kept(text_in, caplog):
    """A landline can send a text (through a relay service) but not receive one."""
    with caplog.at_level(logging.ERROR, logger="messaging"):
        reply = text_in("HELP", from_number=LANDLINE)

    assert reply.pk is not None
    assert reply.needs_attention
    assert Message.objects.outbound().count() == 0
    assert "not a mobile" in caplog.text


def test_a_long_topic_is_cut_to_fit_on_the_reply_and_the_answer(ask, handler, text_in):
    topic = "session.reminder." + "x" * 43
    assert len(topic) == 60
    ask(topic=topic)

    reply = text_in("YES")

    assert reply.topic == ("reply." + topic)[:60]
    answer = Message.objects.outbound().get(body="Thanks, see you on Friday.")
    assert answer.topic == (topic + ".answer")[:60]


# The office's opt-out list ------------------------------------------------------------------


@pytest.mark.parametrize("note", ["", "   ", None])
def test_removing_an_opt_out_needs_a_note(note, text_in):
    text_in("STOP")
    opt_out = OptOut.objects.get()

    with pytest.raises(ValidationError) as refused:
        services.remove_opt_out(opt_out, note=note)

    assert "note" in refused.value.message_dict
    assert services.is_opted_out(VOLUNTEER)


def test_an_opt_out_that_has_ended_cannot_be_removed_again(text_in):
    text_in("STOP")
    text_in("START")
    opt_out = OptOut.objects.get()

    with pytest.raises(StateConflict):
        services.remove_opt_out(opt_out, note="Asked on the phone on 3 March.")


def test_removing_an_opt_out_keeps_its_history(text_in, coordinator):
    text_in("STOP")
    first = OptOut.objects.get()

    services.remove_opt_out(first, note="Asked on the phone on 3 March.", by=coordinator)
    text_in("STOP")

    first.refresh_from_db()
    assert first.ended_at is not None
    assert first.ended_note.startswith("Asked on the phone on 3 March. by ")
    assert OptOut.objects.count() == 2
    assert OptOut.objects.current().get().pk != first.pk


def test_removing_a_stale_opt_out_leaves_the_newer_one(text_in):
    text_in("STOP")
    stale = OptOut.objects.get()  # the coordinator's page, opened now
    text_in("START")
    text_in("STOP")

    with pytest.raises(StateConflict):
        services.remove_opt_out(stale, note="Asked on the phone on 3 March.")

    assert services.is_opted_out(VOLUNTEER)


# Safeguards ------------------------------------------------------------------------------


def test_unreadable_texts_get_one_polite_answer_an_hour_so_auto_responders_do_not_loop(
    text_in, outbox
):
    with time_machine.travel(datetime(2026, 11, 24, 10, 5, tzinfo=UK), tick=False):
        text_in("I am out of the office until Monday.")
        text_in("I am out of the office until Monday.")
    with time_machine.travel(datetime(2026, 11, 24, 11, 5, tzinfo=UK), tick=False):
        text_in("I am out of the office until Monday.")

    assert sent_bodies(outbox) == [texts.not_understood_text()] * 2
    assert Message.objects.filter(direction="inbound", needs_attention=True).count() == 3


def test_a_question_that_fails_to_send_releases_the_one_held_behind_it(
    handler, outbox, monkeypatch, django_capture_on_commit_callbacks
):
    from messaging import backends

    monkeypatch.setattr(services, "async_task", lambda *args, **kwargs: None)
    first = services.send_sms(VOLUNTEER, "Can you make Friday?", topic="t", reply_handler=HANDLER)
    second = services.send_sms(VOLUNTEER, "And Monday?", topic="t", reply_handler=HANDLER)
    held = {}

    def refuse(self, message):
        # While the first question is out, the second is tried and held behind it.
        services.deliver(second.pk)
        held["until"] = Message.objects.get(pk=second.pk).send_after
        raise backends.SendFailed("Not a mobile.", code=21614, transient=False)

    monkeypatch.setattr(backends.LocmemBackend, "send", refuse)
    services.deliver(first.pk)

    second.refresh_from_db()
    assert Message.objects.get(pk=first.pk).status == "failed"
    assert held["until"] > timezone.now() + timedelta(hours=23)
    assert second.status == "queued"
    assert second.send_after <= timezone.now()
