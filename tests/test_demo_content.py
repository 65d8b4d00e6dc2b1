"""The demo content command: what it creates, that it is idempotent, and that it is ours."""

import datetime
import re
from decimal import Decimal
from html.parser import HTMLParser
from http import HTTPStatus
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from clinic_site.models import ClinicSettings
from contact.demo_content import load_demo_content as load_contact_demo
from pages import picture_files
from pages.demo_content import (
    COUNT_KEYS,
    demo_text,
    load_demo_content,
    thanksgiving,
    upcoming_closures,
)
from pages.management.commands.check_demo_copy import demo_text as checked_text
from pages.management.commands.check_demo_copy import normalise, text_blocks
from pages.models import (
    Article,
    Clinician,
    Closure,
    HomePage,
    MenuItem,
    Office,
    OpeningHours,
    Page,
    Promotion,
    Service,
)

from .factories import ArticleFactory, PromotionFactory

pytestmark = pytest.mark.django_db

ALL_MODELS = (
    ClinicSettings,
    Article,
    Office,
    OpeningHours,
    Closure,
    Promotion,
    Service,
    Clinician,
    Page,
    MenuItem,
    HomePage,
    # The links between rows count as rows too.
    Article.services.through,
    Service.offices.through,
    Clinician.services.through,
    Clinician.offices.through,
    HomePage.services.through,
    HomePage.promotions.through,
    HomePage.articles.through,
)
SERVICE_SLUGS = ["dry-needling", "physical-therapy", "sports-rehabilitation", "fitness-memberships"]
PAGE_SLUGS = {"about", "new-patients", "insurance-and-payment"}
DRY_NEEDLING_ARTICLES = {"understanding-dry-needling-back-shoulder-pain", "what-is-dry-needling"}
# The one person the seeds name; anyone else in the demo team is a sample.
SEED_PEOPLE = {"sylvestra-ramirez"}

CONDITIONS = [
    "migraines",
    "tension-type headaches",
    "carpal tunnel",
    "computer-related disorders",
    "whiplash-associated disorders",
    "spinal dysfunction",
    "pelvic pain and other urologic syndromes",
    "post-herpetic neuralgia",
    "complex regional pain syndrome",
    "nocturnal cramps",
    "phantom pain",
    "tendonitis",
    "disk pathology",
    "joint dysfunction",
]


@pytest.fixture
def with_renditions():
    """Request this to let saving a picture write its resized copies, as in production."""


@pytest.fixture(autouse=True)
def skip_renditions(request, monkeypatch):
    # Resizing fourteen pictures takes seconds; only the picture test needs the copies.
    if "with_renditions" not in request.fixturenames:
        monkeypatch.setattr(picture_files, "write_renditions", lambda picture, specs: None)


