"""Services, team profiles, pages, the menu and the home page, as patients and staff see them.

Assertions read what a visitor reads (text, links, the menus by their labels), not the
markup, which the templates' look may change. Query counts: tests/test_query_counts.py;
admin smoke tests of these models: tests/test_admin.py.
"""

import datetime
from html.parser import HTMLParser
from http import HTTPStatus

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from clinic_site import navigation
from pages.models import Article, HomePage, MenuItem, Page, Service

from .factories import (
    ArticleFactory,
    ClinicianFactory,
    MenuItemFactory,
    OfficeFactory,
    PageFactory,
    PromotionFactory,
    ServiceFactory,
)
from .test_admin import admin_url, article_form_data, assert_form_error, text_of
from .test_seo import get_page, sitemap_entries

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher", "clinic")]

SITE = "https://clinic.example"
PREVIEW = "Preview:"  # the banner over a page only staff can see (base.html)


class Seen(HTMLParser):
    """What a visitor reads: the page's text, the text of ``<main>`` less the embedded
    consultation form (whose office list names every office), its links and each
    ``<nav>``'s links by the nav's label."""

    def __init__(self, response):
        super().__init__(convert_charrefs=True)
        self._words, self._main = [], []
        self.links = []  # (href, text) of every link in <main>, form excluded
        self.navs = {}  # aria-label -> [(href, text, aria-current)]
        self._in_main = self._in_form = self._skip = False
        self._nav = self._link = None
        self.feed(response.content.decode())

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "main":
            self._in_main = True
        elif tag == "form":
            self._in_form = True
        elif tag in ("script", "style", "template"):
            self._skip = True
        elif tag == "nav":
            self._nav = a.get("aria-label", "")
            self.navs.setdefault(self._nav, [])
        elif tag == "a":
            self._link = (a.get("href"), a.get("aria-current"), [])

    def handle_endtag(self, tag):
        if tag == "main":
            self._in_main = False
        elif tag == "form":
            self._in_form = False
        elif tag in ("script", "style", "template"):
            self._skip = False
        elif tag == "nav":
            self._nav = None
        elif tag == "a" and self._link is not None:
            href, current, parts = self._link
            text = " ".join("".join(parts).split())
            if self._nav is not None:
                self.navs[self._nav].append((href, text, current))
            if self._in_main and not self._in_form:
                self.links.append((href, text))
            self._link = None

    def handle_data(self, data):
        if self._skip:
            return
        self._words.append(data)
        if self._in_main and not self._in_form:
            self._main.append(data)
        if self._link is not None:
            self._link[2].append(data)

    @property
    def text(self):
        return " ".join(" ".join(self._words).split())

    @property
    def main(self):
        return " ".join(" ".join(self._main).split())

    def menu(self, label):
        """The links of the nav labelled ``label`` ("Main", "Footer")."""
        return self.navs[label]


def seen(client, url, status=HTTPStatus.OK):
    response = client.get(url)
    assert response.status_code == status, url
    return Seen(response)


# --------------------------------------------------------------------------- visibility

KINDS = {
    "service": (lambda **kw: ServiceFactory(title="Dry needling", **kw), "is_published"),
    "profile": (lambda **kw: ClinicianFactory(name="Ana Lopez", **kw), "is_shown"),
    "page": (lambda **kw: PageFactory(title="Insurance and payment", **kw), "is_published"),
}
LISTED_ON = {"service": "/services/", "profile": "/team/", "page": None}


def heading(row):
    """A service's or page's title, a profile's name (credentials may be set apart)."""
    return getattr(row, "name", None) or row.title


def make(kind, shown=True):
    factory, flag = KINDS[kind]
    return factory(**{flag: shown})


@pytest.mark.parametrize("kind", list(KINDS))
def test_published_content_is_public_and_cached(client, kind):
    row = make(kind)
    first = client.get(row.get_absolute_url())
    second = client.get(row.get_absolute_url())
    assert first.status_code == second.status_code == HTTPStatus.OK
    assert (first.page_cache, second.page_cache) == ("miss", "hit")
    page = Seen(second)
    assert heading(row) in page.main
    assert PREVIEW not in page.text
    assert "private" not in second.get("Cache-Control", "")
    if LISTED_ON[kind]:
        assert heading(row) in seen(client, LISTED_ON[kind]).main


