"""Demo content for a fresh database: the sports-rehab clinic the site was specified from.

Facts (names, addresses, the list of conditions, the discount, the age guidance) come from
the two source pages in ``shared/seeds``; every sentence here is written afresh.

``load_demo_content()`` only ever creates what is missing, looked up by natural key, and
never touches a row that already exists, so staff edits survive any number of runs.
"""

import datetime
import io
import random
import re
import zoneinfo
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageChops, ImageColor, ImageDraw, ImageFilter

from clinic_site.models import ClinicSettings

from .models import Article, Closure, Office, OpeningHours, Promotion

CLINIC_TZ = zoneinfo.ZoneInfo("America/New_York")
COUNT_KEYS = ("clinic_settings", "articles", "offices", "hours", "closures", "promotions")

_BLOCK_TAG_SPACE = re.compile(r"\s*(</?(?:h2|h3|p|ul|ol|li)>)\s*")


def _html(text: str) -> str:
    """Collapse the source's line wrapping: one space inside text, none between blocks."""
    return _BLOCK_TAG_SPACE.sub(r"\1", " ".join(text.split()))


# --- Clinic ---------------------------------------------------------------------------

CLINIC_SETTINGS = {
    "name": "Back to Motion Sports Rehab & Fitness",
    "tagline": "Hands-on physical therapy and sports rehab that gets you back to what you love.",
    "phone": "(860) 555-0100",
    "email": "hello@backtomotion.example",
    "time_zone": "America/New_York",
    "footer_text": (
        "Back to Motion Sports Rehab & Fitness: physical therapy, sports rehab and fitness "
        "in Bloomfield, Newington and Avon, Connecticut."
    ),
}

# --- Articles -------------------------------------------------------------------------

DRY_NEEDLING_BACK_SHOULDER_BODY = _html(
    """
<p>Many cases of back and shoulder pain start in muscle that has locked into small, tight,
tender spots. Dry needling is one of the tools our physical therapists use to settle those
spots so that you can move in comfort again.</p>

<h2>What is dry needling?</h2>
<p>Your therapist slides very fine, single-use needles into carefully chosen places in a
muscle. Nothing is injected: the word <em>dry</em> only tells you that the needle carries no
medicine. The goals are to let knotted muscle relax, to bring fresh blood into the area and
to quiet the pain.</p>
<p>We reach for a needle only after a clinician trained in the method has examined you and
agreed that it suits your body and your goals.</p>

<h2>How does it work?</h2>
<p>A trigger point is a small band of muscle stuck in a contracted state. When the needle
reaches one, the fibers tend to let go, and the tension they were putting on nearby joints
eases. Circulation in the area picks up too, which feeds the tissue while it repairs.</p>
<p>Plenty of people feel looser as soon as they get off the table. A lasting change, though,
usually comes from a short series of visits rather than from one alone.</p>

<h2>How it helps a sore back or shoulder</h2>
<ul>
<li><strong>Less pain:</strong> calming the trigger points behind a nagging ache can take the
edge off discomfort that has hung around for months.</li>
<li><strong>Easier movement:</strong> once a tight muscle relaxes you can usually reach, turn
and bend further, so everyday jobs get simpler.</li>
<li><strong>Quicker recovery:</strong> relaxed muscle and a better blood supply give your body
a head start on healing.</li>
</ul>

<h2>What happens during a session</h2>
<p>A typical visit has four stages:</p>
<ol>
<li><strong>Assessment:</strong> your therapist asks where it hurts, watches how you move and
finds the trigger points involved.</li>
<li><strong>Placing the needles:</strong> fine needles are eased into the muscles picked for
treatment.</li>
<li><strong>Time in place:</strong> according to your plan, the needles come out after a few
seconds or stay for some minutes.</li>
<li><strong>Afterwards:</strong> the treated spot may ache a little, rather like the day after
a hard workout; this normally settles within 48 hours.</li>
</ol>

<h2>Is it right for you?</h2>
<p>Most people whose pain comes from muscles and joints can have dry needling safely. Your
medical history still matters, so we go through it with you first and suggest needling only
when it suits your situation.</p>

<h2>Conclusion</h2>
<p>When back or shoulder pain refuses to go away, dry needling deserves a look. Releasing the
knots underneath the pain can lower discomfort, free up movement and leave you feeling better
in general. A trained therapist can explain how it would sit alongside the rest of your
care.</p>
<p><strong>Wondering whether dry needling could help you?</strong> Your first consultation or
assessment with us costs nothing. Ask for one online or call us at
<a href="tel:+18605550100">(860) 555-0100</a>.</p>
"""
)

