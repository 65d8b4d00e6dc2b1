"""Where the public pages sit in the breadcrumb trail (clinic_site/breadcrumbs.py).

An article sits under "Articles", an office under "Offices & hours", a service under
"Services", a profile under "Our team", a page right under Home; a detail page whose
object is missing from the context falls back to its title (``None``).
"""

from django.urls import reverse

from clinic_site.breadcrumbs import Crumb

from .seo import page_path


def _articles() -> Crumb:
    return Crumb("Articles", reverse("pages:article_list"))


def _offices() -> Crumb:
    return Crumb("Offices & hours", reverse("pages:office_list"))


def _services() -> Crumb:
    return Crumb("Services", reverse("pages:service_list"))


def _team() -> Crumb:
    return Crumb("Our team", reverse("pages:team"))


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


def service_detail(context, request):
    service = context.get("service")
    return [_services(), Crumb(service.title, request.path)] if service else None


def clinician_detail(context, request):
    clinician = context.get("clinician")
    return [_team(), Crumb(clinician.name, request.path)] if clinician else None


def page_detail(context, request):
    page = context.get("page")  # a Page sits right under Home
    return [Crumb(page.title, request.path)] if page else None


BREADCRUMBS = {
    "pages:home": lambda context, request: [],  # where every trail starts: none shown
    "pages:article_list": article_list,
    "pages:article_detail": article_detail,
    "pages:office_list": lambda context, request: [_offices()],
    "pages:office_detail": office_detail,
    "pages:promotion_detail": promotion_detail,
    "pages:search": lambda context, request: [Crumb("Search", reverse("pages:search"))],
    "pages:service_list": lambda context, request: [_services()],
    "pages:service_detail": service_detail,
    "pages:team": lambda context, request: [_team()],
    "pages:clinician_detail": clinician_detail,
    "pages:page_detail": page_detail,
}
