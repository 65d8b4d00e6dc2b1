"""Which address a request came from: one answer for everything that counts per client
(django-axes' login lockout, the consultation form's rate limit)."""

from django.conf import settings


def client_ip_address(request) -> str | None:
    """REMOTE_ADDR, unless TRUST_PROXY_HEADERS (DJANGO_TRUST_PROXY_HEADERS=1: the app is
    reached only through nginx): then the right-most X-Forwarded-For entry, the one nginx
    appended (``$proxy_add_x_forwarded_for``). Entries to its left came from the client and
    may be anything, so they are never used.
    """
    if settings.TRUST_PROXY_HEADERS:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if forwarded[-1].strip():
            return forwarded[-1].strip()
    return request.META.get("REMOTE_ADDR")
