"""Every public page type, rendered from the demo content with Django's test client.

Shared by the validators (tests/test_html_validity.py), the og:image check
(tests/test_seo.py) and the page weights (tests/test_page_weight.py).
"""

from http import HTTPStatus

from django.urls import reverse

from contact.demo_content import load_demo_content as load_contact_demo
from contact.spam import sign_form_start
from pages import models as page_models
from pages import picture_files
from pages.demo_content import load_demo_content


def load_demo_site(monkeypatch, renditions=False):
    """The demo content; its pictures' resized copies (seconds to write) only on request."""
    if not renditions:
        monkeypatch.setattr(picture_files, "write_renditions", lambda picture, specs: None)
    load_demo_content()
    load_contact_demo()


def page_urls():
    """{name: (method, URL, data, expected status)} of every public page type."""
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
    first = {
        name: model.objects.published().first()
        for name, model in (
            ("service-detail", page_models.Service),
            ("clinician-detail", page_models.Clinician),
            ("page-detail", page_models.Page),
        )
    }
    missing = [name for name, obj in first.items() if obj is None]
    assert not missing, f"the demo content has nothing to show for {missing}"
    return (
        pages
        | {name: get(obj.get_absolute_url()) for name, obj in first.items()}
        | {
            "service-list": get(reverse("pages:service_list")),
            "team": get(reverse("pages:team")),
            "search": get(reverse("pages:search") + "?q=needling"),
        }
    )


def render_pages(client):
    """{name: HTML} of every page type; fails on an unexpected status."""
    pages = page_urls()
    rendered = {}
    for name, (method, url, data, status) in pages.items():
        response = getattr(client, method)(url, data) if data else getattr(client, method)(url)
        assert response.status_code == status, f"{name}: {url} answered {response.status_code}"
        rendered[name] = response.content.decode()
    return rendered