@pytest.mark.parametrize("kind", list(KINDS))
def test_hidden_content_is_404_for_visitors_and_a_marked_preview_for_staff(
    client, admin_client, kind
):
    row = make(kind, shown=False)
    url = row.get_absolute_url()
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND
    assert client.get(url).page_cache is None  # a 404 is never stored either
    if LISTED_ON[kind]:
        assert heading(row) not in seen(client, LISTED_ON[kind]).main

    preview = admin_client.get(url)
    assert preview.status_code == HTTPStatus.OK
    page = Seen(preview)
    assert heading(row) in page.main
    assert "only staff can see this page" in page.text and PREVIEW in page.text
    assert preview.page_cache is None
    assert "no-store" in preview["Cache-Control"] and "private" in preview["Cache-Control"]
    assert preview["X-Robots-Tag"] == "noindex"
    # Staff previewing leave nothing behind for visitors.
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("kind", list(KINDS))
def test_published_content_has_no_preview_banner_for_staff(admin_client, kind):
    response = admin_client.get(make(kind).get_absolute_url())
    assert response.status_code == HTTPStatus.OK
    assert PREVIEW not in Seen(response).text


# --------------------------------------------------------------------------- service page


def test_service_page_lists_its_articles_team_offices_and_running_offers(client):
    today = timezone.localdate()
    service = ServiceFactory(title="Dry needling", who_it_helps="Runners\n- Desk workers")
    other = ServiceFactory(title="Sports massage")
    for title, status, services in [
        ("Needling explained", Article.Status.PUBLISHED, [service]),
        ("Needling draft", Article.Status.DRAFT, [service]),
        ("Massage tips", Article.Status.PUBLISHED, [other]),
    ]:
        ArticleFactory(title=title, status=status).services.set(services)
    for name, shown, services in [
        ("Ana Lopez", True, [service]),
        ("Gone Person", False, [service]),
        ("Ben Other", True, [other]),
    ]:
        ClinicianFactory(name=name, is_shown=shown).services.set(services)
    avon = OfficeFactory(name="Avon Office")
    service.offices.add(avon, OfficeFactory(name="Closed Office", is_active=False))
    OfficeFactory(name="Newington Office")  # open, but does not offer it
    running = PromotionFactory(title="Needling week", service=service, amount="25.00")
    PromotionFactory(
        title="Needling last year", service=service, ends_on=today - datetime.timedelta(days=1)
    )
    PromotionFactory(title="Needling paused", service=service, is_active=False)
    PromotionFactory(title="Massage offer", service=other)

    page = seen(client, service.get_absolute_url())
    main = page.main
    assert "Dry needling" in main and "Runners" in main and "Desk workers" in main
    assert "Needling explained" in main
    assert "Ana Lopez" in main
    assert "Avon Office" in main and (avon.get_absolute_url(), "Avon Office") in page.links
    assert "Needling week" in main and "$25.00" in main
    assert any(href == running.get_absolute_url() for href, _ in page.links)
    for absent in [
        "Needling draft",
        "Massage tips",
        "Gone Person",
        "Ben Other",
        "Closed Office",
        "Newington Office",
        "Needling last year",
        "Needling paused",
        "Massage offer",
    ]:
        assert absent not in main, absent


def test_service_list_shows_published_services_in_their_order(client):
    ServiceFactory(title="Second service", display_order=2)
    ServiceFactory(title="First service", display_order=1)
    ServiceFactory(title="Hidden service", display_order=0, is_published=False)
    main = seen(client, "/services/").main
    assert "Hidden service" not in main
    assert main.index("First service") < main.index("Second service")


def test_an_offer_links_to_its_service_while_the_service_is_public(client, commit):
    service = ServiceFactory(title="Dry needling")
    offer = PromotionFactory(title="Needling week", service=service)
    page = seen(client, offer.get_absolute_url())
    assert (service.get_absolute_url(), "Dry needling") in page.links
    with commit():
        service.is_published = False
        service.save()
    page = seen(client, offer.get_absolute_url())
    assert service.get_absolute_url() not in [href for href, _ in page.links]
    assert "Needling week" in page.main


# --------------------------------------------------------------------------- profiles


