"""Forgery protection for the consultation form that survives shared page caches.

The form is embedded in pages that anonymous visitors get from a shared cache, so it
cannot carry Django's per-visitor CSRF token (that would put one visitor's token, and a
``Vary: Cookie``, into every cached copy). The view checks two things instead:

1. The request comes from our own pages: browsers send ``Origin`` (and ``Sec-Fetch-Site``)
   on every cross-site POST, so a form on another site posting here is refused. This is
   the check that stops forgery; it is what Django's own CSRF check also does first.
2. It carries a form token we signed (the ``started`` field, HMAC with SECRET_KEY): a
   request with a missing or forged token is refused, so a bare script cannot post
   without fetching one of our pages first.

A refused request gets Django's 403 CSRF page and is not stored.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.utils.module_loading import import_string

from .spam import FORM_TOKEN_SALT


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def _trusted_origins(request) -> set[str]:
    origins = {_origin(settings.SITE_URL), f"{request.scheme}://{request.get_host()}".lower()}
    origins.update(o.lower() for o in settings.CSRF_TRUSTED_ORIGINS)
    return origins


def forgery_reason(request) -> str:
    """'' for a request from our own pages with a token we signed, else why it is refused."""
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
    try:
        signing.loads(request.POST.get("started", ""), salt=FORM_TOKEN_SALT)
    except signing.BadSignature:
        return "form token missing or invalid"
    return ""


def reject(request, reason: str):
    failure_view = import_string(settings.CSRF_FAILURE_VIEW)
    return failure_view(request, reason=reason)
