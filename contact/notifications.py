"""The outbox worker: mail staff about new requests, and confirm to the patient.

Each request row is its own outbox. A worker claims one due row at a time with a
conditional UPDATE (after ``select_for_update(skip_locked=True)`` where the database has
it), which moves ``next_attempt_at`` forward by a lease: another worker cannot claim the
same row, and a worker killed mid-send leaves a row that becomes due again when the lease
ends. Nothing the patient typed goes into a staff mail or a log line.
"""

import datetime
import logging
import time

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from pages.models import ClinicSettings

from .mail import RecipientsPartlyRefused
from .models import ConsultationRequest, NotificationRecipient, retry_delay

logger = logging.getLogger(__name__)

# How long a claimed row stays with its worker: longer than one send can take (connect +
# send, each bounded by EMAIL_TIMEOUT). settings.NOTIFICATION_LEASE_SECONDS overrides it
# (tests/test_multi_instance.py shortens it, so a killed worker's row is retried in seconds).
LEASE = datetime.timedelta(minutes=5)


def lease() -> datetime.timedelta:
    seconds = getattr(settings, "NOTIFICATION_LEASE_SECONDS", None)
    return LEASE if seconds is None else datetime.timedelta(seconds=seconds)


def staff_recipients(request: ConsultationRequest) -> list[str]:
    """Active clinic-wide recipients, and those for the request's office: one query."""
    emails = (
        NotificationRecipient.objects.filter(
            Q(office__isnull=True) | Q(office_id=request.office_id), is_active=True
        )
        .order_by()  # sorted below: no join for Meta.ordering
        .values_list("email", flat=True)
    )
    return sorted(set(emails))


def _admin_url(request: ConsultationRequest) -> str:
    return settings.SITE_URL + request.get_admin_url()


def build_staff_notification(request: ConsultationRequest, recipients, clinic) -> EmailMessage:
    """Which office, when, and a link to admin: never a name, phone, email or message."""
    office = request.office.name if request.office else "No office preference"
    received = timezone.localtime(request.received_at, clinic.tzinfo)
    context = {
        "request_id": request.pk,
        "office": office,
        "received": received,
        "admin_url": _admin_url(request),
        "clinic": clinic,
    }
    subject = f"New consultation request #{request.pk} ({office})"
    body = render_to_string("contact/emails/staff_notification.txt", context)
    return EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )


def build_confirmation(request: ConsultationRequest, clinic) -> EmailMessage:
    """Thanks and what happens next; repeats nothing the patient typed."""
    office = request.office
    phone = office.phone if office and office.phone else clinic.phone
    context = {"clinic": clinic, "phone": phone}
    return EmailMessage(
        subject=" ".join(f"We received your request · {clinic.name}".split()),
        body=render_to_string("contact/emails/patient_confirmation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[request.email],
    )


def claim_next(now=None) -> ConsultationRequest | None:
    """Claim one due row for this worker, or None when nothing is due."""
    now = now or timezone.now()
    while True:
        with transaction.atomic():
            due = ConsultationRequest.objects.due_for_mail(now).order_by("next_attempt_at", "pk")
            if connection.features.has_select_for_update_skip_locked:
                due = due.select_for_update(skip_locked=True)
            row = due.only("pk", "next_attempt_at").first()
            if row is None:
                return None
            claimed = ConsultationRequest.objects.filter(
                pk=row.pk, next_attempt_at=row.next_attempt_at
            ).update(next_attempt_at=now + lease(), notify_attempts=F("notify_attempts") + 1)
        if claimed:
            return ConsultationRequest.objects.select_related("office").get(pk=row.pk)
        # Another worker took it between our read and our update: look again.


def _send(message: EmailMessage, mail_connection) -> None:
    message.connection = mail_connection
    if message.send(fail_silently=False) != 1:
        raise RuntimeError("the mail server did not accept the message")


def deliver(request: ConsultationRequest, mail_connection=None) -> bool:
    """Send what is still unsent for a claimed row and record the outcome."""
    clinic = ClinicSettings.load()
    now = timezone.now()
    updates = {}
    warning = ""
    try:
        if request.notified_at is None:
            recipients = staff_recipients(request)
            if not recipients:
                raise RuntimeError("no notification recipients are set up in admin")
            try:
                _send(build_staff_notification(request, recipients, clinic), mail_connection)
            except RecipientsPartlyRefused as exc:
                # The others have it; sending again would mail them twice. Say so in admin
                # and in the log (staff addresses only: nothing the patient typed).
                warning = str(exc)[:300]
                logger.warning("Consultation request #%s: %s", request.pk, warning)
            updates["notified_at"] = request.notified_at = timezone.now()
        if request.email and request.confirmation_sent_at is None:
            _send(build_confirmation(request, clinic), mail_connection)
            updates["confirmation_sent_at"] = request.confirmation_sent_at = timezone.now()
    except Exception as exc:  # any mail failure: keep the row, retry later
        error = f"{type(exc).__name__}: {exc}"[:300]
        updates.update(
            last_error=error,
            next_attempt_at=now + retry_delay(request.notify_attempts),
        )
        ConsultationRequest.objects.filter(pk=request.pk).update(**updates)
        logger.warning(
            "Mail for consultation request #%s failed (attempt %s): %s",
            request.pk,
            request.notify_attempts,
            type(exc).__name__,
        )
        return False
    updates["last_error"] = warning
    ConsultationRequest.objects.filter(pk=request.pk).update(**updates)
    logger.info("Mail for consultation request #%s sent", request.pk)
    return True


def send_pending(limit: int | None = None) -> tuple[int, int]:
    """One pass over every due row: returns (sent, failed)."""
    sent = failed = 0
    mail_connection = get_connection(fail_silently=False)
    while limit is None or sent + failed < limit:
        request = claim_next()
        if request is None:
            break
        if deliver(request, mail_connection):
            sent += 1
        else:
            failed += 1
            # A broken connection is not reused: the next row opens a fresh one.
            mail_connection.close()
            mail_connection = get_connection(fail_silently=False)
    mail_connection.close()
    return sent, failed


def run_forever(poll_seconds: float = 5.0, stop=None) -> None:
    """The worker loop for ``send_notifications --loop``."""
    while stop is None or not stop():
        try:
            send_pending()
        except Exception:
            logger.exception("Notification pass failed; trying again shortly")
        connection.close_if_unusable_or_obsolete()
        time.sleep(poll_seconds)
