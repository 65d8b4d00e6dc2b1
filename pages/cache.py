"""The one page cache: whole public pages for anonymous visitors, in Django's cache.

- ``@public_page`` views only, GET or HEAD without a session cookie, and only a plain 200
  that sets no cookie and is not private, no-cache or no-store (staff previews are not).
- Keyed on the path and the query parameters the view declares (``query=("page",)``):
  any other query string is served the same entry, never a new one.
- One content version, bumped after commit by every content save or delete, is stored
  with each entry: an entry from before the latest edit is not used.
- An entry ends at the clinic's midnight, the next scheduled article and the view's own
  limit (an office's next opening or closing). Why: docs/architecture.md.
"""

import contextlib
import datetime
import gzip
import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse
from django.middleware.gzip import GZipMiddleware, re_accepts_gzip
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers, set_response_etag
from django.utils.text import compress_string

from clinic_site.cache import VERSION_KEY, bump_version, current_version

NEXT_PUBLISH_KEY = "pagecache:next-publish"
# What the page cache did: "hit" (answered), "miss" (the page was built, and stored if it
# may be) or None (not used): always in ``response.page_cache``; in this header only with
# DEBUG or PAGE_CACHE_HEADER (settings), never in production.
HEADER = "X-Page-Cache"


def public_page(view=None, *, query=()):
    """Let anonymous visitors share a view's pages through the page cache.

    ``@public_page``, or ``@public_page(query=("page",))`` for a view whose page depends on
    those query parameters; the view must not depend on any other.
    """

    def mark(view):
        view.public_page_query = tuple(query)
        return view

    return mark if view is None else mark(view)


def limit_cache_until(response, when: datetime.datetime | None):
    """Let a view say its response goes stale at ``when`` (e.g. an office's next opening)."""
    if when is not None:
        current = getattr(response, "cache_until", None)
        response.cache_until = when if current is None else min(current, when)
    return response


def invalidate(using=None, **kwargs) -> None:
    """Forget every cached page once the edit is committed (one counter, whatever the number
    of pages): a page built before the commit is stored under the old version, not the new."""
    transaction.on_commit(bump_version, using=using)


def connect_invalidation(models) -> None:
    for model in models:
        post_save.connect(invalidate, sender=model, dispatch_uid=f"pagecache-save-{model}")
        post_delete.connect(invalidate, sender=model, dispatch_uid=f"pagecache-del-{model}")
        for field in model._meta.local_many_to_many:  # e.g. a service's offices
            through = field.remote_field.through
            m2m_changed.connect(invalidate, sender=through, dispatch_uid=f"pagecache-m2m-{through}")


def _next_publish_at(now, version):
    """When the next scheduled article goes live (kept per version; one query otherwise)."""
    from .models import Article

    key = f"{NEXT_PUBLISH_KEY}:{version}"
    value = cache.get(key)
    if value is None or (value != "none" and value <= now):
        upcoming = (
            Article.objects.filter(status=Article.Status.PUBLISHED, published_at__gt=now)
            .order_by("published_at")
            .values_list("published_at", flat=True)
            .first()
        )
        value = upcoming or "none"
        cache.set(key, value, settings.PAGE_CACHE_SECONDS)
    return None if value == "none" else value


def _timeout(response, now, version) -> int:
    """PAGE_CACHE_SECONDS, cut at the clinic's midnight, the next scheduled article and the
    view's own limit."""
    local_now = timezone.localtime(now)
    midnight = datetime.datetime.combine(
        local_now.date() + datetime.timedelta(days=1), datetime.time(), tzinfo=local_now.tzinfo
    )
    # Against ``now`` (UTC), not ``local_now``: Python subtracts two times of one zone by the
    # clock face, which is an hour off on the days the clocks change.
    limits = [settings.PAGE_CACHE_SECONDS, (midnight - now).total_seconds()]
    for moment in (_next_publish_at(now, version), getattr(response, "cache_until", None)):
        if moment is not None:
            limits.append((moment - now).total_seconds())
    return int(min(limits))


def _cached_query(request, names) -> str:
    """The declared parameters' part of the query string, as the view reads them: the last
    value, a number in its plain form (``?page=02`` is ``?page=2``), none when empty."""
    params = []
    for name in names:
        value = request.GET.get(name, "")
        with contextlib.suppress(ValueError):
            value = str(int(value))
        if value:
            params.append(f"{name}={value}")
    return "&".join(params)