def test_profile_shows_credentials_role_languages_services_offices_and_articles(client):
    person = ClinicianFactory(
        name="Ana Lopez",
        credentials="PT, DPT",
        role="Physical therapist",
        languages="English, Spanish",
    )
    needling = ServiceFactory(title="Dry needling")
    hidden_service = ServiceFactory(title="Secret service", is_published=False)
    person.services.add(needling, hidden_service)
    bloomfield = OfficeFactory(name="Bloomfield Office")
    person.offices.add(bloomfield, OfficeFactory(name="Closed Office", is_active=False))
    ArticleFactory(title="Knee pain after running", author="", author_profile=person)
    ArticleFactory(title="Her draft", author="", author_profile=person, status=Article.Status.DRAFT)
    ArticleFactory(title="Someone else's piece")

    page = seen(client, person.get_absolute_url())
    main = page.main
    for shown in ["Ana Lopez", "PT, DPT", "Physical therapist", "English", "Spanish"]:
        assert shown in main, shown
    assert (needling.get_absolute_url(), "Dry needling") in page.links
    assert (bloomfield.get_absolute_url(), "Bloomfield Office") in page.links
    assert "Knee pain after running" in main
    for absent in ["Secret service", "Closed Office", "Her draft", "Someone else's piece"]:
        assert absent not in main, absent


def test_team_page_lists_shown_profiles_in_their_order_linked(client):
    second = ClinicianFactory(name="Ben Second", display_order=2)
    first = ClinicianFactory(name="Ana First", display_order=1)
    ClinicianFactory(name="Hidden Person", display_order=0, is_shown=False)
    page = seen(client, "/team/")
    assert "Hidden Person" not in page.main
    assert page.main.index("Ana First") < page.main.index("Ben Second")
    hrefs = [href for href, _ in page.links]
    assert first.get_absolute_url() in hrefs and second.get_absolute_url() in hrefs


def test_byline_links_to_the_author_and_reviewer_profiles(client):
    author = ClinicianFactory(name="Ana Lopez", credentials="PT, DPT")
    reviewer = ClinicianFactory(name="Jordan Ellis", credentials="PT")
    article = ArticleFactory(
        author="", author_profile=author, reviewer=reviewer, reviewed_on=datetime.date(2026, 1, 5)
    )
    page = seen(client, article.get_absolute_url())
    assert "By Ana Lopez, PT, DPT" in page.main
    assert (author.get_absolute_url(), "Ana Lopez, PT, DPT") in page.links
    assert "Medically reviewed by Jordan Ellis, PT on January 5, 2026" in page.main
    assert (reviewer.get_absolute_url(), "Jordan Ellis, PT") in page.links


def test_guest_author_and_reviewer_are_text_without_a_link(client):
    article = ArticleFactory(author="Guest Writer", reviewed_by="Dr. Visiting, MD")
    page = seen(client, article.get_absolute_url())
    assert "By Guest Writer" in page.main
    assert "Medically reviewed by Dr. Visiting, MD" in page.main
    linked = " ".join(text for _, text in page.links)
    assert "Guest Writer" not in linked and "Visiting" not in linked
    assert not any(href.startswith("/team/") for href, _ in page.links)


def test_a_hidden_profile_is_named_in_bylines_but_not_linked(client):
    """Someone who left the team still wrote the article; their profile is a 404 now."""
    gone = ClinicianFactory(name="Former Colleague", is_shown=False)
    article = ArticleFactory(author="", author_profile=gone, reviewer=gone)
    page = seen(client, article.get_absolute_url())
    assert "By Former Colleague" in page.main
    assert "Medically reviewed by Former Colleague" in page.main
    assert gone.get_absolute_url() not in [href for href, _ in page.links]


# --------------------------------------------------------------------------- Article.clean

AUTHOR_ERRORS = {
    "team author and guest author": (
        {"author": "Guest Writer"},
        "Choose a team member or type a guest author's name, not both.",
    ),
    "no author at all": ({"author": ""}, "Choose the author, or type a guest author."),
    "team reviewer and guest reviewer": (
        {"reviewed_by": "Dr. Visiting"},
        "Choose a team member or type a guest reviewer, not both.",
    ),
    "review date without a reviewer": (
        {"reviewer": "", "reviewed_on": "2026-01-05"},
        "Say who reviewed the article.",
    ),
}


