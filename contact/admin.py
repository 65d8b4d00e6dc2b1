import csv
import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from clinic_site.history import HistoryAdmin
from clinic_site.models import ClinicSettings, phone_href

from .models import (
    ConsultationRequest,
    ErasureRecord,
    MailStatus,
    NotificationRecipient,
    PrivacyNotice,
    StaffNote,
    StatusChange,
    phone_digits,
    staff_time,
)

Status = ConsultationRequest.Status

# A spreadsheet treats a cell starting with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """The cell as text, with a leading quote if a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def user_name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def public_page_or_text(obj, empty: str):
    """A related row as plain text, with a link to its public page when it has one shown.

    Django's read-only fields link a related row to its admin page whether or not the user
    may open it (a bare 403 for the front desk): never that.
    """
    if obj is None:
        return empty
    if not obj.is_public:
        return str(obj)
    return format_html('{} (<a href="{}">its page on the website</a>)', obj, obj.get_absolute_url())


class ReadOnlyRelationsMixin:
    """Where a user may only read a row, shows its related rows through display methods
    (``read_only_relations``: field -> method) instead of Django's link to their admin page."""

    read_only_relations: dict[str, str] = {}

    def swapped_fields(self, request, obj):
        """Fields shown through another (read-only) field for this user: name -> name."""
        if obj is None or self.has_change_permission(request, obj):
            return {}
        return self.read_only_relations

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        swap = self.swapped_fields(request, obj)
        if not swap:
            return fieldsets
        return [
            (title, {**options, "fields": [swap.get(name, name) for name in options["fields"]]})
            for title, options in fieldsets
        ]


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
    fields = ["text", "author_name", "created_at"]
    readonly_fields = ["author_name", "created_at"]
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2})}}
    verbose_name_plural = "Staff notes (calls made, messages left, what was agreed)"

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_change_permission(request, obj)

    @admin.display(description="author")
    def author_name(self, note):
        # Text, not Django's link to the user's admin page, which the front desk cannot open.
        return user_name(note.author) or self.get_empty_value_display()


