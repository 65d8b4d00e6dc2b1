"""The demo content command: what it creates, that it is idempotent, and that it is ours."""

import datetime
import re
from decimal import Decimal
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from clinic_site.models import ClinicSettings
from pages import picture_files
from pages.demo_content import COUNT_KEYS, load_demo_content, thanksgiving, upcoming_closures
from pages.models import Article, Closure, Office, OpeningHours, Promotion

pytestmark = pytest.mark.django_db

ALL_MODELS = (ClinicSettings, Article, Office, OpeningHours, Closure, Promotion)

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
    # Resizing five pictures takes seconds; only the picture test needs the copies.
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


def test_command_creates_the_demo_content():
    output = run_command()

    assert "Created 2 articles, 3 offices" in output
    assert "1 promotion" in output
    assert "clinic settings" in output

    clinic = ClinicSettings.objects.get(pk=1)
    assert clinic.name == "Back to Motion Sports Rehab & Fitness"
    assert clinic.phone == "(860) 555-0100"
    assert clinic.email == "hello@backtomotion.example"
    assert clinic.time_zone == "America/New_York"
    assert clinic.tagline
    assert clinic.footer_text
    assert "©" not in clinic.footer_text

    articles = {a.slug: a for a in Article.objects.published()}
    assert set(articles) == {
        "understanding-dry-needling-back-shoulder-pain",
        "what-is-dry-needling",
    }
    understanding = articles["understanding-dry-needling-back-shoulder-pain"]
    assert understanding.title == "Understanding Dry Needling for Back and Shoulder Pain"
    assert understanding.author == "Sylvestra Ramirez"
    assert articles["what-is-dry-needling"].title == "What is Dry Needling"
    for article in articles.values():
        assert article.published_at.tzinfo is not None
        assert 0 < len(article.summary) <= 300
    assert any(a.reviewed_by and a.reviewed_on for a in articles.values())

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


def test_function_returns_counts_per_kind():
    counts = load_demo_content()

    assert set(counts) == set(COUNT_KEYS)
    assert counts == {
        "clinic_settings": 1,
        "articles": 2,
        "offices": 3,
        "hours": OpeningHours.objects.count(),
        "closures": 6,
        "promotions": 1,
    }
    assert counts["hours"] >= 15
    assert load_demo_content() == dict.fromkeys(COUNT_KEYS, 0)


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
    text = " ".join(
        t for _tag, t in parse(Article.objects.get(slug="what-is-dry-needling").body).blocks
    )

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
    # Staff removed an office's Saturday hours and deleted the other article.
    newington = Office.objects.get(slug="newington")
    newington.hours.filter(weekday=OpeningHours.Weekday.SATURDAY).delete()
    Article.objects.filter(slug="understanding-dry-needling-back-shoulder-pain").delete()

    counts = load_demo_content()

    assert counts == {**dict.fromkeys(COUNT_KEYS, 0), "articles": 1}
    article.refresh_from_db()
    assert article.title == "Dry needling, explained by our team"
    assert article.updated_at == edited_at
    assert not newington.hours.filter(weekday=OpeningHours.Weekday.SATURDAY).exists()
    assert Article.objects.filter(slug="understanding-dry-needling-back-shoulder-pain").exists()


def test_pictures_are_stored_with_alt_text(settings, with_renditions):
    load_demo_content()

    expected = [(a, (1600, 900)) for a in Article.objects.all()]
    expected += [(o, (1200, 800)) for o in Office.objects.all()]
    assert len(expected) == 5
    for instance, size in expected:
        assert instance.image, instance
        assert instance.image.storage.exists(instance.image.name)
        assert Path(instance.image.path).is_relative_to(settings.MEDIA_ROOT)
        assert (instance.image_width, instance.image_height) == size
        assert "illustration" in instance.image_alt.lower()
        renditions = instance.image_renditions()
        assert renditions is not None
        assert instance.image.storage.exists(renditions.src.removeprefix(settings.MEDIA_URL)), (
            renditions.src
        )


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


# --- Our own words (manage.py check_demo_copy) --------------------------------------

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