DRY_NEEDLING_CONDITIONS = (
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
)

_CONDITION_ITEMS = "".join(f"<li>{condition}</li>" for condition in DRY_NEEDLING_CONDITIONS)

WHAT_IS_DRY_NEEDLING_BODY = _html(
    """
<p>Dry needling is a hands-on treatment in which a physical therapist uses a hair-thin needle
to reach a sore spot deep in a muscle.</p>

<h2>What it is</h2>
<p>That sore spot is called a trigger point: a hard, tender knot inside the muscle. A knot
like this can spread pain well beyond where it sits, make the area hurt whenever it is
touched and turn ordinary tasks into a struggle. Muscle spasms can behave the same way. Dry
needling aims to release the tight band of muscle around the knot so that it stops pulling
and aching.</p>

<h2>Three effects of dry needling</h2>
<ul>
<li><strong>It eases pain</strong> by relaxing the knot that causes it.</li>
<li><strong>It improves movement</strong>, letting joints work through their full range
again.</li>
<li><strong>It speeds recovery</strong>, so you get back to work, sport and daily life
sooner.</li>
</ul>

<h2>What can it treat?</h2>
<p>Therapists use dry needling as part of the care for a wide range of problems, among
them:</p>
<ul>"""
    + _CONDITION_ITEMS
    + """</ul>
<p>It is also used for problems in the muscles themselves and in the fascia and other
connective tissue around them. As those tissues start working properly, people can take part
in the activities that matter to them more fully.</p>

<h2>Is dry needling safe?</h2>
<p>It suits the great majority of patients. Someone who is very afraid of needles, or
anxious about them, may do better with another approach, and we will gladly talk through the
alternatives.</p>
<p>Like every treatment it can have side effects. The usual ones are:</p>
<ul>
<li>soreness where a needle went in</li>
<li>aching muscles</li>
<li>tiredness</li>
<li>bruising</li>
</ul>
<p>When a properly trained physical therapist performs it, the risks are low and the results
are good, and many patients find the joint moves more freely before they leave.</p>
<p>Plan on more than one visit. Trigger points often lie well below the surface, underneath
other muscles, so the full improvement builds up over a few sessions; even so, most people
notice some change after each one.</p>

<h3>What does it feel like?</h3>
<p>Most people find it close to painless, and the needle going in usually goes unnoticed.
When the needle meets a trigger point, the muscle may give a quick twitch, felt as a
split-second jolt a bit like a small cramp. That twitch is welcome: it tells your therapist
the needle is in the right place and the treatment is doing its job.</p>

<h3>Children</h3>
<p>We are especially careful with young patients. Going by clinical experience, we do not
recommend dry needling for anyone under the age of 12. If we ever treat a child, we need
consent from both the child and a parent, and we make sure the child understands exactly what
will happen before we start.</p>

<h2>Key points</h2>
<ul>
<li>Dry needling is a well-established tool in hands-on orthopedic physical therapy.</li>
<li>It targets trigger points, the tight and tender knots that cause pain and limit what you
can do.</li>
<li>A quick twitch of the muscle shows the needle has found its target and the treatment is
taking effect.</li>
<li>For anyone comfortable around needles, it is a safe option that works well.</li>
<li>Many patients move more easily straight after a session, though clearing a trigger point
completely can take a few visits.</li>
</ul>
"""
)