PATIENT_FIELDS = ["name", "phone_link", "email"]  # the phone as a link: one tap calls back
REQUEST_FIELDS = [
    "office_shown",
    "service_shown",
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


# A search that is only a phone number, in any of the ways people write one.
PHONE_QUERY = re.compile(r"[0-9\s().+\-]+")
ERASED_MESSAGE = "A record that it existed, without any patient details, is kept."


def erasure_reason(request) -> str:
    """The reason picked on the delete confirmation page ('' when none or unknown)."""
    reason = request.POST.get("reason", "")
    return reason if reason in ErasureRecord.Reason.values else ""


def erasure_record(consultation, request, reason) -> ErasureRecord:
    """What is kept of an erased request: when and where it arrived, never what it said."""
    return ErasureRecord(
        request_number=consultation.pk,
        received_at=consultation.received_at,
        office=consultation.office.name if consultation.office else "",
        erased_by=request.user,
        reason=reason,
    )


@admin.register(ConsultationRequest)
class ConsultationRequestAdmin(ReadOnlyRelationsMixin, admin.ModelAdmin):
    list_display = [
        "received_at",
        "name",
        "phone_link",
        "contact_method",
        "best_time",
        "office",
        "service",
        "status",
        "assigned_to_name",
        "notification_state",
        "overdue",
    ]
    list_display_links = ["received_at", "name"]
    list_filter = ["status", "office", "service", "received_at", MailFailedFilter, OverdueFilter]
    search_fields = ["name", "email", "phone"]
    search_help_text = (
        "Search by name, email, or phone number typed any way, e.g. 860-555-0199 or "
        "+1 860 555 0199."
    )
    date_hierarchy = "received_at"
    list_select_related = ["office", "service", "assigned_to"]
    inlines = [StaffNoteInline]
    readonly_fields = [
        *PATIENT_FIELDS,
        *REQUEST_FIELDS,
        *CONSENT_FIELDS,
        "flag_reason",
        *MAIL_FIELDS,
        "assigned_to_name",
        "privacy_notice_named",
        "status_history",
    ]
    read_only_relations = {"assigned_to": "assigned_to_name"}
    fieldsets = [
        (
            "The patient",
            {
                "fields": PATIENT_FIELDS,
                "description": "What the patient typed on the website; it cannot be changed "
                "here. If the patient asks us to erase their request, use Delete at the bottom "
                "of this page: it removes the request and its notes for good. We keep only a "
                "record that the request existed (its number, when it arrived, the office, who "
                "erased it and why), without any patient details, under Erased requests.",
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
                "fields": ["status", "status_history", "assigned_to", "flag_reason"],
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
        "delete_selected",
    ]

    def has_add_permission(self, request):
        # Requests only come from the website's form.
        return False

    def swapped_fields(self, request, obj):
        swap = super().swapped_fields(request, obj)
        notices = self.admin_site.get_model_admin(PrivacyNotice)
        if notices.has_view_or_change_permission(request):
            return swap
        # The notice's text is a page this user may not open: no link to it.
        return {**swap, "privacy_notice_agreed": "privacy_notice_named"}

    def get_search_results(self, request, queryset, search_term):
        """Also finds a phone number however it is typed: its digits against the stored ones
        (all of them, or the last 7 to 9 of a number given without its area code)."""
        digits = phone_digits(search_term)
        if len(digits) < 7:
            return super().get_search_results(request, queryset, search_term)
        if len(digits) >= 10:
            by_phone = queryset.filter(phone_digits=digits)
        else:
            by_phone = queryset.filter(phone_digits__endswith=digits)
        if PHONE_QUERY.fullmatch(search_term.strip()):
            # Only a number: not also its groups as words ("860 555 0199" is not "860").
            return by_phone, False
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return found | by_phone, may_have_duplicates

    # ------------------------------------------------------------------ erasing

    def delete_model(self, request, obj):
        with transaction.atomic():
            erasure_record(obj, request, erasure_reason(request)).save()
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        reason = erasure_reason(request)
        with transaction.atomic():
            rows = queryset.select_related("office")
            ErasureRecord.objects.bulk_create(erasure_record(row, request, reason) for row in rows)
            super().delete_queryset(request, queryset)

    def response_delete(self, request, obj_display, obj_id):
        if IS_POPUP_VAR in request.POST:
            return super().response_delete(request, obj_display, obj_id)
        self.message_user(
            request, f"Request #{obj_id} was erased. {ERASED_MESSAGE}", messages.SUCCESS
        )
        url = reverse("admin:contact_consultationrequest_changelist")
        context = {"preserved_filters": self.get_preserved_filters(request), "opts": self.opts}
        return HttpResponseRedirect(add_preserved_filters(context, url))

    @admin.action(
        description="Delete selected requests for good (a record without patient details is kept)",
        permissions=["delete"],
    )
    def delete_selected(self, request, queryset):
        """Django's own confirmation page; once confirmed, each erasure is recorded."""
        if request.POST.get("post"):
            _, _, perms_needed, protected = self.get_deleted_objects(queryset, request)
            if perms_needed:
                raise PermissionDenied
            if not protected:
                numbers = sorted(queryset.values_list("pk", flat=True))
                if numbers:
                    self.log_deletions(request, queryset)
                    self.delete_queryset(request, queryset)
                    listed = ", ".join(f"#{number}" for number in numbers)
                    self.message_user(
                        request,
                        f"{len(numbers)} request(s) were erased ({listed}). {ERASED_MESSAGE}",
                        messages.SUCCESS,
                    )
                return None
        return django_delete_selected(self, request, queryset)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assigned_to":
            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True, is_active=True)
            field = super().formfield_for_foreignkey(db_field, request, **kwargs)
            field.label_from_instance = user_name  # names as notes and erasures show them
            return field
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "status" in form.changed_data:
            StatusChange.objects.create(
                consultation=obj, status=obj.status, changed_by=request.user
            )

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

    @admin.display(description="phone", ordering="phone")
    def phone_link(self, obj):
        if not obj.phone:
            return self.get_empty_value_display()
        return format_html('<a href="{}">{}</a>', phone_href(obj.phone), obj.phone)

    @admin.display(description="office")
    def office_shown(self, obj):
        return public_page_or_text(obj.office, "No preference")

    @admin.display(description="service")
    def service_shown(self, obj):
        return public_page_or_text(obj.service, "Not chosen")

    @admin.display(description="assigned to", ordering="assigned_to__first_name")
    def assigned_to_name(self, obj):
        return user_name(obj.assigned_to) or self.get_empty_value_display()

    @admin.display(description="status changes")
    def status_history(self, obj):
        changes = obj.status_changes.select_related("changed_by") if obj.pk else []
        lines = [
            f"{change.get_status_display()}: {staff_time(change.changed_at)}, "
            f"{user_name(change.changed_by) or 'a removed account'}"
            for change in changes
        ]
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines)) or "None yet"

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
        return self.privacy_notice_named(obj)

    @admin.display(description="privacy notice agreed to")
    def privacy_notice_named(self, obj):
        if obj.privacy_notice is not None:
            return f"Version {obj.privacy_notice.version}"
        if obj.privacy_notice_version:
            # Sent before each version's text was kept.
            return f"Version {obj.privacy_notice_version} (its text was not kept)"
        return "Not recorded"

    # ------------------------------------------------------------------ actions

    def _set_status(self, request, queryset, status):
        with transaction.atomic():
            rows = ConsultationRequest.objects.filter(pk__in=queryset.values("pk"))
            StatusChange.record(rows.select_for_update().only("status"), status, request.user)
            updated = rows.update(status=status)
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
            # A form every spreadsheet reads as a date and time, in the clinic's zone.
            return f"{timezone.localtime(moment, clinic_tz):%Y-%m-%d %H:%M}" if moment else ""

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
                    user_name(assignee),
                    clinic_time(row.notified_at),
                ]
            )
        return response


