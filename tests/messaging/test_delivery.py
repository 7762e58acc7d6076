"""Delivery through the real twilio SDK to a local stub of Twilio's API (bench/twilio_stub.py):
what Twilio receives, retries of transient failures, permanent refusals, a worker that dies
mid-send, the sweep, and one open question per number."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bench.twilio_stub import new_sid
from messaging import backends, replies, services
from messaging.models import Message, OptOut

pytestmark = pytest.mark.django_db

MOBILE = "+447911123456"
PUBLIC_BASE_URL = "https://peerpath.example.org"
Status = Message.Status


@pytest.fixture
def send(queue, django_capture_on_commit_callbacks):
    """send_sms as a caller's committed transaction: the delivery runs in line."""

    def send(body="See you tomorrow at 10:00.", to=MOBILE, **options):
        options.setdefault("topic", "test.delivery")
        with django_capture_on_commit_callbacks(execute=True):
            message = services.send_sms(to, body, **options)
        message.refresh_from_db()
        return message

    return send


class WorkerDied(BaseException):
    """The process running the task was killed (not an error the code could catch)."""


def creates(stub):
    return stub.requests_of("create")


def impatient(settings):
    """Give up on Twilio's answer after 0.2 s (the stub stalls for longer)."""
    settings.SMS_HTTP_TIMEOUT = 0.2
    backends._backend.cache_clear()


def retry_when_due(time_machine, message):
    """Move the clock to the message's retry time and run its delivery again."""
    time_machine.move_to(message.send_after + timedelta(seconds=1))
    services.deliver(message.pk)
    message.refresh_from_db()


# What Twilio receives --------------------------------------------------------------------


def test_twilio_receives_the_number_sender_body_and_status_callback(twilio, send):
    message = send("See you tomorrow at 10:00.")

    assert [request.params for request in creates(twilio)] == [
        {
            "To": MOBILE,
            "From": twilio.from_number,
            "Body": "See you tomorrow at 10:00.",
            "StatusCallback": f"{PUBLIC_BASE_URL}/messaging/twilio/status/",
        }
    ]
    [accepted] = twilio.messages
    assert message.status == Status.SENT
    assert message.twilio_sid == accepted["sid"]
    assert accepted["sid"].startswith("SM") and len(accepted["sid"]) == 34
    assert message.sent_at is not None
    assert message.attempts == 1
    assert (message.error, message.error_code) == ("", None)