ARTICLES = (
    {
        "slug": "understanding-dry-needling-back-shoulder-pain",
        "title": "Understanding Dry Needling for Back and Shoulder Pain",
        "summary": (
            "How dry needling calms the tight spots behind stubborn back and shoulder pain, "
            "what happens during a visit, and how to tell whether it suits you."
        ),
        "body": DRY_NEEDLING_BACK_SHOULDER_BODY,
        "author": "Sylvestra Ramirez",
        "published_at": datetime.datetime(2026, 3, 10, 9, 0, tzinfo=CLINIC_TZ),
        "reviewed_by": "Jordan Ellis, PT, DPT",
        "reviewed_on": datetime.date(2026, 3, 6),
        "image_alt": "Abstract illustration: soft, overlapping circles in deep blue and teal.",
        "colors": ("#1d4e74", "#6fb7b4", "#f2e8cf", "#3a9d8f", "#9fd3e6"),
    },
    {
        "slug": "what-is-dry-needling",
        "title": "What is Dry Needling",
        "summary": (
            "A plain-language guide to dry needling: what it targets, which conditions it can "
            "help, what it feels like and why children under 12 should wait."
        ),
        "body": WHAT_IS_DRY_NEEDLING_BODY,
        "author": "Back to Motion clinical team",
        "published_at": datetime.datetime(2026, 1, 20, 9, 0, tzinfo=CLINIC_TZ),
        "reviewed_by": "",
        "reviewed_on": None,
        "image_alt": "Abstract illustration: soft, overlapping circles in green and mint tones.",
        "colors": ("#24553f", "#a9dcbc", "#f6f1d1", "#52b788", "#d8f3dc"),
    },
)

# --- Offices --------------------------------------------------------------------------

_T = datetime.time


def _week(weekdays, opens, closes):
    return [(day, opens, closes) for day in weekdays]


STANDARD_HOURS = [
    *_week(range(4), _T(7), _T(19)),
    (4, _T(7), _T(17)),
    (5, _T(8), _T(12)),
]

OFFICES = (
    {
        "slug": "bloomfield",
        "name": "Bloomfield Office",
        "street": "45 Wintonbury Ave",
        "suite": "Ste 308",
        "city": "Bloomfield",
        "state": "CT",
        "zip_code": "06002",
        "phone": "(860) 555-0101",
        "latitude": Decimal("41.826000"),
        "longitude": Decimal("-72.730000"),
        # Wednesday closes for lunch: two rows on one day.
        "hours": [
            *_week((0, 1, 3), _T(7), _T(19)),
            (2, _T(7), _T(12)),
            (2, _T(13), _T(19)),
            (4, _T(7), _T(17)),
            (5, _T(8), _T(12)),
        ],
        "image_alt": (
            "Abstract illustration in navy and sand tones, a placeholder for a photo of "
            "the Bloomfield office."
        ),
        "colors": ("#22345c", "#d9c7a7", "#f4ede1", "#5b7db1", "#b08d57"),
    },
    {
        "slug": "newington",
        "name": "Newington Office",
        "street": "171 Market Square",
        "suite": "#210",
        "city": "Newington",
        "state": "CT",
        "zip_code": "06111",
        "phone": "(860) 555-0102",
        "latitude": Decimal("41.697900"),
        "longitude": Decimal("-72.723700"),
        "hours": STANDARD_HOURS,
        "image_alt": (
            "Abstract illustration in teal and coral tones, a placeholder for a photo of "
            "the Newington office."
        ),
        "colors": ("#1b5e63", "#f0a58f", "#fde8d7", "#2a9d8f", "#e76f51"),
    },
    {
        "slug": "avon",
        "name": "Avon Office",
        "street": "56 East Main Street",
        "suite": "",
        "city": "Avon",
        "state": "CT",
        "zip_code": "06001",
        "phone": "(860) 555-0103",
        "latitude": Decimal("41.809800"),
        "longitude": Decimal("-72.830600"),
        # A little shorter than the others, and closed at weekends.
        "hours": [
            *_week(range(4), _T(8), _T(18)),
            (4, _T(8), _T(16)),
        ],
        "image_alt": (
            "Abstract illustration in slate and gold tones, a placeholder for a photo of "
            "the Avon office."
        ),
        "colors": ("#3d4a5c", "#e9c46a", "#f8f4e3", "#8d99ae", "#f4a261"),
    },
)

