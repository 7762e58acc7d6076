"""The API's rate limits: per signed-in user, and per client address for everyone else (the
address read as every limit in PeerPath reads it).

DRF's throttles keep the time of every request of the period in one cache entry, read and
written back whole on each request: the cost grows with the rate, and two workers answering
the same client at once each write back a list without the other's request. Here the rate
counts requests in fixed periods (each minute of the clock, for a rate per minute): each
request adds one to its period's counter, one atomic step and one round trip to Redis, and
a refusal says exactly when the next period begins. Refused requests count too.
"""

import math

from rest_framework import throttling

from accounts.client_address import client_ip


def count(cache, key, timeout):
    """The count at `key` after adding one to it (starting it when there is none)."""
    if hasattr(cache, "tally"):  # the shared cache in Redis (config.redis_cache)
        return cache.tally(key, timeout)
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key)
    except ValueError:  # it expired between the two steps
        cache.add(key, 1, timeout)
        return 1


class CountedPeriods:
    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        period, into = divmod(self.timer(), self.duration)
        if count(self.cache, f"{self.key}:{period:.0f}", self.duration) <= self.num_requests:
            return True
        self.waiting = self.duration - into
        return False

    def wait(self):
        return max(1, math.ceil(self.waiting))


class ClientAddress:
    def get_ident(self, request):
        return client_ip(request)


class AnonRateThrottle(ClientAddress, CountedPeriods, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(ClientAddress, CountedPeriods, throttling.UserRateThrottle):
    pass