def test_a_messaging_service_sends_instead_of_the_number_when_set(twilio, send, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "0123456789abcdef" * 2

    message = send()

    [request] = creates(twilio)
    assert request.params["MessagingServiceSid"] == settings.TWILIO_MESSAGING_SERVICE_SID
    assert "From" not in request.params
    assert message.status == Status.SENT


def test_without_a_public_base_url_no_status_callback_is_asked_for(twilio, send, settings):
    settings.PUBLIC_BASE_URL = ""

    send()

    [request] = creates(twilio)
    assert "StatusCallback" not in request.params


def test_without_a_sender_the_text_waits_and_says_why(twilio, send, settings):
    settings.TWILIO_FROM_NUMBER = ""

    message = send()

    assert message.status == Status.QUEUED
    assert message.error == (
        "Twilio needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID to send from."
    )
    assert creates(twilio) == []


def test_fictional_numbers_never_reach_twilio(twilio, send):
    message = send(to="07700 900123")

    assert message.status == Status.FAILED
    assert message.error == (
        "The number is in Ofcom's drama range (07700 900xxx), kept away from Twilio."
    )
    assert twilio.requests == []


# Transient failures ----------------------------------------------------------------------


def test_429_then_success_sends_once(twilio, send, time_machine):
    twilio.fail_next(429, code=20429, message="Too Many Requests")

    message = send()

    assert message.status == Status.QUEUED
    assert message.send_after > timezone.now()
    assert message.attempts == 1
    assert message.error_code == 20429
    assert message.error == "Twilio asked PeerPath to slow down."
    assert twilio.messages == []

    retry_when_due(time_machine, message)

    assert message.status == Status.SENT
    assert message.attempts == 2
    [accepted] = twilio.messages
    assert message.twilio_sid == accepted["sid"]
    assert [request.status for request in creates(twilio)] == [429, 201]
    assert (message.error, message.error_code) == ("", None)


@pytest.mark.parametrize(
    ("script", "error"),
    [
        (lambda stub: stub.fail_next(500), "Twilio answered 500: Unable to create record"),
        (lambda stub: stub.fail_next(503), "Twilio answered 503: Unable to create record"),
        (lambda stub: stub.stall_next(2.0), "Twilio did not answer (ReadTimeout)."),
        (lambda stub: stub.drop_next(), "Twilio did not answer (ConnectionError)."),
    ],
    ids=["500", "503", "timeout", "connection-dropped"],
)
def test_server_errors_and_timeouts_are_retried_later(
    twilio, send, time_machine, settings, script, error
):
    impatient(settings)
    script(twilio)

    message = send()

    assert message.status == Status.QUEUED
    assert message.error.startswith(error)
    assert message.error_code is None
    assert message.send_after > timezone.now()
    assert twilio.messages == []

    retry_when_due(time_machine, message)

    assert message.status == Status.SENT
    assert len(twilio.messages) == 1


@pytest.mark.parametrize(
    "script",
    [
        lambda stub: stub.fail_next(500, accepted=True),
        lambda stub: stub.drop_next(accepted=True),
        lambda stub: stub.stall_next(2.0, accepted=True),
    ],
    ids=["500-after-accepting", "dropped-after-accepting", "timeout-after-accepting"],
)
def test_a_text_twilio_took_before_failing_is_found_on_retry_not_sent_again(
    twilio, send, time_machine, settings, script
):
    impatient(settings)
    script(twilio)

    message = send()

    assert message.status == Status.QUEUED
    [accepted] = twilio.messages

    retry_when_due(time_machine, message)

    assert message.status == Status.SENT
    assert message.twilio_sid == accepted["sid"]
    assert len(twilio.messages) == 1
    assert len(creates(twilio)) == 1


def test_retries_back_off_and_give_up_after_the_last_attempt(twilio, send, time_machine):
    twilio.fail_next(503, times=5)

    message = send()
    waits = []
    while message.status == Status.QUEUED:
        waits.append(message.send_after - timezone.now())
        retry_when_due(time_machine, message)

    assert message.status == Status.FAILED
    assert message.attempts == 5
    assert message.error.startswith("Gave up after 5 attempts: Twilio answered 503")
    assert len(creates(twilio)) == 5
    assert twilio.messages == []
    # About 30 s, 1, 2 and 4 minutes, each with jitter of up to half.
    for wait, longest in zip(waits, [30, 60, 120, 240], strict=True):
        assert timedelta(seconds=longest / 2 - 1) <= wait <= timedelta(seconds=longest)


def test_a_text_that_expires_while_waiting_to_retry_is_not_sent(twilio, send, time_machine):
    twilio.fail_next(503)
    message = send(expires_at=timezone.now() + timedelta(seconds=10))
    assert message.status == Status.QUEUED

    retry_when_due(time_machine, message)

    assert message.status == Status.FAILED
    assert message.error == "It expired before it could be sent."
    assert len(creates(twilio)) == 1
    assert twilio.messages == []


# Permanent failures ----------------------------------------------------------------------


def test_21610_fails_at_once_and_records_the_opt_out(twilio, send, time_machine):
    twilio.fail_next(400, code=21610, message="Attempt to send to unsubscribed recipient")

    message = send()

    assert message.status == Status.FAILED
    assert message.error_code == 21610
    assert message.error == "The person replied STOP to this number, so Twilio will not text them."
    assert message.attempts == 1
    [opt_out] = OptOut.objects.current()
    assert (opt_out.phone, opt_out.word) == (MOBILE, "Twilio 21610")

    time_machine.move_to(timezone.now() + timedelta(hours=2))
    assert services.sweep()["enqueued"] == 0
    assert services.deliver(message.pk) is False
    later = send("Another text")
    assert later.status == Status.SUPPRESSED
    assert len(creates(twilio)) == 1


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (21211, "The number is not a valid phone number."),
        (21614, "The number is not a mobile, so it cannot receive texts."),
        (21408, "Texts to this country or region are not enabled on the Twilio account."),
    ],
)
def test_permanent_refusals_fail_at_once_with_a_readable_reason(
    twilio, send, time_machine, code, reason
):
    twilio.fail_next(400, code=code)

    message = send()

    assert message.status == Status.FAILED
    assert (message.error_code, message.error) == (code, reason)
    assert message.attempts == 1
    assert not OptOut.objects.exists()
    time_machine.move_to(timezone.now() + timedelta(hours=2))
    assert services.sweep()["enqueued"] == 0
    assert len(creates(twilio)) == 1


