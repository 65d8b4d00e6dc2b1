"""A page cache for anonymous visitors, shared by every app process through Django's cache.

- Only views decorated with ``@public_page`` are cached, only for GET/HEAD without a
  session cookie (staff, and anyone logged in, always get a fresh page), and only a plain
  200 that sets no cookie and is not marked private or no-store (staff previews are).
- Any save or delete of site content bumps one version number that is part of every key,
  so an edit in admin shows on every page at once, banner and footer included, in every
  process that shares the cache (Redis in production).
- A page never outlives what it shows: entries expire at the clinic's midnight (offers
  start and end by the day), at the next scheduled article's publish time, and, for pages
  with an "open now" line, at the next opening or closing time.
"""

import contextvars
import datetime
import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control, set_response_etag

logger = logging.getLogger(__name__)

VERSION_KEY = "pagecache:version"
NEXT_PUBLISH_KEY = "pagecache:next-publish"
# What the page cache did: "hit" (answered), "miss" (the page was built, and stored if it
# may be) or None (not used): always in ``response.page_cache``; in this header only with
# DEBUG or PAGE_CACHE_HEADER (settings), never in production.
HEADER = "X-Page-Cache"


def public_page(view):
    """Mark a view's anonymous GET responses as shareable through the page cache."""
    view.public_page_cache = True
    return view


def limit_cache_until(response, when: datetime.datetime | None):
    """Let a view say its response goes stale at ``when`` (e.g. an office's next opening)."""
    if when is not None:
        current = getattr(response, "cache_until", None)
        response.cache_until = when if current is None else min(current, when)
    return response


# The content version a public page is being built with, set by the middleware for the
# length of one anonymous request: every fragment of that page uses the same version, and
# it is read from the cache once per page, not once per fragment.
_page_version: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "page_cache_version", default=None
)


def current_version() -> int | None:
    """The content version; None when the cache cannot keep one (Redis full or down), and
    then nothing is read from or stored in the page and fragment caches."""
    version = _page_version.get()
    if version is not None:
        return version
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, None)
        version = cache.get(VERSION_KEY)
    return version


def invalidate(**kwargs) -> None:
    """Forget every cached page (one counter: O(1), whatever the number of pages)."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, None)
    cache.delete(NEXT_PUBLISH_KEY)


def cached_for_content(name: str, compute):
    """``compute()``'s result, kept until the next content edit (or FRAGMENT_CACHE_SECONDS).

    For the small lists every page shows (banner, footer offices, the form's office
    choices), so that a page the page cache has to build runs only its own queries.
    """
    version = current_version()
    if version is None:
        return compute()
    key = f"pagecache:fragment:{version}:{name}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, settings.FRAGMENT_CACHE_SECONDS)
    return value


def fragment_timeout() -> int:
    """How long a rendered fragment may be kept: FRAGMENT_CACHE_SECONDS, and never past the
    clinic's midnight (offers start and end by the day) or the next scheduled article."""
    seconds_left = _seconds_until_content_changes(timezone.now())
    return int(min(settings.FRAGMENT_CACHE_SECONDS, seconds_left))


def page_fragment(name: str, vary: tuple, render) -> str:
    """A part of a public page, rendered once per content version and shared by every
    process: ``render()``'s HTML, kept until the next edit (or ``fragment_timeout()``).

    Only while the middleware builds a public page for an anonymous visitor; elsewhere
    (staff, previews, error pages) ``render()`` runs every time, so that nothing a visitor
    can vary at will (any 404 path) fills the cache.
    """
    if _page_version.get() is None:
        return render()
    digest = hashlib.sha256(repr(vary).encode()).hexdigest()[:32]
    key = f"pagecache:fragment:{current_version()}:html:{name}:{digest}"
    html = cache.get(key)
    if html is None:
        html = render()
        timeout = fragment_timeout()
        if timeout > 0:
            cache.set(key, html, timeout)
    return html


def active_offices() -> list:
    """Every active office with its address and phone (cached until the next edit)."""
    from .models import Office

    return cached_for_content(
        "active-offices",
        lambda: list(
            Office.objects.active().only(
                "name", "slug", "phone", "street", "suite", "city", "state", "zip_code"
            )
        ),
    )


def connect_invalidation(models) -> None:
    for model in models:
        post_save.connect(invalidate, sender=model, dispatch_uid=f"pagecache-save-{model}")
        post_delete.connect(invalidate, sender=model, dispatch_uid=f"pagecache-del-{model}")


def _next_publish_at(now):
    """When the next scheduled article goes live (cached; one query when it is unknown)."""
    from .models import Article

    value = cache.get(NEXT_PUBLISH_KEY)
    if value is None or (value != "none" and value <= now):
        upcoming = (
            Article.objects.filter(status=Article.Status.PUBLISHED, published_at__gt=now)
            .order_by("published_at")
            .values_list("published_at", flat=True)
            .first()
        )
        value = upcoming or "none"
        cache.set(NEXT_PUBLISH_KEY, value, settings.FRAGMENT_CACHE_SECONDS)
    return None if value == "none" else value


