import pytest

from messaging import backends, services, tasks


@pytest.fixture
def outbox():
    """What the locmem backend has sent, as dicts with sid, id, to and body."""
    return backends.outbox


@pytest.fixture
def queue(monkeypatch):
    """The task queue, in line: an enqueued delivery runs at once, as the worker runs it (a
    batch of up to SMS_DELIVERY_BATCH due texts); `queue.enqueued` lists the message ids
    handed to it."""

    class InlineQueue:
        def __init__(self):
            self.enqueued = []

        def __call__(self, func, message_id, **options):
            self.enqueued.append(message_id)
            tasks.deliver_message(message_id)

    inline = InlineQueue()
    monkeypatch.setattr(services, "async_task", inline)
    return inline
