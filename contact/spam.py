"""Spam checks that need no third-party service: honeypot, signed timestamp, rate limit."""

import hashlib
import time

from django.conf import settings
from django.core import signing
from django.core.cache import cache

from clinic_site.client_address import client_ip_address

MIN_FILL_SECONDS = 3
MAX_FORM_AGE_SECONDS = 24 * 3600
RATE_LIMIT_COUNT = 5
RATE_LIMIT_WINDOW_SECONDS = 600
FORM_TOKEN_SALT = "contact.form-started"


def sign_form_start(now: float | None = None) -> str:
    return signing.dumps(int(now if now is not None else time.time()), salt=FORM_TOKEN_SALT)


def timestamp_problem(token: str, now: float | None = None) -> str:
    """'' when the form was filled at a human pace, else why it looks automated."""
    now = now if now is not None else time.time()
    try:
        started = int(signing.loads(token or "", salt=FORM_TOKEN_SALT))
    except (signing.BadSignature, ValueError, TypeError):
        return "bad timestamp"
    elapsed = now - started
    if elapsed < MIN_FILL_SECONDS:
        return "sent too fast"
    if elapsed > MAX_FORM_AGE_SECONDS:
        return "form page too old"
    return ""


def client_ip(request) -> str:
    """The address the limit counts by: the same one the login lockout uses (behind nginx,
    the address nginx saw, never one a client put in X-Forwarded-For)."""
    return client_ip_address(request) or "unknown"


def _rate_key(ip: str) -> str:
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{ip}".encode()).hexdigest()[:32]
    return f"contact:rate:{digest}"


def rate_limited(request) -> bool:
    """Count one submission from this address; True once it is over the limit.

    The address is kept only as a salted hash in the cache, for the window's length.
    """
    key = _rate_key(client_ip(request))
    cache.add(key, 0, RATE_LIMIT_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, RATE_LIMIT_WINDOW_SECONDS)
        count = 1
    return count > RATE_LIMIT_COUNT
