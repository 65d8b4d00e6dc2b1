"""Forgery protection for the consultation form that survives shared page caches.

The form sits in cached pages, so it cannot carry Django's per-visitor CSRF token: the
request must come from our own pages instead (``Origin``, then ``Sec-Fetch-Site``, then
``Referer``). A refused request gets Django's 403 CSRF page and is not stored. The form's
signed token (``started``) is not a forgery check (docs/architecture.md, "Consultation
requests").
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.utils.module_loading import import_string


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def _trusted_origins(request) -> set[str]:
    origins = {_origin(settings.SITE_URL), f"{request.scheme}://{request.get_host()}".lower()}
    origins.update(o.lower() for o in settings.CSRF_TRUSTED_ORIGINS)
    return origins


def forgery_reason(request) -> str:
    """'' for a request from our own pages, else why it is refused."""
    origin = request.META.get("HTTP_ORIGIN")
    fetch_site = request.META.get("HTTP_SEC_FETCH_SITE")
    referer = request.META.get("HTTP_REFERER")
    if origin is not None:
        if origin.lower() not in _trusted_origins(request):
            return "Origin is another site"
    elif fetch_site is not None:
        if fetch_site not in ("same-origin", "none"):
            return "sent from another site"
    elif referer:
        if _origin(referer) not in _trusted_origins(request):
            return "Referer is another site"
    elif request.is_secure():
        return "no Origin or Referer on a secure request"
    return ""


def reject(request, reason: str):
    failure_view = import_string(settings.CSRF_FAILURE_VIEW)
    return failure_view(request, reason=reason)
