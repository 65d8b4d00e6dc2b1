"""Every public page type, rendered from the demo content with Django's test client.

Shared by the validators (tests/test_html_validity.py) and the og:image check
(tests/test_seo.py). Page types whose URL names other work adds (services, team, pages,
search) are included as soon as the URL name resolves; one whose URL name resolves but
whose model has no published demo row is reported as missing.
"""

from http import HTTPStatus

from django.urls import NoReverseMatch, reverse

from contact.demo_content import load_demo_content as load_contact_demo
from contact.spam import sign_form_start
from pages import models as page_models
from pages import picture_files
from pages.demo_content import load_demo_content

# (name, URL name, model whose first published row gives the URL's slug, or None)
OPTIONAL_TYPES = [
    ("service-list", "pages:service_list", None),
    ("service-detail", "pages:service_detail", "Service"),
    ("team", "pages:team", None),
    ("clinician-detail", "pages:clinician_detail", "Clinician"),
    ("page-detail", "pages:page_detail", "Page"),
    ("search", "pages:search", None),
]
SEARCH_QUERY = "?q=needling"


def load_demo_site(monkeypatch, renditions=False):
    """The demo content; its pictures' resized copies (seconds to write) only on request."""
    if not renditions:
        monkeypatch.setattr(picture_files, "write_renditions", lambda picture, specs: None)
    load_demo_content()
    load_contact_demo()


def _first_published(model_name):
    model = getattr(page_models, model_name, None)
    if model is None:
        return None, f"pages.models has no {model_name}"
    manager = model.objects
    queryset = manager.published() if hasattr(manager, "published") else manager.all()
    obj = queryset.first()
    return obj, None if obj else f"the demo content has no published {model_name}"


def _optional_urls():
    """({name: URL} of the optional types there, {name: why one that should be is not},
    [names whose URL does not exist yet])."""
    urls, missing, absent = {}, {}, []
    for name, url_name, model_name in OPTIONAL_TYPES:
        if model_name is None:
            try:
                urls[name] = reverse(url_name) + (SEARCH_QUERY if name == "search" else "")
            except NoReverseMatch:
                absent.append(name)
            continue
        try:
            reverse(url_name, kwargs={"slug": "x"})
        except NoReverseMatch:
            absent.append(name)
            continue
        obj, why = _first_published(model_name)
        if obj is None:
            missing[name] = why
        else:
            urls[name] = obj.get_absolute_url()
    return urls, missing, absent


def page_urls():
    """{name: (method, URL, data, expected status)}, and _optional_urls()'s other two."""
    article = page_models.Article.objects.published().first()
    office = page_models.Office.objects.active().order_by("display_order").first()
    promotion = page_models.Promotion.objects.active().first()
    get = lambda url, status=HTTPStatus.OK: ("get", url, None, status)  # noqa: E731
    pages = {
        "home": get("/"),
        "article-list": get(reverse("pages:article_list")),
        "article-detail": get(article.get_absolute_url()),
        "office-list": get(reverse("pages:office_list")),
        "office-detail": get(office.get_absolute_url()),
        "offer-detail": get(promotion.get_absolute_url()),
        "consultation-form": get(reverse("contact:request")),
        # Only the form's token: every required field comes back with its error.
        "consultation-with-errors": (
            "post",
            reverse("contact:request"),
            {"started": sign_form_start()},
            HTTPStatus.OK,
        ),
        "thanks": get(f"{reverse('contact:thanks')}?office={office.slug}"),
        "privacy-notice": get(reverse("contact:privacy")),
        "not-found": get("/this-page-does-not-exist/", HTTPStatus.NOT_FOUND),
    }
    optional, missing, absent = _optional_urls()
    pages |= {name: get(url) for name, url in optional.items()}
    return pages, missing, absent


def render_pages(client):
    """{name: HTML} of every page type there; fails on an unexpected status or a page type
    whose URL exists without a demo row to show. Prints which types were included."""
    pages, missing, absent = page_urls()
    assert not missing, f"page types that cannot be checked: {missing}"
    rendered = {}
    for name, (method, url, data, status) in pages.items():
        response = getattr(client, method)(url, data) if data else getattr(client, method)(url)
        assert response.status_code == status, f"{name}: {url} answered {response.status_code}"
        rendered[name] = response.content.decode()
    print(f"page types: {', '.join(rendered)}; not there yet: {', '.join(absent) or 'none'}")
    return rendered