@pytest.mark.parametrize("case", list(AUTHOR_ERRORS))
def test_article_author_and_reviewer_rules_are_form_errors(admin_client, case):
    person = ClinicianFactory()
    fields, message = AUTHOR_ERRORS[case]
    base = {"author": "", "author_profile": person.pk, "reviewer": person.pk}
    if case == "no author at all":
        base["author_profile"] = ""
    response = admin_client.post(admin_url(Article, "add"), article_form_data(**{**base, **fields}))
    assert_form_error(response, message)
    assert not Article.objects.exists()


def test_article_with_team_author_and_reviewer_is_saved_from_admin(admin_client, client):
    author, reviewer = ClinicianFactory(name="Ana Lopez"), ClinicianFactory(name="Jordan Ellis")
    data = article_form_data(
        author="", author_profile=author.pk, reviewer=reviewer.pk, reviewed_on="2024-01-10"
    )
    response = admin_client.post(admin_url(Article, "add"), data)
    assert response.status_code == HTTPStatus.FOUND, response.context["adminform"].form.errors
    article = Article.objects.get()
    assert (article.author_profile, article.reviewer) == (author, reviewer)
    assert "Ana Lopez" in seen(client, article.get_absolute_url()).main


# --------------------------------------------------------------------------- menus


def menu_links(page, label):
    return [(href, text) for href, text, _ in page.menu(label)]


def test_menu_and_footer_render_in_order_with_default_or_custom_labels(client):
    MenuItem.objects.all().delete()
    about = PageFactory(title="About us", slug="about-us")
    needling = ServiceFactory(title="Dry needling")
    MenuItemFactory(section="services", label="What we do", order=10)
    MenuItemFactory(page=about, section="", order=20)
    MenuItemFactory(service=needling, section="", label="", order=15)
    MenuItemFactory(section="articles", order=30)
    MenuItemFactory(location=MenuItem.Location.FOOTER, section="consultation", order=2)
    MenuItemFactory(
        location=MenuItem.Location.FOOTER, page=about, section="", label="Who we are", order=1
    )

    page = seen(client, "/offices/")
    assert menu_links(page, "Main") == [
        ("/services/", "What we do"),
        (needling.get_absolute_url(), "Dry needling"),
        ("/about-us/", "About us"),
        ("/articles/", "Articles"),
    ]
    assert menu_links(page, "Footer") == [
        ("/about-us/", "Who we are"),
        ("/consultation/", "Free consultation"),
    ]


def test_a_link_to_a_hidden_page_or_service_disappears_from_the_menus(client, commit):
    MenuItem.objects.all().delete()
    page, service = PageFactory(title="About us"), ServiceFactory(title="Dry needling")
    MenuItemFactory(section="articles", order=1)
    MenuItemFactory(page=page, section="", order=2)
    MenuItemFactory(service=service, section="", order=3)
    MenuItemFactory(location=MenuItem.Location.FOOTER, service=service, section="")
    assert [text for _, text in menu_links(seen(client, "/"), "Main")] == [
        "Articles",
        "About us",
        "Dry needling",
    ]
    with commit():
        page.is_published = False
        page.save()
        service.is_published = False
        service.save()
    shown = seen(client, "/")
    assert menu_links(shown, "Main") == [("/articles/", "Articles")]
    assert "Footer" not in shown.navs  # nothing left to show there
    assert "About us" not in shown.text and "Dry needling" not in shown.text


def test_the_current_page_is_marked_in_the_menu(client):
    MenuItem.objects.all().delete()
    about = PageFactory(title="About us", slug="about-us")
    MenuItemFactory(section="services", order=1)
    MenuItemFactory(page=about, section="", order=2)
    for url, current in [("/services/", "Services"), ("/about-us/", "About us"), ("/team/", None)]:
        marked = [text for _, text, aria in seen(client, url).menu("Main") if aria == "page"]
        assert marked == ([current] if current else []), url


@pytest.mark.parametrize("key", list(navigation.sections()))
def test_every_built_in_section_leads_to_its_page(client, key):
    MenuItem.objects.all().delete()
    label, url_name = navigation.sections()[key]
    MenuItemFactory(location=MenuItem.Location.FOOTER, section=key)
    [(href, text, _)] = seen(client, "/").menu("Footer")
    assert (href, text) == (reverse(url_name), label)
    assert client.get(href).status_code == HTTPStatus.OK


