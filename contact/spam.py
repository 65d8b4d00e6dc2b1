"""Spam checks that need no third-party service: honeypot, form token, rate limit.

Only the honeypot files a request as spam unseen. The signed form token says when the
page with the form was rendered; on a page from the shared page cache that is when the
cached copy was made, so its age can only tell "this page is old" (never "filled in too
fast", which is why there is no such check): docs/architecture.md.
"""

import datetime
import time

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from clinic_site.client_address import client_ip_address

from .models import SubmissionCount

# A form page older than this is sent back to the patient to send again (nothing is
# lost). On a cached page the token is older than the visit by at most the page cache's
# lifetime (minutes), so this still means "the page was opened more than a day ago".
MAX_FORM_AGE_SECONDS = 24 * 3600
# Clocks of several app servers may disagree a little; a token further in the future
# than this means a server's clock is wrong: the request is kept and flagged for review.
CLOCK_SKEW_SECONDS = 300
RATE_LIMIT_COUNT = 5
RATE_LIMIT_WINDOW_SECONDS = 600
FORM_TOKEN_SALT = "contact.form-started"

TOKEN_OK = ""
TOKEN_EXPIRED = "expired"  # too old, missing or not ours: ask the patient to send again
FUTURE_REASON = "the form's time was in the future: is a server's clock wrong?"


def sign_form_start(now: float | None = None) -> str:
    return signing.dumps(int(now if now is not None else time.time()), salt=FORM_TOKEN_SALT)


def check_form_token(token: str, now: float | None = None) -> tuple[str, str]:
    """(TOKEN_OK or TOKEN_EXPIRED, a reason to flag the request for review or '')."""
    now = now if now is not None else time.time()
    try:
        started = int(signing.loads(token or "", salt=FORM_TOKEN_SALT))
    except (signing.BadSignature, ValueError, TypeError):
        return TOKEN_EXPIRED, ""
    age = now - started
    if age > MAX_FORM_AGE_SECONDS:
        return TOKEN_EXPIRED, ""
    if age < -CLOCK_SKEW_SECONDS:
        return TOKEN_OK, FUTURE_REASON
    return TOKEN_OK, ""


def _client_key(request) -> str:
    address = client_ip_address(request) or "unknown"
    return salted_hmac("contact.rate-limit", address, algorithm="sha256").hexdigest()


def rate_limited(request) -> bool:
    """Count one submission from this address; True once it is over the limit.

    Counted in the database (one row per address and window, locked while it is counted),
    so the limit holds across every app process, restart and cache eviction. The address
    is kept only as a keyed hash, and rows are deleted once their window is over.
    """
    now = timezone.now()
    window_start = now - datetime.timedelta(seconds=RATE_LIMIT_WINDOW_SECONDS)
    with transaction.atomic():
        SubmissionCount.objects.filter(window_started_at__lt=window_start).delete()
        row, _ = SubmissionCount.objects.select_for_update().get_or_create(
            client=_client_key(request), defaults={"window_started_at": now}
        )
        row.count += 1
        row.save(update_fields=["count"])
    return row.count > RATE_LIMIT_COUNT
