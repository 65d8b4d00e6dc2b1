"""The clinic's own details (name, phone, time zone), read by every page and mail."""

import zoneinfo

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse

from .cache import VERSION_KEY, current_version
from .colours import theme_version, validate_brand_colour

LOGO_MAX_HEIGHT = 48  # px, as the help text says; site.css caps it there too


def e164(number: str) -> str:
    """'(860) 555-0100' -> '+18605550100': a ten-digit number (or 1 and ten) is a US one."""
    digits = "".join(ch for ch in number if ch.isdigit() or ch == "+")
    if digits and not digits.startswith("+"):
        if len(digits) == 10:
            digits = "+1" + digits
        elif len(digits) == 11 and digits.startswith("1"):
            digits = "+" + digits
    return digits


def phone_href(number: str) -> str:
    """A ``tel:`` link, in E.164 where the number allows (see ``e164``)."""
    return f"tel:{e164(number)}"


class ClinicSettings(models.Model):
    """The clinic's own details: one row, edited in admin, shown on every page."""

    name = models.CharField(max_length=120, help_text="The clinic's name as patients know it.")
    tagline = models.CharField(
        max_length=200, blank=True, help_text="A short line under the name on the home page."
    )
    phone = models.CharField(
        max_length=30, help_text="Main phone number, shown in every page's header and footer."
    )
    email = models.EmailField(blank=True, help_text="Public email address for the clinic.")
    time_zone = models.CharField(
        max_length=64,
        default="America/New_York",
        help_text="Opening hours and 'open now' are worked out in this time zone.",
    )
    logo = models.ImageField(
        upload_to="brand/",
        blank=True,
        width_field="logo_width",
        height_field="logo_height",
        help_text="Optional: shown in the header instead of the name, at most 48 px tall "
        "(PNG or WebP with a transparent background works best; the name stays its text).",
    )
    # The logo's size, so the header reserves its space before it loads (no layout shift).
    logo_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    logo_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    brand_colour = models.CharField(
        max_length=7,
        default="#0b5394",
        validators=[validate_brand_colour],
        help_text="The clinic's colour for buttons, links and accents, as #rrggbb. It must be "
        "dark enough for white text on it and for links on white (WCAG AA, 4.5:1).",
    )
    reply_promise = models.CharField(
        max_length=150,
        default="We reply within one business day.",
        help_text="The promise shown beside the form, on the thank-you page and in the email "
        "confirmation. Keep it to what the front desk can keep.",
    )
    thank_you_text = models.TextField(
        "thank-you text",
        default="Thank you. We have your request and will be in touch the way you asked.",
        help_text="Shown once a patient has sent the consultation form (plain text).",
    )
    confirmation_text = models.TextField(
        "confirmation email text",
        default="Thank you for asking for a free consultation. We have your request and "
        "someone from our team will get in touch to find a time that suits you.",
        help_text="The opening of the email a patient receives after sending the form "
        "(plain text). It never repeats what they typed.",
    )
    consultation_heading = models.CharField(
        max_length=120,
        default="Not sure where to start? Your first consultation is free",
        help_text="The heading of the box inviting patients to ask for a consultation.",
    )
    consultation_intro = models.TextField(
        max_length=400,
        default="Tell us how to reach you and a physical therapist will get back to you to "
        "set up a free consultation or assessment.",
        help_text="One or two sentences in that box and above the form (plain text).",
    )
    services_intro = models.CharField(
        max_length=300,
        blank=True,
        default="What we offer. Not sure which is right for you? Ask us: the first "
        "consultation is free.",
        help_text="The sentence under the heading of the services page.",
    )
    team_intro = models.CharField(
        max_length=300,
        blank=True,
        default="Who we are, what we treat and where to find us.",
        help_text="The sentence under the heading of the team page.",
    )
    articles_intro = models.CharField(
        max_length=300,
        blank=True,
        default="Plain-language guides about pain, treatment and recovery.",
        help_text="The sentence under the heading of the articles page.",
    )
    offices_intro = models.CharField(
        max_length=300,
        blank=True,
        default="Find the office nearest you, with its phone number and today's hours.",
        help_text="The sentence under the heading of the offices page.",
    )
    footer_text = models.TextField(
        blank=True, help_text="A short note at the bottom of every page (e.g. copyright line)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    # Not the key used while the model lived in ``pages``: a row cached under that one was
    # pickled as pages.models.ClinicSettings, which no longer exists.
    CACHE_KEY = "clinic_site:clinic-settings"

    class Meta:
        # The table keeps the name it was created with in the pages app (moved, not copied:
        # clinic_site/migrations/0001_initial.py).
        db_table = "pages_clinicsettings"
        verbose_name = "clinic settings"
        verbose_name_plural = "clinic settings"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="clinic_settings_single_row")]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    def clean(self):
        if self.time_zone not in zoneinfo.available_timezones():
            raise ValidationError(
                {"time_zone": "Unknown time zone. Use a name like America/New_York."}
            )

    @classmethod
    def load(cls):
        """The settings row, or unsaved defaults before the clinic has any. Cached with the
        content version, which a save bumps once committed (pages/cache.py): a copy read
        before the commit is never taken for the new one."""
        found = cache.get_many([VERSION_KEY, cls.CACHE_KEY])
        version, kept = current_version(found), found.get(cls.CACHE_KEY)
        if version is not None and isinstance(kept, tuple) and kept[0] == version:
            return kept[1]
        obj = cls.objects.filter(pk=1).first() or cls(
            name="Our clinic", phone="", time_zone="America/New_York"
        )
        if version is not None:
            cache.set(cls.CACHE_KEY, (version, obj), 300)
        return obj

    @property
    def logo_size(self):
        """(width, height) the header shows the logo at: at most 48 px tall, never enlarged."""
        if not (self.logo and self.logo_width and self.logo_height):
            return None
        height = min(LOGO_MAX_HEIGHT, self.logo_height)
        return round(self.logo_width * height / self.logo_height), height

    @property
    def theme_css_url(self):
        """/theme.css with a version that changes with the colour, so it may be cached a year."""
        return f"{reverse('theme_css')}?v={theme_version(self.brand_colour)}"

    @property
    def phone_href(self):
        return phone_href(self.phone)

    @property
    def tzinfo(self):
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("America/New_York")


class PageViews(models.Model):
    """How many times a public page was seen on one day (the clinic's date): no visitor's
    address, user agent or cookie, only the path and a number (clinic_site/visits.py)."""

    day = models.DateField()
    path = models.CharField(max_length=200)
    views = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "page views on a day"
        verbose_name_plural = "page views per day"
        constraints = [models.UniqueConstraint(fields=["day", "path"], name="one_row_per_day_path")]
        indexes = [models.Index(fields=["path", "day"])]

    def __str__(self):
        return f"{self.path} on {self.day:%Y-%m-%d}: {self.views}"