def test_consultation_section_comes_from_the_contact_app(client):
    assert navigation.section_url("consultation") == reverse("contact:request")
    assert ("consultation", "Free consultation") in navigation.section_choices()


MSG_ONE_TARGET = "Choose exactly one: a section, a page or a service."


def menu_item_data(**overrides):
    data = {"location": "main", "section": "", "page": "", "service": "", "label": "", "order": "0"}
    return {**data, **overrides}


@pytest.mark.parametrize("targets", ["none", "section and page", "page and service"])
def test_a_menu_link_needs_exactly_one_target_in_admin(admin_client, targets):
    page, service = PageFactory(), ServiceFactory()
    fields = {
        "none": {},
        "section and page": {"section": "articles", "page": page.pk},
        "page and service": {"page": page.pk, "service": service.pk},
    }[targets]
    before = MenuItem.objects.count()
    response = admin_client.post(admin_url(MenuItem, "add"), menu_item_data(**fields))
    assert_form_error(response, MSG_ONE_TARGET)
    assert text_of(response).count("Choose exactly one") == 1  # said once, not twice
    assert MenuItem.objects.count() == before


@pytest.mark.parametrize("targets", ["none", "section and service", "all three"])
def test_the_database_refuses_a_menu_link_without_exactly_one_target(targets):
    page, service = PageFactory(), ServiceFactory()
    fields = {
        "none": {"section": ""},
        "section and service": {"section": "articles", "service": service},
        "all three": {"section": "articles", "page": page, "service": service},
    }[targets]
    with pytest.raises(IntegrityError), transaction.atomic():
        MenuItem.objects.create(**fields)


def test_a_menu_link_with_one_target_is_saved_from_admin(admin_client, client):
    page = PageFactory(title="About us")
    response = admin_client.post(
        admin_url(MenuItem, "add"), menu_item_data(page=page.pk, label="Our story", order="99")
    )
    assert response.status_code == HTTPStatus.FOUND
    assert (page.get_absolute_url(), "Our story") in menu_links(seen(client, "/"), "Main")


# --------------------------------------------------------------------------- home page


def test_home_page_says_what_staff_wrote(client):
    HomePage.objects.create(
        heading="Move without pain", text="Sports rehab in three towns.", button_label="Ask us"
    )
    page = seen(client, "/")
    assert "Move without pain" in page.main and "Sports rehab in three towns." in page.main
    assert any(text == "Ask us" and href.startswith("/consultation/") for href, text in page.links)


def test_home_page_without_a_row_still_shows_sensible_defaults(client, clinic):
    assert not HomePage.objects.exists()
    ServiceFactory(title="Dry needling")
    PromotionFactory(title="Responders offer")
    for days in range(4):
        ArticleFactory(
            title=f"Article {days} days old",
            published_at=timezone.now() - datetime.timedelta(days=days + 1),
        )
    page = seen(client, "/")
    assert clinic.name in page.main
    assert any(text == "Book a free consultation" for _, text in page.links)
    assert "Dry needling" in page.main and "Responders offer" in page.main
    assert [f"Article {n} days old" in page.main for n in range(4)] == [True, True, True, False]


def test_featured_rows_replace_the_defaults_and_keep_their_order(client):
    home = HomePage.objects.create(heading="Welcome", text="Hello.")
    late = ServiceFactory(title="Featured late", display_order=5)
    early = ServiceFactory(title="Featured early", display_order=1)
    ServiceFactory(title="Not featured service", display_order=0)
    now = timezone.now()
    older = ArticleFactory(title="Featured older", published_at=now - datetime.timedelta(days=9))
    newer = ArticleFactory(title="Featured newer", published_at=now - datetime.timedelta(days=8))
    ArticleFactory.create_batch(3, title="Newest, not featured")
    offer = PromotionFactory(title="Featured offer")
    PromotionFactory(title="Other running offer")
    home.services.add(late, early)
    home.articles.add(older, newer)
    home.promotions.add(offer)

    main = seen(client, "/").main
    assert main.index("Featured early") < main.index("Featured late")
    assert main.index("Featured newer") < main.index("Featured older")
    assert "Featured offer" in main
    for absent in ["Not featured service", "Newest, not featured", "Other running offer"]:
        assert absent not in main, absent


