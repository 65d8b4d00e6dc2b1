"""``/healthz`` for load balancers and monitors: can this app server do its work?

200 "ok" when the database answers ``SELECT 1`` and the cache stores and returns a value;
200 "ok, cache degraded" when only the cache fails (pages are then built from the
database, uncached); 503 "unavailable" when the database fails. The body says nothing else
(no versions, no error text); the reason goes to the log. Never cached, by browsers,
proxies or the page cache (the view is not a ``@public_page``), and it sets no cookie.
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
        if cache.get(CACHE_KEY) == token:
            return True
        # The project's Redis backend does not raise: it logs why, and answers as a miss.
        logger.warning("Health check: the cache does not keep values (degraded)")
    except Exception as exc:
        logger.warning("Health check: the cache does not answer (%s)", type(exc).__name__)
    return False


@never_cache
@require_safe
def healthz(request):
    if not _database_answers():
        body, status = b"unavailable", 503
    elif not _cache_answers():
        body, status = b"ok, cache degraded", 200
    else:
        body, status = b"ok", 200
    return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")
