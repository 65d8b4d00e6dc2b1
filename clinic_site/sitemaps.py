"""``/sitemap.xml``: every app's sitemaps (its ``sitemaps.SITEMAPS``), on ``SITE_URL``.

django.contrib.sites is not installed, so the sitemaps framework would otherwise take the
host from the request; ``SiteURLSitemap`` takes the scheme and host from ``SITE_URL``.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from .apps import app_modules


class SiteURLSitemap(Sitemap):
    """Locations on ``SITE_URL``'s scheme and host, whatever host the request came to."""

    def get_protocol(self, protocol=None):
        return urlsplit(settings.SITE_URL).scheme or "https"

    def get_domain(self, site=None):
        return urlsplit(settings.SITE_URL).netloc


class NamedPagesSitemap(SiteURLSitemap):
    """Pages that are always there, listed by URL name (``url_names``)."""

    changefreq = "weekly"
    url_names: list[str] = []

    def items(self):
        return self.url_names

    def location(self, item):
        return reverse(item)


def site_sitemaps() -> dict:
    """The sections of /sitemap.xml, app by app in INSTALLED_APPS order."""
    sections = {}
    for module in app_modules("sitemaps"):
        for name, sitemap in module.SITEMAPS.items():
            if name in sections:
                raise ImproperlyConfigured(f"Two apps offer a sitemap named {name!r}.")
            sections[name] = sitemap
    return sections
