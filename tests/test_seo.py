"""What search engines and link previews see: titles, canonical URLs, Open Graph, JSON-LD,
breadcrumbs, the sitemap, robots.txt and the favicon."""

import datetime
import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from http import HTTPStatus
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from clinic_site.models import e164
from pages import seo
from pages.models import Article

from . import schemaorg
from .factories import (
    ArticleFactory,
    ClosureFactory,
    OfficeFactory,
    OpeningHoursFactory,
    PromotionFactory,
    image_bytes,
)
from .page_types import load_demo_site, render_pages

pytestmark = pytest.mark.django_db

SITE = "https://clinic.example"
SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE
    return SITE


class Page(HTMLParser):
    """The parts of a page this file checks, read with a real HTML parser."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.html = html
        self.title = ""
        self.meta = {}
        self.links = []  # (rel, href, attrs)
        self.resource_urls = []  # what a browser would load: src=, stylesheet/icon href=
        self.jsonld_raw = []
        self.breadcrumb_navs = 0
        self.crumbs = []  # (text, href, aria-current)
        self._in = None
        self._crumb = None
        self._in_breadcrumb = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "title":
            self._in = "title"
        elif tag == "meta" and ("property" in a or "name" in a):
            self.meta[a.get("property") or a.get("name")] = a.get("content")
        elif tag == "link":
            self.links.append((a.get("rel"), a.get("href"), a))
            if a.get("rel") in ("stylesheet", "icon", "apple-touch-icon", "preload"):
                self.resource_urls.append(a.get("href"))
        elif tag == "script" and a.get("type") == "application/ld+json":
            self._in = "jsonld"
            self.jsonld_raw.append("")
        elif tag == "nav" and a.get("aria-label") == "Breadcrumb":
            self.breadcrumb_navs += 1
            self._in_breadcrumb = True
        elif tag == "li" and self._in_breadcrumb:
            self._crumb = ["", None, a.get("aria-current")]
        elif tag == "a" and self._crumb is not None:
            self._crumb[1] = a.get("href")
        if "src" in a:
            self.resource_urls.append(a["src"])
        if "srcset" in a:
            self.resource_urls += [part.split()[0] for part in a["srcset"].split(",")]

    def handle_endtag(self, tag):
        if tag in ("title", "script"):
            self._in = None
        elif tag == "li" and self._crumb is not None:
            self.crumbs.append(tuple(self._crumb))
            self._crumb = None
        elif tag == "nav":
            self._in_breadcrumb = False

    def handle_data(self, data):
        if self._in == "title":
            self.title += data
        elif self._in == "jsonld":
            self.jsonld_raw[-1] += data
        elif self._crumb is not None:
            self._crumb[0] += data

    @property
    def canonical(self):
        hrefs = [href for rel, href, _ in self.links if rel == "canonical"]
        assert len(hrefs) <= 1
        return hrefs[0] if hrefs else None

    @property
    def jsonld(self):
        return [json.loads(raw) for raw in self.jsonld_raw]

    def nodes(self, type_name):
        """Every JSON-LD object (top level or in @graph) whose @type is or includes it."""
        found = []
        for data in self.jsonld:
            for node in data.get("@graph", [data]):
                types = node.get("@type")
                types = types if isinstance(types, list) else [types]
                if type_name in types:
                    found.append(node)
        return found

    def node(self, type_name):
        nodes = self.nodes(type_name)
        assert len(nodes) == 1, (type_name, nodes)
        return nodes[0]


def get_page(client, url, status=HTTPStatus.OK):
    response = client.get(url)
    assert response.status_code == status, url
    return Page(response.content.decode())


def with_image(obj, alt="A picture"):
    obj.image.save("picture.jpg", ContentFile(image_bytes(1600, 900)), save=False)
    obj.image_alt = alt
    obj.save()
    return obj


# --- Titles, descriptions, canonical, Open Graph -------------------------------------


def test_titles_and_descriptions_are_unique_across_page_types(client, clinic):
    ArticleFactory.create_batch(12)
    article = ArticleFactory(title="Dry needling explained", summary="What a session is like.")
    office = OfficeFactory(name="Avon Office", street="45 Main St", suite="Ste 308")
    promo = PromotionFactory(title="First responders save $50", amount="50.00")
    urls = [
        "/",
        "/articles/",
        "/articles/?page=2",
        article.get_absolute_url(),
        "/offices/",
        office.get_absolute_url(),
        promo.get_absolute_url(),
        "/consultation/",
        "/privacy/",
    ]
    pages = {url: get_page(client, url) for url in urls}
    titles = [page.title for page in pages.values()]
    descriptions = [page.meta["description"] for page in pages.values()]
    assert all(titles) and all(descriptions)
    assert len(set(titles)) == len(titles), titles
    assert len(set(descriptions)) == len(descriptions), descriptions
    assert pages[article.get_absolute_url()].meta["description"] == "What a session is like."
    office_description = pages[office.get_absolute_url()].meta["description"]
    assert "Avon Office" in office_description and "45 Main St, Ste 308" in office_description
    assert "$50.00" in pages[promo.get_absolute_url()].meta["description"]
    assert "page 2" in pages["/articles/?page=2"].title


def test_canonical_and_og_url_use_site_url_and_drop_query_strings(client, clinic):
    ArticleFactory.create_batch(13)
    office = OfficeFactory()
    cases = {
        "/?utm_source=mail": f"{SITE}/",
        f"{office.get_absolute_url()}?ref=x": f"{SITE}{office.get_absolute_url()}",
        "/articles/?page=2&utm_source=x": f"{SITE}/articles/?page=2",
        "/articles/?page=1": f"{SITE}/articles/",
        "/consultation/?office=avon&from=/": f"{SITE}/consultation/",
    }
    for url, expected in cases.items():
        page = get_page(client, url)
        assert page.canonical == expected, url
        assert page.meta["og:url"] == expected, url
        assert page.meta["og:site_name"] == clinic.name
        assert page.meta["og:title"] == page.title
        assert page.meta["og:description"] == page.meta["description"]
        assert "testserver" not in page.html


def test_canonical_ignores_the_request_host(client, clinic):
    page = Page(client.get("/offices/", HTTP_HOST="127.0.0.1").content.decode())
    assert page.canonical == f"{SITE}/offices/"


def test_article_with_picture_has_absolute_og_image_and_large_twitter_card(client, clinic):
    article = with_image(ArticleFactory(), alt="Therapist treating a shoulder")
    page = get_page(client, article.get_absolute_url())
    assert page.meta["og:type"] == "article"
    image = page.meta["og:image"]
    assert image.startswith(f"{SITE}/media/") and image.endswith(".jpg")
    assert image == SITE + article.image_renditions().src
    assert page.meta["og:image:alt"] == "Therapist treating a shoulder"
    assert page.meta["twitter:card"] == "summary_large_image"
    assert page.meta["twitter:image"] == image
    assert page.meta["article:published_time"] == timezone.localtime(
        article.published_at
    ).isoformat(timespec="seconds")


def test_office_with_picture_has_og_image(client, clinic):
    office = with_image(OfficeFactory())
    page = get_page(client, office.get_absolute_url())
    assert page.meta["og:type"] == "website"
    assert page.meta["og:image"] == SITE + office.image_renditions().src
    assert page.meta["twitter:card"] == "summary_large_image"


def test_pages_without_a_picture_show_the_default_picture(client, clinic):
    article = ArticleFactory()
    for url in ["/", "/offices/", article.get_absolute_url()]:
        page = get_page(client, url)
        assert page.meta["og:image"] == f"{SITE}/static/img/og-default.png", url
        assert page.meta["og:image:type"] == "image/png"
        assert (page.meta["og:image:width"], page.meta["og:image:height"]) == ("1200", "630")
        assert "og:image:alt" not in page.meta
        assert page.meta["twitter:card"] == "summary_large_image", url
        assert page.meta["twitter:title"] == page.title
    with Image.open(finders.find("img/og-default.png")) as img:
        assert (img.format, img.size) == ("PNG", (1200, 630))
    assert Path(finders.find("img/og-default.png")).stat().st_size < 60_000


def test_not_found_page_has_no_canonical_and_is_noindex(client, clinic):
    page = get_page(client, "/no-such-page/", status=HTTPStatus.NOT_FOUND)
    assert page.canonical is None
    assert page.meta["robots"] == "noindex"
    assert page.jsonld == []
    assert page.crumbs[-1] == ("Page not found", None, "page")


def test_pages_load_nothing_from_another_host(client, clinic):
    article = with_image(ArticleFactory())
    office = with_image(OfficeFactory())
    promo = PromotionFactory()
    for url in [
        "/",
        "/articles/",
        article.get_absolute_url(),
        "/offices/",
        office.get_absolute_url(),
        promo.get_absolute_url(),
        "/consultation/",
        "/privacy/",
    ]:
        page = get_page(client, url)
        assert page.resource_urls, url
        for resource in page.resource_urls:
            assert resource.startswith("/") and not resource.startswith("//"), (url, resource)


# --- JSON-LD -------------------------------------------------------------------------


def test_home_describes_the_clinic_its_offices_and_offers(client, clinic):
    office = OfficeFactory(
        name="Bloomfield Office",
        street="45 Main St",
        suite="Ste 308",
        city="Bloomfield",
        state="CT",
        zip_code="06002",
        phone="(860) 555-0101",
        latitude="41.826000",
        longitude="-72.730000",
    )
    OpeningHoursFactory(office=office, weekday=0, opens="08:00", closes="12:00")
    OpeningHoursFactory(office=office, weekday=0, opens="13:00", closes="18:30")
    OpeningHoursFactory(office=office, weekday=5, opens="09:00", closes="13:00")
    closure = ClosureFactory(office=office, reason="Thanksgiving")
    OfficeFactory(name="Second Office")
    OfficeFactory(name="Closed Office", is_active=False, display_order=0)
    promo = PromotionFactory(title="First responders save $50")
    bloomfield_address = {
        "@type": "PostalAddress",
        "streetAddress": "45 Main St, Ste 308",
        "addressLocality": "Bloomfield",
        "addressRegion": "CT",
        "postalCode": "06002",
        "addressCountry": "US",
    }

    page = get_page(client, "/")
    node = page.node("MedicalBusiness")
    assert node["@context"] == "https://schema.org"
    assert "Physiotherapy" in node["@type"]
    assert node["@id"] == f"{SITE}/#clinic"
    assert node["name"] == clinic.name
    assert node["url"] == f"{SITE}/"
    assert node["telephone"] == "+18605550199"  # clinic.phone, (860) 555-0199, in E.164
    assert node["email"] == clinic.email
    assert node["address"] == bloomfield_address  # the first office by display order

    offices = {d["name"]: d for d in node["department"]}
    assert set(offices) == {"Bloomfield Office", "Second Office"}
    bloomfield = offices["Bloomfield Office"]
    url = f"{SITE}{office.get_absolute_url()}"
    assert bloomfield["@type"] == "Physiotherapy"
    assert bloomfield["@id"] == url + "#office"
    assert bloomfield["url"] == url
    assert bloomfield["telephone"] == "+18605550101"
    assert bloomfield["address"] == bloomfield_address
    # All six stored decimals (Google asks for at least five): text, as JSON numbers drop zeros.
    assert bloomfield["geo"] == {
        "@type": "GeoCoordinates",
        "latitude": "41.826000",
        "longitude": "-72.730000",
    }
    assert bloomfield["openingHoursSpecification"] == [
        {
            "@type": "OpeningHoursSpecification",
            "dayOfWeek": "https://schema.org/Monday",
            "opens": "08:00",
            "closes": "12:00",
        },
        {
            "@type": "OpeningHoursSpecification",
            "dayOfWeek": "https://schema.org/Monday",
            "opens": "13:00",
            "closes": "18:30",
        },
        {
            "@type": "OpeningHoursSpecification",
            "dayOfWeek": "https://schema.org/Saturday",
            "opens": "09:00",
            "closes": "13:00",
        },
        {
            "@type": "OpeningHoursSpecification",
            "name": "Thanksgiving",
            "validFrom": closure.date.isoformat(),
            "validThrough": closure.date.isoformat(),
            "opens": "00:00",
            "closes": "00:00",
        },
    ]
    assert bloomfield["parentOrganization"] == {"@id": f"{SITE}/#clinic"}
    assert "branchOf" not in bloomfield  # superseded in schema.org by parentOrganization
    assert "geo" not in offices["Second Office"]

    [offer] = node["makesOffer"]
    assert offer["@type"] == "Offer"
    assert offer["name"] == "First responders save $50"
    assert offer["url"] == f"{SITE}{promo.get_absolute_url()}"
    assert offer["offeredBy"] == {"@id": f"{SITE}/#clinic"}
    assert page.nodes("BreadcrumbList") == []


def test_home_jsonld_query_count_does_not_grow_with_offices(client, clinic):
    client.cookies[django_settings.SESSION_COOKIE_NAME] = "no-page-cache"  # a fresh render

    def count():
        client.get("/")
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/").status_code == HTTPStatus.OK
        return len(ctx.captured_queries)

    def add_office():
        office = OfficeFactory()
        for weekday in range(6):
            OpeningHoursFactory(office=office, weekday=weekday)

    add_office()
    few = count()
    for _ in range(5):
        add_office()
    assert count() == few
    page = get_page(client, "/")
    for department in page.node("MedicalBusiness")["department"]:
        assert len(department["openingHoursSpecification"]) == 6


def test_office_page_describes_the_office_with_hours_and_closures(client, clinic):
    office = OfficeFactory(name="Avon Office", email="avon@clinic.example")
    OpeningHoursFactory(office=office, weekday=2, opens="07:30", closes="19:00")
    today = timezone.localdate()
    closure = ClosureFactory(office=office, date=today + datetime.timedelta(days=5))
    ClosureFactory(office=office, date=today - datetime.timedelta(days=1), reason="Past")

    page = get_page(client, office.get_absolute_url())
    node = page.node("Physiotherapy")
    url = f"{SITE}{office.get_absolute_url()}"
    assert node["@context"] == "https://schema.org"
    assert node["@id"] == url + "#office"
    assert node["name"] == "Avon Office"
    assert node["email"] == "avon@clinic.example"
    assert node["address"]["streetAddress"] == "1 Main Street, Ste 2"
    assert "geo" not in node
    assert node["openingHoursSpecification"] == [
        {
            "@type": "OpeningHoursSpecification",
            "dayOfWeek": "https://schema.org/Wednesday",
            "opens": "07:30",
            "closes": "19:00",
        },
        {
            "@type": "OpeningHoursSpecification",
            "name": "Staff training day",
            "validFrom": closure.date.isoformat(),
            "validThrough": closure.date.isoformat(),
            "opens": "00:00",
            "closes": "00:00",
        },
    ]
    assert node["telephone"] == "+18605550150"
    assert node["parentOrganization"]["@id"] == f"{SITE}/#clinic"
    assert node["parentOrganization"]["name"] == clinic.name


def test_office_list_describes_every_active_office(client, clinic):
    first = OfficeFactory(name="First Office")
    OpeningHoursFactory(office=first, weekday=4)
    ClosureFactory(office=first)
    OfficeFactory(name="Second Office")
    OfficeFactory(name="Hidden Office", is_active=False)

    page = get_page(client, "/offices/")
    offices = {
        node["name"]: node
        for node in page.nodes("Physiotherapy")
        if node["@id"].endswith("#office")
    }
    assert set(offices) == {"First Office", "Second Office"}
    hours = offices["First Office"]["openingHoursSpecification"]
    assert hours[0]["dayOfWeek"] == "https://schema.org/Friday"
    assert hours[1]["opens"] == hours[1]["closes"] == "00:00"
    assert all(o["parentOrganization"] == {"@id": f"{SITE}/#clinic"} for o in offices.values())
    clinic_node = page.node("MedicalBusiness")
    assert clinic_node["@id"] == f"{SITE}/#clinic"
    assert clinic_node["address"] == offices["First Office"]["address"]


def test_article_page_is_a_medical_web_page_about_an_article(client, clinic):
    article = with_image(
        ArticleFactory(
            title="Dry needling explained",
            summary="What a session is like.",
            author="Sylvestra Ramirez",
            reviewed_by="Jordan Ellis, PT, DPT",
            reviewed_on=datetime.date(2025, 3, 14),
        )
    )
    article.refresh_from_db()
    page = get_page(client, article.get_absolute_url())
    [data] = [d for d in page.jsonld if "@graph" in d]
    assert data["@context"] == "https://schema.org"
    webpage, node = page.node("MedicalWebPage"), page.node("Article")
    url = f"{SITE}{article.get_absolute_url()}"
    assert webpage["url"] == url
    assert webpage["mainEntity"] == {"@id": node["@id"]}
    assert node["mainEntityOfPage"] == {"@id": webpage["@id"]}
    assert node["headline"] == webpage["name"] == "Dry needling explained"
    assert node["description"] == "What a session is like."
    # A guest author: a name, no URL (a team member's: test_article_author_links_the_profile).
    assert node["author"] == {"@type": "Person", "name": "Sylvestra Ramirez"}
    published = datetime.datetime.fromisoformat(node["datePublished"])
    modified = datetime.datetime.fromisoformat(node["dateModified"])
    assert published.tzinfo is not None
    assert abs(published - article.published_at) < datetime.timedelta(seconds=1)
    assert abs(modified - article.updated_at) < datetime.timedelta(seconds=1)
    assert node["image"] == SITE + article.image_renditions().src
    assert node["publisher"]["@id"] == f"{SITE}/#clinic"
    assert node["publisher"]["name"] == clinic.name
    assert webpage["lastReviewed"] == "2025-03-14"
    assert webpage["reviewedBy"] == {"@type": "Person", "name": "Jordan Ellis, PT, DPT"}


def test_unreviewed_article_without_picture_has_the_default_picture(client, clinic):
    article = ArticleFactory()
    page = get_page(client, article.get_absolute_url())
    assert not {"lastReviewed", "reviewedBy"} & set(page.node("MedicalWebPage"))
    # Google's Article wants an image.
    assert page.node("Article")["image"] == f"{SITE}/static/img/og-default.png"


def test_jsonld_cannot_be_broken_out_of_by_a_title(client, clinic):
    title = 'Pain </script><script>alert(1)</script> & "more" <!--'
    article = ArticleFactory(title=title)
    response = client.get(article.get_absolute_url())
    html = response.content.decode()
    assert "<script>alert(1)" not in html
    assert "<!--" not in html
    page = Page(html)
    assert all("</" not in raw and "<" not in raw for raw in page.jsonld_raw)
    assert page.node("Article")["headline"] == title
    assert page.node("BreadcrumbList")["itemListElement"][-1]["name"] == title
    assert page.meta["og:title"].startswith(title)


def test_promotion_page_is_an_offer(client, clinic):
    promo = PromotionFactory(
        title="First responders save $50",
        amount="50.00",
        eligibility="Firefighters, military, EMTs and police officers",
        applies_to="fitness memberships",
        description="Thank you for your service.",
        starts_on=timezone.localdate() - datetime.timedelta(days=3),
        ends_on=timezone.localdate() + datetime.timedelta(days=30),
    )
    page = get_page(client, promo.get_absolute_url())
    offer = page.node("Offer")
    url = f"{SITE}{promo.get_absolute_url()}"
    assert offer["@context"] == "https://schema.org"
    assert offer["@id"] == url + "#offer"
    assert offer["url"] == url
    assert offer["name"] == "First responders save $50"
    assert offer["description"] == (
        "$50.00 off fitness memberships for Firefighters, military, EMTs and police officers. "
        "Thank you for your service."
    )
    # A discount is not a price: no price is stated, and eligibility is not a customer type.
    assert not {"price", "priceSpecification", "eligibleCustomerType"} & set(offer)
    assert offer["itemOffered"] == {
        "@type": "Service",
        "name": "fitness memberships",
        "provider": {"@id": f"{SITE}/#clinic"},
    }
    assert offer["validFrom"] == promo.starts_on.isoformat()
    assert offer["validThrough"] == promo.ends_on.isoformat()
    assert offer["offeredBy"]["@id"] == f"{SITE}/#clinic"


def test_open_ended_promotion_has_no_validity_dates(client, clinic):
    promo = PromotionFactory()
    offer = get_page(client, promo.get_absolute_url()).node("Offer")
    assert "validFrom" not in offer and "validThrough" not in offer
    assert offer["description"] == (
        "$50.00 off fitness memberships for Firefighters, military, EMTs and police officers."
    )


def test_article_list_is_a_collection_page_with_breadcrumbs(client, clinic):
    ArticleFactory.create_batch(13)
    page_two = get_page(client, "/articles/?page=2")
    collection = page_two.node("CollectionPage")
    assert collection["url"] == f"{SITE}/articles/?page=2"
    [item] = collection["mainEntity"]["itemListElement"]
    assert item["position"] == 13
    assert item["url"].startswith(f"{SITE}/articles/")
    crumbs = page_two.node("BreadcrumbList")["itemListElement"]
    assert [c["name"] for c in crumbs] == ["Home", "Articles", "Page 2"]
    assert crumbs[-1]["item"] == f"{SITE}/articles/?page=2"


# --- Every page type: schema.org's vocabulary, Google's required fields, og:image ------


def google_problems(node) -> list[str]:
    """What Google requires of a local business and of an article (top-level nodes)."""
    types = node.get("@type")
    types = types if isinstance(types, list) else [types]
    required = []
    if any("LocalBusiness" in schemaorg.ancestors(t) for t in types):
        required = ["name", "address"]
    if {"Article", "NewsArticle", "BlogPosting"} & set(types):
        required = ["headline", "image", "datePublished", "author"]
        authors = node.get("author")
        authors = authors if isinstance(authors, list) else [authors] if authors else []
        if not all(author.get("name") for author in authors):
            return [f"{node.get('@id')}: an author has no name"]
    return [f"{node.get('@id')}: no {prop}" for prop in required if not node.get(prop)]


def test_every_page_types_jsonld_is_schema_org_with_what_google_requires(client, monkeypatch):
    load_demo_site(monkeypatch)
    problems, types = [], set()
    for name, html in render_pages(client).items():
        for data in Page(html).jsonld:
            problems += [f"{name}: {problem}" for problem in schemaorg.problems(data)]
            for node in data.get("@graph", [data]):
                problems += [f"{name}: {problem}" for problem in google_problems(node)]
                types.add(str(node["@type"]))
    assert not problems, "\n".join(problems)
    assert {"Article", "Offer", "Physiotherapy", "BreadcrumbList"} <= types, types


def test_every_page_types_og_image_answers(client, monkeypatch):
    load_demo_site(monkeypatch, renditions=True)
    for name, html in render_pages(client).items():
        meta = Page(html).meta
        if name == "not-found":
            assert "og:image" not in meta
            continue
        image = meta["og:image"]
        assert image.startswith(f"{SITE}/"), (name, image)
        response = client.get(image.removeprefix(SITE))
        assert response.status_code == HTTPStatus.OK, (name, image)
        assert response["Content-Type"] == meta["og:image:type"], (name, image)
        response.close()


# --- JSON-LD builders on their own (stand-ins for the models) ---------------------------


def office_stub(slug, name):
    return SimpleNamespace(
        name=name,
        get_absolute_url=lambda: f"/offices/{slug}/",
        street_line="45 Main St, Ste 308",
        city="Avon",
        state="CT",
        zip_code="06001",
    )


def clinician_stub(**overrides):
    fields = {
        "name": "Sylvestra Ramirez",
        "credentials": "PT, DPT",
        "role": "Physical therapist",
        "bio": "<p>Sylvestra treats <strong>runners</strong> &amp; cyclists.</p>",
        "image_renditions": lambda: None,
        "get_absolute_url": lambda: "/team/sylvestra-ramirez/",
        "offices": SimpleNamespace(all=lambda: [office_stub("avon", "Avon Office")]),
        "services": [SimpleNamespace(title="Dry needling"), SimpleNamespace(title="Sports rehab")],
        "languages": "English, Spanish ,",
    }
    return SimpleNamespace(**fields | overrides)


CLINIC = SimpleNamespace(name="Test Motion Clinic")
AVON_PLACE = {
    "@type": "Place",
    "@id": f"{SITE}/offices/avon/#office",
    "name": "Avon Office",
    "address": {
        "@type": "PostalAddress",
        "streetAddress": "45 Main St, Ste 308",
        "addressLocality": "Avon",
        "addressRegion": "CT",
        "postalCode": "06001",
        "addressCountry": "US",
    },
}


def test_person_node_describes_a_clinician():
    node = seo.person_node(clinician_stub(), CLINIC)
    url = f"{SITE}/team/sylvestra-ramirez/"
    assert node == {
        "@context": "https://schema.org",
        "@type": "Person",
        "@id": url + "#person",
        "name": "Sylvestra Ramirez",
        "url": url,
        "jobTitle": "Physical therapist",
        "worksFor": seo.clinic_reference(CLINIC),
        "honorificSuffix": "PT, DPT",
        "description": "Sylvestra treats runners & cyclists.",
        "workLocation": [AVON_PLACE],
        "knowsAbout": ["Dry needling", "Sports rehab"],
        "knowsLanguage": ["English", "Spanish"],
    }
    assert schemaorg.problems(node) == []
    bare = seo.person_node(
        clinician_stub(credentials="", bio="", offices=[], services=[], languages=""), CLINIC
    )
    assert set(bare) == {"@context", "@type", "@id", "name", "url", "jobTitle", "worksFor"}


def test_service_node_describes_a_service_where_it_is_given():
    service = SimpleNamespace(
        title="Dry needling",
        summary="Fine needles to release tight muscle.",
        get_absolute_url=lambda: "/services/dry-needling/",
        image_renditions=lambda: None,
        offices=[office_stub("avon", "Avon Office")],
    )
    node = seo.service_node(service, CLINIC)
    url = f"{SITE}/services/dry-needling/"
    assert node == {
        "@context": "https://schema.org",
        "@type": "Service",
        "@id": url + "#service",
        "name": "Dry needling",
        "url": url,
        "provider": seo.clinic_reference(CLINIC),
        "description": "Fine needles to release tight muscle.",
        "availableChannel": [{"@type": "ServiceChannel", "serviceLocation": AVON_PLACE}],
    }
    assert schemaorg.problems(node) == []


def test_clinician_and_service_template_tags():
    template = Template(
        "{% load seo_tags %}{% clinician_jsonld person %}{% service_jsonld thing %}"
    )
    service = SimpleNamespace(
        title="Dry needling",
        summary="",
        get_absolute_url=lambda: "/services/dry-needling/",
        image_renditions=lambda: None,
        offices=[],
    )
    html = template.render(
        Context({"clinic": CLINIC, "person": clinician_stub(), "thing": service})
    )
    page = Page(html)
    assert page.node("Person")["name"] == "Sylvestra Ramirez"
    assert page.node("Service")["provider"]["name"] == "Test Motion Clinic"


def test_article_author_links_the_profile():
    article = SimpleNamespace(
        title="Dry needling explained",
        summary="What a session is like.",
        get_absolute_url=lambda: "/articles/dry-needling/",
        author="",
        author_profile=clinician_stub(),
        reviewer=clinician_stub(name="Jordan Ellis", get_absolute_url=lambda: "/team/jordan/"),
        reviewed_by="",
        reviewed_on=datetime.date(2025, 3, 14),
        published_at=timezone.now(),
        updated_at=None,
        image_renditions=lambda: None,
    )
    data = seo.article_node(article, CLINIC)
    webpage, node = data["@graph"]
    assert node["author"] == {
        "@type": "Person",
        "@id": f"{SITE}/team/sylvestra-ramirez/#person",
        "name": "Sylvestra Ramirez",
        "url": f"{SITE}/team/sylvestra-ramirez/",
    }
    assert webpage["reviewedBy"]["url"] == f"{SITE}/team/jordan/"
    assert schemaorg.problems(data) == []
    assert google_problems(node) == []


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("(860) 555-0100", "+18605550100"),
        ("1-860-555-0100", "+18605550100"),
        ("860.555.0100", "+18605550100"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phone_numbers_in_e164(typed, expected):
    assert e164(typed) == seo.telephone(typed) == expected


def test_a_number_that_cannot_be_e164_is_left_as_typed():
    assert seo.telephone("555-0100") == "555-0100"


def test_the_schema_org_check_finds_what_validators_flag():
    node = {
        "@context": "https://schema.org",
        "@type": "Physiotherapy",
        "branchOf": {"@id": "x"},
        "eligibleCustomerType": "Firefighters",
        "colour": "blue",
        "openingHoursSpecification": {"@type": "Person", "dayOfWeek": "https://schema.org/Mon"},
    }
    found = schemaorg.problems(node)
    assert [problem.split(":")[0] for problem in found] == [
        "branchOf",  # superseded
        "eligibleCustomerType",  # not a property of Physiotherapy
        "eligibleCustomerType",  # text where a BusinessEntityType is expected
        "colour",  # no such property
        "openingHoursSpecification",  # a Person where OpeningHoursSpecification is expected
        "openingHoursSpecification.dayOfWeek",  # not a property of Person
        "openingHoursSpecification.dayOfWeek",  # no such enumeration value
    ], found
    assert google_problems(node) == ["None: no name", "None: no address"]


# --- Breadcrumbs ---------------------------------------------------------------------


def test_breadcrumbs_on_every_page_but_home(client, clinic):
    article = ArticleFactory(title="Knee pain")
    office = OfficeFactory(name="Avon Office")
    promo = PromotionFactory(title="Responders offer")
    expected = {
        "/articles/": [("Home", "/"), ("Articles", None)],
        article.get_absolute_url(): [
            ("Home", "/"),
            ("Articles", "/articles/"),
            ("Knee pain", None),
        ],
        "/offices/": [("Home", "/"), ("Offices & hours", None)],
        office.get_absolute_url(): [
            ("Home", "/"),
            ("Offices & hours", "/offices/"),
            ("Avon Office", None),
        ],
        promo.get_absolute_url(): [("Home", "/"), ("Responders offer", None)],
        "/consultation/": [("Home", "/"), ("Free consultation", None)],
        "/consultation/thanks/": [
            ("Home", "/"),
            ("Free consultation", "/consultation/"),
            ("Thank you", None),
        ],
        "/privacy/": [("Home", "/"), ("Privacy notice", None)],
    }
    for url, trail in expected.items():
        page = get_page(client, url)
        assert page.breadcrumb_navs == 1, url
        assert [(text.strip(), href) for text, href, _ in page.crumbs] == trail, url
        assert [current for *_, current in page.crumbs] == [None] * (len(trail) - 1) + ["page"]
        jsonld = page.node("BreadcrumbList")["itemListElement"]
        assert [item["position"] for item in jsonld] == list(range(1, len(trail) + 1))
        assert [item["name"] for item in jsonld] == [name for name, _ in trail]
        assert jsonld[0]["item"] == f"{SITE}/"
        assert jsonld[-1]["item"] == f"{SITE}{url}"

    home = get_page(client, "/")
    assert home.breadcrumb_navs == 0 and home.crumbs == []


def test_breadcrumbs_markup_is_an_ordered_list(client, clinic):
    html = client.get("/offices/").content.decode()
    nav = html[html.index('<nav class="container pt-3" aria-label="Breadcrumb">') :]
    nav = nav[: nav.index("</nav>")]
    assert "<ol" in nav
    assert '<li class="breadcrumb-item active" aria-current="page">Offices &amp; hours</li>' in nav


# --- sitemap.xml, robots.txt, favicon ---------------------------------------------------


def sitemap_entries(client, **extra):
    response = client.get("/sitemap.xml", **extra)
    assert response.status_code == HTTPStatus.OK
    root = ET.fromstring(response.content)
    ns = SITEMAP_NS
    return {
        url.findtext("sm:loc", namespaces=ns): url.findtext("sm:lastmod", namespaces=ns)
        for url in root.findall("sm:url", ns)
    }


def test_sitemap_lists_public_pages_on_site_url(client, clinic):
    live = ArticleFactory()
    draft = ArticleFactory(status=Article.Status.DRAFT)
    scheduled = ArticleFactory(published_at=timezone.now() + datetime.timedelta(days=2))
    office = OfficeFactory()
    closed = OfficeFactory(is_active=False)
    promo = PromotionFactory()
    hidden_promo = PromotionFactory(is_active=False)
    ended_promo = PromotionFactory(
        starts_on=timezone.localdate() - datetime.timedelta(days=30),
        ends_on=timezone.localdate() - datetime.timedelta(days=1),
    )

    entries = sitemap_entries(client, HTTP_HOST="127.0.0.1")
    for path in ["/", "/articles/", "/offices/", "/consultation/", "/privacy/"]:
        assert f"{SITE}{path}" in entries, path
    assert f"{SITE}{live.get_absolute_url()}" in entries
    assert entries[f"{SITE}{live.get_absolute_url()}"] == timezone.localtime(
        live.updated_at
    ).strftime("%Y-%m-%d")
    assert f"{SITE}{office.get_absolute_url()}" in entries
    assert f"{SITE}{promo.get_absolute_url()}" in entries
    for hidden in [draft, scheduled, closed, hidden_promo, ended_promo]:
        assert f"{SITE}{hidden.get_absolute_url()}" not in entries, hidden
    assert all(loc.startswith(f"{SITE}/") for loc in entries)
    assert "/consultation/thanks/" not in " ".join(entries)


def test_sitemap_follows_site_url_scheme_and_port(client, clinic, settings):
    settings.SITE_URL = "http://localhost:8123"
    assert "http://localhost:8123/offices/" in sitemap_entries(client)


def test_robots_txt(client):
    response = client.get("/robots.txt")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /admin/" in lines
    assert "Disallow: /" not in lines
    assert f"Sitemap: {SITE}/sitemap.xml" in lines


def test_favicon_route_points_at_an_existing_static_file(client):
    response = client.get("/favicon.ico")
    assert response.status_code in (HTTPStatus.MOVED_PERMANENTLY, HTTPStatus.FOUND)
    location = response["Location"]
    assert location.startswith(django_settings.STATIC_URL)
    assert finders.find(location.removeprefix(django_settings.STATIC_URL))


def test_icons_are_linked_and_exist(client, clinic):
    page = get_page(client, "/")
    icons = {rel: href for rel, href, _ in page.links if rel in ("icon", "apple-touch-icon")}
    assert set(icons) == {"icon", "apple-touch-icon"}
    for rel, href, _ in page.links:
        if rel in ("icon", "apple-touch-icon"):
            assert finders.find(href.removeprefix(django_settings.STATIC_URL)), href
    with Image.open(finders.find("img/apple-touch-icon.png")) as img:
        assert img.size == (180, 180)
    with Image.open(finders.find("img/favicon.ico")) as img:
        assert img.format == "ICO"
