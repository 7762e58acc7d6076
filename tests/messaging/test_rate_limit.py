"""SMS_RATE_PER_SECOND holds across workers: each send takes the next free slot, 1/rate seconds
after the last, from the database (a locked SendSlot row) or from Redis.

The two-worker tests start two real worker processes against the test database and a stub
of Twilio's API in this process, and measure when the stub received each text.
"""

import itertools
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection

from bench.twilio_stub import TwilioStub
from messaging import services, throttle
from messaging.models import Message, SendSlot

PROJECT = Path(__file__).resolve().parents[2]
RATE = 5
TEXTS = 20
# The limiter spaces the moments workers may start sending exactly 1/RATE apart. Between that
# moment and the stub seeing the request lie the wake-up from sleep and one HTTP request over
# loopback: 1 to 30 ms measured here. The tests measure that delay for every text (arrival at
# the stub minus the moment the worker called the backend) and require it below TOLERANCE, so
# a one-second window short by TOLERANCE is what that delay alone can explain. It is half an
# interval: a limiter that let even 6 texts a second through would make 6 arrivals within
# 0.83 s and fail.
TOLERANCE = 0.1

# A worker process: Django set up from the environment, the texts' ids and the Redis key in
# argv. Warmed up, it says "ready", waits for a line on stdin, delivers every id it was given
# (the other worker is given the same ids in the other order) and prints what it sent.
WORKER = textwrap.dedent(
    """
    import json, sys, time
    import django

    django.setup()
    from messaging import backends, services, throttle

    throttle._KEY = sys.argv[2]
    started = {}
    real_send = backends.TwilioBackend.send

    def timed_send(self, message):
        started[message.body] = time.time()
        return real_send(self, message)

    backends.TwilioBackend.send = timed_send
    # A long-lived worker has imported the SDK's lazily loaded API modules already, and the
    # URLconf (read by the first reverse(), for the status callback) and the phone metadata.
    backends.get_backend().client.api.v2010.account.messages
    backends.status_callback_url()
    backends.to_phone("07700 900123")
    ids = json.loads(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()
    sent = [pk for pk in ids if services.deliver(pk)]
    print("result " + json.dumps({"sent": sent, "started": started}), flush=True)
    """
)

pytestmark = pytest.mark.django_db
# The worker processes see only what is committed.
two_workers = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def redis_key():
    """A slot key of this test's own, deleted after it."""
    import redis

    key = f"peerpath:test:sms-slot:{uuid.uuid4().hex}"
    yield key
    redis.Redis.from_url(django_settings.REDIS_URL).delete(key)


# One process: the slots themselves ---------------------------------------------------------


def test_the_database_hands_out_slots_one_interval_apart(settings):
    settings.SMS_RATE_PER_SECOND = RATE
    settings.REDIS_URL = None

    free = []
    for count in (1, 1, 1, 3, 1):
        throttle.reserve(count)
        free.append(SendSlot.objects.get().next_free_us)

    assert [later - earlier for earlier, later in itertools.pairwise(free)] == [
        200_000,
        200_000,
        600_000,
        200_000,
    ]


def test_waits_grow_by_one_interval_per_send(settings):
    settings.SMS_RATE_PER_SECOND = RATE
    settings.REDIS_URL = None

    waits = [throttle.reserve() for _ in range(6)]

    assert waits[0] == 0
    for index, wait in enumerate(waits):
        assert index / RATE - 0.05 < wait <= index / RATE


def test_no_rate_means_no_wait_and_no_slot(settings):
    settings.SMS_RATE_PER_SECOND = 0

    assert throttle.reserve(100) == 0
    assert not SendSlot.objects.exists()


@pytest.mark.redis
def test_redis_hands_out_slots_one_interval_apart(settings, redis_key, monkeypatch):
    import redis

    settings.SMS_RATE_PER_SECOND = RATE
    monkeypatch.setattr(throttle, "_KEY", redis_key)
    client = redis.Redis.from_url(settings.REDIS_URL)

    free = []
    for count in (1, 1, 1, 3, 1):
        throttle.reserve(count)
        free.append(int(client.get(redis_key)))

    assert [later - earlier for earlier, later in itertools.pairwise(free)] == [
        200_000,
        200_000,
        600_000,
        200_000,
    ]


@pytest.mark.redis
def test_redis_keeps_slots_reserved_far_ahead(settings, redis_key, monkeypatch):
    """The key outlives every slot already handed out; if it expired first, the next sender
    would start afresh and the rate would be exceeded."""
    import redis

    settings.SMS_RATE_PER_SECOND = RATE
    monkeypatch.setattr(throttle, "_KEY", redis_key)

    throttle.reserve(1000)  # 200 seconds of slots

    assert redis.Redis.from_url(settings.REDIS_URL).pttl(redis_key) > 200_000


# Two worker processes ----------------------------------------------------------------------


