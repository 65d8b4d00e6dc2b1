"""Consultation requests. Each row is its own outbox: the notification state lives on it."""

import datetime
import re

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import formats, timezone

from clinic_site.models import ClinicSettings
from pages.models import ARTICLE_BODY_EXTENSIONS, Office, RichTextField, sanitize_body

# Failed sends are retried after 1, 2, 4, ... minutes, never more than an hour apart, and
# given up after a bounded number of tries (then shown as failed in admin, with the reason).
RETRY_BASE_SECONDS = 60
RETRY_MAX_SECONDS = 3600
NOTIFICATION_MAX_ATTEMPTS = 24  # about 19 hours: staff can still resend it from admin
CONFIRMATION_MAX_ATTEMPTS = 6  # about an hour: a late "we received it" is worth little


def retry_delay(attempts: int) -> datetime.timedelta:
    seconds = RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return datetime.timedelta(seconds=min(seconds, RETRY_MAX_SECONDS))


def staff_time(moment, zone=None) -> str:
    """A moment as staff read it on every request page: in the clinic's time zone, in the
    admin's own date format (DATETIME_FORMAT: "May 10, 2024, 10:30 a.m."), as Django's admin
    writes the list, the read-only fields and the history."""
    if moment is None:
        return ""
    zone = zone or ClinicSettings.load().tzinfo
    return formats.date_format(timezone.localtime(moment, zone), "DATETIME_FORMAT")


def phone_digits(value: str) -> str:
    """The digits of a phone number without the US country code: what phone search compares,
    so "+1 860 555 0199", "860.555.0199" and "(860) 555-0199" are one number."""
    digits = re.sub(r"[^0-9]", "", value or "")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits


class PrivacyNoticeChanged(Exception):
    """A published version's text was changed in place instead of saved as a new version."""


