import reversion
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from clinic_site.history import HistoryAdmin

from .cache import invalidate
from .forms import (
    ClockTimeField,
    ClockTimeInput,
    ClosureForOfficesForm,
    ClosureInlineForm,
    format_time,
)
from .images import CheckedImageField
from .links import link_problems
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
    RichTextField,
    Service,
)

# Every picture upload in admin explains exactly why a file was refused.
IMAGE_FIELD_OVERRIDES = {models.ImageField: {"form_class": CheckedImageField}}
# Times typed as people write them ("3pm", "3:00 PM"), shown as "3:00 PM": no clock pop-up.
TIME_FIELD_OVERRIDES = {models.TimeField: {"form_class": ClockTimeField, "widget": ClockTimeInput}}
# A browser never sends a chosen file twice: a form shown again with an error has lost it.
PICTURE_NOT_KEPT = (
    "Your picture was not saved because of another error on this page: fix that error, "
    "then choose the picture again before saving."
)


class ContentAdmin(HistoryAdmin):
    """Every content admin with a picture or a rich-text body."""

    class Media:
        # The rich-text editor's toolbar stays in view while a long text scrolls.
        css = {"all": ["css/admin-editor.css"]}

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if request.method == "POST" and request.FILES and context.get("errors"):
            form = context["adminform"].form
            for name in request.FILES:
                if name in form.fields and name not in form.errors:
                    form.add_error(name, PICTURE_NOT_KEPT)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Links to a draft are allowed (both may go live together), but said out loud.
        for field in obj._meta.concrete_fields:
            if isinstance(field, RichTextField):
                for warning in link_problems(getattr(obj, field.attname))[1]:
                    self.message_user(request, warning, messages.WARNING)


@admin.register(Article)
class ArticleAdmin(ContentAdmin):
    formfield_overrides = IMAGE_FIELD_OVERRIDES
    list_display = [
        "title",
        "status_text",
        "published_at",
        "is_live",
        "author_name",
        "updated_at",
    ]
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

    @admin.display(description="status", ordering="status")
    def status_text(self, obj):
        if obj.status == Article.Status.PUBLISHED and obj.published_at > timezone.now():
            # The admin's own format, as the "publish date" column beside it.
            when = date_format(timezone.localtime(obj.published_at), "DATETIME_FORMAT")
            return f"Scheduled for {when}"
        return obj.get_status_display()

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
    formfield_overrides = TIME_FIELD_OVERRIDES


class ClosureInline(admin.TabularInline):
    model = Closure
    form = ClosureInlineForm
    extra = 0
    verbose_name_plural = (
        "Special closures from today on (holidays and half days; past ones are not shown)"
    )
    fields = ["date", "reason", "closes_at"]
    formfield_overrides = TIME_FIELD_OVERRIDES

    def get_queryset(self, request):
        return super().get_queryset(request).filter(date__gte=timezone.localdate())


@admin.register(Office)
class OfficeAdmin(ContentAdmin):
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

    actions = ["add_closure"]
    # The history's list (its "Recover deleted offices" link) with an "Add a holiday" button.
    change_list_template = "admin/pages/office/change_list.html"

    @admin.display(description="current photo")
    def image_preview(self, obj):
        return _thumbnail(obj)

    def get_urls(self):
        view = self.admin_site.admin_view(self.add_closure_view)
        return [
            path("add-closure/", view, name="pages_office_add_closure"),
            *super().get_urls(),
        ]

    def has_add_closure_permission(self, request):
        return request.user.has_perm("pages.add_closure") and self.has_change_permission(request)

    def changelist_view(self, request, extra_context=None):
        extra = {"can_add_closure": self.has_add_closure_permission(request)}
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    @admin.action(description="Add a closure to the selected offices", permissions=["add_closure"])
    def add_closure(self, request, queryset):
        chosen = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return HttpResponseRedirect(f"{reverse('admin:pages_office_add_closure')}?offices={chosen}")

    def add_closure_view(self, request):
        """One holiday or half day for several offices; a day an office already has a
        closure for is reported, never doubled."""
        if not self.has_add_closure_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = ClosureForOfficesForm(request.POST)
            if form.is_valid():
                self._add_closures(request, form.cleaned_data)
                return HttpResponseRedirect(reverse("admin:pages_office_changelist"))
        else:
            chosen = [int(pk) for pk in request.GET.get("offices", "").split(",") if pk.isdigit()]
            offices = chosen or list(Office.objects.active().values_list("pk", flat=True))
            form = ClosureForOfficesForm(initial={"offices": offices})
        context = {
            **self.admin_site.each_context(request),
            "title": "Add a holiday or half day to several offices",
            "form": form,
            "opts": self.opts,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/pages/office/add_closure.html", context)

    def _add_closures(self, request, data):
        day = date_format(data["date"], "l, F j, Y")
        what = data["reason"]
        if data["closes_at"]:
            what += f", closes at {format_time(data['closes_at'])}"
        added, kept = [], []
        for office in data["offices"]:
            existing = office.closures.filter(date=data["date"]).first()
            if existing is not None:
                kept.append(f"{office} ({existing.reason})")
                continue
            self._record_state_before_first_edit(
                request, str(office.pk), self.has_change_permission
            )
            with transaction.atomic(), reversion.create_revision():
                closure, created = Closure.objects.get_or_create(
                    office=office,
                    date=data["date"],
                    defaults={"reason": data["reason"], "closes_at": data["closes_at"]},
                )
                if created:  # in the office's history, like an edit of its closures
                    reversion.set_user(request.user)
                    reversion.set_comment(f"Added a closure on {day}: {what}.")
                    reversion.add_to_revision(office)
            if not created:  # added by someone else a moment ago
                kept.append(f"{office} ({closure.reason})")
                continue
            self.log_change(request, office, f"Added a closure on {day}: {what}.")
            added.append(str(office))
        if added:
            self.message_user(
                request, f"Added the closure on {day} ({what}) to {_and(added)}.", messages.SUCCESS
            )
        if kept:
            self.message_user(
                request,
                f"{_and(kept)} already had a closure on {day}: left as it was. To change it, "
                "open that office and edit its special closures.",
                messages.WARNING,
            )


def _and(names):
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


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
                ],
                "description": "Change the amount and every text that names it together: "
                "a text that names another amount than the discount is refused.",
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


class PictureAdmin(ContentAdmin):
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
