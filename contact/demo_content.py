"""Demo content for the contact app: a staff inbox to notify and a privacy notice.

Like the pages app's demo content, it only adds what is missing and never changes rows.
"""

from django.db import transaction

from .models import NotificationRecipient, PrivacyNotice

FRONT_DESK_EMAIL = "frontdesk@example.com"

PRIVACY_NOTICE_HTML = (
    "<p>When you ask for a free consultation through this website, we keep what you send "
    "so that our front desk can get back to you. We use it for nothing else.</p>"
    "<h2>What we keep</h2>"
    "<ul><li>Your name and the phone number or email address you give us.</li>"
    "<li>Which office you prefer, how and when you like to be contacted, and the short "
    "note you write, if any.</li>"
    "<li>When you sent the request and which page you sent it from.</li></ul>"
    "<h2>Who sees it</h2>"
    "<p>Only clinic staff who answer requests. Our notification emails say that a request "
    "has arrived and for which office; they never contain your details.</p>"
    "<h2>How long we keep it</h2>"
    "<p>Requests are deleted automatically after a year. Ask us at any time and we will "
    "delete yours sooner.</p>"
    "<h2>Please keep medical details for your visit</h2>"
    "<p>A website form is not the place for your medical history. Tell us only what we "
    "need to call you back; we will talk about the rest in person.</p>"
)


def load_demo_content(stdout=None) -> dict[str, int]:
    counts = {"notification_recipients": 0, "privacy_notices": 0}
    with transaction.atomic():
        if not NotificationRecipient.objects.exists():
            NotificationRecipient.objects.create(email=FRONT_DESK_EMAIL)
            counts["notification_recipients"] += 1
        if not PrivacyNotice.objects.exists():
            PrivacyNotice.objects.create(title="Privacy notice", body=PRIVACY_NOTICE_HTML)
            counts["privacy_notices"] += 1
    return counts


def demo_text() -> list[str]:
    """The privacy notice's sentences, for ``manage.py check_demo_copy``."""
    return [PRIVACY_NOTICE_HTML]


def summarize(counts: dict[str, int]) -> str:
    parts = []
    if counts["notification_recipients"]:
        parts.append(f"notification recipient {FRONT_DESK_EMAIL}")
    if counts["privacy_notices"]:
        parts.append("privacy notice")
    return "Created " + ", ".join(parts) + "." if parts else ""