def test_a_featured_row_that_is_hidden_is_not_shown(client):
    home = HomePage.objects.create(heading="Welcome", text="Hello.")
    shown, hidden = ServiceFactory(title="Shown one"), ServiceFactory(title="Hidden one")
    draft = ArticleFactory(title="A draft", status=Article.Status.DRAFT)
    ended = PromotionFactory(title="Ended offer", is_active=False)
    home.services.add(shown, hidden)
    home.articles.add(draft)
    home.promotions.add(ended)
    Service.objects.filter(pk=hidden.pk).update(is_published=False)
    main = seen(client, "/").main
    assert "Shown one" in main
    for absent in ["Hidden one", "A draft", "Ended offer"]:
        assert absent not in main, absent


# --------------------------------------------------------------------------- page slugs


# /static/ and /media/ are the web server's (deploy/nginx): a page there would never load.
@pytest.mark.parametrize(
    "slug", ["services", "team", "articles", "search", "admin", "consultation", "static", "media"]
)
def test_a_page_cannot_take_an_address_the_site_uses(admin_client, slug):
    data = {"title": "Clash", "slug": slug, "summary": "", "body": "<p>Text.</p>", "image_alt": ""}
    data["is_published"] = "on"
    response = admin_client.post(admin_url(Page, "add"), data)
    assert_form_error(
        response, f"The site already uses /{slug}/ for something else. Choose another slug."
    )
    assert not Page.objects.exists()


def test_a_page_with_its_own_address_is_saved_and_shown(admin_client, client):
    data = {
        "title": "Insurance and payment",
        "slug": "insurance",
        "summary": "",
        "body": "<p>We take most plans.</p>",
        "image_alt": "",
        "is_published": "on",
    }
    response = admin_client.post(admin_url(Page, "add"), data)
    assert response.status_code == HTTPStatus.FOUND
    assert "We take most plans." in seen(client, "/insurance/").main


# --------------------------------------------------------------------------- page cache


def cached(client, url):
    client.get(url)
    response = client.get(url)
    assert response.page_cache == "hit", url
    return Seen(response)


def test_edits_to_services_profiles_and_pages_show_on_cached_pages_at_once(client, commit):
    service = ServiceFactory(title="Dry needling")
    person = ClinicianFactory(name="Ana Lopez")
    page = PageFactory(title="About us")
    urls = ["/services/", service.get_absolute_url(), "/team/", person.get_absolute_url()]
    for url in [*urls, page.get_absolute_url()]:
        cached(client, url)
    with commit():
        service.title = "Trigger point dry needling"
        service.save()
        person.name = "Ana Lopez-Ruiz"
        person.save()
        page.body = "<p>Since 2010.</p>"
        page.save()
    assert "Trigger point dry needling" in seen(client, "/services/").main
    assert "Trigger point dry needling" in seen(client, service.get_absolute_url()).main
    assert "Ana Lopez-Ruiz" in seen(client, "/team/").main
    assert "Ana Lopez-Ruiz" in seen(client, person.get_absolute_url()).main
    assert "Since 2010." in seen(client, page.get_absolute_url()).main


@pytest.mark.parametrize(
    "relation", ["office of a service", "service of a profile", "service of an article"]
)
def test_a_link_between_rows_alone_shows_on_cached_pages_at_once(client, commit, relation):
    service = ServiceFactory(title="Dry needling")
    office = OfficeFactory(name="Avon Office")
    person = ClinicianFactory(name="Ana Lopez")
    article = ArticleFactory(title="Needling explained")
    url = service.get_absolute_url()
    seen_before = cached(client, url).main
    expected = {
        "office of a service": "Avon Office",
        "service of a profile": "Ana Lopez",
        "service of an article": "Needling explained",
    }[relation]
    assert expected not in seen_before
    with commit():
        {
            "office of a service": lambda: service.offices.add(office),
            "service of a profile": lambda: person.services.add(service),
            "service of an article": lambda: article.services.add(service),
        }[relation]()
    response = client.get(url)
    assert response.page_cache == "miss"
    assert expected in Seen(response).main


