from django.contrib import admin
from django.db import models
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from clinic_site.history import HistoryAdmin

from .cache import invalidate
from .images import CheckedImageField
from .models import (
    Article,
    Clinician,
    Closure,
    HomePage,
    MenuItem,
    Office,
    OpeningHours,
    Page,
    Promotion,
    Service,
)

# Every picture upload in admin explains exactly why a file was refused.
IMAGE_FIELD_OVERRIDES = {models.ImageField: {"form_class": CheckedImageField}}


@admin.register(Article)
class ArticleAdmin(HistoryAdmin):
    formfield_overrides = IMAGE_FIELD_OVERRIDES
    list_display = ["title", "status", "published_at", "is_live", "author_name", "updated_at"]
    list_filter = ["status", "published_at", "author_profile", "services"]
    list_select_related = ["author_profile"]
    search_fields = ["title", "summary", "body", "author", "author_profile__name"]
    autocomplete_fields = ["author_profile", "reviewer"]
    filter_horizontal = ["services"]
    prepopulated_fields = {"slug": ("title",)}
    date_hierarchy = "published_at"
    readonly_fields = ["updated_at", "image_preview"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "body", "services"]}),
        (
            "Picture",
            {
                "fields": ["image", "image_preview", "image_alt"],
                "description": "Optional. A wide landscape picture works best.",
            },
        ),
        (
            "Publishing",
            {
                "fields": ["status", "published_at", "author_profile", "author", "updated_at"],
                "description": "Save as a draft and use 'View on site' (top right) to preview. "
                "Set Published and a publish date to put it live; a future date schedules it.",
            },
        ),
        (
            "Medical review",
            {"fields": ["reviewer", "reviewed_by", "reviewed_on"], "classes": ["collapse"]},
        ),
    ]
    actions = ["publish_now", "make_draft"]

    @admin.display(boolean=True, description="live on the site")
    def is_live(self, obj):
        return obj.is_public

    @admin.display(description="author", ordering="author_profile__name")
    def author_name(self, obj):
        return obj.author_name

    @admin.display(description="current picture")
    def image_preview(self, obj):
        return _thumbnail(obj)

    @admin.action(description="Publish selected articles now")
    def publish_now(self, request, queryset):
        updated = queryset.update(status=Article.Status.PUBLISHED, published_at=timezone.now())
        invalidate()  # update() sends no save signal: clear cached pages here
        self.message_user(request, f"{updated} article(s) published.")

    @admin.action(description="Turn selected articles back into drafts")
    def make_draft(self, request, queryset):
        updated = queryset.update(status=Article.Status.DRAFT)
        invalidate()
        self.message_user(request, f"{updated} article(s) are drafts now (hidden from the site).")


def _thumbnail(obj):
    renditions = obj.image_renditions()
    if not renditions:
        return "No picture yet."
    return format_html(
        '<img src="{}" alt="{}" width="240">',  # no style attribute: CSP style-src
        renditions.src,
        obj.image_alt,
    )


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0
    min_num = 0
    verbose_name_plural = "Opening hours (a day with no row is shown as closed)"
    fields = ["weekday", "opens", "closes"]


class ClosureInline(admin.TabularInline):
    model = Closure
    extra = 0
    verbose_name_plural = "Special closures (holidays and other days off)"
    fields = ["date", "reason"]


@admin.register(Office)
class OfficeAdmin(HistoryAdmin):
    formfield_overrides = IMAGE_FIELD_OVERRIDES
    list_display = ["name", "city", "phone", "is_active", "display_order"]
    list_editable = ["display_order"]
    list_filter = ["is_active", "city", "state"]
    search_fields = ["name", "street", "city", "zip_code", "phone"]
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ["image_preview"]
    inlines = [OpeningHoursInline, ClosureInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "is_active", "display_order"]}),
        ("Address", {"fields": ["street", "suite", "city", "state", "zip_code"]}),
        ("Contact", {"fields": ["phone", "email"]}),
        ("Photo", {"fields": ["image", "image_preview", "image_alt"]}),
        (
            "Map position",
            {
                "fields": ["latitude", "longitude"],
                "classes": ["collapse"],
                "description": "Optional. Helps search engines place the office on a map.",
            },
        ),
    ]

    @admin.display(description="current photo")
    def image_preview(self, obj):
        return _thumbnail(obj)


