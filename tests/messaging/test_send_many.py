"""send_many: many texts into the outbox by send_sms's rules in a few queries, whatever their
number; a text that breaks a rule is skipped and said why; a pass that runs again, or dies
halfway and runs again, sends each text once."""

import datetime
import math
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from messaging import replies, services
from messaging.models import Message, OptOut
from messaging.services import OutgoingText, send_many

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
NOON = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # London is on GMT


@pytest.fixture(autouse=True)
def _noon(time_machine):
    time_machine.move_to(NOON, tick=False)


def number(index):
    return f"+447700{900000 + index:06d}"


def texts(count, *, start=0, **fields):
    return [
        OutgoingText(
            to=number(index), body=f"Text {index}", idempotency_key=f"test:{index}", **fields
        )
        for index in range(start, start + count)
    ]


def sent_to(outbox):
    return sorted(text["to"] for text in outbox)


# The same rules as send_sms --------------------------------------------------------------

BAD_TEXTS = [
    ({"to": "01236 440000"}, "+441236440000 is not a mobile number, so it cannot receive texts."),
    ({"to": "12345"}, "“12345” is not a valid phone number"),
    ({"body": "   "}, "A text needs something to say: the body is empty."),
    ({"body": "a" * 1531}, "The text is 11 SMS segments long"),
    ({"reply_handler": "no.such"}, "No reply handler is registered as 'no.such'."),
    (
        {"body": "Your code", "context": {"secret": "123456"}},
        "A text's secret must be a part of its body.",
    ),
]


@pytest.mark.parametrize(("bad", "reason"), BAD_TEXTS)
def test_a_text_send_sms_refuses_is_skipped_with_the_same_reason_and_the_rest_go(
    queue, outbox, django_capture_on_commit_callbacks, bad, reason
):
    fields = {"to": number(5), "body": "Hello", **bad}
    with pytest.raises(ValidationError) as alone:
        services.send_sms(fields.pop("to"), fields.pop("body"), topic="test", **fields)

    bad_text = OutgoingText(**{"to": number(5), "body": "Hello", **bad})
    batch = [*texts(2), bad_text, *texts(1, start=2)]
    with django_capture_on_commit_callbacks(execute=True):
        sent = send_many(batch, topic="test")

    assert list(sent.refused) == [2]
    assert sent.refused[2].messages == alone.value.messages
    assert reason in sent.refused[2].messages[0]
    assert sent.messages[2] is None
    assert [message.body for message in sent.messages if message] == ["Text 0", "Text 1", "Text 2"]
    assert sent_to(outbox) == [number(0), number(1), number(2)]


def test_a_batch_without_a_topic_is_refused_whole():
    with pytest.raises(ValidationError) as refused:
        send_many(texts(3), topic="")

    assert refused.value.messages == ["Every text needs a topic, e.g. session.reminder."]
    assert not Message.objects.exists()


