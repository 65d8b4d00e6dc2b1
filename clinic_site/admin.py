from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse

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