def test_an_unknown_refusal_keeps_twilios_words(twilio, send):
    twilio.fail_next(400, code=21999, message="Something Twilio dislikes")

    message = send()

    assert message.status == Status.FAILED
    assert message.error_code == 21999
    assert message.error == (
        "Twilio answered 400: Unable to create record: Something Twilio dislikes"
    )


# A worker that dies, and the sweep -------------------------------------------------------


def die_after(monkeypatch, target, name):
    """Make `target.name` kill the worker once it has done its work."""
    real = getattr(target, name)

    def dying(*args, **kwargs):
        real(*args, **kwargs)
        raise WorkerDied

    monkeypatch.setattr(target, name, dying)
    return lambda: monkeypatch.setattr(target, name, real)


def test_a_worker_that_died_after_twilio_accepted_is_marked_sent_not_sent_again(
    twilio, queue, time_machine, monkeypatch
):
    message = services.send_sms(MOBILE, "See you tomorrow at 10:00.", topic="test.delivery")
    revive = die_after(monkeypatch, backends.TwilioBackend, "send")
    with pytest.raises(WorkerDied):
        services.deliver(message.pk)
    revive()
    message.refresh_from_db()
    assert message.status == Status.SENDING
    assert message.twilio_sid is None
    [accepted] = twilio.messages

    assert services.sweep() == {"enqueued": 0, "found_at_provider": 0, "requeued": 0}  # too soon

    time_machine.move_to(message.claimed_at + timedelta(minutes=3))
    assert services.sweep() == {"enqueued": 0, "found_at_provider": 1, "requeued": 0}

    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.twilio_sid == accepted["sid"]
    assert len(creates(twilio)) == 1
    assert queue.enqueued == []


def test_a_text_still_in_twilios_own_queue_is_found_before_a_retry(twilio, queue, time_machine):
    twilio.hands_to_carrier = False  # Twilio has it, but has not sent it: no date_sent yet
    twilio.fail_next(500, accepted=True)
    message = services.send_sms(MOBILE, "See you tomorrow at 10:00.", topic="test.delivery")
    services.deliver(message.pk)
    message.refresh_from_db()
    assert message.status == Status.QUEUED

    time_machine.move_to(message.send_after + timedelta(seconds=1))
    services.deliver(message.pk)

    message.refresh_from_db()
    [accepted] = twilio.messages
    assert accepted["date_sent"] is None
    assert (message.status, message.twilio_sid) == (Status.SENT, accepted["sid"])


def test_a_stale_send_twilio_never_got_is_queued_again_and_sent_once(
    twilio, queue, time_machine, monkeypatch
):
    message = services.send_sms(MOBILE, "See you tomorrow at 10:00.", topic="test.delivery")
    revive = die_after(monkeypatch, services.throttle, "pace")  # dies just before sending
    with pytest.raises(WorkerDied):
        services.deliver(message.pk)
    revive()
    assert twilio.messages == []

    time_machine.move_to(Message.objects.get().claimed_at + timedelta(minutes=3))
    assert services.sweep() == {"enqueued": 1, "found_at_provider": 0, "requeued": 1}

    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.attempts == 2
    [accepted] = twilio.messages
    assert message.twilio_sid == accepted["sid"]
    assert queue.enqueued == [message.pk]
    time_machine.shift(timedelta(minutes=10))
    assert services.sweep() == {"enqueued": 0, "found_at_provider": 0, "requeued": 0}
    assert len(creates(twilio)) == 1


def test_a_stale_send_is_matched_only_to_a_text_no_other_row_holds(
    twilio, send, time_machine, monkeypatch
):
    """The same words to the same number earlier (a second 'not understood', say) is not
    taken for the text a dead worker may or may not have sent."""
    earlier = send("Thanks for your message.")
    message = services.send_sms(MOBILE, "Thanks for your message.", topic="test.delivery")
    revive = die_after(monkeypatch, services.throttle, "pace")
    with pytest.raises(WorkerDied):
        services.deliver(message.pk)
    revive()

    time_machine.move_to(Message.objects.get(pk=message.pk).claimed_at + timedelta(minutes=3))
    assert services.sweep() == {"enqueued": 1, "found_at_provider": 0, "requeued": 1}

    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.twilio_sid != earlier.twilio_sid
    assert [accepted["sid"] for accepted in twilio.messages] == [
        earlier.twilio_sid,
        message.twilio_sid,
    ]


