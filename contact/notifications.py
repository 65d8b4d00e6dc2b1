"""The outbox worker: mail staff about new requests, and confirm to the patient.

Each request row is its own outbox. A worker claims one due row at a time with a
conditional UPDATE (after ``select_for_update(skip_locked=True)`` where the database has
it), which moves ``next_attempt_at`` forward by a lease: another worker cannot claim the
same row, and a worker killed mid-send leaves a row that becomes due again when the lease
ends. Nothing the patient typed goes into a staff mail or a log line (an office and a
service are not health details: they are named).
"""

import datetime
import logging
import time

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, PositiveIntegerField, Q, When
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.crypto import salted_hmac

from clinic_site import visits
from clinic_site.models import ClinicSettings

from .mail import RecipientsPartlyRefused, is_permanent_refusal, public_address_problem
from .models import (
    CONFIRMATION_MAX_ATTEMPTS,
    NOTIFICATION_MAX_ATTEMPTS,
    ConsultationRequest,
    MailStatus,
    NotificationRecipient,
    retry_delay,
)

logger = logging.getLogger(__name__)

# How long a claimed row stays with its worker: longer than one send can take (connect +
# send, each bounded by EMAIL_TIMEOUT). settings.NOTIFICATION_LEASE_SECONDS overrides it
# (tests/test_multi_instance.py shortens it, so a killed worker's row is retried in seconds).
LEASE = datetime.timedelta(minutes=5)


def lease() -> datetime.timedelta:
    seconds = getattr(settings, "NOTIFICATION_LEASE_SECONDS", None)
    return LEASE if seconds is None else datetime.timedelta(seconds=seconds)


def staff_recipients(consultation: ConsultationRequest) -> list[str]:
    """Active clinic-wide recipients, and those for the request's office: one query."""
    emails = (
        NotificationRecipient.objects.filter(
            Q(office__isnull=True) | Q(office_id=consultation.office_id), is_active=True
        )
        .order_by()  # sorted below: no join for Meta.ordering
        .values_list("email", flat=True)
    )
    return sorted(set(emails))


def _admin_url(consultation: ConsultationRequest) -> str:
    return settings.SITE_URL + consultation.get_admin_url()


def one_line(text: str) -> str:
    return " ".join(text.split())


def build_staff_notification(consultation: ConsultationRequest, recipients, clinic) -> EmailMessage:
    """Which office and service, when, and a link to admin: never a name, phone, email or
    message."""
    office = consultation.office.name if consultation.office else "No office preference"
    service = consultation.service.title if consultation.service else "not chosen"
    received = timezone.localtime(consultation.received_at, clinic.tzinfo)
    context = {
        "consultation_id": consultation.pk,
        "office": one_line(office),
        "service": one_line(service),
        # What the patient was promised, so staff can keep to it.
        "reply_promise": one_line(clinic.reply_promise),
        "received": received,
        "admin_url": _admin_url(consultation),
        "clinic": clinic,
        # Why the website flagged it (about how it arrived, never what the patient typed).
        "flag_reason": consultation.flag_reason,
    }
    subject = f"New consultation request #{consultation.pk} ({office})"
    if consultation.status == ConsultationRequest.Status.NEEDS_REVIEW:
        subject += ", needs review"
    body = render_to_string("contact/emails/staff_notification.txt", context)
    return EmailMessage(
        subject=one_line(subject),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )


def build_confirmation(consultation: ConsultationRequest, clinic) -> EmailMessage:
    """Thanks and what happens next; repeats nothing the patient typed."""
    office = consultation.office
    phone = office.phone if office and office.phone else clinic.phone
    context = {"clinic": clinic, "phone": phone}
    return EmailMessage(
        subject=one_line(f"We received your request · {clinic.name}"),
        body=render_to_string("contact/emails/patient_confirmation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[consultation.email],
    )


def claim_next(now=None) -> ConsultationRequest | None:
    """Claim one due row for this worker, or None when nothing is due.

    A waiting staff notification counts one more try now, so that a worker killed while
    sending it still uses up a try, and a mail that kills its worker is given up in time.
    """
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
            ).update(
                next_attempt_at=now + lease(),
                notify_attempts=Case(
                    When(notification_status=MailStatus.WAITING, then=F("notify_attempts") + 1),
                    default=F("notify_attempts"),
                    output_field=PositiveIntegerField(),
                ),
            )
        if claimed:
            return ConsultationRequest.objects.select_related("office", "service").get(pk=row.pk)
        # Another worker took it between our read and our update: look again.


