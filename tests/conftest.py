"""Shared fixtures, and where the PostgreSQL- and Redis-only tests run.

Tests marked `postgres` or `redis` need those servers. Against SQLite and the ORM broker they
are deselected with a note; with DATABASE_URL and REDIS_URL set they run, and in CI
(CI=true) a server that does not answer fails the run instead of skipping anything.
"""

import os
import uuid

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from bench.twilio_stub import TwilioStub
from community.coordinators import COORDINATORS_GROUP
from messaging import backends
from tests.factories import UserFactory

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _database_is_postgres():
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def _redis_answers():
    if not settings.REDIS_URL:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping())
    except (OSError, redis.ConnectionError, redis.TimeoutError):
        return False


def _absent_servers():
    absent = {}
    if not _database_is_postgres():
        absent["postgres"] = "needs PostgreSQL: set DATABASE_URL"
    if not settings.REDIS_URL:
        absent["redis"] = "needs Redis: set REDIS_URL"
    return absent


def pytest_report_header(config):
    return [
        f"tests marked {marker} are deselected ({reason})"
        for marker, reason in _absent_servers().items()
    ]


def pytest_collection_modifyitems(config, items):
    absent = _absent_servers()
    kept = [item for item in items if not any(item.get_closest_marker(m) for m in absent)]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


@pytest.fixture(scope="session", autouse=True)
def _servers_answer():
    """With REDIS_URL set (as in CI) Redis must answer: a dead server is a failure, not a skip."""
    if settings.REDIS_URL and not _redis_answers():
        message = f"Redis at {settings.REDIS_URL} does not answer"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.exit(message + ": start it, or unset REDIS_URL", returncode=3)


@pytest.fixture(autouse=True)
def _own_cache(settings, request):
    """Each test counts throttles and rate limits in a cache of its own, never in Redis,
    so tests running side by side do not throttle each other."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"{request.node.nodeid}-{uuid.uuid4()}",
        }
    }


@pytest.fixture(autouse=True)
def _texts_stay_in_memory(settings):
    """Texts go to the locmem outbox, unthrottled and whatever the time of day; the tests of
    quiet hours and the rate limit set their own."""
    from messaging import backends

    settings.SMS_BACKEND = "locmem"
    settings.SMS_RATE_PER_SECOND = 0
    settings.SMS_QUIET_HOURS = ""
    backends.outbox.clear()
    yield
    backends.outbox.clear()


@pytest.fixture
def coordinator(db):
    user = UserFactory(email="coordinator@example.org", is_staff=True)
    user.groups.add(Group.objects.get(name=COORDINATORS_GROUP))
    return user


@pytest.fixture
def coordinator_client(client, coordinator):
    client.force_login(coordinator)
    return client


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


SIGN_IN_CODE = "KX7Q-M2PD"
SIGN_IN_PHONE = "+447911123456"  # a real mobile's form: Twilio is never sent the drama range
EXPECTED_STATUS = {"queued": "queued", "retrying": "queued", "sent": "sent", "failed": "failed"}


@pytest.fixture
def sign_in_code_text(twilio):
    """A sign-in code texted as allauth does it (through the account adapter) to a volunteer,
    then left in a state: `queued` (not tried yet), `retrying` (Twilio answered 503),
    `sent`, or `failed` (Twilio refused it for good). Returns the message row."""
    from accounts.adapter import LOGIN_CODE_TOPIC, AccountAdapter
    from messaging import services
    from messaging.models import Message

    def text(state):
        AccountAdapter().send_verification_code_sms(UserFactory(), SIGN_IN_PHONE, SIGN_IN_CODE)
        message = Message.objects.get(topic=LOGIN_CODE_TOPIC)
        if state == "retrying":
            twilio.fail_next(503)
        elif state == "failed":
            twilio.fail_next(400, code=21211, message="The 'To' number is not valid.")
        if state != "queued":
            services.deliver(message.pk)
        message.refresh_from_db()
        assert message.status == EXPECTED_STATUS[state], message.error
        return message

    return text