def test_a_stale_send_waits_for_the_next_sweep_when_twilio_cannot_be_asked(
    twilio, queue, time_machine, monkeypatch
):
    message = services.send_sms(MOBILE, "See you tomorrow at 10:00.", topic="test.delivery")
    revive = die_after(monkeypatch, backends.TwilioBackend, "send")
    with pytest.raises(WorkerDied):
        services.deliver(message.pk)
    revive()
    twilio.fail_next(503, request="list")

    time_machine.move_to(Message.objects.get().claimed_at + timedelta(minutes=3))
    assert services.sweep() == {"enqueued": 0, "found_at_provider": 0, "requeued": 0}
    assert Message.objects.get().status == Status.SENDING

    time_machine.shift(timedelta(minutes=1))
    assert services.sweep() == {"enqueued": 0, "found_at_provider": 1, "requeued": 0}
    assert Message.objects.get().status == Status.SENT
    assert len(creates(twilio)) == 1


def test_delivering_the_same_message_twice_sends_it_once(twilio, queue):
    message = services.send_sms(MOBILE, "See you tomorrow at 10:00.", topic="test.delivery")

    assert services.deliver(message.pk) is True
    assert services.deliver(message.pk) is False

    assert len(creates(twilio)) == 1
    message.refresh_from_db()
    assert message.attempts == 1


def test_an_expired_text_fails_and_is_never_sent(twilio, send):
    message = send(expires_at=timezone.now() - timedelta(seconds=1), quiet_hours=False)

    assert message.status == Status.FAILED
    assert message.error == "It expired before it could be sent."
    assert message.attempts == 0
    assert twilio.requests == []


def test_the_sweep_sends_due_texts_whose_enqueue_was_lost_and_not_future_ones(
    twilio, queue, time_machine
):
    # Written outside any captured commit: their enqueue never happened.
    due = services.send_sms(MOBILE, "Due now", topic="test.delivery")
    later = services.send_sms(
        "+447911123457",
        "Due in an hour",
        topic="test.delivery",
        send_after=timezone.now() + timedelta(hours=1),
    )
    assert queue.enqueued == []

    assert services.sweep() == {"enqueued": 1, "found_at_provider": 0, "requeued": 0}
    assert queue.enqueued == [due.pk]
    assert [accepted["body"] for accepted in twilio.messages] == ["Due now"]
    later.refresh_from_db()
    assert later.status == Status.QUEUED

    time_machine.move_to(later.send_after + timedelta(seconds=1))
    assert services.sweep()["enqueued"] == 1
    assert [accepted["body"] for accepted in twilio.messages] == ["Due now", "Due in an hour"]


def test_the_task_entry_points_deliver_and_sweep(twilio, queue):
    from messaging import tasks

    message = services.send_sms(MOBILE, "Hello", topic="test.delivery")

    assert tasks.deliver_message(message.pk) is True
    assert tasks.sweep() == {"enqueued": 0, "found_at_provider": 0, "requeued": 0}
    assert len(twilio.messages) == 1


# One open question per number ------------------------------------------------------------


@pytest.fixture
def confirmations():
    """A reply handler that understands YES."""
    answered = []

    def confirm(question, reply):
        answered.append((question.pk, reply.body))
        if reply.body.strip().upper() == "YES":
            return replies.ReplyOutcome(understood=True, answer="Thanks, see you then.")
        return replies.ReplyOutcome(understood=False)

    replies.register("tests.confirm", confirm)
    yield answered
    replies.unregister("tests.confirm")


def reply(django_capture_on_commit_callbacks, body, number=MOBILE):
    with django_capture_on_commit_callbacks(execute=True):
        return services.receive(
            sid=new_sid("SM"),
            from_number=number,
            to_number="+447700900999",
            body=body,
        )[0]


