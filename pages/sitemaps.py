"""The public content's sections of ``/sitemap.xml`` (assembled by clinic_site/sitemaps.py)."""

from clinic_site.sitemaps import NamedPagesSitemap, SiteURLSitemap

from .models import Article, Office, Promotion


class StaticPagesSitemap(NamedPagesSitemap):
    """Pages that are always there: home and the lists."""

    url_names = ["pages:home", "pages:article_list", "pages:office_list"]


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
