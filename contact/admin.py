import csv

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from clinic_site.history import HistoryAdmin
from clinic_site.models import ClinicSettings

from .models import (
    ConsultationRequest,
    MailStatus,
    NotificationRecipient,
    PrivacyNotice,
    StaffNote,
)

Status = ConsultationRequest.Status

# A spreadsheet treats a cell starting with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """The cell as text, with a leading quote if a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class MailFailedFilter(admin.SimpleListFilter):
    title = "email failed"
    parameter_name = "mail_failed"

    def lookups(self, request, model_admin):
        return [("yes", "Yes: the email to staff or the patient's confirmation failed")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.mail_failed()
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Yes: new and waiting more than one business day")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.overdue()
        return queryset


class StaffNoteInline(admin.TabularInline):
    """Notes are a log: anyone can add one, only a superuser can change an existing one."""

    model = StaffNote
    extra = 1
    can_delete = False
    fields = ["text", "author", "created_at"]
    readonly_fields = ["author", "created_at"]
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2})}}
    verbose_name_plural = "Staff notes (calls made, messages left, what was agreed)"

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_change_permission(request, obj)


PATIENT_FIELDS = ["name", "phone", "email"]
REQUEST_FIELDS = [
    "office",
    "service",
    "contact_method",
    "best_time",
    "message",
    "source_path",
    "received_at",
]
CONSENT_FIELDS = ["consent_at", "privacy_notice_agreed"]
MAIL_FIELDS = [
    "notification_status",
    "notified_at",
    "notify_attempts",
    "last_error",
    "confirmation_status",
    "confirmation_sent_at",
    "confirmation_attempts",
    "confirmation_error",
    "next_attempt_at",
]


