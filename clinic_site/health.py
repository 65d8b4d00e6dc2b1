"""``/healthz`` for load balancers and monitors: can this app server do its work?

200 "ok" when the database answers ``SELECT 1`` and the cache stores and returns a value,
else 503 "unavailable". The body says nothing else about the system (no versions, no
error text); the reason goes to the log. Never cached, by browsers, proxies or the page
cache (the view is not a ``@public_page``), and it sets no cookie.
"""

import logging
import secrets

from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

CACHE_KEY = "healthz:probe"


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception as exc:
        logger.warning("Health check: the database does not answer (%s)", type(exc).__name__)
        return False


def _cache_answers() -> bool:
    token = secrets.token_hex(8)
    try:
        cache.set(CACHE_KEY, token, 30)
        return cache.get(CACHE_KEY) == token
    except Exception as exc:
        logger.warning("Health check: the cache does not answer (%s)", type(exc).__name__)
        return False


@never_cache
@require_safe
def healthz(request):
    healthy = _database_answers() and _cache_answers()
    return HttpResponse(
        b"ok" if healthy else b"unavailable",
        status=200 if healthy else 503,
        content_type="text/plain; charset=utf-8",
    )