def run_command() -> str:
    out = StringIO()
    call_command("load_demo_content", stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    """Every row of every demo model, all columns (updated_at included)."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in ALL_MODELS}


class BlockText(HTMLParser):
    """Text of each block element (p, li, h2, h3) separately, and every tag name seen."""

    BLOCKS = {"p", "li", "h2", "h3"}

    def __init__(self):
        super().__init__()
        self.blocks: list[tuple[str, str]] = []
        self.tags: set[str] = set()
        self._stack: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag in self.BLOCKS:
            self._stack.append((tag, []))

    def handle_endtag(self, tag):
        if tag in self.BLOCKS and self._stack:
            name, parts = self._stack.pop()
            self.blocks.append((name, " ".join("".join(parts).split())))

    def handle_data(self, data):
        if self._stack:
            self._stack[-1][1].append(data)


def parse(html: str) -> BlockText:
    parser = BlockText()
    parser.feed(html)
    parser.close()
    return parser


def body_text(html: str) -> str:
    return " ".join(text for _tag, text in parse(html).blocks)


def public_urls() -> list[str]:
    """Every public page the demo has: lists, and each service, profile, page, article,
    office and offer."""
    urls = [
        "/",
        reverse("pages:service_list"),
        reverse("pages:team"),
        reverse("pages:article_list"),
        reverse("pages:office_list"),
    ]
    for queryset in (
        Service.objects.published(),
        Clinician.objects.published(),
        Page.objects.published(),
        Article.objects.published(),
        Office.objects.active(),
        Promotion.objects.active(),
    ):
        urls += [row.get_absolute_url() for row in queryset]
    return urls


@pytest.fixture
def demo_site():
    """Both apps' demo content, as on a fresh `make run`."""
    load_demo_content()
    load_contact_demo()


def test_command_creates_the_demo_content():
    output = run_command()

    assert "Created 4 services, 2 team members, 2 articles, 3 pages, 3 offices" in output
    assert "1 promotion, 4 menu links, home page, clinic settings." in output

    clinic = ClinicSettings.objects.get(pk=1)
    assert clinic.name == "Back to Motion Sports Rehab & Fitness"
    assert clinic.phone == "(860) 555-0100"
    assert clinic.email == "hello@backtomotion.example"
    assert clinic.time_zone == "America/New_York"
    assert clinic.tagline
    assert clinic.footer_text
    assert "©" not in clinic.footer_text

    articles = {a.slug: a for a in Article.objects.published()}
    assert set(articles) == DRY_NEEDLING_ARTICLES
    understanding = articles["understanding-dry-needling-back-shoulder-pain"]
    assert understanding.title == "Understanding Dry Needling for Back and Shoulder Pain"
    assert understanding.author_profile.name == "Sylvestra Ramirez"
    assert understanding.author == ""
    what_is = articles["what-is-dry-needling"]
    assert what_is.title == "What is Dry Needling"
    assert what_is.author_profile is None
    assert what_is.author == "Back to Motion Sports Rehab & Fitness"
    for article in articles.values():
        assert article.published_at.tzinfo is not None
        assert 0 < len(article.summary) <= 300
        assert [s.slug for s in article.services.all()] == ["dry-needling"]

    offices = list(Office.objects.active())
    assert [
        (o.name, o.slug, o.street, o.suite, o.city, o.state, o.zip_code, o.display_order)
        for o in offices
    ] == [
        ("Bloomfield Office", "bloomfield", "45 Wintonbury Ave", "Ste 308", "Bloomfield", "CT",
         "06002", 1),
        ("Newington Office", "newington", "171 Market Square", "#210", "Newington", "CT",
         "06111", 2),
        ("Avon Office", "avon", "56 East Main Street", "", "Avon", "CT", "06001", 3),
    ]  # fmt: skip
    for office in offices:
        assert "555" in office.phone
        assert office.latitude is not None
        assert office.longitude is not None
        assert office.hours.exists()
        assert not office.hours.filter(weekday=OpeningHours.Weekday.SUNDAY).exists()
        assert office.closures.count() == 2

    promotion = Promotion.objects.active().get(show_as_banner=True)
    assert promotion.slug == "first-responder-discount"
    assert promotion.title == "First responders save $50 on fitness memberships"
    assert promotion.amount == Decimal("50.00")
    assert promotion.currency == "USD"
    assert promotion.applies_to == "fitness memberships"
    assert promotion.eligibility == "Firefighters, military, EMTs and police officers"
    assert promotion.fine_print == "Some exclusions may apply."
    assert promotion.starts_on is None
    assert promotion.ends_on is None
    assert promotion.description
    assert promotion.how_to_claim
    assert promotion.service.slug == "fitness-memberships"


def test_function_returns_counts_per_kind():
    counts = load_demo_content()

    assert set(counts) == set(COUNT_KEYS)
    assert counts == {
        "clinic_settings": 1,
        "services": 4,
        "team_members": 2,
        "articles": 2,
        "pages": 3,
        "offices": 3,
        "hours": OpeningHours.objects.count(),
        "closures": 6,
        "promotions": 1,
        "menu_items": 4,
        "home_page": 1,
    }
    assert counts["hours"] >= 15
    assert load_demo_content() == dict.fromkeys(COUNT_KEYS, 0)


def test_four_services_dry_needling_first_at_every_office():
    load_demo_content()

    services = list(Service.objects.published())
    assert [s.slug for s in services] == SERVICE_SLUGS
    assert [s.title for s in services] == [
        "Dry needling",
        "Physical therapy",
        "Sports rehabilitation",
        "Fitness memberships",
    ]
    for service in services:
        assert 0 < len(service.summary) <= 300
        assert service.who_it_helps_list
        assert {o.slug for o in service.offices.all()} == {"bloomfield", "newington", "avon"}

    dry_needling = services[0]
    headings = [text for tag, text in parse(dry_needling.body).blocks if tag == "h2"]
    assert headings[:6] == [
        "What it is",
        "How it works",
        "Benefits",
        "What a session is like",
        "What it can treat",
        "Safety",
    ]
    items = {text for tag, text in parse(dry_needling.body).blocks if tag == "li"}
    assert [c for c in CONDITIONS if c not in items] == []
    assert "under 12" in body_text(dry_needling.body)


def test_fitness_memberships_invent_no_price_or_schedule():
    load_demo_content()
    memberships = Service.objects.get(slug="fitness-memberships")
    text = body_text(memberships.body)

    assert "$50 off" in text
    assert "Some exclusions may apply." in text
    assert "call" in text
    # The seeds name one amount, the discount; no price or timetable is made up.
    amounts = {amount for chunk in demo_text() for amount in re.findall(r"\$[\d.,]+", chunk)}
    assert amounts == {"$50"}
    assert not re.search(r"\d{1,2}(:\d\d)?\s*(am|pm)", text, re.IGNORECASE)


def test_seed_author_and_sample_profiles():
    load_demo_content()

    sylvestra = Clinician.objects.get(slug="sylvestra-ramirez")
    assert sylvestra.name == "Sylvestra Ramirez"
    assert sylvestra.credentials == ""  # the seed gives none
    assert not sylvestra.image
    assert list(sylvestra.articles.values_list("slug", flat=True)) == [
        "understanding-dry-needling-back-shoulder-pain"
    ]

    samples = Clinician.objects.exclude(slug__in=SEED_PEOPLE)
    assert samples.exists()
    for person in samples:
        assert "sample" in person.name.lower()
        assert "sample" in person.role.lower()
        assert "sample profile" in body_text(person.bio).lower()
        assert person.credentials == ""
        assert "placeholder" in person.image_alt.lower()


def test_no_article_names_a_reviewer():
    load_demo_content()

    for article in Article.objects.all():
        assert article.reviewer is None
        assert article.reviewed_by == ""
        assert article.reviewed_on is None
    assert "Jordan Ellis" not in " ".join(demo_text())


def test_pages_say_what_is_sample_text_and_send_patients_to_the_phone():
    load_demo_content()

    pages = {page.slug: page for page in Page.objects.published()}
    assert set(pages) == PAGE_SLUGS
    assert pages["about"].title == "About us"
    assert pages["insurance-and-payment"].title == "Insurance & payment"
    assert pages["new-patients"].title == "New patients"
    for page in pages.values():
        text = body_text(page.body)
        assert "Sample text for the clinic to replace" in text, page.slug
        assert "call" in text, page.slug
        assert "consultation or assessment" in text, page.slug
    insurance = body_text(pages["insurance-and-payment"].body)
    assert "insurance plans it accepts" in insurance


def test_menu_gains_the_pages_and_stays_short():
    load_demo_content()

    def links(location):
        items = MenuItem.objects.filter(location=location).select_related("page")
        return [item.page.slug if item.page else item.section for item in items]

    main = links(MenuItem.Location.MAIN)
    assert main == ["home", "services", "team", "articles", "offices", "about", "consultation"]
    assert links(MenuItem.Location.FOOTER) == [
        "services",
        "team",
        "offices",
        "consultation",
        "about",
        "new-patients",
        "insurance-and-payment",
        "privacy",
    ]


def test_page_joins_a_full_main_menu_only_in_the_footer():
    for order in range(7 - MenuItem.objects.filter(location=MenuItem.Location.MAIN).count()):
        MenuItem.objects.create(location=MenuItem.Location.MAIN, section="search", order=order)

    load_demo_content()

    assert MenuItem.objects.filter(location=MenuItem.Location.MAIN).count() == 7
    assert not MenuItem.objects.filter(location=MenuItem.Location.MAIN, page__isnull=False)
    assert MenuItem.objects.filter(location=MenuItem.Location.FOOTER, page__slug="about").exists()


def test_home_page_features_the_services_offer_and_articles():
    load_demo_content()

    home = HomePage.load()
    assert home.pk == 1
    assert home.heading
    assert home.text
    assert home.button_label == "Ask for a free consultation"
    assert {s.slug for s in home.services.all()} == set(SERVICE_SLUGS)
    assert [p.slug for p in home.promotions.all()] == ["first-responder-discount"]
    assert {a.slug for a in home.articles.all()} == DRY_NEEDLING_ARTICLES


def test_one_office_has_two_rows_on_one_day():
    load_demo_content()

    split = [
        (office.slug, weekday)
        for office in Office.objects.all()
        for weekday in range(7)
        if office.hours.filter(weekday=weekday).count() > 1
    ]
    assert split
    for hours in OpeningHours.objects.all():
        assert hours.closes > hours.opens


def test_every_condition_is_a_list_item():
    load_demo_content()
    body = Article.objects.get(slug="what-is-dry-needling").body

    items = {text for tag, text in parse(body).blocks if tag == "li"}
    missing = [condition for condition in CONDITIONS if condition not in items]
    assert missing == []


def test_bodies_use_only_the_editor_tags_and_keep_their_structure():
    load_demo_content()
    allowed = {"h2", "h3", "p", "strong", "em", "ul", "ol", "li", "a"}

    for article in Article.objects.all():
        parsed = parse(article.body)
        assert parsed.tags <= allowed, article.slug
        assert "h2" in parsed.tags
    # Services and pages keep to headings, paragraphs and bullet lists.
    for row in [*Service.objects.all(), *Page.objects.all()]:
        parsed = parse(row.body)
        assert parsed.tags <= {"h2", "h3", "p", "ul", "li"}, row.slug
        assert "h2" in parsed.tags, row.slug
    for person in Clinician.objects.all():
        assert parse(person.bio).tags <= {"p"}, person.slug

    understanding = Article.objects.get(slug="understanding-dry-needling-back-shoulder-pain").body
    steps = re.search(r"<ol>(.*?)</ol>", understanding).group(1)
    assert [text.split(":")[0] for _tag, text in parse(steps).blocks] == [
        "Assessment",
        "Placing the needles",
        "Time in place",
        "Afterwards",
    ]
    assert "free" in understanding.lower()


def test_under_12_guidance_is_in_the_article():
    load_demo_content()
    text = body_text(Article.objects.get(slug="what-is-dry-needling").body)

    assert "under the age of 12" in text
    assert "consent from both the child and a parent" in text
    assert "the child understands" in text


def test_second_run_changes_nothing():
    first = run_command()
    before = snapshot()

    second = run_command()

    assert "Created" in first
    assert second.strip() == "Nothing to do: demo content already present."
    assert snapshot() == before


def test_staff_edits_survive_and_only_missing_rows_come_back():
    load_demo_content()
    article = Article.objects.get(slug="what-is-dry-needling")
    article.title = "Dry needling, explained by our team"
    article.save()
    edited_at = Article.objects.get(pk=article.pk).updated_at
    service = Service.objects.get(slug="fitness-memberships")
    service.summary = "Memberships: ask at the front desk."
    service.save()
    home = HomePage.load()
    home.heading = "Welcome to the clinic"
    home.save()
    home.services.set(Service.objects.filter(slug="dry-needling"))
    # Staff removed an office's Saturday hours, deleted the other article and a sample
    # profile, and took New patients out of the footer.
    newington = Office.objects.get(slug="newington")
    newington.hours.filter(weekday=OpeningHours.Weekday.SATURDAY).delete()
    Article.objects.filter(slug="understanding-dry-needling-back-shoulder-pain").delete()
    Clinician.objects.filter(slug="sample-therapist").delete()
    MenuItem.objects.filter(page__slug="new-patients").delete()
    before = snapshot()

    counts = load_demo_content()

    assert counts == {**dict.fromkeys(COUNT_KEYS, 0), "articles": 1, "team_members": 1}
    article.refresh_from_db()
    assert article.title == "Dry needling, explained by our team"
    assert article.updated_at == edited_at
    assert Service.objects.get(slug="fitness-memberships").summary == service.summary
    assert HomePage.load().heading == "Welcome to the clinic"
    assert [s.slug for s in HomePage.load().services.all()] == ["dry-needling"]
    assert not newington.hours.filter(weekday=OpeningHours.Weekday.SATURDAY).exists()
    assert not MenuItem.objects.filter(page__slug="new-patients").exists()
    assert Article.objects.filter(slug="understanding-dry-needling-back-shoulder-pain").exists()
    assert Clinician.objects.filter(slug="sample-therapist").exists()
    # Every row that was there is as it was.
    after = snapshot()
    for model, rows in before.items():
        assert [row for row in rows if row not in after[model]] == [], model


def test_existing_rows_get_no_new_links():
    # Staff made the offer and an article before the demo ran: neither is linked.
    promotion = PromotionFactory(slug="first-responder-discount", service=None)
    article = ArticleFactory(slug="what-is-dry-needling", author="Front desk")
    promotion_before = Promotion.objects.filter(pk=promotion.pk).values().get()

    counts = load_demo_content()

    assert counts["promotions"] == 0
    assert counts["articles"] == 1
    assert Promotion.objects.filter(pk=promotion.pk).values().get() == promotion_before
    assert not article.services.exists()
    assert Article.objects.get(pk=article.pk).author == "Front desk"
    # The new home page may still feature them: that changes only the home page.
    assert list(HomePage.load().promotions.all()) == [promotion]


def test_pictures_are_stored_with_alt_text(settings, with_renditions):
    load_demo_content()

    expected = [(a, (1600, 900)) for a in Article.objects.all()]
    expected += [(o, (1200, 800)) for o in Office.objects.all()]
    expected += [(row, (1600, 900)) for row in [*Service.objects.all(), *Page.objects.all()]]
    expected.append((HomePage.load(), (1600, 900)))
    expected += [(c, (900, 900)) for c in Clinician.objects.exclude(slug__in=SEED_PEOPLE)]
    assert len(expected) == 14
    for instance, size in expected:
        assert instance.image, instance
        assert instance.image.storage.exists(instance.image.name)
        assert Path(instance.image.path).is_relative_to(settings.MEDIA_ROOT)
        assert (instance.image_width, instance.image_height) == size
        alt = instance.image_alt.lower()
        assert "illustration" in alt or "placeholder" in alt, instance
        renditions = instance.image_renditions()
        assert renditions is not None
        assert instance.image.storage.exists(renditions.src.removeprefix(settings.MEDIA_URL)), (
            renditions.src
        )


# --- Through the site ---------------------------------------------------------------


def test_every_public_page_of_the_demo_answers(client, demo_site):
    urls = public_urls()

    assert len(urls) == 5 + 4 + 2 + 3 + 2 + 3 + 1
    for url in urls:
        assert client.get(url).status_code == HTTPStatus.OK, url


def test_dry_needling_page_lists_its_articles(client, demo_site):
    html = client.get(reverse("pages:service_detail", args=["dry-needling"])).content.decode()

    for article in Article.objects.filter(slug__in=DRY_NEEDLING_ARTICLES):
        assert f'href="{article.get_absolute_url()}"' in html
        assert article.title in html
    assert "Sample therapist (replace me)" in html  # who provides it: a marked sample


def test_fitness_memberships_page_shows_the_offer(client, demo_site):
    html = client.get(reverse("pages:service_detail", args=["fitness-memberships"]))
    html = html.content.decode()
    offer = Promotion.objects.get(slug="first-responder-discount")

    assert "$50.00 off fitness memberships" in html
    assert f'href="{offer.get_absolute_url()}"' in html


def test_article_byline_links_to_the_authors_profile(client, demo_site):
    article = Article.objects.get(slug="understanding-dry-needling-back-shoulder-pain")
    html = client.get(article.get_absolute_url()).content.decode()
    profile = reverse("pages:clinician_detail", args=["sylvestra-ramirez"])

    assert f'<a href="{profile}">Sylvestra Ramirez</a>' in html
    assert "reviewed" not in html.lower()
    profile_html = client.get(profile).content.decode()
    assert article.title in profile_html


def test_sample_profiles_say_so_on_the_site(client, demo_site):
    team = client.get(reverse("pages:team")).content.decode()

    for person in Clinician.objects.exclude(slug__in=SEED_PEOPLE):
        assert person.name in team
        html = client.get(person.get_absolute_url()).content.decode()
        assert "This is a sample profile, not a real person." in html


def test_menu_and_footer_link_the_pages(client, demo_site):
    html = client.get("/").content.decode()

    for slug in PAGE_SLUGS:
        assert f'href="/{slug}/"' in html, slug
    assert HomePage.load().heading in html


# --- Our own words (manage.py check_demo_copy) --------------------------------------


def test_the_copy_check_reads_every_text_the_demo_shows():
    load_demo_content()
    checked = set(checked_text())
    shown = []
    for service in Service.objects.all():
        shown += [service.summary, service.body, *service.who_it_helps_list, service.image_alt]
    for person in Clinician.objects.all():
        shown += [person.role, person.bio, person.image_alt]
    for page in Page.objects.all():
        shown += [page.summary, page.body, page.image_alt]
    home = HomePage.load()
    shown += [home.heading, home.text, home.button_label, home.image_alt]

    blocks = [normalise(block) for text in shown if text for block in text_blocks(text)]
    assert blocks
    assert [block for block in blocks if block not in checked] == []


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (datetime.date(2026, 11, 20), [(2026, 11, 26), (2026, 12, 25)]),
        (datetime.date(2026, 11, 26), [(2026, 11, 26), (2026, 12, 25)]),
        (datetime.date(2026, 11, 27), [(2026, 12, 25), (2027, 11, 25)]),
        (datetime.date(2026, 12, 26), [(2027, 11, 25), (2027, 12, 25)]),
        (datetime.date(2027, 1, 5), [(2027, 11, 25), (2027, 12, 25)]),
    ],
)
def test_closures_are_the_next_thanksgiving_and_christmas(today, expected):
    assert [day for day, _reason in upcoming_closures(today)] == [
        datetime.date(*ymd) for ymd in expected
    ]