@admin.register(ConsultationRequest)
class ConsultationRequestAdmin(admin.ModelAdmin):
    list_display = [
        "received_at",
        "name",
        "office",
        "service",
        "status",
        "assigned_to",
        "notification_state",
        "overdue",
    ]
    list_filter = ["status", "office", "service", "received_at", MailFailedFilter, OverdueFilter]
    search_fields = ["name", "email", "phone"]
    date_hierarchy = "received_at"
    list_select_related = ["office", "service", "assigned_to"]
    inlines = [StaffNoteInline]
    readonly_fields = [
        *PATIENT_FIELDS,
        *REQUEST_FIELDS,
        *CONSENT_FIELDS,
        "flag_reason",
        *MAIL_FIELDS,
    ]
    fieldsets = [
        (
            "The patient",
            {
                "fields": PATIENT_FIELDS,
                "description": "What the patient typed on the website; it cannot be changed "
                "here. If the patient asks us to erase their request, use Delete at the bottom "
                "of this page: it removes the request and its notes for good.",
            },
        ),
        (
            "Their request",
            {
                "fields": REQUEST_FIELDS,
                "description": "Which office and service they chose, how and when they would "
                "like to be contacted, their message, and the page they sent it from.",
            },
        ),
        (
            "Consent",
            {
                "fields": CONSENT_FIELDS,
                "description": "When the patient agreed to the privacy notice, and the exact "
                "version they saw: the link opens its text as it was then.",
            },
        ),
        (
            "Follow-up",
            {
                "fields": ["status", "assigned_to", "flag_reason"],
                "description": "Pick who calls the patient back, and change the status as you "
                "go: Contacted once you have reached them, Scheduled once they have an "
                "appointment. Requests still New (or Needs review) after one business day "
                "show as overdue. Needs review: the website kept the request and told you, "
                "but something about how it arrived looked odd (the reason is shown here); "
                "if it is a real patient, carry on as usual, otherwise mark it Spam.",
            },
        ),
        (
            "Email to staff and patient",
            {
                "fields": MAIL_FIELDS,
                "classes": ["collapse"],
                "description": "Filled in by the website. A failed email is tried again "
                "after 1, 2, 4 ... minutes; the email to staff gives up after about a day and "
                "the patient's confirmation after about an hour (or at once when the mail "
                "server refuses the address), and then shows as failed with the reason. "
                "'Resend notification' in the list sends the staff email again. The "
                "confirmation goes only to ordinary public addresses, at most once a day per "
                "address.",
            },
        ),
    ]
    actions = [
        "mark_new",
        "mark_contacted",
        "mark_scheduled",
        "mark_not_a_fit",
        "mark_spam",
        "assign_to_me",
        "resend_notification",
        "export_csv",
    ]

    def has_add_permission(self, request):
        # Requests only come from the website's form.
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assigned_to":
            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True, is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_formset(self, request, form, formset, change):
        if formset.model is not StaffNote:
            return super().save_formset(request, form, formset, change)
        for note in formset.save(commit=False):
            if note.pk is None:
                note.author = request.user
            note.save()
        for note in formset.deleted_objects:
            note.delete()
        formset.save_m2m()

    # ------------------------------------------------------------------ columns

    @admin.display(description="email to staff")
    def notification_state(self, obj):
        if obj.notification_status == MailStatus.SENT:
            state = "Sent"
        elif obj.status == Status.SPAM:
            return "Not sent (spam)"
        elif obj.notification_status == MailStatus.FAILED:
            state = obj.last_error or "Failed"
        elif obj.notify_attempts:
            tries = "try" if obj.notify_attempts == 1 else "tries"
            error = f": {obj.last_error}" if obj.last_error else ""
            state = f"Failed ({obj.notify_attempts} {tries}), retrying{error}"
        else:
            state = "Waiting"
        if obj.confirmation_status == MailStatus.FAILED:
            state += ". Confirmation to the patient failed (see the request)"
        return state

    @admin.display(boolean=True, description="overdue")
    def overdue(self, obj):
        return obj.is_overdue

    @admin.display(description="privacy notice agreed to")
    def privacy_notice_agreed(self, obj):
        notice = obj.privacy_notice
        if notice is not None:
            url = reverse("admin:contact_privacynotice_text", args=[notice.pk])
            return format_html('<a href="{}">Version {} (read the text)</a>', url, notice.version)
        if obj.privacy_notice_version:
            # Sent before each version's text was kept.
            return f"Version {obj.privacy_notice_version} (its text was not kept)"
        return "Not recorded"

    # ------------------------------------------------------------------ actions

    def _set_status(self, request, queryset, status):
        updated = queryset.update(status=status)
        self.message_user(request, f"{updated} request(s) marked {status.label}.")

    @admin.action(
        description="Mark selected requests as new (checked: a real patient)",
        permissions=["change"],
    )
    def mark_new(self, request, queryset):
        self._set_status(request, queryset, Status.NEW)

    @admin.action(description="Mark selected requests as contacted", permissions=["change"])
    def mark_contacted(self, request, queryset):
        self._set_status(request, queryset, Status.CONTACTED)

    @admin.action(description="Mark selected requests as scheduled", permissions=["change"])
    def mark_scheduled(self, request, queryset):
        self._set_status(request, queryset, Status.SCHEDULED)

    @admin.action(description="Mark selected requests as not a fit", permissions=["change"])
    def mark_not_a_fit(self, request, queryset):
        self._set_status(request, queryset, Status.NOT_A_FIT)

    @admin.action(description="Mark selected requests as spam", permissions=["change"])
    def mark_spam(self, request, queryset):
        self._set_status(request, queryset, Status.SPAM)

    @admin.action(description="Assign selected requests to me", permissions=["change"])
    def assign_to_me(self, request, queryset):
        updated = queryset.update(assigned_to=request.user)
        self.message_user(request, f"{updated} request(s) assigned to you.")

    @admin.action(description="Resend the notification email to staff", permissions=["change"])
    def resend_notification(self, request, queryset):
        updated = queryset.exclude(status=Status.SPAM).update(
            notification_status=MailStatus.WAITING,
            notified_at=None,
            next_attempt_at=timezone.now(),
            notify_attempts=0,
            last_error="",
        )
        message = f"{updated} request(s) will be emailed to staff again within a minute."
        skipped = queryset.filter(status=Status.SPAM).count()
        if skipped:
            message += f" {skipped} spam request(s) were left alone."
        self.message_user(request, message)

    @admin.action(
        description="Export selected requests to a spreadsheet (CSV)", permissions=["view"]
    )
    def export_csv(self, request, queryset):
        clinic_tz = ClinicSettings.load().tzinfo

        def clinic_time(moment):
            return timezone.localtime(moment, clinic_tz).isoformat() if moment else ""

        today = timezone.localdate(timezone=clinic_tz)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="consultation-requests-{today:%Y-%m-%d}.csv"'
        )
        # A byte order mark lets Excel read accented names as UTF-8.
        response.write("\ufeff")
        writer = csv.writer(response)
        writer.writerow(
            [
                "id",
                "received at",
                "office",
                "service",
                "name",
                "phone",
                "email",
                "contact method",
                "best time",
                "message",
                "status",
                "assigned to",
                "staff notified at",
            ]
        )
        rows = queryset.select_related("office", "service", "assigned_to")
        rows = rows.order_by("received_at", "pk")
        for row in rows:
            assignee = row.assigned_to
            writer.writerow(
                csv_safe(cell)
                for cell in [
                    row.pk,
                    clinic_time(row.received_at),
                    row.office.name if row.office else "",
                    row.service.title if row.service else "",
                    row.name,
                    row.phone,
                    row.email,
                    row.get_contact_method_display(),
                    row.get_best_time_display(),
                    row.message,
                    row.get_status_display(),
                    (assignee.get_full_name() or assignee.get_username()) if assignee else "",
                    clinic_time(row.notified_at),
                ]
            )
        return response