def _send(message: EmailMessage, mail_connection) -> None:
    message.connection = mail_connection
    if message.send(fail_silently=False) != 1:
        raise RuntimeError("the mail server did not accept the message")


def _after_failure(
    exc: Exception, attempts: int, max_attempts: int, refusal_is_final: bool = False
) -> tuple[str, str]:
    """(the mail's new status, the error to show in admin) after a failed try."""
    error = f"{type(exc).__name__}: {exc}"
    if attempts >= max_attempts or (refusal_is_final and is_permanent_refusal(exc)):
        tries = "try" if attempts == 1 else "tries"
        return MailStatus.FAILED, f"Gave up after {attempts} {tries}. {error}"[:300]
    return MailStatus.WAITING, error[:300]


def confirmation_key(address: str, clinic) -> str:
    """The address (case and +tag ignored) and the clinic's date, as a keyed hash."""
    local, _, domain = address.lower().rpartition("@")
    mailbox = f"{local.split('+', 1)[0]}@{domain}"
    digest = salted_hmac("contact.confirmation", mailbox, algorithm="sha256").hexdigest()
    return f"{digest[:40]}:{timezone.localdate(timezone=clinic.tzinfo).isoformat()}"


def _reserve_confirmation(consultation: ConsultationRequest, key: str) -> bool:
    """Take today's one confirmation for this address; False when another request has it.

    A unique column decides, so two workers sending at once cannot both take it.
    """
    if consultation.confirmation_key == key:
        return True  # this request took it on an earlier try
    try:
        with transaction.atomic():
            ConsultationRequest.objects.filter(pk=consultation.pk).update(confirmation_key=key)
    except IntegrityError:
        return False
    consultation.confirmation_key = key
    return True


def _notify_staff(consultation, clinic, mail_connection) -> dict:
    try:
        recipients = staff_recipients(consultation)
        if not recipients:
            raise RuntimeError("no notification recipients are set up in admin")
        warning = ""
        try:
            _send(build_staff_notification(consultation, recipients, clinic), mail_connection)
        except RecipientsPartlyRefused as exc:
            # The others have it; sending again would mail them twice. Say so in admin
            # and in the log (staff addresses only: nothing the patient typed).
            warning = str(exc)[:300]
            logger.warning("Consultation request #%s: %s", consultation.pk, warning)
    except Exception as exc:  # any mail failure: keep the row, retry later or give up
        status, error = _after_failure(exc, consultation.notify_attempts, NOTIFICATION_MAX_ATTEMPTS)
        _log_failure(consultation, "Staff notification", consultation.notify_attempts, status, exc)
        return {"notification_status": status, "last_error": error}
    return {
        "notification_status": MailStatus.SENT,
        "notified_at": timezone.now(),
        "last_error": warning,
    }