def _key(request, query: str) -> str:
    # Neither the method (HEAD is a GET without the body) nor the host (absolute links come
    # from SITE_URL) changes the page.
    digest = hashlib.sha256(f"{request.path}?{query}".encode()).hexdigest()[:40]
    return f"pagecache:page:gz:{digest}"  # gz: not the plain bodies an older release kept


class AnonymousPageCacheMiddleware:
    """Serves ``@public_page`` views to anonymous visitors from the shared cache.

    An entry is (content version, status, headers, gzipped body, when it goes stale): a
    hit costs one cache round trip (the version and the entry together), no unpickling of
    a response object and no compression. nginx (X-Accel-Expires) may keep only a page
    whose query string is the one its entry stands for, for what is left of its life.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        key = getattr(request, "_page_cache_key", None)
        outcome = getattr(response, "page_cache", None)
        if key and outcome != "hit" and self._storable(response):
            set_response_etag(response)
            version = request.content_version
            timeout = _timeout(response, timezone.now(), version)
            self._tell_proxy(request, response, timeout)
            if timeout > 0:
                per_copy = ("X-Accel-Expires", "Content-Length")
                headers = [(k, v) for k, v in response.items() if k not in per_copy]
                # Compressed once here, not on every hit (with GZipMiddleware's padding).
                body = compress_string(
                    response.content, max_random_bytes=GZipMiddleware.max_random_bytes
                )
                stale_at = time.time() + timeout
                entry = (version, response.status_code, headers, body, stale_at)
                cache.set(key, entry, timeout)
            outcome = "miss"
        response.page_cache = outcome  # None: neither from the page cache nor stored in it
        if outcome and (settings.DEBUG or settings.PAGE_CACHE_HEADER):
            response[HEADER] = outcome
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_class = getattr(view_func, "view_class", view_func)
        names = getattr(view_class, "public_page_query", None)
        if names is None:
            return None
        if not self._anonymous_read(request):
            # Read before the view reads the database, as for a stored page: the parts a
            # public page keeps in {% cache %} (the form) are keyed on it.
            request.content_version = current_version()
            return None
        query = _cached_query(request, names)
        key = _key(request, query)
        found = cache.get_many([VERSION_KEY, key])
        version = request.content_version = current_version(found)
        if version is None:
            return None  # the cache is full or down: the page is built, and not stored
        request._page_cache_key = key
        request._page_cache_query = query
        entry = found.get(key)
        if entry is None or len(entry) != 5 or entry[0] != version:
            return None
        _version, status, headers, body, stale_at = entry
        response = HttpResponse(status=status)
        for name, value in headers:
            response[name] = value
        if re_accepts_gzip.search(request.headers.get("Accept-Encoding", "")):
            response.content = body
            response["Content-Encoding"] = "gzip"
            if response.get("ETag", "").startswith('"'):  # weak, as GZipMiddleware makes it
                response["ETag"] = f"W/{response['ETag']}"
        else:
            response.content = gzip.decompress(body)
        patch_vary_headers(response, ("Accept-Encoding",))
        self._tell_proxy(request, response, int(stale_at - time.time()))
        response.page_cache = "hit"
        return response

    @staticmethod
    def _tell_proxy(request, response, seconds_left: int) -> None:
        """X-Accel-Expires for nginx: never longer than the page has left, and never for a
        query string the entry ignores (nginx keys on the whole URL: each would be new)."""
        seconds = min(settings.PROXY_CACHE_SECONDS, seconds_left)
        if seconds > 0 and request.META.get("QUERY_STRING", "") == request._page_cache_query:
            response["X-Accel-Expires"] = str(seconds)

    @staticmethod
    def _anonymous_read(request) -> bool:
        return request.method in ("GET", "HEAD") and (
            settings.SESSION_COOKIE_NAME not in request.COOKIES
        )

    @staticmethod
    def _storable(response) -> bool:
        if response.status_code != 200 or response.streaming or response.cookies:
            return False
        control = response.get("Cache-Control", "")
        if "private" in control or "no-store" in control or "no-cache" in control:
            return False
        # (No need to ask whether the visitor logged in: without a session cookie nobody
        # has, and asking would load the session and add "Vary: Cookie" to a shared page.)
        # Browsers revalidate every time (ETag: a cheap 304), so an edit shows at once.
        patch_cache_control(response, public=True, max_age=0, must_revalidate=True)
        return True