@admin.register(NotificationRecipient)
class NotificationRecipientAdmin(admin.ModelAdmin):
    list_display = ["email", "office", "is_active"]
    list_filter = ["is_active", "office"]
    search_fields = ["email"]
    list_select_related = ["office"]
    fieldsets = [
        (
            None,
            {
                "fields": ["email", "office", "is_active"],
                "description": "Who is emailed when a consultation request arrives. A "
                "recipient with no office is told about every request; a recipient with an "
                "office only gets that office's requests. The email never contains what the "
                "patient typed, only a link to the request here. Untick 'Is active' to pause "
                "someone without deleting them.",
            },
        ),
    ]


@admin.register(PrivacyNotice)
class PrivacyNoticeAdmin(HistoryAdmin):
    """Each saved change is a new version; versions already published are only read."""

    list_display = ["title", "version", "published_at"]
    readonly_fields = ["version", "published_at", "text"]
    fields = ["title", "body", "version", "published_at"]
    read_only_fields = ["title", "text", "version", "published_at"]
    description = (
        "The text the consent box on the consultation form links to. Saving a changed text "
        "publishes it as a new version, and the website shows the newest one; earlier "
        "versions stay exactly as they were, because every request links to the version its "
        "patient agreed to. Only the newest version can be edited. Use 'View on site' to check "
        "how it reads."
    )
    read_only_description = (
        "Exactly the text patients agreed to while this version was the newest. It never "
        "changes: a changed text is published as a new version."
    )

    def get_urls(self):
        read = self.admin_site.admin_view(self.read_view)
        return [
            path("<path:object_id>/text/", read, name="contact_privacynotice_text"),
            *super().get_urls(),
        ]

    def read_view(self, request, object_id):
        """The change page of one version, read-only for everyone (linked from requests)."""
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied
        request.privacy_notice_read_only = True
        return self.change_view(request, object_id)

    def _editable(self, request, obj):
        if getattr(request, "privacy_notice_read_only", False):
            return False
        # Only the newest version is edited (into a newer one); older ones are history.
        return obj is None or obj.pk == self._newest_pk()

    def _newest_pk(self):
        return PrivacyNotice.objects.values_list("pk", flat=True).first()

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        read_only = getattr(request, "privacy_notice_read_only", False)
        return not read_only and super().has_delete_permission(request, obj)

    def get_fieldsets(self, request, obj=None):
        editable = obj is None or self.has_change_permission(request, obj)
        if editable:
            return [(None, {"fields": self.fields, "description": self.description})]
        return [
            (None, {"fields": self.read_only_fields, "description": self.read_only_description})
        ]

    def view_on_site(self, obj):
        # The public page shows the newest version only.
        return obj.get_absolute_url() if obj.pk == self._newest_pk() else None

    @admin.display(description="text")
    def text(self, obj):
        # The body as patients read it; sanitised when it was saved (pages.sanitize_body).
        return mark_safe(obj.body)

    def save_model(self, request, obj, form, change):
        if change:
            old = PrivacyNotice.objects.get(pk=obj.pk)
            if (old.title, old.body) == (obj.title, obj.body):
                return  # nothing changed: no new version
            obj.previous_version = old.version
            obj.pk, obj.version, obj._state.adding = None, None, True
        super().save_model(request, obj, form, change)

    def log_change(self, request, obj, message):
        if getattr(obj, "previous_version", None) is None:
            return super().log_change(request, obj, message)
        message = f"Published as version {obj.version}, changed from {obj.previous_version}."
        return self.log_addition(request, obj, message)

    def response_change(self, request, obj):
        previous = getattr(obj, "previous_version", None)
        if previous is None:
            return super().response_change(request, obj)
        self.message_user(
            request,
            f"Published as version {obj.version}. Version {previous} stays as it was, for the "
            "requests whose patients agreed to it.",
            messages.SUCCESS,
        )
        if "_continue" in request.POST:
            return redirect("admin:contact_privacynotice_change", obj.pk)
        if "_addanother" in request.POST:
            return redirect("admin:contact_privacynotice_add")
        return self.response_post_save_change(request, obj)
