"""api.throttles: requests are counted in fixed periods, one atomic step each, and a refusal
says when the next period begins."""

import datetime
import threading
import uuid

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from api.throttles import count
from config.redis_cache import RedisCache
from tests.api.conftest import problem_of

URL = "/api/v1/volunteers/"
UTC = datetime.UTC


@pytest.fixture
def three_a_minute(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/minute", "user": "3/minute"}
    )


def test_a_client_gets_its_rate_in_each_minute_and_is_told_when_the_next_begins(
    api, three_a_minute, time_machine
):
    time_machine.move_to(datetime.datetime(2026, 12, 4, 10, 0, 20, tzinfo=UTC), tick=False)

    assert [api.get(URL).status_code for _ in range(4)] == [200, 200, 200, 429]
    refused = api.get(URL)
    assert problem_of(refused)["code"] == "throttled"
    assert refused["Retry-After"] == "40"

    time_machine.move_to(datetime.datetime(2026, 12, 4, 10, 0, 59, 500000, tzinfo=UTC))
    assert api.get(URL)["Retry-After"] == "1"
    time_machine.move_to(datetime.datetime(2026, 12, 4, 10, 1, 0, tzinfo=UTC), tick=False)
    assert [api.get(URL).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_the_count_is_one_number_whatever_the_rate(api, monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "9/minute", "user": "1000/minute"}
    )

    for _ in range(50):
        api.get(URL)

    (key,) = [key for key in cache._cache if "throttle_user" in key]
    assert cache.get(key.split(":", 2)[2]) == 50


def hammer(counter, key, *, threads=8, each=50):
    seen = []

    def run():
        seen.extend(counter(key) for _ in range(each))

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return seen


def test_requests_counted_at_once_are_each_counted_once():
    seen = hammer(lambda key: count(cache, key, 60), "throttle:at-once")

    assert sorted(seen) == list(range(1, 401))


@pytest.mark.redis
def test_the_shared_cache_counts_in_one_atomic_step_that_starts_and_expires_the_count():
    shared = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})
    try:
        seen = hammer(lambda key: count(shared, key, 60), "throttle:at-once")

        assert sorted(seen) == list(range(1, 401))
        client = shared._cache.get_client(write=True)
        stored = shared.make_and_validate_key("throttle:at-once")
        assert 0 < client.ttl(stored) <= 60
        assert shared.get("throttle:at-once") == 400
    finally:
        shared.clear()