def database_url():
    """The test database, as DATABASE_URL, for processes started by the test."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return None
    password = quote(db["PASSWORD"] or "", safe="")
    user = quote(db["USER"] or "", safe="")
    return f"postgres://{user}:{password}@{db['HOST'] or ''}:{db['PORT'] or 5432}/{db['NAME']}"


def share_sqlite_database(tmp_path):
    """The in-memory SQLite test database, copied to a file the workers can open too."""
    path = tmp_path / "workers.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    # In WAL mode already, as a database in use is: two processes opening a fresh file at
    # once can both try to switch it (the settings' init_command) and one is refused.
    target.execute("PRAGMA journal_mode=WAL")
    target.close()
    return path


def queue_texts(monkeypatch):
    monkeypatch.setattr(services, "async_task", lambda *args, **kwargs: None)
    return [
        services.send_sms(f"+4479111234{index:02d}", f"Text {index}", topic="test.rate").pk
        for index in range(TEXTS)
    ]


def run_two_workers(ids, environment, key):
    """Start two worker processes, let them go at once, and return what each printed."""
    orders = [ids, list(reversed(ids))]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, json.dumps(order), key],
            cwd=PROJECT,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for order in orders
    ]
    try:
        for worker in workers:
            line = worker.stdout.readline()
            if line.strip() != "ready":
                worker.kill()
                pytest.fail(f"A worker did not start: {line}{worker.communicate()[1]}")
        for worker in workers:  # both are waiting: let them go together
            worker.stdin.write("go\n")
            worker.stdin.flush()
        results = []
        for worker in workers:
            output, errors = worker.communicate(timeout=60)
            assert worker.returncode == 0, errors
            [result] = [line for line in output.splitlines() if line.startswith("result ")]
            results.append(json.loads(result.removeprefix("result ")))
        return results
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()


def assert_rate_held(stub, results, statuses):
    creates = stub.requests_of("create")
    arrivals = sorted(request.arrived_at for request in creates)
    bodies = sorted(message["body"] for message in stub.messages)
    sent_by = [result["sent"] for result in results]

    # Each text sent once, by one of the two workers, and both workers took part.
    assert bodies == sorted(f"Text {index}" for index in range(TEXTS))
    assert len(arrivals) == TEXTS
    assert sorted(sent_by[0] + sent_by[1]) == sorted(statuses)
    assert all(sent_by), f"one worker sent everything: {sent_by}"
    assert set(statuses.values()) == {"sent"}

    # The delay the tolerance allows for, measured for every text.
    started = {**results[0]["started"], **results[1]["started"]}
    delays = [request.arrived_at - started[request.params["Body"]] for request in creates]
    assert max(delays) < TOLERANCE, "the machine is too busy to measure the rate"

    # No one-second window holds more than RATE arrivals: the (RATE+1)th arrival after any
    # arrival is at least a second later.
    crowded = [
        (index, round(arrivals[index + RATE] - arrivals[index], 4))
        for index in range(TEXTS - RATE)
        if arrivals[index + RATE] - arrivals[index] < 1 - TOLERANCE
    ]
    assert crowded == []
    # And so the whole run takes at least (TEXTS - 1) / RATE seconds, though not much longer.
    span = arrivals[-1] - arrivals[0]
    assert (TEXTS - 1) / RATE - TOLERANCE <= span < (TEXTS - 1) / RATE + 1


def worker_environment(stub, *, database, redis_url):
    return {
        **os.environ,
        **stub.environ(),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": str(PROJECT),
        "DATABASE_URL": database,
        "REDIS_URL": redis_url or "",
        "SMS_RATE_PER_SECOND": str(RATE),
        "SMS_QUIET_HOURS": "",
    }


def statuses_in(database_file):
    if database_file is None:
        return dict(Message.objects.values_list("pk", "status"))
    with sqlite3.connect(database_file) as shared:
        return dict(shared.execute("SELECT id, status FROM messaging_message"))


@two_workers
def test_two_worker_processes_share_the_rate_through_the_database(tmp_path, monkeypatch):
    ids = queue_texts(monkeypatch)
    database_file = share_sqlite_database(tmp_path) if connection.vendor == "sqlite" else None
    database = f"sqlite:///{database_file}" if database_file else database_url()

    with TwilioStub() as stub:
        environment = worker_environment(stub, database=database, redis_url=None)
        started = time.monotonic()
        results = run_two_workers(ids, environment, key="unused")
        assert time.monotonic() - started < 30

    assert_rate_held(stub, results, statuses_in(database_file))


@pytest.mark.redis
@two_workers
def test_two_worker_processes_share_the_rate_through_redis(tmp_path, monkeypatch, redis_key):
    ids = queue_texts(monkeypatch)
    database_file = share_sqlite_database(tmp_path) if connection.vendor == "sqlite" else None
    database = f"sqlite:///{database_file}" if database_file else database_url()

    with TwilioStub() as stub:
        environment = worker_environment(
            stub, database=database, redis_url=django_settings.REDIS_URL
        )
        results = run_two_workers(ids, environment, key=redis_key)

    assert_rate_held(stub, results, statuses_in(database_file))
    assert not SendSlot.objects.exists()  # the database was not asked
