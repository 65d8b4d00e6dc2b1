"""Public content: services, the team, articles, pages, offices with their hours, offers,
the menu and the home page."""

import datetime
import functools
import re
from decimal import Decimal
from urllib.parse import quote_plus

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django_cleanup.signals import cleanup_pre_delete
from django_prose_editor.fields import ProseEditorField, create_sanitizer

from clinic_site import navigation
from clinic_site.models import phone_href

from .images import (
    delete_renditions,
    renditions_for,
    validate_image_upload,
    write_missing_renditions,
)
from .links import fix_links, link_problems

# What the article editor offers, and so what the server keeps: anything else a pasted
# text carries (scripts, event handlers, styles, images) is removed before it is saved.
ARTICLE_BODY_EXTENSIONS = {
    "Bold": True,
    "Italic": True,
    "Heading": {"levels": [2, 3]},
    "BulletList": True,
    "OrderedList": True,
    "ListItem": True,
    "Link": {"enableTarget": False, "protocols": ["http", "https", "mailto", "tel"]},
    "HardBreak": True,
    "History": True,
}


@functools.cache
def _body_cleaner():
    return create_sanitizer(ARTICLE_BODY_EXTENSIONS)


def sanitize_body(html: str) -> str:
    """The editor's own sanitizer, built on first use: nh3 (1.5 MB a process) loads only
    where a body is saved, not in every web worker. A link typed as ``www.example.com``
    gets its ``https://`` (without it, browsers open it as a page of ours: a 404)."""
    return fix_links(_body_cleaner()(html))


