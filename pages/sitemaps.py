"""The public content's sections of ``/sitemap.xml`` (assembled by clinic_site/sitemaps.py)."""

from clinic_site.sitemaps import NamedPagesSitemap, SiteURLSitemap

from .models import Article, Clinician, Office, Page, Promotion, Service


class StaticPagesSitemap(NamedPagesSitemap):
    """Pages that are always there: home and the lists."""

    url_names = [
        "pages:home",
        "pages:service_list",
        "pages:team",
        "pages:article_list",
        "pages:office_list",
    ]


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


class UpdatedSitemap(SiteURLSitemap):
    """Rows with ``updated_at``, from their model's public queryset (``published()``)."""

    changefreq = "monthly"
    model = None

    def items(self):
        return self.model.objects.published().only("slug", "updated_at").order_by("pk")

    def lastmod(self, obj):
        return obj.updated_at


class ServiceSitemap(UpdatedSitemap):
    model = Service


class ClinicianSitemap(UpdatedSitemap):
    """Profiles shown on the team page; a hidden one is left out."""

    model = Clinician


class PageSitemap(UpdatedSitemap):
    model = Page


SITEMAPS = {
    "static": StaticPagesSitemap,
    "articles": ArticleSitemap,
    "offices": OfficeSitemap,
    "offers": PromotionSitemap,
    "services": ServiceSitemap,
    "team": ClinicianSitemap,
    "pages": PageSitemap,
}
