from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.http import HttpResponseRedirect
from django.urls import path, reverse

from . import accounts
from .history import HistoryAdmin
from .models import ClinicSettings


@admin.register(ClinicSettings)
class ClinicSettingsAdmin(HistoryAdmin):
    """One row: the list page goes straight to it, and no second row can be added."""

    fieldsets = [
        (None, {"fields": ["name", "tagline"]}),
        (
            "Look",
            {
                "fields": ["logo", "brand_colour"],
                "description": "Your logo and colour. A colour too light to read is refused, "
                "with the nearest readable shade suggested.",
            },
        ),
        (
            "What patients are told",
            {
                "fields": [
                    "reply_promise",
                    "consultation_heading",
                    "consultation_intro",
                    "thank_you_text",
                    "confirmation_text",
                ]
            },
        ),
        (
            "Introductions of the site's sections",
            {
                "fields": ["services_intro", "team_intro", "articles_intro", "offices_intro"],
                "classes": ["collapse"],
            },
        ),
        (
            "How patients reach you",
            {
                "fields": ["phone", "email"],
                "description": "Shown in the header and footer of every page.",
            },
        ),
        ("Other", {"fields": ["time_zone", "footer_text", "updated_at"]}),
    ]
    readonly_fields = ["updated_at"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not ClinicSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        obj = ClinicSettings.objects.first()
        if obj is not None:
            url = reverse("admin:clinic_site_clinicsettings_change", args=[obj.pk])
        else:
            url = reverse("admin:clinic_site_clinicsettings_add")
        return HttpResponseRedirect(url)


# ------------------------------------------------------------ accounts and login records


class SuperusersOnly:
    """Accounts and login records are for superusers, whatever permissions a group is given:
    whoever may change users can make themselves a superuser."""

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request, *args):
        return request.user.is_superuser and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)


admin.site.unregister(get_user_model())
admin.site.unregister(Group)


@admin.register(get_user_model())
class StaffUserAdmin(SuperusersOnly, UserAdmin):
    """Django's users admin, with "Add a staff member": one form, and the person chooses
    their own password from an emailed link (clinic_site/accounts.py)."""

    actions = ["email_set_password_link"]

    def get_urls(self):
        new_staff = self.admin_site.admin_view(self.new_staff_view)
        return [path("new-staff/", new_staff, name="auth_user_new_staff"), *super().get_urls()]

    def new_staff_view(self, request):
        return accounts.new_staff_view(self, request)

    @admin.action(description="Email the selected people a link to choose a new password")
    def email_set_password_link(self, request, queryset):
        people = queryset.filter(is_active=True).exclude(email="")
        sent = sum(accounts.send_set_password_email(user) for user in people)
        self.message_user(request, f"Emailed a link to choose a password to {sent} people.")
        if sent < len(people):
            self.message_user(
                request,
                f"{len(people) - sent} emails could not be sent: check the addresses and try "
                "again later.",
                messages.ERROR,
            )
        skipped = queryset.count() - len(people)
        if skipped:
            self.message_user(
                request,
                f"{skipped} selected accounts have no email address or are inactive: give "
                "them an address (and tick 'Active') first.",
                messages.WARNING,
            )


@admin.register(Group)
class StaffGroupAdmin(SuperusersOnly, GroupAdmin):
    pass


# django-axes' own admin pages (AXES_ENABLE_ADMIN is off so that these replace them).
@admin.register(AccessAttempt)
class LockoutAdmin(SuperusersOnly, AccessAttemptAdmin):
    pass


@admin.register(AccessLog)
class LoginLogAdmin(SuperusersOnly, AccessLogAdmin):
    pass


@admin.register(AccessFailureLog)
class LoginFailureLogAdmin(SuperusersOnly, AccessFailureLogAdmin):
    pass