def test_a_key_already_used_returns_its_message_and_adds_nothing(
    queue, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.send_sms(number(0), "Earlier", topic="test", idempotency_key="test:0")
    with django_capture_on_commit_callbacks(execute=True):
        sent = send_many(texts(2), topic="test")

    assert sent.messages[0] == first
    assert sent.messages[0].body == "Earlier"
    assert [message.body for message in sent.new] == ["Text 1"]
    assert Message.objects.count() == 2
    assert sent_to(outbox) == [number(0), number(1)]


def test_the_same_key_twice_in_one_batch_is_one_message(
    queue, outbox, django_capture_on_commit_callbacks
):
    twice = [
        OutgoingText(to=number(0), body="First", idempotency_key="test:same"),
        OutgoingText(to=number(0), body="Second", idempotency_key="test:same"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        sent = send_many(twice, topic="test")

    assert sent.messages[0] == sent.messages[1]
    assert Message.objects.get().body == "First"
    assert len(outbox) == 1


def test_an_opted_out_number_gets_a_suppressed_row_and_no_text(
    queue, outbox, django_capture_on_commit_callbacks
):
    OptOut.objects.create(phone=number(1), word="STOP")
    with django_capture_on_commit_callbacks(execute=True):
        sent = send_many(texts(3), topic="test")

    statuses = [Message.objects.get(pk=message.pk).status for message in sent.messages]
    assert statuses == ["sent", "suppressed", "sent"]
    assert sent.messages[1].error == "The number has opted out of texts."
    assert sent_to(outbox) == [number(0), number(2)]


def test_the_answer_to_a_numbers_own_help_goes_despite_its_opt_out(
    queue, outbox, django_capture_on_commit_callbacks
):
    OptOut.objects.create(phone=number(0), word="STOP")
    with django_capture_on_commit_callbacks(execute=True):
        send_many(texts(1), topic="test", despite_opt_out=True, quiet_hours=False)

    assert sent_to(outbox) == [number(0)]


def test_in_quiet_hours_the_texts_wait_for_the_morning(
    queue, outbox, settings, time_machine, django_capture_on_commit_callbacks
):
    settings.SMS_QUIET_HOURS = "21:00-08:00"
    time_machine.move_to(datetime.datetime(2026, 11, 23, 22, 0, tzinfo=UTC), tick=False)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        held = send_many(texts(2), topic="test")
        urgent = send_many(texts(1, start=2), topic="test", quiet_hours=False)

    morning = datetime.datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert [message.send_after for message in held.messages] == [morning, morning]
    assert len(callbacks) == 1  # only the text that may go now is enqueued
    assert sent_to(outbox) == [number(2)]
    assert Message.objects.get(pk=urgent.messages[0].pk).status == Message.Status.SENT


def test_a_text_for_later_waits_for_its_time(queue, outbox):
    later = NOON + datetime.timedelta(hours=3)
    sent = send_many(texts(1, send_after=later), topic="test")

    assert sent.messages[0].send_after == later
    assert outbox == []


def test_a_secret_is_masked_in_the_stored_body_and_sent_whole(
    queue, outbox, django_capture_on_commit_callbacks
):
    secret_text = OutgoingText(to=number(0), body="Code 123456", context={"secret": "123456"})
    with django_capture_on_commit_callbacks(execute=True):
        sent = send_many([secret_text], topic="test", quiet_hours=False)

    assert sent.messages[0].body == "Code ••••••"
    assert outbox[0]["body"] == "Code 123456"
    assert "secret" not in Message.objects.get().context


def test_reply_handler_context_and_expiry_are_kept(queue, django_capture_on_commit_callbacks):
    replies.register("tests.send_many", lambda question, reply: replies.ReplyOutcome(True))
    try:
        expires = NOON + datetime.timedelta(hours=5)
        with django_capture_on_commit_callbacks(execute=True):
            sent = send_many(
                texts(1, reply_handler="tests.send_many", context={"about": 7}, expires_at=expires),
                topic="test",
            )
    finally:
        replies.unregister("tests.send_many")

    message = Message.objects.get(pk=sent.messages[0].pk)
    assert (message.reply_handler, message.context, message.expires_at) == (
        "tests.send_many",
        {"about": 7},
        expires,
    )
    assert message.question_open


# Queries and delivery --------------------------------------------------------------------


def statements(captured):
    """The captured queries by kind: the verb and, for reads and writes, the table."""
    kinds = Counter()
    for query in captured:
        words = query["sql"].replace('"', "").split()
        verb = words[0].upper()
        if verb == "SELECT":
            kinds[f"SELECT {words[words.index('FROM') + 1]}"] += 1
        elif verb == "INSERT":
            kinds[f"INSERT {words[2]}"] += 1
        else:
            kinds[verb] += 1
    return kinds


@pytest.mark.parametrize("count", [1, 10, 200])
def test_the_queries_do_not_grow_with_the_texts(count, django_capture_on_commit_callbacks):
    OptOut.objects.create(phone=number(0), word="STOP")
    batch = texts(count)
    with django_capture_on_commit_callbacks(), CaptureQueriesContext(connection) as captured:
        sent = send_many(batch, topic="test")

    assert len(sent.new) == count
    kinds = statements(captured)
    inserts = kinds.pop("INSERT messaging_message")
    assert kinds == {
        "SELECT messaging_message": 1,  # the keys already used
        "SELECT messaging_optout": 1,
        "SAVEPOINT": 1,
        "RELEASE": 1,
    }
    # PostgreSQL takes every row in one INSERT; Django lets SQLite bind only 999 parameters
    # in a query, so there the rows go in as few INSERTs as fit.
    fields = [f for f in Message._meta.concrete_fields if not f.primary_key]
    assert inserts == math.ceil(count / connection.ops.bulk_batch_size(fields, sent.new))
    if connection.vendor == "postgresql":
        assert inserts == 1


def test_one_delivery_task_per_batch_and_every_text_sent_once(
    queue, outbox, settings, django_capture_on_commit_callbacks
):
    settings.SMS_DELIVERY_BATCH = 20
    with django_capture_on_commit_callbacks(execute=True):
        send_many(texts(45), topic="test")

    assert len(queue.enqueued) == 3
    assert len(outbox) == 45
    assert sent_to(outbox) == sorted(number(index) for index in range(45))
    assert Message.objects.filter(status=Message.Status.SENT).count() == 45


def test_texts_a_delivery_task_leaves_are_sent_by_the_sweep(
    outbox, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.SMS_DELIVERY_BATCH = 20
    monkeypatch.setattr(services, "async_task", lambda *args, **kwargs: None)  # lost enqueues
    send_many(texts(30), topic="test")
    assert outbox == []

    for message_id in Message.objects.due().values_list("pk", flat=True):
        services.deliver(message_id, batch=20)  # what the sweep's enqueues do
    assert sent_to(outbox) == sorted(number(index) for index in range(30))


def test_running_again_sends_nothing_twice(queue, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = send_many(texts(5), topic="test")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = send_many(texts(5), topic="test")

    assert again.messages == first.messages
    assert again.new == []
    assert callbacks == []
    assert len(outbox) == 5


def test_a_pass_that_died_halfway_and_runs_again_sends_each_text_once(
    queue, outbox, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        send_many(texts(3), topic="test")
        raise RuntimeError("the worker stopped halfway through the pass")
    assert callbacks == []
    assert not Message.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        send_many(texts(5), topic="test")
    with django_capture_on_commit_callbacks(execute=True):
        send_many(texts(5), topic="test")

    assert sent_to(outbox) == [number(index) for index in range(5)]
    assert Message.objects.count() == 5


def test_a_key_another_writer_saved_at_the_same_moment_keeps_that_message(
    queue, outbox, monkeypatch, django_capture_on_commit_callbacks
):
    other = services.send_sms(
        number(1), "The other writer's", topic="test", idempotency_key="test:1"
    )
    # As if the other writer's row arrived after this batch looked for used keys.
    monkeypatch.setattr(services, "_with_keys", lambda keys: [])
    with django_capture_on_commit_callbacks(execute=True):
        sent = send_many(texts(3), topic="test")

    assert sent.messages[1] == other
    assert [message.body for message in sent.new] == ["Text 0", "Text 2"]
    assert Message.objects.count() == 3
    assert sent_to(outbox) == [number(0), number(1), number(2)]
