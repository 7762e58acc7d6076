"""The shared cache in Redis keeps one client for each server (config/redis_cache.py) and is
otherwise Django's: values, counters and expiry work as before, across processes."""

import uuid

import pytest
from django.conf import settings

from config.redis_cache import RedisCache
from tests.config.fresh_process import printed

pytestmark = pytest.mark.redis


@pytest.fixture
def shared_cache():
    cache = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})
    yield cache
    cache.clear()


def test_every_command_goes_through_one_kept_client(shared_cache):
    first = shared_cache._cache.get_client(write=True)

    shared_cache.set("greeting", "Hello", 30)
    assert shared_cache.get("greeting") == "Hello"
    assert shared_cache.get_many(["greeting", "missing"]) == {"greeting": "Hello"}

    assert shared_cache._cache.get_client() is first
    assert shared_cache._cache.get_client(write=True) is first


def test_counters_and_expiry_work_as_in_django(shared_cache):
    assert shared_cache.add("count", 1, 30)
    assert not shared_cache.add("count", 5, 30)
    assert shared_cache.incr("count") == 2
    assert shared_cache.touch("count", 0) is True
    assert shared_cache.get("count") is None
    with pytest.raises(ValueError):
        shared_cache.incr("count")


def test_a_value_written_here_is_read_by_another_process(shared_cache):
    shared_cache.set("from-the-web", {"volunteer": 7, "note": "Ça va 👍"}, 30)
    seen = printed(
        "from config.redis_cache import RedisCache;"
        f"c = RedisCache({settings.REDIS_URL!r}, {{'KEY_PREFIX': {shared_cache.key_prefix!r}}});"
        "print(c.get('from-the-web'))"
    )
    assert seen.strip() == "{'volunteer': 7, 'note': 'Ça va 👍'}"


def test_the_site_uses_it_when_redis_is_set():
    seen = printed(
        "from django.core.cache import caches; cache = caches['default'];"
        "print(type(cache).__module__, type(cache._cache).__name__)",
        REDIS_URL=settings.REDIS_URL,
    )
    assert seen.split() == ["config.redis_cache", "KeptClients"]
