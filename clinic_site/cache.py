"""Django's Redis cache backend, made to fail soft: a Redis that is full or down is a miss.

When redis-py raises (connection refused, timeout, "OOM command not allowed" under
``maxmemory-policy noeviction``), the operation logs a warning, at most one a minute per
kind of operation and process, and answers as an empty cache would: reads miss, writes
are dropped, ``add()`` is False, ``incr()`` raises ValueError (the key is missing). Pages
are then built from the database and consultation requests are still stored. A write that
a full Redis refuses deletes the key's old value, so that nothing stale looks current.
"""

import contextlib
import logging
import time

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