def test_thanksgiving_is_the_fourth_thursday_of_november():
    assert thanksgiving(2025) == datetime.date(2025, 11, 27)
    assert thanksgiving(2026) == datetime.date(2026, 11, 26)
    assert thanksgiving(2029) == datetime.date(2029, 11, 22)
    assert thanksgiving(2030) == datetime.date(2030, 11, 28)


def test_closures_follow_the_date_the_command_runs():
    load_demo_content(today=datetime.date(2026, 12, 1))

    office = Office.objects.get(slug="avon")
    assert [(c.date, c.reason) for c in office.closures.all()] == [
        (datetime.date(2026, 12, 25), "Christmas Day"),
        (datetime.date(2027, 11, 25), "Thanksgiving Day"),
    ]


# Stand-ins for the source pages (the real ones are outside the repository): one that says
# what our demo article says in other words, one that repeats a sentence of our offer.
REWORDED_SEED = """Dry needling: what patients should know.
A physiotherapist inserts a very fine, solid filament into a knotted band of muscle. The
aim is to release the knot so that the muscle relaxes and the ache eases.
"""
COPIED_SEED = """Thank you, first responders!
Give us a call to talk through the membership options today.
"""


def check_copy(seeds: Path) -> str:
    out = StringIO()
    call_command("check_demo_copy", str(seeds), stdout=out)
    return out.getvalue()


def test_demo_copy_check_passes_when_only_facts_are_shared(tmp_path):
    (tmp_path / "source.txt").write_text(REWORDED_SEED, encoding="utf-8")

    assert "no run of 8 words from 2 seed sentences" in check_copy(tmp_path)


def test_demo_copy_check_names_each_copied_run_of_eight_words(tmp_path):
    (tmp_path / "source.txt").write_text(REWORDED_SEED, encoding="utf-8")
    (tmp_path / "offer.txt").write_text(COPIED_SEED, encoding="utf-8")

    with pytest.raises(CommandError) as failure:
        check_copy(tmp_path)

    message = str(failure.value)
    assert "give us a call to talk through the" in message
    assert "call to talk through the membership options today" not in message  # ours ends
    assert "knotted band" not in message


def test_demo_copy_check_refuses_a_folder_without_seeds(tmp_path):
    with pytest.raises(CommandError, match="No seed sentences"):
        check_copy(tmp_path)
