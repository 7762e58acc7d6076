"""One delivery task sends its own text and, when more are due, others with it."""

import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from messaging import backends, services, tasks
from messaging.models import Message, OptOut

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _nothing_enqueued(monkeypatch):
    monkeypatch.setattr(services, "async_task", lambda *args, **kwargs: None)


def queued(count, **options):
    return [
        services.send_sms(f"+447911{index:06d}", f"Text {index}", topic="test", **options)
        for index in range(count)
    ]


def statuses(messages):
    return [Message.objects.get(pk=message.pk).status for message in messages]


def test_a_batch_sends_its_own_text_first_then_the_oldest_due(outbox):
    messages = queued(8)
    own = messages[5]

    assert services.deliver(own.pk, batch=4) is True

    assert [sent["id"] for sent in outbox] == [own.pk, *[m.pk for m in messages[:3]]]
    assert statuses(messages).count("sent") == 4
    assert statuses(messages).count("queued") == 4


def test_a_batch_leaves_texts_that_are_not_due(outbox):
    later = services.send_sms(
        "07911 000001", "Later", topic="test", send_after=timezone.now() + timedelta(hours=1)
    )
    [now] = queued(1)

    services.deliver(now.pk, batch=10)

    assert [sent["body"] for sent in outbox] == ["Text 0"]
    assert statuses([later]) == ["queued"]


def test_a_batch_suppresses_opted_out_numbers_and_fails_expired_texts(outbox):
    own, opted_out, expired = queued(3)
    OptOut.objects.create(phone=opted_out.to_number, word="STOP")
    Message.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    services.deliver(own.pk, batch=3)

    assert statuses([own, opted_out, expired]) == ["sent", "suppressed", "failed"]
    assert [sent["id"] for sent in outbox] == [own.pk]


def test_a_task_whose_text_went_in_another_batch_finds_nothing_to_do(outbox):
    first, second = queued(2)
    services.deliver(first.pk, batch=2)

    assert services.deliver(second.pk, batch=2) is False
    assert len(outbox) == 2


def test_a_failure_in_a_batch_does_not_hold_back_the_others(outbox, monkeypatch):
    messages = queued(3)
    send = backends.LocmemBackend.send

    def refuse_the_second(self, message):
        if message.pk == messages[1].pk:
            raise backends.SendFailed(
                "The number is not a valid phone number.", code=21211, transient=False
            )
        return send(self, message)

    monkeypatch.setattr(backends.LocmemBackend, "send", refuse_the_second)

    services.deliver(messages[0].pk, batch=3)

    assert statuses(messages) == ["sent", "failed", "sent"]
    assert Message.objects.get(pk=messages[1].pk).error_code == 21211


def test_the_texts_of_a_batch_keep_to_the_rate_limit(settings, monkeypatch):
    settings.SMS_RATE_PER_SECOND = 40
    messages = queued(6)
    started = []
    send = backends.LocmemBackend.send

    def timed(self, message):
        started.append(time.monotonic())
        return send(self, message)

    monkeypatch.setattr(backends.LocmemBackend, "send", timed)

    services.deliver(messages[0].pk, batch=6)

    assert len(started) == 6
    # Each text starts no earlier than its own slot, a fortieth of a second after the last.
    assert all(at >= started[0] + index / 40 - 0.001 for index, at in enumerate(started))
    assert started[-1] - started[0] >= 5 / 40 - 0.001


def test_the_delivery_task_sends_in_batches_of_the_configured_size(settings, outbox):
    settings.SMS_DELIVERY_BATCH = 3
    messages = queued(5)

    tasks.deliver_message(messages[0].pk)

    assert len(outbox) == 3


def test_the_sweep_runs_every_minute_from_the_first_migrate():
    from django_q.models import Schedule

    sweep = Schedule.objects.get(func="messaging.tasks.sweep")
    assert (sweep.schedule_type, sweep.minutes, sweep.repeats) == (Schedule.MINUTES, 1, -1)


def test_the_sweep_task_hands_due_texts_to_the_queue(monkeypatch):
    enqueued = []
    monkeypatch.setattr(services, "async_task", lambda func, pk, **options: enqueued.append(pk))
    messages = queued(2)

    assert tasks.sweep()["enqueued"] == 2
    assert sorted(enqueued) == sorted(message.pk for message in messages)


def test_a_secret_is_never_in_the_log_and_is_kept_only_while_it_may_be_sent(outbox, monkeypatch):
    def code_text(to, code):
        body = f"Your code is {code}."
        return services.send_sms(to, body, topic="test", context={services.SECRET: code})

    sent = code_text("+447911000001", "ABCD-EFGH")
    assert (sent.body, sent.context) == ("Your code is •••••••••.", {"secret": "ABCD-EFGH"})
    services.deliver(sent.pk)

    assert outbox[0]["body"] == "Your code is ABCD-EFGH."
    sent.refresh_from_db()
    assert (sent.body, sent.context) == ("Your code is •••••••••.", {})

    refused = code_text("+447911000002", "WXYZ-1234")

    def refuse(self, message):
        raise backends.SendFailed("Twilio answered 503.", transient=True)

    monkeypatch.setattr(backends.LocmemBackend, "send", refuse)
    services.deliver(refused.pk)
    refused.refresh_from_db()
    assert refused.status == "queued" and refused.context == {"secret": "WXYZ-1234"}
    assert "WXYZ-1234" not in refused.body  # still to be sent, and still not in the log

    Message.objects.filter(pk=refused.pk).update(send_after=timezone.now(), attempts=4)
    services.deliver(refused.pk)
    refused.refresh_from_db()
    assert refused.status == "failed" and refused.context == {}
    assert "WXYZ-1234" not in refused.body


def test_a_secret_that_is_not_in_the_text_is_refused():
    with pytest.raises(ValidationError, match="secret must be a part of its body"):
        services.send_sms(
            "+447911000001", "Your code is on its way.", topic="test", context={"secret": "AB12"}
        )

    assert not Message.objects.exists()


def test_a_number_that_opts_out_drops_the_secret_of_its_waiting_text():
    waiting = services.send_sms(
        "+447911000001", "Your code is AB12.", topic="test", context={services.SECRET: "AB12"}
    )

    services.record_opt_out("+447911000001", word="STOP")

    waiting.refresh_from_db()
    assert waiting.status == "suppressed"
    assert waiting.context == {}