@admin.register(NotificationRecipient)
class NotificationRecipientAdmin(ReadOnlyRelationsMixin, admin.ModelAdmin):
    list_display = ["email", "office", "is_active"]
    list_filter = ["is_active", "office"]
    search_fields = ["email"]
    list_select_related = ["office"]
    readonly_fields = ["office_shown"]
    read_only_relations = {"office": "office_shown"}
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

    @admin.display(description="office")
    def office_shown(self, obj):
        return public_page_or_text(obj.office, "All offices")


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


ERASURE_FIELDS = [
    "request_number",
    "received_at",
    "office",
    "erased_at",
    "erased_by_name",
    "reason",
]


@admin.register(ErasureRecord)
class ErasureRecordAdmin(admin.ModelAdmin):
    """Read only: written when a request is erased; only a superuser may delete one."""

    list_display = ERASURE_FIELDS
    list_display_links = ["request_number", "received_at"]
    list_filter = ["reason", "erased_at"]
    list_select_related = ["erased_by"]
    search_fields = ["=request_number"]
    search_help_text = "Search by request number, e.g. 12."
    fieldsets = [
        (
            None,
            {
                "fields": ERASURE_FIELDS,
                "description": "A consultation request that staff erased with Delete. Only "
                "this is kept: no name, phone, email or message. It shows that the request "
                "existed and who erased it, when and why, should anyone ask.",
            },
        )
    ]
    readonly_fields = ["erased_by_name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    @admin.display(description="erased by", ordering="erased_by__username")
    def erased_by_name(self, record):
        # Text, not a link to the user's admin page, which the front desk cannot open.
        return user_name(record.erased_by) or self.get_empty_value_display()
