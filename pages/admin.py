from django.contrib import admin
from django.db import models
from django.utils import timezone
from django.utils.html import format_html

from .cache import invalidate
from .images import CheckedImageField
from .models import Article, Closure, Office, OpeningHours, Promotion

# Every picture upload in admin explains exactly why a file was refused.
IMAGE_FIELD_OVERRIDES = {models.ImageField: {"form_class": CheckedImageField}}


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    formfield_overrides = IMAGE_FIELD_OVERRIDES
    list_display = ["title", "status", "published_at", "is_live", "author", "updated_at"]
    list_filter = ["status", "published_at", "author"]
    search_fields = ["title", "summary", "body", "author"]
    prepopulated_fields = {"slug": ("title",)}
    date_hierarchy = "published_at"
    readonly_fields = ["updated_at", "image_preview"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "body"]}),
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
                "fields": ["status", "published_at", "author", "updated_at"],
                "description": "Save as a draft and use 'View on site' (top right) to preview. "
                "Set Published and a publish date to put it live; a future date schedules it.",
            },
        ),
        (
            "Medical review",
            {"fields": ["reviewed_by", "reviewed_on"], "classes": ["collapse"]},
        ),
    ]
    actions = ["publish_now", "make_draft"]

    @admin.display(boolean=True, description="live on the site")
    def is_live(self, obj):
        return obj.is_public

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
class OfficeAdmin(admin.ModelAdmin):
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
class PromotionAdmin(admin.ModelAdmin):
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
