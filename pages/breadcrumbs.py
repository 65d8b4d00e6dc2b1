"""Where the public pages sit in the breadcrumb trail (clinic_site/breadcrumbs.py).

An article sits under "Articles", an office under "Offices & hours"; a detail page whose
object is missing from the context falls back to its title (``None``).
"""

from django.urls import reverse

from clinic_site.breadcrumbs import Crumb

from .seo import page_path


def _articles() -> Crumb:
    return Crumb("Articles", reverse("pages:article_list"))


def _offices() -> Crumb:
    return Crumb("Offices & hours", reverse("pages:office_list"))


def article_list(context, request):
    page_obj = context.get("page_obj")
    if page_obj is not None and page_obj.number > 1:
        return [_articles(), Crumb(f"Page {page_obj.number}", page_path(request, page_obj.number))]
    return [_articles()]


def article_detail(context, request):
    article = context.get("article")
    return [_articles(), Crumb(article.title, request.path)] if article else None


def office_detail(context, request):
    office = context.get("office")
    return [_offices(), Crumb(office.name, request.path)] if office else None


def promotion_detail(context, request):
    promotion = context.get("promotion")
    return [Crumb(promotion.title, request.path)] if promotion else None


BREADCRUMBS = {
    "pages:home": lambda context, request: [],  # where every trail starts: none shown
    "pages:article_list": article_list,
    "pages:article_detail": article_detail,
    "pages:office_list": lambda context, request: [_offices()],
    "pages:office_detail": office_detail,
    "pages:promotion_detail": promotion_detail,
}