def _confirm_to_patient(consultation, clinic, mail_connection) -> dict:
    if not consultation.email:
        return {
            "confirmation_status": MailStatus.NOT_SENT,
            "confirmation_error": "No email address was given.",
        }
    problem = public_address_problem(consultation.email)
    if problem:
        return {
            "confirmation_status": MailStatus.NOT_SENT,
            "confirmation_error": f"Not sent: not an ordinary public address ({problem}).",
        }
    if not _reserve_confirmation(consultation, confirmation_key(consultation.email, clinic)):
        return {
            "confirmation_status": MailStatus.NOT_SENT,
            "confirmation_error": "Not sent: this address already had a confirmation today "
            "(one a day per address).",
        }
    attempts = consultation.confirmation_attempts = consultation.confirmation_attempts + 1
    try:
        _send(build_confirmation(consultation, clinic), mail_connection)
    except Exception as exc:
        # A patient's address the server refuses for good (5xx) is not tried again.
        status, error = _after_failure(exc, attempts, CONFIRMATION_MAX_ATTEMPTS, True)
        _log_failure(consultation, "Confirmation", attempts, status, exc)
        return {
            "confirmation_status": status,
            "confirmation_error": error,
            "confirmation_attempts": attempts,
        }
    return {
        "confirmation_status": MailStatus.SENT,
        "confirmation_sent_at": timezone.now(),
        "confirmation_error": "",
        "confirmation_attempts": attempts,
    }


def _log_failure(consultation, which: str, attempts: int, status: str, exc: Exception) -> None:
    outcome = "gave up" if status == MailStatus.FAILED else "will retry"
    logger.warning(
        "%s for consultation request #%s failed (attempt %s, %s): %s",
        which,
        consultation.pk,
        attempts,
        outcome,
        type(exc).__name__,
    )


def deliver(consultation: ConsultationRequest, mail_connection=None) -> bool:
    """Send what is still waiting for a claimed row and record each mail's outcome.

    True when nothing failed. A mail that failed is retried after a back-off, at most
    its maximum number of tries (or not at all when the server refused the recipient
    for good); then it shows as failed in admin, with the reason.
    """
    clinic = ClinicSettings.load()
    now = timezone.now()
    updates = {}
    if consultation.notification_status == MailStatus.WAITING:
        updates.update(_notify_staff(consultation, clinic, mail_connection))
    staff_waiting = updates.get("notification_status", consultation.notification_status)
    # The patient hears "we have it" only once staff have been told (or that gave up and
    # shows in admin); a broken connection is not tried a second time in one pass.
    if (
        consultation.confirmation_status == MailStatus.WAITING
        and staff_waiting != MailStatus.WAITING
    ):
        updates.update(_confirm_to_patient(consultation, clinic, mail_connection))
    delays = []
    if updates.get("notification_status") == MailStatus.WAITING:
        delays.append(retry_delay(consultation.notify_attempts))
    if updates.get("confirmation_status") == MailStatus.WAITING:
        delays.append(retry_delay(consultation.confirmation_attempts))
    if delays:
        updates["next_attempt_at"] = now + min(delays)
    ConsultationRequest.objects.filter(pk=consultation.pk).update(**updates)
    failed = delays or MailStatus.FAILED in (
        updates.get("notification_status"),
        updates.get("confirmation_status"),
    )
    if not failed:
        logger.info("Mail for consultation request #%s sent", consultation.pk)
    return not failed


def send_pending(limit: int | None = None) -> tuple[int, int]:
    """One pass over every due row: returns (sent, failed)."""
    sent = failed = 0
    mail_connection = get_connection(fail_silently=False)
    while limit is None or sent + failed < limit:
        consultation = claim_next()
        if consultation is None:
            break
        if deliver(consultation, mail_connection):
            sent += 1
        else:
            failed += 1
            # A broken connection is not reused: the next row opens a fresh one.
            mail_connection.close()
            mail_connection = get_connection(fail_silently=False)
    mail_connection.close()
    return sent, failed


def run_forever(poll_seconds: float = 5.0, stop=None) -> None:
    """The worker loop for ``send_notifications --loop``: mail, then the page views counted
    since the last pass (the cache's buffer and nginx's files) into the database."""
    while stop is None or not stop():
        try:
            send_pending()
        except Exception:
            logger.exception("Notification pass failed; trying again shortly")
        for job in (visits.flush, visits.import_nginx_views):
            try:
                job()
            except Exception:
                logger.exception(
                    "Counting page views failed (%s); trying again shortly", job.__name__
                )
        connection.close_if_unusable_or_obsolete()
        time.sleep(poll_seconds)
