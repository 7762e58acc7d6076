import pytest

from bench.twilio_stub import TwilioStub
from messaging import backends, services


@pytest.fixture
def outbox():
    """What the locmem backend has sent, as dicts with sid, id, to and body."""
    return backends.outbox


@pytest.fixture
def queue(monkeypatch):
    """The task queue, in line: an enqueued delivery runs at once; `queue.enqueued` lists
    the message ids handed to it."""

    class InlineQueue:
        def __init__(self):
            self.enqueued = []

        def __call__(self, func, message_id, **options):
            self.enqueued.append(message_id)
            services.deliver(message_id)

    inline = InlineQueue()
    monkeypatch.setattr(services, "async_task", inline)
    return inline


@pytest.fixture
def twilio(settings):
    """Texts go through the real twilio SDK to a stub of Twilio's API on 127.0.0.1."""
    with TwilioStub() as stub:
        for name, value in stub.environ().items():
            setattr(settings, name, value)
        settings.PUBLIC_BASE_URL = "https://peerpath.example.org"
        settings.SMS_HTTP_TIMEOUT = 5
        backends._backend.cache_clear()  # the backend (and its HTTP client) is made once
        yield stub
    backends._backend.cache_clear()
