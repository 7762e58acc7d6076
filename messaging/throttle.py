"""SMS_RATE_PER_SECOND across every worker: each send takes the next free slot in time.

Slots are spaced 1/rate seconds apart and handed out atomically, by Redis (its own clock) when
REDIS_URL is set, else by a locked row in the database that every worker shares.
"""

import time

from django.conf import settings
from django.db import transaction

_REDIS_SLOT = """
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local interval = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now_us, free)
local next_free = slot + interval * count
-- Kept a minute past the last slot handed out: if it expired sooner, the next sender would
-- start afresh while earlier slots are still to come.
redis.call('SET', KEYS[1], next_free, 'PX', math.floor((next_free - now_us) / 1000) + 60000)
return slot - now_us
"""
_KEY = "peerpath:sms:next-free-slot"
_redis = None


def _redis_wait(interval_us, count):
    global _redis
    if _redis is None:
        import redis

        _redis = redis.Redis.from_url(settings.REDIS_URL).register_script(_REDIS_SLOT)
    return _redis(keys=[_KEY], args=[interval_us, count]) / 1_000_000


@transaction.atomic
def _database_wait(interval_us, count):
    from messaging.models import SendSlot

    slot, _ = SendSlot.objects.select_for_update().get_or_create(pk=1)
    now_us = int(time.time() * 1_000_000)
    start = max(now_us, slot.next_free_us)
    slot.next_free_us = start + interval_us * count
    slot.save(update_fields=["next_free_us"])
    return (start - now_us) / 1_000_000


def reserve(count=1):
    """Take `count` consecutive slots; returns the seconds to wait before the first."""
    rate = settings.SMS_RATE_PER_SECOND
    if rate <= 0:
        return 0.0
    interval_us = int(1_000_000 / rate)
    if settings.REDIS_URL:
        return _redis_wait(interval_us, count)
    return _database_wait(interval_us, count)


def pace(count=1):
    """Wait for `count` slots; returns how long each of the following sends must wait after
    the previous one (the spacing)."""
    wait = reserve(count)
    if wait > 0:
        time.sleep(wait)
    rate = settings.SMS_RATE_PER_SECOND
    return 1 / rate if rate > 0 else 0.0