def test_a_second_question_waits_until_the_first_is_answered(
    twilio, send, confirmations, django_capture_on_commit_callbacks, settings
):
    first = send("Can you come on Monday? Reply YES or NO.", reply_handler="tests.confirm")
    assert first.status == Status.SENT
    assert first.question_open
    assert first.reply_expires_at == first.claimed_at + timedelta(
        hours=settings.SMS_REPLY_WINDOW_HOURS
    )

    second = send("Can you come on Tuesday? Reply YES or NO.", reply_handler="tests.confirm")
    assert second.status == Status.QUEUED
    assert second.send_after == first.reply_expires_at
    assert not second.question_open
    assert len(twilio.messages) == 1

    answer = reply(django_capture_on_commit_callbacks, "yes")

    first.refresh_from_db()
    second.refresh_from_db()
    assert confirmations == [(first.pk, "yes")]
    assert first.answered_by == answer
    assert not first.question_open
    assert second.status == Status.SENT
    assert second.question_open
    assert [accepted["body"] for accepted in twilio.messages] == [
        "Can you come on Monday? Reply YES or NO.",
        "Thanks, see you then.",
        "Can you come on Tuesday? Reply YES or NO.",
    ]


def test_a_second_question_goes_when_the_first_expires(
    twilio, send, confirmations, queue, time_machine
):
    first = send("Can you come on Monday? Reply YES or NO.", reply_handler="tests.confirm")
    second = send("Can you come on Tuesday? Reply YES or NO.", reply_handler="tests.confirm")
    assert second.status == Status.QUEUED

    time_machine.move_to(first.reply_expires_at - timedelta(seconds=1))
    assert services.sweep()["enqueued"] == 0

    time_machine.move_to(first.reply_expires_at + timedelta(seconds=1))
    assert services.sweep()["enqueued"] == 1

    first.refresh_from_db()
    second.refresh_from_db()
    assert not first.question_open
    assert first.answered_by is None
    assert second.status == Status.SENT
    assert second.question_open
    assert len(twilio.messages) == 2


def test_the_sweep_closes_expired_questions(twilio, send, confirmations, time_machine):
    question = send("Can you come on Monday? Reply YES or NO.", reply_handler="tests.confirm")
    assert question.question_open

    time_machine.move_to(question.reply_expires_at + timedelta(seconds=1))
    services.sweep()

    question.refresh_from_db()
    assert not question.question_open
    assert not Message.objects.open_question_for(MOBILE).exists()


def test_a_question_scheduled_for_later_keeps_its_time_when_another_is_answered(
    twilio, send, confirmations, django_capture_on_commit_callbacks
):
    send("Can you come on Monday? Reply YES or NO.", reply_handler="tests.confirm")
    tomorrow = timezone.now() + timedelta(days=1)
    scheduled = send(
        "Can you come next week? Reply YES or NO.",
        reply_handler="tests.confirm",
        send_after=tomorrow,
    )

    reply(django_capture_on_commit_callbacks, "YES")

    scheduled.refresh_from_db()
    assert scheduled.status == Status.QUEUED
    assert scheduled.send_after == tomorrow
    assert len(twilio.messages) == 2  # the question and the thanks


def test_questions_to_different_numbers_do_not_wait_for_each_other(twilio, send, confirmations):
    first = send("Can you come on Monday?", reply_handler="tests.confirm")
    other = send("Can you come on Monday?", to="+447911123457", reply_handler="tests.confirm")

    assert first.status == other.status == Status.SENT
    assert first.question_open and other.question_open


def test_a_text_that_stops_its_worker_every_time_is_given_up_after_the_last_attempt(
    twilio, queue, time_machine, monkeypatch, settings
):
    message = services.send_sms(MOBILE, "See you tomorrow at 10:00.", topic="test.delivery")
    die_after(monkeypatch, services.throttle, "pace")  # every attempt stops its worker
    for attempt in range(1, settings.SMS_MAX_ATTEMPTS + 1):
        with pytest.raises(WorkerDied):
            services.deliver(message.pk)
        message.refresh_from_db()
        assert (message.status, message.attempts) == (Status.SENDING, attempt)
        time_machine.move_to(message.claimed_at + timedelta(minutes=3))
        sweep = services.reconcile_stale_sending()

    message.refresh_from_db()
    assert sweep == (0, 0)
    assert message.status == Status.FAILED
    assert message.error == "Gave up after 5 attempts: the worker stopped while sending it."
    assert twilio.messages == []
