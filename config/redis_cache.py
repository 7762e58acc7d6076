"""The shared cache in Redis: Django's backend, keeping one Redis client for each server.

Django's backend makes a new `redis.Redis` for every command, and each copies redis-py's table
of some 170 reply parsers: three commands (the session, and the throttle's read and write)
were a tenth of the CPU time of an API request answered 304. A client is safe to share
between threads; its connection pool hands out the connections and notices a fork.
"""

from django.core.cache.backends import redis


class KeptClients(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = KeptClients

    def tally(self, key, timeout):
        """Add one to the count at `key`, starting it at 1 (kept for `timeout` seconds) when
        there is none: atomically, in one round trip. Django's own `incr` takes two (it asks
        first whether the key exists) and cannot start a count."""
        key = self.make_and_validate_key(key)
        with self._cache.get_client(key, write=True).pipeline() as pipe:
            count, _ = pipe.incr(key).expire(key, timeout, nx=True).execute()
        return count
