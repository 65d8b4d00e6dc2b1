from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path

from clinic_site.history import HistoryAdmin

from .models import Topic


@admin.register(Topic)
class TopicAdmin(HistoryAdmin):
    """The topics' list and forms, and the guide itself: every topic a person may read on
    one page ("Staff guide", linked from the admin home)."""

    list_display = ["title", "audience", "order", "updated_at"]
    list_editable = ["order"]
    list_filter = ["audience"]
    search_fields = ["title", "body"]
    readonly_fields = ["updated_at"]
    fieldsets = [
        (
            None,
            {
                "fields": ["title", "audience", "order", "body", "updated_at"],
                "description": "One question and its answer in the staff guide. Write for "
                "someone who has never used the admin: one step per line, and name each "
                "button or box exactly as it appears. 'Read the staff guide' (top right of "
                "the list) shows the guide as staff read it.",
            },
        )
    ]
    view_on_site = False  # the guide is read in admin, not on the public site

    def get_urls(self):
        read = self.admin_site.admin_view(self.read_view)
        return [path("read/", read, name="guide_topic_read"), *super().get_urls()]

    def read_view(self, request):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        topics = Topic.objects.for_user(request.user)
        context = {
            **self.admin_site.each_context(request),
            "title": "Staff guide",
            "subtitle": None,
            "opts": self.opts,
            "topics": topics,
            "can_change": self.has_change_permission(request),
            "can_add": self.has_add_permission(request),
        }
        return TemplateResponse(request, "admin/guide/topic/read.html", context)