class PrivacyNotice(models.Model):
    """One published version of the privacy notice the consent box links to.

    A version's text never changes once saved: requests link to the one their patient
    agreed to. A changed notice is saved as a new row (the admin does that).
    """

    title = models.CharField(
        max_length=150,
        default="Privacy notice",
        help_text="The heading of the notice, e.g. 'Privacy notice'.",
    )
    body = RichTextField(
        config={"extensions": ARTICLE_BODY_EXTENSIONS},
        sanitize=sanitize_body,
        help_text="What the clinic does with what patients send through the website.",
    )
    version = models.PositiveIntegerField(
        editable=False, help_text="Goes up by one with each changed text that is saved."
    )
    published_at = models.DateTimeField("published at", auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = "privacy notice"
        constraints = [
            models.UniqueConstraint(fields=["version"], name="unique_privacy_notice_version")
        ]

    def __str__(self):
        return f"{self.title} (version {self.version})"

    def save(self, *args, **kwargs):
        if self._state.adding:
            # Always the next number, also for a deleted version restored from its history.
            latest = PrivacyNotice.objects.aggregate(latest=models.Max("version"))["latest"]
            self.version = (latest or 0) + 1
        else:
            old = PrivacyNotice.objects.filter(pk=self.pk).values("title", "body", "version")
            old = old.first()
            if old and (old["title"], old["body"], old["version"]) != (
                self.title,
                self.body,
                self.version,
            ):
                raise PrivacyNoticeChanged(
                    f"Version {old['version']} of the privacy notice is what patients agreed "
                    "to: save a changed text as a new version instead."
                )
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("contact:privacy")

    @classmethod
    def current(cls):
        """The newest version: the one the public page and the form show."""
        return cls.objects.order_by("-version").first()


class NotificationRecipient(models.Model):
    """Who is emailed when a request arrives: clinic-wide, or only for one office."""

    email = models.EmailField(help_text="A staff inbox, e.g. frontdesk@yourclinic.com.")
    office = models.ForeignKey(
        Office,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notification_recipients",
        help_text="Leave empty to be told about every request; pick an office to be told "
        "only about requests for that office.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["office__name", "email"]
        verbose_name = "notification recipient"
        constraints = [
            models.UniqueConstraint(fields=["email", "office"], name="unique_recipient_office"),
            models.UniqueConstraint(
                fields=["email"],
                condition=Q(office__isnull=True),
                name="unique_clinic_wide_recipient",
            ),
        ]

    def __str__(self):
        return f"{self.email} ({self.office or 'all offices'})"


class MailStatus(models.TextChoices):
    WAITING = "waiting", "Waiting to be sent"
    SENT = "sent", "Sent"
    NOT_SENT = "not_sent", "Not sent"  # by a rule: spam, no address, one a day, ...
    FAILED = "failed", "Failed: gave up"


class ConsultationRequestQuerySet(models.QuerySet):
    def due_for_mail(self, now=None):
        """Rows whose staff notification or patient confirmation is still to be sent."""
        now = now or timezone.now()
        return self.exclude(status=ConsultationRequest.Status.SPAM).filter(
            Q(notification_status=MailStatus.WAITING) | Q(confirmation_status=MailStatus.WAITING),
            next_attempt_at__lte=now,
        )

    def mail_failed(self):
        """A mail gave up, or the staff notification has failed at least once so far."""
        return self.exclude(status=ConsultationRequest.Status.SPAM).filter(
            Q(notification_status=MailStatus.FAILED)
            | Q(notification_status=MailStatus.WAITING, notify_attempts__gt=0)
            | Q(confirmation_status=MailStatus.FAILED)
        )

    def needs_review(self):
        return self.filter(status=ConsultationRequest.Status.NEEDS_REVIEW)

    def overdue(self, now=None):
        """New (or flagged) requests nobody has picked up within one business day."""
        now = now or timezone.now()
        return self.filter(
            status__in=ConsultationRequest.WAITING_STATUSES,
            received_at__lt=business_day_before(now),
        )


def business_day_before(now: datetime.datetime) -> datetime.datetime:
    """The same time one business day (Monday to Friday) earlier, in the clinic's zone."""
    moment = timezone.localtime(now) - datetime.timedelta(days=1)
    while moment.weekday() >= 5:
        moment -= datetime.timedelta(days=1)
    return moment


class ConsultationRequest(models.Model):
    class ContactMethod(models.TextChoices):
        PHONE = "phone", "Phone call"
        TEXT = "text", "Text message"
        EMAIL = "email", "Email"

    class BestTime(models.TextChoices):
        MORNING = "morning", "Morning"
        AFTERNOON = "afternoon", "Afternoon"
        EVENING = "evening", "Evening"

    class Status(models.TextChoices):
        NEW = "new", "New"
        # Stored, counted and notified like any request, but something about how it
        # arrived looked odd (flag_reason says what): a person decides, never a filter.
        NEEDS_REVIEW = "review", "Needs review"
        CONTACTED = "contacted", "Contacted"
        SCHEDULED = "scheduled", "Scheduled"
        NOT_A_FIT = "not_a_fit", "Not a fit"
        SPAM = "spam", "Spam"

    # What the patient sent.
    name = models.CharField(max_length=120)
    phone = models.CharField(max_length=30, blank=True)
    # Filled on save: what search matches a number typed in any format against.
    phone_digits = models.CharField(max_length=20, blank=True, editable=False, db_index=True)
    email = models.EmailField(max_length=254, blank=True)
    office = models.ForeignKey(
        Office,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="consultation_requests",
        help_text="Empty: the patient has no preference.",
    )
    service = models.ForeignKey(
        "pages.Service",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="consultation_requests",
        help_text="What the patient said they are interested in. Empty: not chosen.",
    )
    contact_method = models.CharField(
        "preferred contact method",
        max_length=10,
        choices=ContactMethod.choices,
        help_text="What the patient chose. If they left it empty: Phone call when they gave a "
        "phone number, otherwise Email.",
    )
    best_time = models.CharField("best time to reach", max_length=10, choices=BestTime.choices)
    message = models.TextField("what they would like help with", max_length=1000, blank=True)
    consent_at = models.DateTimeField("consent given at")
    privacy_notice_version = models.PositiveIntegerField(null=True, blank=True)
    # Null for requests sent before each version was kept (privacy_notice_version says which).
    privacy_notice = models.ForeignKey(
        PrivacyNotice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consultation_requests",
        verbose_name="privacy notice agreed to",
        help_text="The exact version of the privacy notice the patient agreed to.",
    )
    source_path = models.CharField("sent from page", max_length=200, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    # Staff work.
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.NEW, db_index=True
    )
    flag_reason = models.CharField(
        "why the website flagged it", max_length=100, blank=True, editable=False
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_consultation_requests",
        help_text="The staff member who follows this request up.",
    )

    # Outbox state: the staff notification, the patient's confirmation, and when to try.
    notification_status = models.CharField(
        "email to staff", max_length=10, choices=MailStatus.choices, default=MailStatus.WAITING
    )
    notified_at = models.DateTimeField("staff notified at", null=True, blank=True)
    notify_attempts = models.PositiveIntegerField("send attempts", default=0)
    last_error = models.CharField(max_length=300, blank=True)
    confirmation_status = models.CharField(
        "confirmation to the patient",
        max_length=10,
        choices=MailStatus.choices,
        default=MailStatus.WAITING,
    )
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmation_attempts = models.PositiveIntegerField(default=0)
    confirmation_error = models.CharField(
        "why the confirmation was not sent", max_length=300, blank=True
    )
    # One confirmation per address per day, across every worker: a keyed hash of the
    # address and the clinic's date, unique in the database (see notifications.py).
    confirmation_key = models.CharField(
        max_length=80, null=True, blank=True, unique=True, editable=False
    )
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = ConsultationRequestQuerySet.as_manager()

    WAITING_STATUSES = (Status.NEW, Status.NEEDS_REVIEW)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = "consultation request"
        permissions = [("view_insight", "Can see the insight dashboard (views and requests)")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(phone="", email=""),
                name="request_has_phone_or_email",
                violation_error_code="no_contact",
                violation_error_message="Please give a phone number or an email address "
                "so we can reach you.",
            ),
        ]

    def __str__(self):
        return f"Request #{self.pk} ({staff_time(self.received_at)})"

    def save(self, *args, **kwargs):
        self.phone_digits = phone_digits(self.phone)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "phone" in update_fields:
            kwargs["update_fields"] = {*update_fields, "phone_digits"}
        super().save(*args, **kwargs)

    def get_admin_url(self):
        return reverse("admin:contact_consultationrequest_change", args=[self.pk])

    @property
    def is_overdue(self):
        return self.status in self.WAITING_STATUSES and self.received_at < business_day_before(
            timezone.now()
        )


class SubmissionCount(models.Model):
    """How many requests one address sent in the current window (contact/spam.py).

    In the database, so that every app process shares it whatever the cache is, and it
    survives restarts and cache evictions. ``client`` is a keyed hash, never the address.
    """

    client = models.CharField(max_length=64, unique=True)
    window_started_at = models.DateTimeField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "submission count"

    def __str__(self):
        return f"{self.count} since {self.window_started_at:%Y-%m-%d %H:%M}"


class StaffNote(models.Model):
    consultation = models.ForeignKey(
        ConsultationRequest, on_delete=models.CASCADE, related_name="notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, editable=False
    )
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = "staff note"

    def __str__(self):
        return f"Note by {self.author or 'staff'} at {staff_time(self.created_at)}"


class StatusChange(models.Model):
    """A request's status changed: to what, by whom, when. What the insight dashboard's
    "reached scheduled" and "time to first contact" are worked out from."""

    consultation = models.ForeignKey(
        ConsultationRequest, on_delete=models.CASCADE, related_name="status_changes"
    )
    status = models.CharField(max_length=10, choices=ConsultationRequest.Status.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    changed_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["changed_at", "pk"]
        verbose_name = "status change"

    def __str__(self):
        return f"{self.get_status_display()} at {staff_time(self.changed_at)}"

    @classmethod
    def record(cls, rows, status, user):
        """One change for each of ``rows`` whose status was another, before it is set."""
        cls.objects.bulk_create(
            cls(consultation=row, status=status, changed_by=user)
            for row in rows
            if row.status != status
        )


class ErasureRecord(models.Model):
    """That a request existed and was erased, by whom and why: never what the patient sent."""

    class Reason(models.TextChoices):
        PATIENT_ASKED = "patient_asked", "The patient asked us to erase their details"
        MISTAKE = "mistake", "Sent by mistake, or a duplicate"
        SPAM = "spam", "Spam, not a real patient"
        OTHER = "other", "Another reason"

    request_number = models.PositiveIntegerField("request number", db_index=True)
    received_at = models.DateTimeField("request received at")
    office = models.CharField(
        max_length=120, blank=True, help_text="The office chosen. Empty: no preference."
    )
    erased_at = models.DateTimeField("erased at", default=timezone.now, db_index=True)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="erased by",
    )
    reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)

    class Meta:
        ordering = ["-erased_at"]
        verbose_name = "erased request"
        verbose_name_plural = "erased requests"

    def __str__(self):
        return f"Request #{self.request_number}, erased {staff_time(self.erased_at)}"
