"""Forgery protection for the consultation form that survives shared page caches.

The form is embedded in pages that anonymous visitors get from a shared cache, so it
cannot carry Django's per-visitor CSRF token (that would put one visitor's token, and a
``Vary: Cookie``, into every cached copy). Instead the request must come from our own
pages: browsers send ``Origin`` (and ``Sec-Fetch-Site``) on every cross-site POST, so a
form on another site posting here is refused; it is what Django's own CSRF check also does
first. A refused request gets Django's 403 CSRF page and is not stored.

The form's signed token (the ``started`` field) is not a forgery check: a missing, foreign
or day-old token sends the form back to the patient to send again (contact/forms.py).
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