# --- Promotion ------------------------------------------------------------------------

PROMOTION = {
    "slug": "first-responder-discount",
    "title": "First responders save $50 on fitness memberships",
    "eligibility": "Firefighters, military, EMTs and police officers",
    "amount": Decimal("50.00"),
    "currency": "USD",
    "applies_to": "fitness memberships",
    "description": (
        "Firefighters, service members, EMTs and police officers look after our community "
        "every day, and we are grateful. As our thank-you, every first responder gets $50 "
        "off a fitness membership with us, all year round."
    ),
    "how_to_claim": (
        "Give us a call to talk through the membership options. When you sign up, bring an "
        "ID that shows you serve as a first responder and we will take the $50 off."
    ),
    "fine_print": "Some exclusions may apply.",
    "starts_on": None,
    "ends_on": None,
    "is_active": True,
    "show_as_banner": True,
}


# --- Dates ----------------------------------------------------------------------------


def thanksgiving(year: int) -> datetime.date:
    """US Thanksgiving: the fourth Thursday of November."""
    first = datetime.date(year, 11, 1)
    first_thursday = first + datetime.timedelta(days=(3 - first.weekday()) % 7)
    return first_thursday + datetime.timedelta(weeks=3)


def upcoming_closures(today: datetime.date) -> list[tuple[datetime.date, str]]:
    """The next Thanksgiving and Christmas Day on or after ``today``, soonest first."""
    holidays = []
    for reason, day_in in (
        ("Thanksgiving Day", thanksgiving),
        ("Christmas Day", lambda year: datetime.date(year, 12, 25)),
    ):
        day = day_in(today.year)
        if day < today:
            day = day_in(today.year + 1)
        holidays.append((day, reason))
    return sorted(holidays)


# --- Pictures -------------------------------------------------------------------------


