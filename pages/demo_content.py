"""Demo content for a fresh database: the sports-rehab clinic the site was specified from.

Facts (names, addresses, services, the conditions, the discount, the age guidance) come
from the two source pages in ``shared/seeds``; every sentence is written afresh, and what
they do not say (insurers, prices, other team members) is marked as sample text to replace.
Pictures are drawn by pages/demo_pictures.py. ``load_demo_content()`` only ever creates what
is missing, looked up by natural key, and never touches a row that already exists, so staff
edits survive any number of runs.
"""

import datetime
import re
import zoneinfo
from decimal import Decimal
from importlib import import_module

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from clinic_site.models import ClinicSettings

from . import demo_pictures as pictures
from .models import (
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

CLINIC_TZ = zoneinfo.ZoneInfo("America/New_York")
COUNT_KEYS = (
    "clinic_settings",
    "services",
    "team_members",
    "articles",
    "pages",
    "offices",
    "hours",
    "closures",
    "promotions",
    "menu_items",
    "home_page",
)

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
        # The seed's byline; her team profile (TEAM) is the author, no guest name.
        "author_profile": "sylvestra-ramirez",
        "author": "",
        "services": ("dry-needling",),
        "published_at": datetime.datetime(2026, 3, 10, 9, 0, tzinfo=CLINIC_TZ),
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
        # The seed page has no byline: the clinic's own page, so the clinic signs it.
        "author_profile": None,
        "author": "Back to Motion Sports Rehab & Fitness",
        "services": ("dry-needling",),
        "published_at": datetime.datetime(2026, 1, 20, 9, 0, tzinfo=CLINIC_TZ),
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


# --- Services -------------------------------------------------------------------------

DRY_NEEDLING_SERVICE_BODY = _html(
    """
<p>Dry needling is one of the hands-on treatments of orthopedic manual physical therapy. It
goes after trigger points: hard, sore knots in a muscle that keep pain going and stop you
moving freely.</p>

<h2>What it is</h2>
<p>A trigger point is a small band of muscle that has stayed tight. It may hurt when pressed,
spread pain to the areas around it and make simple jobs at home or at work harder than they
should be. Your physical therapist guides a very fine, sterile needle through the skin into
that knot. No medicine or other substance goes in: that is why the needle is called dry.</p>

<h2>How it works</h2>
<p>Reaching the knot helps the tight fibers let go, so the muscle can relax. It also draws
more blood into the area, which supports healing. When the needle finds the knot, the muscle
often twitches for a moment. That twitch is a good sign: the treatment has reached the right
place.</p>

<h2>Benefits</h2>
<ul>
<li>Less pain, including back and shoulder pain that has lasted a long time.</li>
<li>Better movement: with the muscle relaxed, joints can move through more of their
range.</li>
<li>A faster recovery, helped along by relaxed muscle and better circulation.</li>
</ul>

<h2>What a session is like</h2>
<ul>
<li>First an assessment: your therapist asks about your pain, makes sure needling suits you
and locates the trigger points.</li>
<li>Then the needles: fine needles go gently into the chosen muscles. Most people hardly
feel them; the twitch can feel like a quick jolt or a small cramp.</li>
<li>Each needle stays in place briefly: from a few seconds up to some minutes, as your plan
requires.</li>
<li>Afterwards the area may feel sore for a day or two, much as after a hard workout.</li>
</ul>
<p>Most people feel some change after every visit. Trigger points can sit deep beneath other
muscles, so the full benefit usually builds over several sessions.</p>

<h2>What it can treat</h2>
<p>Dry needling is used for problems in muscle, fascia and connective tissue. Besides back and
shoulder pain, the list includes:</p>
<ul>"""
    + _CONDITION_ITEMS
    + """</ul>

<h2>Safety</h2>
<p>Performed by a well-trained physical therapist, the treatment is safe for nearly every
patient with muscle or joint pain. If needles make you very anxious, say so: it may not be the right
choice for you.</p>
<p>Like any treatment it can have side effects:</p>
<ul>
<li>pain where a needle was placed</li>
<li>sore muscles</li>
<li>tiredness</li>
<li>bruising</li>
</ul>
<h3>Children</h3>
<p>We do not recommend dry needling for anyone under 12. An older child is treated only when
both the child and a parent agree, and once the child fully understands what will
happen.</p>

<h2>Is it right for you?</h2>
<p>Your first consultation or assessment is free. Ask for one with the form on this page or
call the office nearest you, and your therapist will tell you whether dry needling fits your
needs and your medical history.</p>
"""
)

PHYSICAL_THERAPY_BODY = _html(
    """
<p>Not sure where to begin? Start with a free consultation or assessment, and tell us what is
holding you back.</p>

<h2>A plan made for you</h2>
<p>Your physical therapist evaluates your pain and goes through your medical history with
you, then suggests a treatment plan tailored to your needs. Where it suits you, the plan may
include dry needling, one of the hands-on techniques of orthopedic manual physical
therapy.</p>

<h2>Ask us</h2>
<p>Call the office nearest you to talk it through, or ask for your free consultation with the
form on this page.</p>
"""
)

SPORTS_REHAB_BODY = _html(
    """
<p>Sports rehab is in our name: Back to Motion Sports Rehab &amp; Fitness. Like all our care,
it begins with a free consultation or assessment and a treatment plan tailored to you.</p>

<h2>Dry needling as part of the plan</h2>
<p>If your therapist finds that it suits you, your plan may include dry needling, which aims
to ease pain, improve movement and speed up recovery. Tendonitis and joint dysfunction are
among the problems it is used for.</p>

<h2>Ask us</h2>
<p>Call the office nearest you to hear how we can help with your injury, or ask for a free
consultation with the form on this page.</p>
"""
)

FITNESS_MEMBERSHIPS_BODY = _html(
    """
<p>Fitness is the other half of our name, and we offer fitness memberships.</p>

<h2>First responders save $50</h2>
<p>Firefighters, members of the military, EMTs and police officers always get $50 off a
fitness membership: our thank-you for what they do. Some exclusions may apply.</p>

<h2>Ask us</h2>
<p>For membership options, prices and times, please give us a call. We will be glad to tell
you more.</p>
"""
)

SERVICES = (
    {
        "slug": "dry-needling",
        "title": "Dry needling",
        "summary": (
            "A physical therapist places very fine needles in tight knots of muscle, with "
            "nothing injected, to ease pain, help you move and speed your recovery."
        ),
        "body": DRY_NEEDLING_SERVICE_BODY,
        "who_it_helps": (
            "Back or shoulder pain from tight, knotted muscles",
            "Migraines and tension-type headaches",
            "Carpal tunnel and computer-related disorders",
            "Whiplash-associated disorders and spinal dysfunction",
            "Tendonitis and joint dysfunction",
        ),
        "picture": (pictures.MID_BLUE, pictures.back_with_tight_spots),
        "image_alt": (
            "Illustration: the outline of a back with warm dots marking tight spots in the "
            "shoulders and lower back, on soft blue shapes."
        ),
    },
    {
        "slug": "physical-therapy",
        "title": "Physical therapy",
        "summary": (
            "Start with a free consultation or assessment; your physical therapist then "
            "suggests a treatment plan tailored to your needs."
        ),
        "body": PHYSICAL_THERAPY_BODY,
        "who_it_helps": (
            "Anyone who does not know where to begin with physical therapy",
            "People with muscle or joint pain, in the back or shoulders for example",
        ),
        "picture": (pictures.DEEP_BLUE, pictures.spine),
        "image_alt": (
            "Illustration: a gently curved spine of stacked, rounded vertebrae on soft blue shapes."
        ),
    },
    {
        "slug": "sports-rehabilitation",
        "title": "Sports rehabilitation",
        "summary": (
            "Sports rehab is in our name. It starts with a free assessment and a plan made "
            "for you; call us to hear how we can help."
        ),
        "body": SPORTS_REHAB_BODY,
        "who_it_helps": ("Athletes and active people recovering from an injury",),
        "picture": (pictures.LIGHT_BLUE, pictures.raised_arm),
        "image_alt": (
            "Illustration: the outline of shoulders with one arm lifted and a dotted arc "
            "showing its movement, on pale blue shapes."
        ),
    },
    {
        "slug": "fitness-memberships",
        "title": "Fitness memberships",
        "summary": (
            "Fitness memberships at Back to Motion, with $50 off for first responders. Call "
            "us for the options and prices."
        ),
        "body": FITNESS_MEMBERSHIPS_BODY,
        "who_it_helps": (
            "First responders (firefighters, military, EMTs and police officers) save $50",
        ),
        "picture": (pictures.DEEP_BLUE, pictures.dumbbell),
        "image_alt": "Illustration: a dumbbell with orange collars on soft blue shapes.",
    },
)

# --- Team -----------------------------------------------------------------------------

TEAM = (
    {
        # The seed gives her name as the article's author, and nothing else: no credential,
        # no photo, no office.
        "slug": "sylvestra-ramirez",
        "name": "Sylvestra Ramirez",
        "credentials": "",
        "role": "Author",
        "bio": (
            "<p>Sylvestra Ramirez wrote our article on dry needling for back and shoulder "
            "pain. You will find it below.</p>"
        ),
        "services": (),
        "offices": (),
    },
    {
        "slug": "sample-therapist",
        "name": "Sample therapist (replace me)",
        "credentials": "",
        "role": "Physical therapist (sample profile)",
        "bio": _html(
            """
<p>This is a sample profile, not a real person. It is here to show how a team member's
page looks.</p>
<p>Staff: replace it with one of your own therapists (their name, real credentials, a photo
and a few words about what they like to treat) or hide it, under Team members in the
admin.</p>
"""
        ),
        "services": ("dry-needling", "physical-therapy", "sports-rehabilitation"),
        "offices": ("bloomfield", "newington", "avon"),
        "picture": (pictures.LIGHT_BLUE, pictures.soft_rings),
        "image_alt": (
            "Placeholder picture of soft blue circles, to be replaced with a photo of the "
            "team member."
        ),
    },
)

# --- Pages and the menu ---------------------------------------------------------------

ABOUT_BODY = _html(
    """
<p>Back to Motion Sports Rehab &amp; Fitness offers physical therapy, sports rehabilitation,
dry needling and fitness memberships from three offices in Connecticut: Bloomfield,
Newington and Avon. Addresses, phone numbers and opening hours are on our Offices &amp;
hours page.</p>

<h2>How we work</h2>
<p>Care starts with a free consultation or assessment. From there, your therapist builds a
treatment plan around your needs.</p>

<h2>Thank you, first responders</h2>
<p>We are grateful to firefighters, the military, EMTs and police officers, and they always
get $50 off our fitness memberships.</p>

<h2>Our story</h2>
<p>Sample text for the clinic to replace: tell patients who you are, how the clinic began
and what matters to you. Until then, call any of our offices and we will gladly tell you
more.</p>
"""
)

INSURANCE_BODY = _html(
    """
<p>Your first consultation or assessment with us is free of charge.</p>

<h2>Insurance</h2>
<p>Sample text for the clinic to replace with the insurance plans it accepts. Until that list
is here, please call the office nearest you before your visit and ask whether we work with
your plan.</p>

<h2>Payment</h2>
<p>Sample text for the clinic to replace with its prices and the ways patients can pay. For
now, please call us to ask what treatment or a fitness membership will cost.</p>

<h2>First responders</h2>
<p>Firefighters, the military, EMTs and police officers always get $50 off fitness
memberships. Some exclusions may apply; call us for details.</p>
"""
)

NEW_PATIENTS_BODY = _html(
    """
<p>Not sure where to start? Begin with a free consultation or assessment: ask for one with
the form on our website or call the office nearest you.</p>

<h2>Your first visit</h2>
<p>Your therapist evaluates your pain and goes through your medical history with you. Then
you agree on a treatment plan tailored to your needs.</p>

<h2>Before you come</h2>
<p>Sample text for the clinic to replace: what to bring, which forms to fill in and how long
a first visit takes. Until then, please call us with any question before your
appointment.</p>

<h2>Dry needling and children</h2>
<p>We do not recommend dry needling for anyone under 12. For an older child, both the child
and a parent need to agree, and the child should understand the treatment first.</p>

<h2>Where to find us</h2>
<p>We have offices in Bloomfield, Newington and Avon. Their addresses, phone numbers and
opening hours are on our Offices &amp; hours page.</p>
"""
)

# footer/main: the link's place in that menu, when the page is created (None: not there).
PAGES = (
    {
        "slug": "about",
        "title": "About us",
        "summary": (
            "Physical therapy, sports rehab, dry needling and fitness memberships in "
            "Bloomfield, Newington and Avon, Connecticut."
        ),
        "body": ABOUT_BODY,
        "picture": (pictures.LIGHT_BLUE, pictures.three_pins),
        "image_alt": (
            "Illustration: three map pins joined by a dotted path, for our three offices, on "
            "pale blue shapes."
        ),
        "main": 55,
        "footer": 42,
    },
    {
        "slug": "new-patients",
        "title": "New patients",
        "summary": "Where to start: a free consultation or assessment, then a plan for you.",
        "body": NEW_PATIENTS_BODY,
        "picture": (pictures.DEEP_BLUE, pictures.rising_steps),
        "image_alt": (
            "Illustration: three rising steps and a dotted path up to a warm circle, on soft "
            "blue shapes."
        ),
        "main": None,
        "footer": 44,
    },
    {
        "slug": "insurance-and-payment",
        "title": "Insurance & payment",
        "summary": "Your first consultation is free; call us to check your insurance and costs.",
        "body": INSURANCE_BODY,
        "picture": (pictures.MID_BLUE, pictures.payment_cards),
        "image_alt": "Illustration: two plain payment cards on soft blue shapes.",
        "main": None,
        "footer": 46,
    },
)
# A page joins the main menu only while it has fewer links than this.
MAIN_MENU_LIMIT = 7

# --- Home page ------------------------------------------------------------------------

HOME = {
    "heading": "Not sure where to start? Your first assessment is free.",
    "text": (
        "Physical therapy, sports rehab, dry needling and fitness memberships in "
        "Bloomfield, Newington and Avon. Tell us what is holding you back, and we will "
        "suggest a treatment plan tailored to you."
    ),
    "button_label": "Ask for a free consultation",
    "picture": (pictures.LIGHT_BLUE, pictures.three_things),
    "image_alt": (
        "Illustration: a spine, a dumbbell and a map pin, each in a soft circle, on pale "
        "blue shapes."
    ),
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


# --- Loading --------------------------------------------------------------------------

PICTURE_SIZE = (1600, 900)
PORTRAIT_SIZE = (900, 900)  # profile pictures are shown square
_NOT_FIELDS = {"image_alt", "colors", "picture", "hours", "services", "offices", "main", "footer"}


def _fields(data: dict) -> dict:
    return {key: value for key, value in data.items() if key not in _NOT_FIELDS}


def _attach_picture(instance, name: str, picture: bytes, alt: str) -> None:
    instance.image.save(f"{name}.jpg", ContentFile(picture), save=False)
    instance.image_alt = alt


def _attach_drawing(instance, name: str, data: dict, size=PICTURE_SIZE) -> None:
    palette, drawing = data["picture"]
    picture = pictures.demo_picture(size, palette, name, drawing)
    _attach_picture(instance, name, picture, data["image_alt"])


def _attach_abstract(instance, size, data: dict) -> None:
    picture = pictures.abstract_picture(size, data["colors"], instance.slug)
    _attach_picture(instance, instance.slug, picture, data["image_alt"])


def _create(instance):
    instance.full_clean()
    instance.save()
    return instance


def _say(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message + "\n")


def _missing(model, slug: str) -> bool:
    return not model.objects.filter(slug=slug).exists()


class _Loader:
    """One run: counts what it creates, and links new rows to the others by slug."""

    def __init__(self, stdout, today: datetime.date):
        self.stdout, self.today = stdout, today
        self.counts = dict.fromkeys(COUNT_KEYS, 0)

    def created(self, kind: str, message: str) -> None:
        self.counts[kind] += 1
        _say(self.stdout, message)

    def clinic_settings(self):
        if not ClinicSettings.objects.filter(pk=1).exists():
            # pk set up front: full_clean() checks the single-row constraint (pk=1).
            _create(ClinicSettings(pk=1, **CLINIC_SETTINGS))
            self.created("clinic_settings", "Created clinic settings")

    def offices(self):
        closures = upcoming_closures(self.today)
        for order, data in enumerate(OFFICES, start=1):
            if not _missing(Office, data["slug"]):
                continue
            office = Office(is_active=True, display_order=order, **_fields(data))
            _attach_abstract(office, (1200, 800), data)
            _create(office)
            self.created("offices", f"Created office {office.slug}")
            # A new office has no hours or closures yet: no need to look for existing ones.
            for weekday, opens, closes in data["hours"]:
                _create(OpeningHours(office=office, weekday=weekday, opens=opens, closes=closes))
                self.counts["hours"] += 1
            for day, reason in closures:
                _create(Closure(office=office, date=day, reason=reason))
                self.counts["closures"] += 1

    def services(self):
        offices = Office.objects.filter(slug__in=[office["slug"] for office in OFFICES])
        for order, data in enumerate(SERVICES, start=1):
            if not _missing(Service, data["slug"]):
                continue
            service = Service(
                display_order=order,
                is_published=True,
                **{**_fields(data), "who_it_helps": "\n".join(data["who_it_helps"])},
            )
            _attach_drawing(service, service.slug, data)
            _create(service).offices.set(offices)
            self.created("services", f"Created service {service.slug}")

    def team(self):
        for order, data in enumerate(TEAM, start=1):
            if not _missing(Clinician, data["slug"]):
                continue
            person = Clinician(display_order=order, is_shown=True, **_fields(data))
            if "picture" in data:
                _attach_drawing(person, person.slug, data, PORTRAIT_SIZE)
            _create(person)
            person.services.set(Service.objects.filter(slug__in=data["services"]))
            person.offices.set(Office.objects.filter(slug__in=data["offices"]))
            self.created("team_members", f"Created team member {person.slug}")

    def articles(self):
        for data in ARTICLES:
            if not _missing(Article, data["slug"]):
                continue
            fields = _fields(data) | {
                "author_profile": Clinician.objects.filter(slug=data["author_profile"]).first()
                if data["author_profile"]
                else None
            }
            article = Article(status=Article.Status.PUBLISHED, **fields)
            _attach_abstract(article, PICTURE_SIZE, data)
            _create(article).services.set(Service.objects.filter(slug__in=data["services"]))
            self.created("articles", f"Created article {article.slug}")

    def promotion(self):
        if _missing(Promotion, PROMOTION["slug"]):
            service = Service.objects.filter(slug="fitness-memberships").first()
            _create(Promotion(service=service, **PROMOTION))
            self.created("promotions", f"Created promotion {PROMOTION['slug']}")

    def built_in_links(self):
        """An empty menu (a database emptied after migrating) gets what migrate gives it."""
        if MenuItem.objects.exists():
            return
        defaults = import_module("pages.migrations.0004_content_editors_and_default_menu")
        for location, sections in defaults.DEFAULT_LINKS.items():
            for index, section in enumerate(sections):
                _create(MenuItem(location=location, section=section, order=10 * (index + 1)))
                self.created("menu_items", f"Created {location} menu link to {section}")

    def pages(self):
        for data in PAGES:
            if not _missing(Page, data["slug"]):
                continue
            page = Page(is_published=True, **_fields(data))
            _attach_drawing(page, page.slug, data)
            _create(page)
            self.created("pages", f"Created page {page.slug}")
            # Menu links only with a page made now: a link staff removed stays removed.
            main = MenuItem.objects.filter(location=MenuItem.Location.MAIN)
            wanted = [(MenuItem.Location.FOOTER, data["footer"])]
            if data["main"] is not None and main.count() < MAIN_MENU_LIMIT:
                wanted.append((MenuItem.Location.MAIN, data["main"]))
            for location, order in wanted:
                _create(MenuItem(location=location, page=page, order=order))
                self.created("menu_items", f"Created {location} menu link to {page.slug}")

    def home_page(self):
        if HomePage.objects.filter(pk=1).exists():
            return
        home = HomePage(pk=1, **_fields(HOME))
        _attach_drawing(home, "home", HOME)
        _create(home)
        home.services.set(Service.objects.filter(slug__in=[s["slug"] for s in SERVICES]))
        home.promotions.set(Promotion.objects.filter(slug=PROMOTION["slug"]))
        home.articles.set(Article.objects.filter(slug__in=[a["slug"] for a in ARTICLES]))
        self.created("home_page", "Created home page")


def load_demo_content(stdout=None, *, today: datetime.date | None = None) -> dict[str, int]:
    """Create whatever part of the demo content is missing; returns created rows per kind.

    Existing rows are never changed: links to other rows (an article's services, an offer's
    service, menu links, the home page's choices) are made only for rows created in this
    run. Hours and closures are added only to offices created in this run. ``today``
    (default: the local date) decides which Thanksgiving and Christmas are "upcoming".
    """
    loader = _Loader(stdout, today or timezone.localdate())
    with transaction.atomic():
        # In this order: each step links to rows the steps before it made.
        for step in (
            loader.clinic_settings,
            loader.offices,
            loader.services,
            loader.team,
            loader.articles,
            loader.promotion,
            loader.built_in_links,
            loader.pages,
            loader.home_page,
        ):
            step()
    return loader.counts


def demo_text() -> list[str]:
    """Every sentence written here, for ``manage.py check_demo_copy`` (titles are the
    source pages' own, kept as names)."""
    texts = [CLINIC_SETTINGS["tagline"], CLINIC_SETTINGS["footer_text"]]
    for article in ARTICLES:
        texts += [article["summary"], article["body"], article["image_alt"]]
    texts += [office["image_alt"] for office in OFFICES]
    texts += [PROMOTION[key] for key in ("title", "description", "how_to_claim", "eligibility")]
    texts.append(PROMOTION["fine_print"])
    for service in SERVICES:
        texts += [service["summary"], service["body"], *service["who_it_helps"]]
        texts.append(service["image_alt"])
    for person in TEAM:
        texts += [person["role"], person["bio"], person.get("image_alt", "")]
    for page in PAGES:
        texts += [page["summary"], page["body"], page["image_alt"]]
    texts += [HOME[key] for key in ("heading", "text", "button_label", "image_alt")]
    return [text for text in texts if text]


# Counted kinds in the order the summary names them (single rows last, uncounted).
_SUMMARY_NOUNS = (
    ("services", "service"),
    ("team_members", "team member"),
    ("articles", "article"),
    ("pages", "page"),
    ("offices", "office"),
    ("hours", "opening-hours row"),
    ("closures", "closure"),
    ("promotions", "promotion"),
    ("menu_items", "menu link"),
)
_SINGLE_ROWS = (("home_page", "home page"), ("clinic_settings", "clinic settings"))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun if count == 1 else noun + 's'}"


def summarize(counts: dict[str, int]) -> str:
    """One line for the command's output, e.g. 'Created 4 services, 2 articles, ...'."""
    if not any(counts.values()):
        return "Nothing to do: demo content already present."
    parts = [_plural(counts[key], noun) for key, noun in _SUMMARY_NOUNS if counts[key]]
    parts += [noun for key, noun in _SINGLE_ROWS if counts[key]]
    return "Created " + ", ".join(parts) + "."
