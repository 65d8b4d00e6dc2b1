"""``/sitemap.xml``: the public pages, with absolute URLs on ``settings.SITE_URL``.

django.contrib.sites is not installed, so the sitemaps framework would otherwise take the
host from the request; ``SiteURLSitemap`` takes the scheme and host from ``SITE_URL``.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import Article, Office, Promotion


class SiteURLSitemap(Sitemap):
    """Locations on ``SITE_URL``'s scheme and host, whatever host the request came to."""

    def get_protocol(self, protocol=None):
        return urlsplit(settings.SITE_URL).scheme or "https"

    def get_domain(self, site=None):
        return urlsplit(settings.SITE_URL).netloc


class StaticPagesSitemap(SiteURLSitemap):
    """Pages that are always there: home, the lists, the consultation and privacy pages."""

    changefreq = "weekly"

    def items(self):
        return [
            "pages:home",
            "pages:article_list",
            "pages:office_list",
            "contact:request",
            "contact:privacy",
        ]

    def location(self, item):
        return reverse(item)


class ArticleSitemap(SiteURLSitemap):
    """Published articles only: no drafts, nothing scheduled for later."""

    changefreq = "monthly"

    def items(self):
        return Article.objects.published().only("slug", "updated_at").order_by("-published_at")

    def lastmod(self, article):
        return article.updated_at


class OfficeSitemap(SiteURLSitemap):
    changefreq = "monthly"

    def items(self):
        return Office.objects.active().only("slug")


class PromotionSitemap(SiteURLSitemap):
    """Offers running today (active, started, not ended)."""

    changefreq = "weekly"

    def items(self):
        return Promotion.objects.active().only("slug", "updated_at").order_by("pk")

    def lastmod(self, promotion):
        return promotion.updated_at


SITEMAPS = {
    "static": StaticPagesSitemap,
    "articles": ArticleSitemap,
    "offices": OfficeSitemap,
    "offers": PromotionSitemap,
}