def _seconds_until_content_changes(now) -> float:
    """Until the clinic's midnight or the next scheduled article, whichever comes first."""
    local_now = timezone.localtime(now)
    midnight = datetime.datetime.combine(
        local_now.date() + datetime.timedelta(days=1), datetime.time(), tzinfo=local_now.tzinfo
    )
    # Against ``now`` (UTC), not ``local_now``: Python subtracts two times of one zone by the
    # clock face, which is an hour off on the days the clocks change.
    limits = [(midnight - now).total_seconds()]
    next_publish = _next_publish_at(now)
    if next_publish is not None:
        limits.append((next_publish - now).total_seconds())
    return min(limits)


def _timeout(response, now) -> int:
    limits = [settings.PAGE_CACHE_SECONDS, _seconds_until_content_changes(now)]
    moment = getattr(response, "cache_until", None)
    if moment is not None:
        limits.append((moment - now).total_seconds())
    return int(min(limits))


def _key(request) -> str:
    url = f"{request.get_host()}{request.get_full_path()}"
    digest = hashlib.sha256(url.encode()).hexdigest()[:40]
    return f"pagecache:page:{request.method == 'HEAD'}:{digest}"


class AnonymousPageCacheMiddleware:
    """Serves ``@public_page`` views to anonymous visitors from the shared cache.

    An entry is stored as (content version, status, headers, body, when it goes stale): a
    hit costs one cache round trip (the version and the entry together) and no unpickling
    of a response object, and an entry from before the latest edit is simply not used.
    A hit tells nginx (X-Accel-Expires) to keep the page only for what is left of its life.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            response = self.get_response(request)
        finally:
            token = getattr(request, "_page_version_token", None)
            if token is not None:
                _page_version.reset(token)
        key = getattr(request, "_page_cache_key", None)
        outcome = getattr(response, "page_cache", None)
        if key and outcome != "hit" and self._storable(request, response):
            set_response_etag(response)
            timeout = _timeout(response, timezone.now())
            proxy_seconds = min(settings.PROXY_CACHE_SECONDS, timeout)
            if proxy_seconds > 0:
                # nginx caches the page this long (and strips the header); see docs/deploy.md.
                response["X-Accel-Expires"] = str(proxy_seconds)
            if timeout > 0:
                entry = (
                    request._page_cache_version,
                    response.status_code,
                    [
                        (name, value)
                        for name, value in response.items()
                        if name != "X-Accel-Expires"
                    ],
                    response.content,
                    time.time() + timeout,  # when the entry goes stale
                )
                cache.set(key, entry, timeout)
            outcome = "miss"
        response.page_cache = outcome  # None: neither from the page cache nor stored in it
        if outcome and (settings.DEBUG or settings.PAGE_CACHE_HEADER):
            response[HEADER] = outcome
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_class = getattr(view_func, "view_class", None)
        marked = getattr(view_func, "public_page_cache", False) or getattr(
            view_class, "public_page_cache", False
        )
        if not marked or not self._anonymous_read(request):
            return None
        key = _key(request)
        found = cache.get_many([VERSION_KEY, key])
        version = found.get(VERSION_KEY) or current_version()
        if version is None:
            return None  # the cache is full or down: the page is built, and not stored
        request._page_cache_key = key
        request._page_cache_version = version
        request._page_version_token = _page_version.set(version)
        entry = found.get(key)
        if entry is None or len(entry) != 5 or entry[0] != version:
            return None  # (an entry in an older layout, left by the previous release: rebuilt)
        _version, status, headers, content, stale_at = entry
        response = HttpResponse(content, status=status)
        for name, value in headers:
            response[name] = value
        # The proxy may keep the page only as long as it has left, not a full period again.
        proxy_seconds = min(settings.PROXY_CACHE_SECONDS, int(stale_at - time.time()))
        if proxy_seconds > 0:
            response["X-Accel-Expires"] = str(proxy_seconds)
        response.page_cache = "hit"
        return response

    def process_exception(self, request, exception):
        """A view that fails (a 404 for any path a visitor makes up) renders its error page
        without the page fragments, which would otherwise be stored for that path."""
        token = getattr(request, "_page_version_token", None)
        if token is not None:
            _page_version.reset(token)
            request._page_version_token = None
        return None

    @staticmethod
    def _anonymous_read(request) -> bool:
        return request.method in ("GET", "HEAD") and (
            settings.SESSION_COOKIE_NAME not in request.COOKIES
        )

    @staticmethod
    def _storable(request, response) -> bool:
        if response.status_code != 200 or response.streaming or response.cookies:
            return False
        control = response.get("Cache-Control", "")
        if "private" in control or "no-store" in control or "no-cache" in control:
            return False
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return False
        # Browsers revalidate every time (ETag: a cheap 304), so an edit shows at once.
        patch_cache_control(response, public=True, max_age=0, must_revalidate=True)
        return True