def test_menu_link_edits_show_on_cached_pages_at_once(client, commit):
    item = MenuItem.objects.get(location=MenuItem.Location.MAIN, section="articles")
    assert ("/articles/", "Articles") in menu_links(cached(client, "/offices/"), "Main")
    with commit():
        item.label = "Reading"
        item.save()
    assert ("/articles/", "Reading") in menu_links(seen(client, "/offices/"), "Main")
    with commit():
        item.delete()
    assert "/articles/" not in [href for href, _ in menu_links(seen(client, "/offices/"), "Main")]


def test_home_page_edits_and_featured_changes_show_at_once(client, commit):
    home = HomePage.objects.create(heading="Old heading", text="Hello.")
    kept = ServiceFactory(title="Kept service")
    ServiceFactory(title="Dropped service")
    before = cached(client, "/").main
    assert "Old heading" in before and "Dropped service" in before
    with commit():
        home.heading = "New heading"
        home.save()
    assert "New heading" in seen(client, "/").main
    cached(client, "/")
    with commit():
        home.services.add(kept)  # only the M2M changes
    main = seen(client, "/").main
    assert "Kept service" in main and "Dropped service" not in main


# --------------------------------------------------------------------------- sitemap, breadcrumbs


def test_sitemap_lists_published_services_shown_profiles_and_pages(client, settings):
    settings.SITE_URL = SITE
    public = [ServiceFactory(), ClinicianFactory(), PageFactory()]
    hidden = [
        ServiceFactory(is_published=False),
        ClinicianFactory(is_shown=False),
        PageFactory(is_published=False),
    ]
    entries = sitemap_entries(client)
    for path in ["/services/", "/team/"]:
        assert f"{SITE}{path}" in entries, path
    for row in public:
        assert entries[f"{SITE}{row.get_absolute_url()}"] == timezone.localtime(
            row.updated_at
        ).strftime("%Y-%m-%d")
    for row in hidden:
        assert f"{SITE}{row.get_absolute_url()}" not in entries, row


def test_breadcrumbs_of_services_profiles_and_pages(client):
    service = ServiceFactory(title="Dry needling")
    person = ClinicianFactory(name="Ana Lopez", credentials="PT, DPT")
    page = PageFactory(title="About us")
    expected = {
        "/services/": [("Home", "/"), ("Services", None)],
        service.get_absolute_url(): [
            ("Home", "/"),
            ("Services", "/services/"),
            ("Dry needling", None),
        ],
        "/team/": [("Home", "/"), ("Our team", None)],
        person.get_absolute_url(): [("Home", "/"), ("Our team", "/team/"), ("Ana Lopez", None)],
        page.get_absolute_url(): [("Home", "/"), ("About us", None)],
    }
    for url, trail in expected.items():
        crumbs = get_page(client, url).crumbs
        assert [(text.strip(), href) for text, href, _ in crumbs] == trail, url
        assert crumbs[-1][2] == "page", url


# --- Words from clinic settings ------------------------------------------------------


def test_section_introductions_and_the_invitation_come_from_clinic_settings(client, clinic, commit):
    clinic.services_intro = "Everything we do, in one place."
    clinic.team_intro = "The people you will meet."
    clinic.articles_intro = "Reading for the waiting room."
    clinic.offices_intro = "Three towns, one team."
    clinic.consultation_heading = "Come and talk to us"
    clinic.consultation_intro = "Leave a number and we ring you back."
    clinic.save()
    ArticleFactory()
    assert "Everything we do, in one place." in text_of(client.get("/services/"))
    assert "The people you will meet." in text_of(client.get("/team/"))
    assert "Reading for the waiting room." in text_of(client.get("/articles/"))
    assert "Three towns, one team." in text_of(client.get("/offices/"))
    assert "Come and talk to us" in text_of(client.get("/services/"))
    assert "Leave a number and we ring you back." in text_of(client.get("/"))
    assert "Leave a number and we ring you back." in text_of(client.get("/consultation/"))
    article = Article.objects.get()
    assert "Leave a number and we ring you back." in text_of(client.get(article.get_absolute_url()))

    clinic.services_intro = ""
    with commit():
        clinic.save()
    assert "Everything we do" not in text_of(client.get("/services/"))
