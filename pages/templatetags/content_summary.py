"""The content part of the admin home: where each kind of content is edited, with counts."""

from urllib.parse import quote

from django import template
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from clinic_site.models import ClinicSettings

from ..models import (
    Article,
    Clinician,
    Closure,
    HomePage,
    MenuItem,
    Office,
    Page,
    Promotion,
    Service,
)

register = template.Library()


def _url(model, view, query=""):
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}") + query


def _may(user, model, action):
    return user.has_perm(f"{model._meta.app_label}.{action}_{model._meta.model_name}")


def _shown_hidden(model, field):
    counts = model.objects.aggregate(shown=Count("pk", filter=Q(**{field: True})), all=Count("pk"))
    return [
        (f"{counts['shown']} on the site", _url(model, "changelist", f"?{field}__exact=1")),
        (
            f"{counts['all'] - counts['shown']} hidden",
            _url(model, "changelist", f"?{field}__exact=0"),
        ),
    ]


def _articles():
    now = timezone.now()
    published = Q(status=Article.Status.PUBLISHED)
    counts = Article.objects.aggregate(
        drafts=Count("pk", filter=Q(status=Article.Status.DRAFT)),
        scheduled=Count("pk", filter=published & Q(published_at__gt=now)),
        live=Count("pk", filter=published & Q(published_at__lte=now)),
    )
    published = f"{_url(Article, 'changelist')}?status__exact={Article.Status.PUBLISHED}"
    moment = quote(now.isoformat())  # the moment the counts were made, to the microsecond
    return [
        (
            f"{counts['drafts']} drafts",
            _url(Article, "changelist", f"?status__exact={Article.Status.DRAFT}"),
        ),
        (f"{counts['scheduled']} scheduled", f"{published}&published_at__gt={moment}"),
        (f"{counts['live']} live", f"{published}&published_at__lte={moment}"),
    ]


def _offices():
    today = timezone.localdate()
    counts = Office.objects.aggregate(shown=Count("pk", filter=Q(is_active=True)))
    closures = Closure.objects.filter(date__gte=today).count()
    return [
        (f"{counts['shown']} on the site", _url(Office, "changelist", "?is_active__exact=1")),
        (f"{closures} closures to come", None),
    ]


def _offers():
    running = Promotion.objects.active().count()
    return [(f"{running} running today", None)]


def _add(model, text):
    """The add link for ``model``, for whoever may add one."""
    return lambda user: (text, _url(model, "add")) if _may(user, model, "add") else None


def _add_closure(user):
    # As OfficeAdmin.has_add_closure_permission: a closure is added through its office.
    if _may(user, Closure, "add") and _may(user, Office, "change"):
        return ("Add a holiday or half day", reverse("admin:pages_office_add_closure"))
    return None


def _none(user):
    return None


# (model, heading, what it is, its add link, its counts), in the order an editor needs them.
SECTIONS = [
    (
        Article,
        "Articles",
        "Write, schedule and publish articles.",
        _add(Article, "Write an article"),
        _articles,
    ),
    (
        Office,
        "Offices, hours and holidays",
        "Each office's address, phone and opening hours (open an office to change them), "
        "and closures.",
        _add_closure,
        _offices,
    ),
    (
        Promotion,
        "Promotions",
        "The first-responder discount and other offers.",
        _add(Promotion, "Add an offer"),
        _offers,
    ),
    (
        Service,
        "Services",
        "What the clinic offers.",
        _add(Service, "Add a service"),
        lambda: _shown_hidden(Service, "is_published"),
    ),
    (
        Clinician,
        "Team members",
        "Therapists' profiles.",
        _add(Clinician, "Add a team member"),
        lambda: _shown_hidden(Clinician, "is_shown"),
    ),
    (
        Page,
        "Pages",
        "About, insurance, new patients ...",
        _add(Page, "Add a page"),
        lambda: _shown_hidden(Page, "is_published"),
    ),
    (HomePage, "Home page", "Its heading, text, picture and what it features.", _none, None),
    (MenuItem, "Menu and footer links", "Which links the menu and the footer show.", _none, None),
    (
        ClinicSettings,
        "Clinic details and look",
        "Name, phone, logo, colour and what patients are told.",
        _none,
        None,
    ),
]


@register.simple_tag(takes_context=True)
def content_summary(context):
    """The sections the person may open, each with its list's link, an add link if they
    may add, and its counts (one or two queries each)."""
    user = context["request"].user
    return [
        {
            "key": model._meta.model_name,
            "heading": heading,
            "hint": hint,
            "url": _url(model, "changelist"),
            "add": add(user),
            "counts": counts() if counts else [],
        }
        for model, heading, hint, add, counts in SECTIONS
        if _may(user, model, "view") or _may(user, model, "change")
    ]
