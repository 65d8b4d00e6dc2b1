"""Public content: articles, offices with their hours, promotions."""

import datetime
import functools
from decimal import Decimal
from urllib.parse import quote_plus

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_cleanup.signals import cleanup_pre_delete
from django_prose_editor.fields import ProseEditorField, create_sanitizer

from clinic_site.models import phone_href

from .images import (
    delete_renditions,
    renditions_for,
    validate_image_upload,
    write_missing_renditions,
)

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
    where a body is saved, not in every web worker."""
    return _body_cleaner()(html)


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
    body = ProseEditorField(
        config={"extensions": ARTICLE_BODY_EXTENSIONS},
        sanitize=sanitize_body,
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
    author = models.CharField(max_length=120, help_text="Name shown in the byline.")
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
    reviewed_by = models.CharField(
        "medically reviewed by",
        max_length=120,
        blank=True,
        help_text="Optional: the clinician who checked the article, with credentials.",
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
        if self.reviewed_on and not self.reviewed_by.strip():
            raise ValidationError({"reviewed_by": "Say who reviewed the article."})
        if self.reviewed_on and self.reviewed_on > timezone.localdate():
            raise ValidationError({"reviewed_on": "The review date cannot be in the future."})

    @property
    def is_public(self):
        return self.status == self.Status.PUBLISHED and self.published_at <= timezone.now()


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
        """A plain link to a maps search for the address; nothing is embedded."""
        return "https://www.google.com/maps/search/?api=1&query=" + quote_plus(self.full_address)

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
    opens = models.TimeField(help_text="e.g. 08:00")
    closes = models.TimeField(help_text="e.g. 17:30")

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

    class Meta:
        ordering = ["date"]
        verbose_name = "special closure"
        constraints = [
            models.UniqueConstraint(fields=["office", "date"], name="one_closure_per_office_day")
        ]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.reason}"


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

    def clean(self):
        if self.currency:
            self.currency = self.currency.upper()
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "The end date cannot be before the start date."})

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


PICTURE_MODELS = (Article, Office)
for _model in PICTURE_MODELS:
    models.signals.pre_save.connect(_before_picture_save, sender=_model)
    models.signals.post_save.connect(_after_picture_save, sender=_model)
cleanup_pre_delete.connect(_delete_renditions)
