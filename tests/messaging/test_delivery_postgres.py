"""Two workers delivering at once send each text once (PostgreSQL: SQLite has one writer at a
time, so only PostgreSQL shows what `select_for_update(skip_locked=True)` does)."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from messaging import services
from messaging.models import Message

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def twilio(twilio, monkeypatch):
    """The stub of Twilio's API (tests/messaging/conftest.py), with nothing enqueued."""
    monkeypatch.setattr(services, "async_task", lambda *args, **kwargs: None)
    return twilio


def queued(count):
    return [
        services.send_sms(f"+447911{index:06d}", f"Text {index}", topic="test.workers").pk
        for index in range(count)
    ]


def in_two_workers(work):
    """Run work(worker_number) in two threads, each with its own database connection,
    released together; returns what each returned."""
    start = threading.Barrier(2)
    results = [None, None]
    failures = []

    def worker(number):
        try:
            start.wait()
            results[number] = work(number)
        except BaseException as error:  # reported below, not lost in the thread
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(number,)) for number in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    return results


def test_two_workers_delivering_the_same_text_at_once_send_it_once(twilio):
    ids = queued(25)

    for message_id in ids:
        outcomes = in_two_workers(lambda number, pk=message_id: services.deliver(pk))
        assert sorted(outcomes) == [False, True]

    assert len(twilio.messages) == 25
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}
    assert set(Message.objects.values_list("attempts", flat=True)) == {1}


def deliver_impatiently(message_id):
    """Deliver, failing rather than waiting more than 2 s for a lock."""
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '2s'")
    return services.deliver(message_id)


def test_a_text_locked_by_another_worker_is_skipped_at_once_not_waited_for(twilio):
    [message_id] = queued(1)

    with transaction.atomic():
        Message.objects.select_for_update().get(pk=message_id)  # another worker's claim
        started = time.monotonic()
        [outcome, _] = in_two_workers(
            lambda number: deliver_impatiently(message_id) if number == 0 else None
        )
        waited = time.monotonic() - started

    assert outcome is False
    assert waited < 1
    assert twilio.messages == []
    assert services.deliver(message_id) is True
    assert len(twilio.messages) == 1


def test_many_texts_delivered_by_two_workers_are_each_sent_once(twilio):
    ids = queued(60)

    sent = in_two_workers(
        lambda number: [message_id for message_id in ids if services.deliver(message_id)]
    )

    assert sorted(sent[0] + sent[1]) == sorted(ids)
    assert sent[0] and sent[1], "one worker sent everything"
    bodies = [message["body"] for message in twilio.messages]
    assert sorted(bodies) == sorted(f"Text {index}" for index in range(60))
    sids = list(Message.objects.values_list("twilio_sid", flat=True))
    assert sorted(sids) == sorted(message["sid"] for message in twilio.messages)
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}


def test_two_workers_claiming_batches_send_each_text_once(twilio):
    ids = queued(80)

    in_two_workers(
        lambda number: [services.deliver(message_id, batch=7) for message_id in ids[number::2]]
    )

    bodies = sorted(message["body"] for message in twilio.messages)
    assert bodies == sorted(f"Text {index}" for index in range(80))
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}
    assert set(Message.objects.values_list("attempts", flat=True)) == {1}
