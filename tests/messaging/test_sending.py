"""send_sms: the outbox row is written in the caller's transaction and sent after it commits;
the same key sends once; opted-out numbers are never texted; bad input is refused in words."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from messaging import replies, services
from messaging.models import Message, OptOut

pytestmark = pytest.mark.django_db

MOBILE = "07911 123456"
MOBILE_E164 = "+447911123456"


def test_the_row_is_written_in_the_callers_transaction_and_sent_once_it_commits(
    queue, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        message = services.send_sms(MOBILE, "See you tomorrow at 10.", topic="test.send")
        assert Message.objects.get(pk=message.pk).status == Message.Status.QUEUED
        assert queue.enqueued == []
        assert outbox == []

    assert len(callbacks) == 1
    assert queue.enqueued == [message.pk]
    assert [(sent["to"], sent["body"]) for sent in outbox] == [
        (MOBILE_E164, "See you tomorrow at 10.")
    ]
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.twilio_sid == outbox[0]["sid"]
    assert message.attempts == 1


def test_a_rolled_back_transaction_leaves_no_row_and_sends_nothing(
    queue, outbox, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.send_sms(MOBILE, "See you tomorrow at 10.", topic="test.send")
        raise RuntimeError("the caller changed its mind")

    assert callbacks == []
    assert not Message.objects.exists()
    assert queue.enqueued == []
    assert outbox == []


def test_the_same_idempotency_key_twice_returns_the_first_message_and_sends_once(
    queue, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.send_sms(MOBILE, "Reminder", topic="test.send", idempotency_key="k-1")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = services.send_sms(
            MOBILE, "Reminder, worded again", topic="test.send", idempotency_key="k-1"
        )

    assert second.pk == first.pk
    assert second.body == "Reminder"
    assert callbacks == []
    assert Message.objects.count() == 1
    assert len(outbox) == 1


def test_an_opted_out_number_gets_a_suppressed_row_and_no_text(
    queue, outbox, django_capture_on_commit_callbacks
):
    OptOut.objects.create(phone=MOBILE_E164, word="STOP")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = services.send_sms(MOBILE, "See you tomorrow at 10.", topic="test.send")

    assert message.status == Message.Status.SUPPRESSED
    assert message.error == "The number has opted out of texts."
    assert callbacks == []
    assert queue.enqueued == []
    assert outbox == []


def test_a_number_that_opts_out_after_the_text_was_queued_is_not_texted(queue, outbox):
    message = services.send_sms(MOBILE, "See you tomorrow at 10.", topic="test.send")
    OptOut.objects.create(phone=MOBILE_E164, word="STOP")  # directly: no queued row changes

    assert services.deliver(message.pk) is False

    message.refresh_from_db()
    assert message.status == Message.Status.SUPPRESSED
    assert outbox == []


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("12345", "“12345” is not a valid phone number"),
        ("not a number", "“not a number” is not a valid phone number"),
        ("+44 7911 1234", "“+44 7911 1234” is not a valid phone number: it is too short"),
        ("01236 440000", "+441236440000 is not a mobile number, so it cannot receive texts."),
        ("0800 123456", "+44800123456 is not a mobile number, so it cannot receive texts."),
    ],
)
def test_a_number_that_cannot_take_texts_is_refused_saying_why(outbox, number, reason):
    with pytest.raises(ValidationError) as refused:
        services.send_sms(number, "Hello", topic="test.send")

    assert reason in refused.value.messages[0]
    assert not Message.objects.exists()


@pytest.mark.parametrize("body", ["", "   ", "\n\t "])
def test_an_empty_body_is_refused(body):
    with pytest.raises(ValidationError) as refused:
        services.send_sms(MOBILE, body, topic="test.send")

    assert refused.value.messages == ["A text needs something to say: the body is empty."]
    assert not Message.objects.exists()


def test_ten_segments_are_accepted_and_eleven_refused_with_the_count():
    services.send_sms(MOBILE, "a" * 1530, topic="test.send")  # 10 × 153

    with pytest.raises(ValidationError) as refused:
        services.send_sms(MOBILE, "a" * 1531, topic="test.send")

    assert refused.value.messages == [
        "The text is 11 SMS segments long (1531 GSM-7 characters); at most 10 are allowed."
    ]
    assert Message.objects.count() == 1


def test_a_long_text_outside_gsm7_is_measured_in_ucs2():
    with pytest.raises(ValidationError) as refused:
        services.send_sms(MOBILE, "ж" * 671, topic="test.send")  # 10 × 67 + 1

    assert refused.value.messages == [
        "The text is 11 SMS segments long (671 UCS-2 characters); at most 10 are allowed."
    ]


def test_an_unknown_reply_handler_is_refused():
    with pytest.raises(ValidationError) as refused:
        services.send_sms(MOBILE, "Can you come?", topic="test.send", reply_handler="no.such")

    assert refused.value.messages == ["No reply handler is registered as 'no.such'."]
    assert not Message.objects.exists()


def test_a_registered_reply_handler_is_accepted():
    replies.register("tests.sending", lambda question, reply: replies.ReplyOutcome(True))
    try:
        message = services.send_sms(
            MOBILE, "Can you come?", topic="test.send", reply_handler="tests.sending"
        )
    finally:
        replies.unregister("tests.sending")

    assert message.reply_handler == "tests.sending"
    assert message.awaits_reply


def test_a_text_without_a_topic_is_refused():
    with pytest.raises(ValidationError) as refused:
        services.send_sms(MOBILE, "Hello", topic="")

    assert refused.value.messages == ["Every text needs a topic, e.g. session.reminder."]


def test_fictional_numbers_are_accepted_for_demo_data(queue, outbox):
    message = services.send_sms("07700 900123", "Hello", topic="test.send")

    assert message.to_number == "+447700900123"
    assert message.status == Message.Status.QUEUED