@admin.register(Promotion)
class PromotionAdmin(HistoryAdmin):
    list_display = [
        "title",
        "amount_display",
        "applies_to",
        "starts_on",
        "ends_on",
        "is_active",
        "show_as_banner",
        "is_live",
    ]
    list_filter = ["is_active", "show_as_banner"]
    search_fields = ["title", "eligibility", "applies_to", "description"]
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ["updated_at"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "description"]}),
        (
            "The offer",
            {
                "fields": [
                    "eligibility",
                    "amount",
                    "currency",
                    "applies_to",
                    "service",
                    "how_to_claim",
                    "fine_print",
                ]
            },
        ),
        (
            "When and where it shows",
            {
                "fields": ["is_active", "show_as_banner", "starts_on", "ends_on", "updated_at"],
                "description": "Leave the dates empty for an offer with no end. After the end "
                "date the offer disappears from every page by itself.",
            },
        ),
    ]

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, obj):
        return obj.amount_display

    @admin.display(boolean=True, description="live on the site")
    def is_live(self, obj):
        return obj.is_public


PICTURE_FIELDSET = (
    "Picture",
    {
        "fields": ["image", "image_preview", "image_alt"],
        "description": "Optional. A landscape picture works best; it is shown on cards too.",
    },
)


class PictureAdmin(HistoryAdmin):
    formfield_overrides = IMAGE_FIELD_OVERRIDES
    readonly_fields = ["image_preview", "updated_at"]

    @admin.display(description="current picture")
    def image_preview(self, obj):
        return _thumbnail(obj)


@admin.register(Service)
class ServiceAdmin(PictureAdmin):
    list_display = ["title", "is_published", "display_order", "updated_at"]
    list_editable = ["display_order"]
    list_filter = ["is_published", "offices"]
    search_fields = ["title", "summary", "body"]
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ["offices"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "body", "who_it_helps"]}),
        PICTURE_FIELDSET,
        (
            "Where and how it shows",
            {"fields": ["offices", "display_order", "is_published", "updated_at"]},
        ),
    ]


@admin.register(Clinician)
class ClinicianAdmin(PictureAdmin):
    list_display = ["name", "credentials", "role", "is_shown", "display_order"]
    list_editable = ["display_order"]
    list_filter = ["is_shown", "offices", "services"]
    search_fields = ["name", "credentials", "role"]
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ["services", "offices"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "credentials", "role", "bio", "languages"]}),
        (
            "Photo",
            {
                "fields": ["image", "image_preview", "image_alt"],
                "description": "Optional. A portrait with a plain background works best.",
            },
        ),
        (
            "Where and how they show",
            {"fields": ["services", "offices", "display_order", "is_shown", "updated_at"]},
        ),
    ]


@admin.register(Page)
class PageAdmin(PictureAdmin):
    list_display = ["title", "slug", "is_published", "updated_at"]
    list_filter = ["is_published"]
    search_fields = ["title", "summary", "body"]
    prepopulated_fields = {"slug": ("title",)}
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "body"]}),
        PICTURE_FIELDSET,
        (
            "Publishing",
            {
                "fields": ["is_published", "updated_at"],
                "description": "Add the page to the menu or footer under "
                "'Menu and footer links' to give patients a way to it.",
            },
        ),
    ]


@admin.register(MenuItem)
class MenuItemAdmin(HistoryAdmin):
    list_display = ["text", "location", "order", "target_kind"]
    list_display_links = ["text"]
    list_editable = ["order"]
    list_filter = ["location"]
    list_select_related = ["page", "service"]
    search_fields = ["label", "section", "page__title", "service__title"]
    fields = ["location", "section", "page", "service", "label", "order"]

    @admin.display(description="links to")
    def target_kind(self, obj):
        if obj.page_id:
            return f"Page: {obj.page}"
        if obj.service_id:
            return f"Service: {obj.service}"
        return "Section of the site"


@admin.register(HomePage)
class HomePageAdmin(PictureAdmin):
    """One row: the list page goes straight to it."""

    filter_horizontal = ["services", "promotions", "articles"]
    fieldsets = [
        (None, {"fields": ["heading", "text", "button_label"]}),
        PICTURE_FIELDSET,
        (
            "Featured on the home page",
            {
                "fields": ["services", "promotions", "articles"],
                "description": "Leave a list empty to show the usual ones.",
            },
        ),
    ]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not HomePage.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            return super().changelist_view(request, extra_context)  # 403, not a redirect
        if HomePage.objects.exists():
            return HttpResponseRedirect(reverse("admin:pages_homepage_change", args=[1]))
        return HttpResponseRedirect(reverse("admin:pages_homepage_add"))
