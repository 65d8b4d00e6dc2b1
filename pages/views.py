from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views.generic import DetailView, ListView, TemplateView

from . import search
from .cache import limit_cache_until, public_page
from .models import Article, Clinician, HomePage, Office, Page, Promotion, Service
from .schedule import office_schedule


class StaffPreviewMixin:
    """Published rows for everyone; staff also see drafts, scheduled and hidden rows.

    A response that shows something the public cannot see is marked private and never
    cached, and kept out of search engines.
    """

    every_row = False  # set for staff once no public row matches

    def get_queryset(self):
        qs = self.model.objects.all()
        return qs if self.every_row else self.public_queryset(qs)

    def public_queryset(self, qs):
        raise NotImplementedError

    def get_object(self, queryset=None):
        # The public row first: who the visitor is (a session query) is asked only without
        # one, so a session cookie costs nothing on a public page.
        try:
            return super().get_object(queryset)
        except Http404:
            if not self.request.user.is_staff:
                raise
            self.every_row = True
            return super().get_object(queryset)

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        if not self.object.is_public:
            add_never_cache_headers(response)
            response["X-Robots-Tag"] = "noindex"
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["is_preview"] = not self.object.is_public
        return context


@public_page
class HomeView(TemplateView):
    template_name = "pages/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        home = context["home"] = HomePage.load()
        today = timezone.localdate()
        featured = home.pk is not None
        # Featured rows in the order staff gave them; none chosen: the usual lists.
        articles = Article.objects.published().defer("body").select_related("author_profile")
        chosen = list(articles.filter(pk__in=home.articles.all())) if featured else []
        context["latest_articles"] = chosen or articles[:3]
        services = Service.objects.published().defer("body")
        chosen = list(services.filter(pk__in=home.services.all())) if featured else []
        context["services"] = chosen or services
        # One list each for the page, its JSON-LD, the footer, the form and the banner.
        offices = list(Office.objects.active().with_schedule(today))
        promotions = list(Promotion.objects.active(today).select_related("service"))
        context["offices"] = context["site_offices"] = offices
        context["site_banners"] = [promo for promo in promotions if promo.show_as_banner]
        if featured:
            chosen = set(home.promotions.values_list("pk", flat=True))
            promotions = [promo for promo in promotions if promo.pk in chosen] or promotions
        context["promotions"] = promotions
        return context


@public_page(query=("page",))
class ArticleListView(ListView):
    model = Article
    paginate_by = 12

    def get_queryset(self):
        return Article.objects.published().defer("body").select_related("author_profile")


@public_page
class ArticleDetailView(StaffPreviewMixin, DetailView):
    model = Article

    def get_queryset(self):
        return super().get_queryset().select_related("author_profile", "reviewer")

    def public_queryset(self, qs):
        return qs.published()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        related = Article.objects.published().exclude(pk=self.object.pk).defer("body")
        # The cards name their authors: one join, not a query per card.
        context["related_articles"] = related.select_related("author_profile")[:3]
        return context


@public_page
class OfficeListView(ListView):
    model = Office

    def get_queryset(self):
        return Office.objects.active().with_schedule()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        now = timezone.localtime()
        context["office_schedules"] = [(o, office_schedule(o, now)) for o in context["object_list"]]
        context["site_offices"] = context["object_list"]  # the footer's list too
        return context

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        for _office, schedule in context["office_schedules"]:
            limit_cache_until(response, schedule.next_change)
        return response


@public_page
class OfficeDetailView(StaffPreviewMixin, DetailView):
    model = Office

    def get_queryset(self):
        return super().get_queryset().with_schedule()

    def public_queryset(self, qs):
        return qs.active()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["schedule"] = office_schedule(self.object, timezone.localtime())
        return context

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        return limit_cache_until(response, context["schedule"].next_change)


@public_page
class PromotionDetailView(StaffPreviewMixin, DetailView):
    model = Promotion

    def get_queryset(self):
        return super().get_queryset().select_related("service")  # the link to its service

    def public_queryset(self, qs):
        return qs.active()


@public_page
class ServiceListView(ListView):
    model = Service

    def get_queryset(self):
        return Service.objects.published().defer("body")


@public_page
class ServiceDetailView(StaffPreviewMixin, DetailView):
    model = Service

    def get_queryset(self):
        # Only open offices, for the page and its JSON-LD alike.
        return super().get_queryset().prefetch_related(Prefetch("offices", Office.objects.active()))

    def public_queryset(self, qs):
        return qs.published()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        service = self.object
        context["articles"] = (
            service.articles.published().defer("body").select_related("author_profile")[:6]
        )
        context["clinicians"] = service.clinicians.published().defer("bio")
        context["service_offices"] = service.offices.all()
        context["promotions"] = service.promotions.active()
        return context


@public_page
class TeamView(ListView):
    model = Clinician
    template_name = "pages/team.html"

    def get_queryset(self):
        return (
            Clinician.objects.published()
            .defer("bio")
            .prefetch_related(
                Prefetch("services", Service.objects.published().only("title", "slug")),
                Prefetch("offices", Office.objects.active().only("name", "slug")),
            )
        )


@public_page
class ClinicianDetailView(StaffPreviewMixin, DetailView):
    model = Clinician

    def get_queryset(self):
        # Only what is public, for the page and its JSON-LD alike.
        return (
            super()
            .get_queryset()
            .prefetch_related(
                Prefetch("offices", Office.objects.active()),
                Prefetch("services", Service.objects.published().defer("body")),
            )
        )

    def public_queryset(self, qs):
        return qs.published()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        person = self.object
        context["articles"] = person.articles.published().defer("body")[:6]
        context["clinician_services"] = person.services.all()
        context["clinician_offices"] = person.offices.all()
        return context


@public_page
class PageDetailView(StaffPreviewMixin, DetailView):
    model = Page

    def public_queryset(self, qs):
        return qs.published()


class SearchView(TemplateView):
    """Site search. Not ``@public_page``: one cached page per query typed would let any
    visitor fill the cache, so nothing (page cache, nginx, a proxy) stores a result."""

    template_name = "pages/search.html"
    http_method_names = ["get", "head"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = search.clean_query(self.request.GET.get("q", ""))
        too_long = len(query) > search.MAX_QUERY_LENGTH
        context.update(
            query=query,
            too_long=too_long,
            max_length=search.MAX_QUERY_LENGTH,
            max_results=search.MAX_RESULTS,
            results=search.search(query) if query and not too_long else None,
        )
        return context

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        patch_cache_control(response, private=True, no_cache=True)
        response["X-Robots-Tag"] = "noindex"
        return response