class RichTextField(ProseEditorField):
    """The sanitised editor of every body staff write; a link to one of our own pages that
    leads nowhere is refused (pages/links.py). Migrations see a TextField, as before."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("config", {"extensions": ARTICLE_BODY_EXTENSIONS})
        kwargs.setdefault("sanitize", sanitize_body)
        super().__init__(*args, **kwargs)

    def clean(self, value, instance):
        value = super().clean(value, instance)
        errors, _warnings = link_problems(value)
        if errors:
            raise ValidationError(errors)
        return value


def _image_alt_rule(instance, image_field: str, alt_field: str):
    if getattr(instance, image_field) and not getattr(instance, alt_field).strip():
        raise ValidationError(
            {
                alt_field: "Describe the picture in a few words for people who cannot see it "
                "(for example: 'Therapist treating a patient's shoulder').",
            }
        )


class ImageRenditionsMixin:
    """Models with one optional picture: resized copies for ``srcset`` (pages/images.py)."""

    image_field_name = "image"

    def image_renditions(self):
        return renditions_for(getattr(self, self.image_field_name))


class ArticleQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Article.Status.PUBLISHED, published_at__lte=timezone.now())


class Article(ImageRenditionsMixin, models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft (only staff can see it)"
        PUBLISHED = "published", "Published"

    title = models.CharField(max_length=200, help_text="The headline shown on the page.")
    slug = models.SlugField(
        max_length=200,
        unique=True,
        help_text="The last part of the web address. Filled in from the title; "
        "change it only before publishing.",
        error_messages={
            "unique": "Another article already uses this web address. "
            "Change the slug so it is different."
        },
    )
    summary = models.CharField(
        max_length=300,
        help_text="One or two sentences. Shown in article lists and to search engines.",
    )
    body = RichTextField(
        help_text="The article itself. Use the toolbar for headings, lists and links.",
    )
    image = models.ImageField(
        "hero image",
        upload_to="articles/",
        blank=True,
        width_field="image_width",
        height_field="image_height",
        validators=[validate_image_upload],
        help_text="Optional picture at the top of the article (JPEG, PNG or WebP).",
    )
    image_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_alt = models.CharField(
        "picture description",
        max_length=200,
        blank=True,
        help_text="Required when there is a picture: what it shows, for screen readers.",
    )
    author_profile = models.ForeignKey(
        "Clinician",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles",
        verbose_name="author",
        help_text="The team member who wrote it: the byline links to their profile.",
    )
    author = models.CharField(
        "guest author",
        max_length=120,
        blank=True,
        help_text="Only for someone not on the team: their name, shown in the byline.",
    )
    services = models.ManyToManyField(
        "Service",
        blank=True,
        related_name="articles",
        help_text="The services this article is about: it is listed on their pages.",
    )
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.DRAFT,
        help_text="Drafts are visible only to staff (use 'View on site' to preview).",
    )
    published_at = models.DateTimeField(
        "publish date",
        default=timezone.now,
        help_text="A date in the future schedules the article: it appears by itself then.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    reviewer = models.ForeignKey(
        "Clinician",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reviewed_articles",
        verbose_name="medically reviewed by",
        help_text="Optional: the team member who checked the article.",
    )
    reviewed_by = models.CharField(
        "guest reviewer",
        max_length=120,
        blank=True,
        help_text="Only for a reviewer not on the team: name and credentials.",
    )
    reviewed_on = models.DateField(
        "medically reviewed on", null=True, blank=True, help_text="When they checked it."
    )

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        indexes = [models.Index(fields=["status", "-published_at"], name="article_public_idx")]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        # The form sanitises already; this also covers rows written by code or imports.
        self.body = Article._meta.get_field("body").sanitize(self.body or "")
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("pages:article_detail", kwargs={"slug": self.slug})

    def clean(self):
        _image_alt_rule(self, "image", "image_alt")
        if self.author_profile_id and self.author.strip():
            raise ValidationError(
                {"author": "Choose a team member or type a guest author's name, not both."}
            )
        if not self.author_profile_id and not self.author.strip():
            raise ValidationError({"author_profile": "Choose the author, or type a guest author."})
        if self.reviewer_id and self.reviewed_by.strip():
            raise ValidationError(
                {"reviewed_by": "Choose a team member or type a guest reviewer, not both."}
            )
        if self.reviewed_on and not (self.reviewer_id or self.reviewed_by.strip()):
            raise ValidationError({"reviewer": "Say who reviewed the article."})
        if self.reviewed_on and self.reviewed_on > timezone.localdate():
            raise ValidationError({"reviewed_on": "The review date cannot be in the future."})

    @property
    def is_public(self):
        return self.status == self.Status.PUBLISHED and self.published_at <= timezone.now()

    @property
    def author_name(self):
        return self.author_profile.display_name if self.author_profile else self.author

    @property
    def reviewer_name(self):
        return self.reviewer.display_name if self.reviewer else self.reviewed_by


def _slug_field(max_length, what):
    return models.SlugField(
        max_length=max_length,
        unique=True,
        help_text="The last part of the web address. Filled in from the "
        f"{'name' if what == 'profile' else 'title'}; change it only before publishing.",
        error_messages={
            "unique": f"Another {what} already uses this web address. "
            "Change the slug so it is different."
        },
    )


def picture_upload_to(instance, filename):
    return f"{instance._meta.model_name}/{filename}"


class WithPicture(ImageRenditionsMixin, models.Model):
    """An optional picture with its size and its description."""

    image = models.ImageField(
        "picture",
        upload_to=picture_upload_to,
        blank=True,
        width_field="image_width",
        height_field="image_height",
        validators=[validate_image_upload],
        help_text="Optional (JPEG, PNG or WebP). A landscape picture works best.",
    )
    image_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_alt = models.CharField(
        "picture description",
        max_length=200,
        blank=True,
        help_text="Required when there is a picture: what it shows, for screen readers.",
    )

    class Meta:
        abstract = True

    def clean(self):
        _image_alt_rule(self, "image", "image_alt")


class PublishedQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)


class Service(WithPicture):
    """Something the clinic offers: a treatment, a programme, a membership."""

    title = models.CharField(max_length=120, help_text="e.g. 'Dry needling'.")
    slug = _slug_field(120, "service")
    summary = models.CharField(
        max_length=300, help_text="One or two sentences, shown on cards and to search engines."
    )
    body = RichTextField(
        blank=True,
        help_text="The full description: what it is, how it works, what a session is like.",
    )
    who_it_helps = models.TextField(
        "who it helps",
        blank=True,
        help_text="One item per line, e.g. 'Runners with knee pain'. Shown as a list.",
    )
    offices = models.ManyToManyField(
        "Office",
        blank=True,
        related_name="services",
        help_text="The offices that offer it. None ticked: it is not tied to an office.",
    )
    display_order = models.PositiveSmallIntegerField(
        default=0, help_text="Services are listed from the lowest number up."
    )
    is_published = models.BooleanField(
        "published", default=True, help_text="Untick to hide the service from the site."
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = PublishedQuerySet.as_manager()

    class Meta:
        ordering = ["display_order", "title"]
        indexes = [
            models.Index(fields=["is_published", "display_order"], name="service_public_idx")
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("pages:service_detail", kwargs={"slug": self.slug})

    @property
    def is_public(self):
        return self.is_published

    @property
    def who_it_helps_list(self):
        return [line.strip(" -•*") for line in self.who_it_helps.splitlines() if line.strip()]


class Clinician(WithPicture):
    """A member of the team, shown on the team page and in article bylines."""

    name = models.CharField(max_length=120, help_text="Full name, e.g. 'Sylvestra Ramirez'.")
    slug = _slug_field(120, "profile")
    credentials = models.CharField(
        max_length=80,
        blank=True,
        help_text="Only real, current credentials, as they would sign: e.g. 'PT, DPT'.",
    )
    role = models.CharField(max_length=120, help_text="e.g. 'Physical therapist'.")
    bio = RichTextField(
        blank=True,
        help_text="A few friendly paragraphs: training, what they enjoy treating.",
    )
    services = models.ManyToManyField(
        Service, blank=True, related_name="clinicians", help_text="What they provide."
    )
    offices = models.ManyToManyField(
        "Office", blank=True, related_name="clinicians", help_text="Where patients find them."
    )
    languages = models.CharField(
        "languages spoken",
        max_length=200,
        blank=True,
        help_text="Separated by commas, e.g. 'English, Spanish'.",
    )
    display_order = models.PositiveSmallIntegerField(
        default=0, help_text="The team page lists people from the lowest number up."
    )
    is_shown = models.BooleanField(
        "shown on the site", default=True, help_text="Untick to hide the profile."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class QuerySet(models.QuerySet):
        def published(self):
            return self.filter(is_shown=True)

    objects = QuerySet.as_manager()

    class Meta:
        ordering = ["display_order", "name"]
        verbose_name = "team member"
        indexes = [models.Index(fields=["is_shown", "display_order"], name="clinician_public_idx")]

    def __str__(self):
        return self.display_name

    def get_absolute_url(self):
        return reverse("pages:clinician_detail", kwargs={"slug": self.slug})

    @property
    def is_public(self):
        return self.is_shown

    @property
    def display_name(self):
        return f"{self.name}, {self.credentials}" if self.credentials else self.name

    @property
    def language_list(self):
        return [part.strip() for part in self.languages.split(",") if part.strip()]


def validate_page_slug(value):
    """A page may not take an address the site already answers (/articles/, /team/...) or
    one the web server keeps for files (/static/, /media/: nginx never asks Django)."""
    path = f"/{value}/"
    try:
        taken = resolve(path).view_name != "pages:page_detail"
    except Resolver404:
        taken = False
    if taken or path in (settings.STATIC_URL, settings.MEDIA_URL):
        raise ValidationError(
            "The site already uses /%(slug)s/ for something else. Choose another slug.",
            params={"slug": value},
        )


class Page(WithPicture):
    """A page of its own: About, Insurance & payment, New patients..."""

    title = models.CharField(max_length=150, help_text="e.g. 'Insurance & payment'.")
    slug = models.SlugField(
        max_length=150,
        unique=True,
        validators=[validate_page_slug],
        help_text="The page's web address: /slug/. Filled in from the title.",
        error_messages={
            "unique": "Another page already uses this web address. "
            "Change the slug so it is different."
        },
    )
    summary = models.CharField(
        max_length=300, blank=True, help_text="Optional: one sentence for cards and search engines."
    )
    body = RichTextField(
        help_text="The page's text. Use the toolbar for headings, lists and links.",
    )
    is_published = models.BooleanField(
        "published", default=True, help_text="Untick to hide the page (staff can still preview it)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = PublishedQuerySet.as_manager()

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("pages:page_detail", kwargs={"slug": self.slug})

    @property
    def is_public(self):
        return self.is_published


class Office(ImageRenditionsMixin, models.Model):
    name = models.CharField(max_length=120, help_text="For example 'Bloomfield Office'.")
    slug = models.SlugField(
        max_length=120,
        unique=True,
        help_text="The last part of the office page's web address. Filled in from the name.",
        error_messages={
            "unique": "Another office already uses this web address. "
            "Change the slug so it is different."
        },
    )
    street = models.CharField(max_length=200, help_text="Street and number, e.g. 45 Main St.")
    suite = models.CharField(
        max_length=60, blank=True, help_text="Optional suite or unit, e.g. 'Ste 308' or '#210'."
    )
    city = models.CharField(max_length=100)
    state = models.CharField(
        max_length=2,
        validators=[RegexValidator(r"^[A-Z]{2}$", "Use the two capital letters, e.g. CT.")],
        help_text="Two-letter state code, e.g. CT.",
    )
    zip_code = models.CharField(
        "ZIP code",
        max_length=10,
        validators=[RegexValidator(r"^\d{5}(-\d{4})?$", "Use five digits, e.g. 06002.")],
    )
    phone = models.CharField(max_length=30, help_text="This office's phone number.")
    email = models.EmailField(blank=True, help_text="Optional email for this office.")
    image = models.ImageField(
        "photo",
        upload_to="offices/",
        blank=True,
        width_field="image_width",
        height_field="image_height",
        validators=[validate_image_upload],
        help_text="Optional photo of the building or front desk (JPEG, PNG or WebP).",
    )
    image_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_alt = models.CharField(
        "photo description",
        max_length=200,
        blank=True,
        help_text="Required when there is a photo: what it shows, for screen readers.",
    )
    latitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("-90")), MaxValueValidator(Decimal("90"))],
        help_text="Optional map position (e.g. 41.826).",
    )
    longitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("-180")), MaxValueValidator(Decimal("180"))],
        help_text="Optional map position (e.g. -72.730).",
    )
    display_order = models.PositiveSmallIntegerField(
        default=0, help_text="Offices are listed from the lowest number up."
    )
    is_active = models.BooleanField(
        "shown on the site", default=True, help_text="Untick to hide an office that has closed."
    )

    class QuerySet(models.QuerySet):
        def active(self):
            return self.filter(is_active=True)

        def with_schedule(self, today=None):
            """Hours and the closures still to come, in two queries whatever the count."""
            today = today or timezone.localdate()
            return self.prefetch_related(
                "hours",
                models.Prefetch(
                    "closures",
                    queryset=Closure.objects.filter(date__gte=today - datetime.timedelta(days=1)),
                    to_attr="upcoming_closure_list",
                ),
            )

    objects = QuerySet.as_manager()

    class Meta:
        ordering = ["display_order", "name"]
        indexes = [models.Index(fields=["is_active", "display_order"], name="office_public_idx")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("pages:office_detail", kwargs={"slug": self.slug})

    def clean(self):
        _image_alt_rule(self, "image", "image_alt")
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError("Give both latitude and longitude, or neither.")

    @property
    def is_public(self):
        return self.is_active

    @property
    def street_line(self):
        return f"{self.street}, {self.suite}" if self.suite else self.street

    @property
    def locality_line(self):
        return f"{self.city}, {self.state} {self.zip_code}"

    @property
    def full_address(self):
        return f"{self.street_line}, {self.locality_line}"

    @property
    def directions_url(self):
        """A plain link that opens directions to the address; nothing is embedded."""
        return "https://www.google.com/maps/dir/?api=1&destination=" + quote_plus(self.full_address)

    @property
    def phone_href(self):
        return phone_href(self.phone)


class OpeningHours(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField(help_text="e.g. 8am, 8:30 AM or 08:30")
    closes = models.TimeField(help_text="e.g. 5pm, 5:30 PM or 17:30")

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name = "opening hours"
        verbose_name_plural = "opening hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(closes__gt=models.F("opens")), name="hours_close_after_open"
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self):
        if self.opens is not None and self.closes is not None and self.closes <= self.opens:
            raise ValidationError(
                {"closes": "The closing time must be later than the opening time."}
            )


class Closure(models.Model):
    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="closures")
    date = models.DateField(help_text="The day the office is closed.")
    reason = models.CharField(max_length=120, help_text="Shown to patients, e.g. 'Thanksgiving'.")
    closes_at = models.TimeField(
        "closes early at",
        null=True,
        blank=True,
        help_text="Leave empty when the office is closed all day. For a half day, the time "
        "it closes, e.g. 1pm: it opens as usual that morning.",
    )

    class Meta:
        ordering = ["date"]
        verbose_name = "special closure"
        constraints = [
            models.UniqueConstraint(fields=["office", "date"], name="one_closure_per_office_day")
        ]

    def __str__(self):
        early = f" (closes at {self.closes_at:%H:%M})" if self.closes_at else ""
        return f"{self.date:%Y-%m-%d} {self.reason}{early}"

    @property
    def is_whole_day(self):
        return self.closes_at is None


# "$50", "$1,250.00", "US$ 50", "50 dollars", "50 USD", "USD 50": money named in an offer's text.
_NUMBER = r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?"
MONEY_MENTION = re.compile(
    rf"(?:US)?\$\s?{_NUMBER}(?!\d)|\b{_NUMBER}\s?(?:dollars?|bucks|USD)\b|\bUSD\s?{_NUMBER}",
    re.IGNORECASE,
)


def money_mentions(text: str):
    """Each amount of US dollars ``text`` names: (as written, Decimal value)."""
    for match in MONEY_MENTION.finditer(text or ""):
        groups = match.groups()
        whole, cents = next(
            (groups[i], groups[i + 1]) for i in range(0, len(groups), 2) if groups[i]
        )
        yield match.group(0).strip(), Decimal(f"{whole.replace(',', '')}.{cents or '0'}")


class PromotionQuerySet(models.QuerySet):
    def active(self, today=None):
        today = today or timezone.localdate()
        return self.filter(
            Q(starts_on__isnull=True) | Q(starts_on__lte=today),
            Q(ends_on__isnull=True) | Q(ends_on__gte=today),
            is_active=True,
        )


class Promotion(models.Model):
    CURRENCY_SYMBOLS = {"USD": "$"}

    title = models.CharField(max_length=150, help_text="e.g. 'First responders save $50'.")
    slug = models.SlugField(
        max_length=150,
        unique=True,
        help_text="The last part of the offer page's web address. Filled in from the title.",
        error_messages={
            "unique": "Another promotion already uses this web address. "
            "Change the slug so it is different."
        },
    )
    eligibility = models.CharField(
        "who qualifies",
        max_length=200,
        help_text="e.g. 'Firefighters, military, EMTs and police officers'.",
    )
    amount = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text="The discount, e.g. 50.00.",
    )
    currency = models.CharField(
        max_length=3, default="USD", help_text="Three-letter currency code, normally USD."
    )
    applies_to = models.CharField(
        "what it applies to", max_length=200, help_text="e.g. 'fitness memberships'."
    )
    service = models.ForeignKey(
        Service,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="promotions",
        help_text="Optional: the service it is for. The offer links to it and shows on its page.",
    )
    description = models.TextField(
        blank=True, help_text="A few friendly sentences about the offer (plain text)."
    )
    how_to_claim = models.TextField(
        blank=True, help_text="What to do to get it, e.g. 'Call us and bring your ID'."
    )
    fine_print = models.CharField(
        max_length=300, blank=True, help_text="e.g. 'Some exclusions may apply.'"
    )
    starts_on = models.DateField(
        null=True, blank=True, help_text="Optional first day. Empty: from now on."
    )
    ends_on = models.DateField(
        null=True,
        blank=True,
        help_text="Optional last day. After it the offer disappears from the site by itself.",
    )
    is_active = models.BooleanField(
        "shown on the site", default=True, help_text="Untick to hide the offer at once."
    )
    show_as_banner = models.BooleanField(
        "show as site-wide banner",
        default=False,
        help_text="Also show a short notice at the top of every page while the offer runs.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = PromotionQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=models.F("starts_on")),
                name="promotion_ends_after_start",
            )
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("pages:promotion_detail", kwargs={"slug": self.slug})

    # The texts that may name the discount, as the message calls them.
    TEXTS_NAMING_THE_AMOUNT = {
        "title": "The title",
        "description": "The description",
        "eligibility": "'Who qualifies'",
        "how_to_claim": "'How to claim'",
        "fine_print": "The fine print",
    }

    def clean(self):
        if self.currency:
            self.currency = self.currency.upper()
        errors = {}
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = "The end date cannot be before the start date."
        if isinstance(self.amount, Decimal):  # not when the amount itself was refused
            errors |= self._amount_contradictions()
        if errors:
            raise ValidationError(errors)

    def _amount_contradictions(self) -> dict:
        """A text naming another amount than ``amount`` (it was changed in one place only)."""
        errors = {}
        for name, label in self.TEXTS_NAMING_THE_AMOUNT.items():
            for written, value in money_mentions(getattr(self, name)):
                if value != self.amount or self.currency != "USD":
                    errors[name] = (
                        f"{label} says {written} but the discount is {self.amount_display}: "
                        "change one of them."
                    )
                    break
        return errors

    @property
    def is_public(self):
        today = timezone.localdate()
        return (
            self.is_active
            and (self.starts_on is None or self.starts_on <= today)
            and (self.ends_on is None or self.ends_on >= today)
        )

    @property
    def amount_display(self):
        symbol = self.CURRENCY_SYMBOLS.get(self.currency)
        return f"{symbol}{self.amount:,.2f}" if symbol else f"{self.amount:,.2f} {self.currency}"


class MenuItem(models.Model):
    """One link in the main menu or the footer: a page, a service or a built-in section."""

    class Location(models.TextChoices):
        MAIN = "main", "Main menu"
        FOOTER = "footer", "Footer"

    location = models.CharField(
        max_length=10, choices=Location.choices, default=Location.MAIN, help_text="Where it shows."
    )
    section = models.CharField(
        "built-in section",
        max_length=30,
        blank=True,
        choices=navigation.section_choices,
        help_text="A part of the site, e.g. Articles or Free consultation.",
    )
    page = models.ForeignKey(
        Page, on_delete=models.CASCADE, null=True, blank=True, help_text="Or one of your pages."
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, help_text="Or a service."
    )
    label = models.CharField(
        max_length=60,
        blank=True,
        help_text="Optional: the link's text. Empty: the page's or section's own name.",
    )
    order = models.PositiveSmallIntegerField(default=0, help_text="Lowest number first.")

    class Meta:
        ordering = ["location", "order", "pk"]
        verbose_name = "menu or footer link"
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(section="", page__isnull=True, service__isnull=False)
                    | Q(section="", page__isnull=False, service__isnull=True)
                    | (~Q(section="") & Q(page__isnull=True, service__isnull=True))
                ),
                name="menu_item_one_target",
                violation_error_message="Choose exactly one: a section, a page or a service.",
            )
        ]

    def __str__(self):
        return f"{self.get_location_display()}: {self.text}"

    # No clean(): the admin form checks menu_item_one_target itself (with its message);
    # a second rule here showed the same error twice in other words.

    @property
    def target(self):
        return self.page or self.service

    @property
    def text(self):
        if self.label:
            return self.label
        return str(self.target) if self.target else navigation.section_label(self.section)

    @property
    def url(self):
        """The link, or None when it leads nowhere public (a hidden page or service)."""
        if self.target is not None:
            return self.target.get_absolute_url() if self.target.is_public else None
        return navigation.section_url(self.section)


class HomePage(WithPicture):
    """What the home page says and features: one row, edited in admin."""

    heading = models.CharField(
        max_length=120, help_text="The large heading at the top, e.g. 'Move without pain'."
    )
    text = models.TextField(
        max_length=600, help_text="One or two sentences under the heading (plain text)."
    )
    button_label = models.CharField(
        max_length=40,
        default="Book a free consultation",
        help_text="The text of the button that opens the consultation form.",
    )
    services = models.ManyToManyField(
        Service,
        blank=True,
        related_name="+",
        verbose_name="featured services",
        help_text="Shown as cards, in their own order. None: every published service.",
    )
    promotions = models.ManyToManyField(
        "Promotion",
        blank=True,
        related_name="+",
        verbose_name="featured offers",
        help_text="None: every offer running today.",
    )
    articles = models.ManyToManyField(
        Article,
        blank=True,
        related_name="+",
        verbose_name="featured articles",
        help_text="None: the three newest articles.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "home page"
        verbose_name_plural = "home page"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="home_page_single_row")]

    def __str__(self):
        return "Home page"

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("pages:home")

    @classmethod
    def load(cls):
        return cls.objects.filter(pk=1).first() or cls(
            heading="", text="", button_label="Book a free consultation"
        )


def _before_picture_save(sender, instance, **kwargs):
    """Strip a new picture's EXIF and record its size."""
    if instance.image and not instance.image._committed:
        from .picture_files import without_metadata  # Pillow: only when a file is written

        instance.image = without_metadata(instance.image)
    if instance.image and not instance.image_width:
        sender._meta.get_field("image").update_dimension_fields(instance, force=True)


def _after_picture_save(sender, instance, raw=False, update_fields=None, **kwargs):
    """Write the picture's copies the storage lacks: a page only links them."""
    if not raw and instance.image and (update_fields is None or "image" in update_fields):
        write_missing_renditions(instance.image)


def _delete_renditions(sender, file, field_name, **kwargs):
    """django-cleanup deletes a replaced or deleted original; its copies go with it."""
    if sender in PICTURE_MODELS and field_name == "image":
        delete_renditions(file)


PICTURE_MODELS = (Article, Office, Service, Clinician, Page, HomePage)
# Every model a public page shows: a save or delete of any of them clears the page cache.
CONTENT_MODELS = (*PICTURE_MODELS, OpeningHours, Closure, Promotion, MenuItem)
for _model in PICTURE_MODELS:
    models.signals.pre_save.connect(_before_picture_save, sender=_model)
    models.signals.post_save.connect(_after_picture_save, sender=_model)
cleanup_pre_delete.connect(_delete_renditions)
