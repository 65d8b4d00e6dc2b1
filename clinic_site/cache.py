"""Django's Redis cache backend, made to fail soft: a Redis that is full or down is a miss.

When redis-py raises (connection refused, timeout, "OOM command not allowed" under
``maxmemory-policy noeviction``), the operation logs a warning, at most one a minute per
kind of operation and process, and answers as an empty cache would: reads miss, writes
are dropped, ``add()`` is False, ``incr()`` raises ValueError (the key is missing). Pages
are then built from the database and consultation requests are still stored. A write that
a full Redis refuses deletes the key's old value, so that nothing stale looks current.
Also here: the content version, which whatever is cached from the content is stored with.
"""

import contextlib
import logging
import time

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError, ResponseError

logger = logging.getLogger(__name__)

WARNING_INTERVAL = 60  # seconds: an outage logs a line a minute per operation, not per call
_last_warning: dict[str, float] = {}  # operation -> time.monotonic() of its last warning


@contextlib.contextmanager
def _fail_soft(operation: str, client=None, written=()):
    try:
        yield
    except RedisError as exc:
        now = time.monotonic()
        if now - _last_warning.get(operation, -WARNING_INTERVAL) >= WARNING_INTERVAL:
            _last_warning[operation] = now
            logger.warning(
                "Cache %s failed (%s): answered as a miss", operation, type(exc).__name__
            )
        if written and isinstance(exc, ResponseError):
            # Redis answered but refused the write (full): drop the old value rather than
            # leave it looking current (e.g. the page-cache version an edit could not bump).
            # DEL is allowed on a full Redis, and frees memory.
            with contextlib.suppress(RedisError):
                client.get_client(write=True).delete(*written)


class FailSoftRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        # Django makes a new redis.Redis for every operation, and setting one up (its table
        # of reply callbacks) costs more CPU than a page-cache hit's round trip: one per
        # connection pool instead (a redis.Redis is safe to share).
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client

    def add(self, key, value, timeout):
        with _fail_soft("add"):
            return super().add(key, value, timeout)
        return False

    def get(self, key, default):
        with _fail_soft("get"):
            return super().get(key, default)
        return default

    def set(self, key, value, timeout):
        with _fail_soft("set", self, [key]):
            super().set(key, value, timeout)

    def touch(self, key, timeout):
        with _fail_soft("touch"):
            return super().touch(key, timeout)
        return False

    def delete(self, key):
        with _fail_soft("delete"):
            return super().delete(key)
        return False

    def get_many(self, keys):
        with _fail_soft("get_many"):
            return super().get_many(keys)
        return {}

    def has_key(self, key):
        with _fail_soft("has_key"):
            return super().has_key(key)
        return False

    def incr(self, key, delta):
        with _fail_soft("incr", self, [key]):
            return super().incr(key, delta)
        raise ValueError(f"Key {key!r} not found (the cache is unavailable).")

    def set_many(self, data, timeout):
        with _fail_soft("set_many", self, list(data)):
            super().set_many(data, timeout)

    def delete_many(self, keys):
        with _fail_soft("delete_many"):
            super().delete_many(keys)

    def clear(self):
        with _fail_soft("clear"):
            return super().clear()
        return False


class FailSoftRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = FailSoftRedisCacheClient


# One counter that every content save or delete bumps once committed (pages/cache.py): the
# page cache and the clinic settings are kept with the version they were read under.
VERSION_KEY = "pagecache:version"


def current_version(found: dict | None = None) -> int | None:
    """The content version (from ``found``, a get_many() answer, when it holds it); None
    when the cache cannot keep one (Redis full or down): then nothing is read or stored."""
    version = (found or {}).get(VERSION_KEY) or cache.get(VERSION_KEY)
    if version is None:
        # A new counter starts where no entry left by an evicted one can match it.
        cache.add(VERSION_KEY, time.time_ns(), None)
        version = cache.get(VERSION_KEY)
    return version


def bump_version() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # no counter (evicted, or Redis refused the write): start a new one
        cache.set(VERSION_KEY, time.time_ns(), None)