def abstract_picture(size: tuple[int, int], colors: tuple[str, ...], seed: str) -> bytes:
    """A JPEG of soft, blurred circles on a gradient, with no text; ``seed`` fixes the layout.

    Drawn at a quarter of the size and scaled up, which keeps it smooth and fast (well under
    a second, with no per-pixel Python).
    """
    width, height = size
    small = (max(1, width // 4), max(1, height // 4))
    top, bottom, *accents = colors
    rng = random.Random(seed)

    mask = Image.linear_gradient("L").resize(small)
    canvas = Image.composite(Image.new("RGB", small, bottom), Image.new("RGB", small, top), mask)
    canvas = canvas.convert("RGBA")
    for index in range(8):
        layer = Image.new("RGBA", small, (0, 0, 0, 0))
        radius = rng.randint(small[1] // 6, small[1] // 2)
        cx, cy = rng.randint(0, small[0]), rng.randint(0, small[1])
        fill = ImageColor.getrgb(accents[index % len(accents)])[:3] + (rng.randint(70, 150),)
        ImageDraw.Draw(layer).ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill)
        canvas = Image.alpha_composite(canvas, layer)
    canvas = canvas.filter(ImageFilter.GaussianBlur(radius=max(1, small[1] // 40)))
    picture = canvas.convert("RGB").resize(size, Image.Resampling.BILINEAR)
    # A faint grain hides the steps an 8-bit gradient would otherwise show as bands.
    grain = Image.effect_noise(size, 2).convert("RGB")
    picture = ImageChops.add(picture, grain, scale=1.0, offset=-128)

    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=85, optimize=True)
    return buffer.getvalue()


def _attach_picture(instance, size, colors, alt: str) -> None:
    instance.image.save(
        f"{instance.slug}.jpg",
        ContentFile(abstract_picture(size, colors, instance.slug)),
        save=False,
    )
    instance.image_alt = alt


# --- Loading --------------------------------------------------------------------------


def _create(instance):
    instance.full_clean()
    instance.save()
    return instance


def _say(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message + "\n")


def load_demo_content(stdout=None, *, today: datetime.date | None = None) -> dict[str, int]:
    """Create whatever part of the demo content is missing; returns created rows per kind.

    Existing rows are never changed. Hours and closures are added only to offices created
    in this run, since staff may have edited an existing office's schedule. ``today``
    (default: the local date) decides which Thanksgiving and Christmas are "upcoming".
    """
    today = today or timezone.localdate()
    counts = dict.fromkeys(COUNT_KEYS, 0)

    with transaction.atomic():
        if not ClinicSettings.objects.filter(pk=1).exists():
            # pk set up front: full_clean() checks the single-row constraint (pk=1).
            _create(ClinicSettings(pk=1, **CLINIC_SETTINGS))
            counts["clinic_settings"] += 1
            _say(stdout, "Created clinic settings")

        for data in ARTICLES:
            if Article.objects.filter(slug=data["slug"]).exists():
                continue
            fields = {k: v for k, v in data.items() if k not in ("image_alt", "colors")}
            article = Article(status=Article.Status.PUBLISHED, **fields)
            _attach_picture(article, (1600, 900), data["colors"], data["image_alt"])
            _create(article)
            counts["articles"] += 1
            _say(stdout, f"Created article {article.slug}")

        closures = upcoming_closures(today)
        for order, data in enumerate(OFFICES, start=1):
            if Office.objects.filter(slug=data["slug"]).exists():
                continue
            fields = {k: v for k, v in data.items() if k not in ("hours", "image_alt", "colors")}
            office = Office(is_active=True, display_order=order, **fields)
            _attach_picture(office, (1200, 800), data["colors"], data["image_alt"])
            _create(office)
            counts["offices"] += 1
            _say(stdout, f"Created office {office.slug}")

            # A new office has no hours or closures yet: no need to look for existing ones.
            for weekday, opens, closes in data["hours"]:
                _create(OpeningHours(office=office, weekday=weekday, opens=opens, closes=closes))
                counts["hours"] += 1
            for day, reason in closures:
                _create(Closure(office=office, date=day, reason=reason))
                counts["closures"] += 1

        if not Promotion.objects.filter(slug=PROMOTION["slug"]).exists():
            _create(Promotion(**PROMOTION))
            counts["promotions"] += 1
            _say(stdout, f"Created promotion {PROMOTION['slug']}")

    return counts


def demo_text() -> list[str]:
    """Every sentence written here, for ``manage.py check_demo_copy`` (titles are the
    source pages' own, kept as names)."""
    texts = [CLINIC_SETTINGS["tagline"], CLINIC_SETTINGS["footer_text"]]
    for article in ARTICLES:
        texts += [article["summary"], article["body"], article["image_alt"]]
    texts += [office["image_alt"] for office in OFFICES]
    texts += [PROMOTION[key] for key in ("title", "description", "how_to_claim", "eligibility")]
    return texts + [PROMOTION["fine_print"]]


# Counted kinds in the order the summary names them (clinic settings last, uncounted).
_SUMMARY_NOUNS = (
    ("articles", "article"),
    ("offices", "office"),
    ("hours", "opening-hours row"),
    ("closures", "closure"),
    ("promotions", "promotion"),
)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun if count == 1 else noun + 's'}"


def summarize(counts: dict[str, int]) -> str:
    """One line for the command's output, e.g. 'Created 2 articles, 3 offices, ...'."""
    if not any(counts.values()):
        return "Nothing to do: demo content already present."
    parts = [_plural(counts[key], noun) for key, noun in _SUMMARY_NOUNS if counts[key]]
    if counts["clinic_settings"]:
        parts.append("clinic settings")
    return "Created " + ", ".join(parts) + "."
