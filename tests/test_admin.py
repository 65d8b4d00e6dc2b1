"""The Django admin of the ``pages`` app, driven through real HTTP requests.

Everything here goes through ``admin_client`` (a logged-in superuser) and, where a change
must reach patients, an anonymous ``client`` reading the public page afterwards.
"""

import datetime
import re
from http import HTTPStatus
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils.html import escape

from clinic_site.models import ClinicSettings
from pages.models import (
    Article,
    Clinician,
    HomePage,
    MenuItem,
    Office,
    OpeningHours,
    Page,
    Promotion,
    Service,
)
from pages.picture_files import SPECS, rendition_file

from .factories import (
    ArticleFactory,
    ClinicianFactory,
    ClinicSettingsFactory,
    ClosureFactory,
    MenuItemFactory,
    OfficeFactory,
    OpeningHoursFactory,
    PageFactory,
    PromotionFactory,
    ServiceFactory,
    uploaded_image,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]


# Message from pages/models.py (the picture's description); upload messages: test_uploads.py.
MSG_ALT_REQUIRED = "Describe the picture in a few words for people who cannot see it"


# --------------------------------------------------------------------------- helpers

EXECUTABLE_SCRIPT = re.compile(r'<script(?![^>]*type="application/ld\+json")', re.IGNORECASE)


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def article_form_data(**overrides):
    """Every field of the Article add form, as a browser would post it."""
    data = {
        "title": "Knee pain after running",
        "slug": "knee-pain-after-running",
        "summary": "What helps a sore knee, and when to see us.",
        "body": "<h2>Why it hurts</h2><p>Most runner's knee settles with rest.</p>",
        "image_alt": "",
        "status": Article.Status.PUBLISHED,
        "published_at_0": "2024-01-15",
        "published_at_1": "09:30:00",
        "author": "Dana Physio",
        "reviewed_by": "",
        "reviewed_on": "",
    }
    data.update(overrides)
    return data


def article_change_data(article, **overrides):
    current = {
        "title": article.title,
        "slug": article.slug,
        "summary": article.summary,
        "body": article.body,
        "status": article.status,
        "author": article.author,
    }
    return article_form_data(**{**current, **overrides})


def inline_management(prefix, total=0, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def office_form_data(**overrides):
    data = {
        "name": "Bloomfield Office",
        "slug": "bloomfield",
        "is_active": "on",
        "display_order": "0",
        "street": "45 Main St",
        "suite": "",
        "city": "Bloomfield",
        "state": "CT",
        "zip_code": "06002",
        "phone": "(860) 555-0100",
        "email": "",
        "image_alt": "",
        "latitude": "",
        "longitude": "",
        **inline_management("hours"),
        **inline_management("closures"),
    }
    data.update(overrides)
    return data


def promotion_form_data(**overrides):
    data = {
        "title": "First responders save $50",
        "slug": "first-responders",
        "description": "",
        "eligibility": "Firefighters and EMTs",
        "amount": "50.00",
        "currency": "USD",
        "applies_to": "fitness memberships",
        "how_to_claim": "",
        "fine_print": "",
        "is_active": "on",
        "starts_on": "",
        "ends_on": "",
    }
    data.update(overrides)
    return data


def clinic_form_data(**overrides):
    data = {
        "name": "Motion Clinic",
        "tagline": "Move better",
        "phone": "(860) 555-0199",
        "email": "hello@clinic.example",
        "time_zone": "America/New_York",
        "footer_text": "",
        "brand_colour": "#0b5394",
        "reply_promise": "We reply within one business day.",
        "thank_you_text": "Thank you.",
        "confirmation_text": "Thank you for asking.",
        "consultation_heading": "Ask us anything",
        "consultation_intro": "Tell us how to reach you.",
        "services_intro": "",
        "team_intro": "",
        "articles_intro": "",
        "offices_intro": "",
    }
    data.update(overrides)
    return data


def text_of(response):
    return response.content.decode()


def assert_form_error(response, message):
    """The admin form came back (not a redirect, not a crash) and shows ``message``."""
    assert response.status_code == HTTPStatus.OK
    body = text_of(response)
    assert "Please correct the error" in body
    assert escape(message) in body, f"{message!r} not shown on the page"


# --------------------------------------------------------------------------- 1. smoke

ROW_FACTORIES = {
    Article: ArticleFactory,
    Office: OfficeFactory,
    Promotion: PromotionFactory,
    Service: ServiceFactory,
    Clinician: ClinicianFactory,
    Page: PageFactory,
    MenuItem: lambda **kw: MenuItemFactory(**{"label": "Opening times", **kw}),
}
# The field a row is named by in its list (a team member's credentials have a column of
# their own; a menu link's label is its text).
NAME_FIELDS = {Office: "name", Clinician: "name", MenuItem: "label"}


def listed_as(row):
    """What the list page shows of ``row``."""
    return getattr(row, NAME_FIELDS.get(type(row), ""), None) or str(row)


@pytest.mark.parametrize("model", list(ROW_FACTORIES), ids=lambda m: m.__name__)
@pytest.mark.parametrize("query", ["", "?q=search"], ids=["plain", "search"])
def test_changelist_renders(admin_client, model, query):
    row = ROW_FACTORIES[model]()
    response = admin_client.get(admin_url(model, "changelist") + query)
    assert response.status_code == HTTPStatus.OK
    # Without a search the existing row is listed; with a non-matching search it is not.
    assert (listed_as(row) in text_of(response)) is (query == "")


@pytest.mark.parametrize("model", list(ROW_FACTORIES), ids=lambda m: m.__name__)
def test_changelist_search_finds_only_matching_row(admin_client, model):
    name_field = NAME_FIELDS.get(model, "title")
    wanted = ROW_FACTORIES[model](**{name_field: "Zebra crossing"})
    unwanted = ROW_FACTORIES[model]()
    response = admin_client.get(admin_url(model, "changelist"), {"q": "zebra"})
    assert response.status_code == HTTPStatus.OK
    assert listed_as(wanted) in text_of(response)
    assert listed_as(unwanted) not in text_of(response)


@pytest.mark.parametrize("model", list(ROW_FACTORIES), ids=lambda m: m.__name__)
def test_add_and_change_pages_render(admin_client, model):
    row = ROW_FACTORIES[model]()
    add = admin_client.get(admin_url(model, "add"))
    assert add.status_code == HTTPStatus.OK
    assert 'name="_save"' in text_of(add)
    change = admin_client.get(admin_url(model, "change", row.pk))
    assert change.status_code == HTTPStatus.OK
    assert escape(str(row)) in text_of(change)


# The content models staff edit besides articles, offices and offers.
SITE_CONTENT = [Service, Clinician, Page, MenuItem, HomePage]


def test_admin_index_lists_every_content_model(admin_client):
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == HTTPStatus.OK
    for model in (Article, Office, Promotion, ClinicSettings, *SITE_CONTENT):
        assert admin_url(model, "changelist") in text_of(response)


def log_in(client, group_name):
    user = User.objects.create_user(group_name.lower(), password="x" * 12, is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))  # as made by the migrations
    client.force_login(user)
    return client


def list_search_and_add(model):
    url = admin_url(model, "changelist")
    return [url, f"{url}?q=needling", admin_url(model, "add")]


@pytest.mark.parametrize("model", SITE_CONTENT, ids=lambda m: m.__name__)
@pytest.mark.parametrize("who", ["superuser", "Content editors"])
def test_content_staff_can_list_search_and_add_site_content(admin_client, client, model, who):
    staff = admin_client if who == "superuser" else log_in(client, who)
    for url in list_search_and_add(model):
        # The home page's list goes straight to its one row, here to the add form.
        response = staff.get(url, follow=True)
        assert response.status_code == HTTPStatus.OK, url
        assert "Please correct" not in text_of(response)
    assert 'name="_save"' in text_of(staff.get(admin_url(model, "add")))


@pytest.mark.parametrize("model", SITE_CONTENT, ids=lambda m: m.__name__)
def test_front_desk_cannot_open_site_content(client, model):
    front_desk = log_in(client, "Front desk")
    for url in list_search_and_add(model):
        assert front_desk.get(url).status_code == HTTPStatus.FORBIDDEN, url


@pytest.mark.parametrize("query", ["", "?q=search"], ids=["plain", "search"])
def test_home_page_list_goes_to_its_one_row_which_cannot_be_added_twice_or_deleted(
    admin_client, query
):
    response = admin_client.get(admin_url(HomePage, "changelist") + query)
    assert response["Location"] == admin_url(HomePage, "add")
    HomePage.objects.create(heading="Move without pain", text="Hello.")
    response = admin_client.get(admin_url(HomePage, "changelist") + query)
    assert response["Location"] == admin_url(HomePage, "change", 1)
    change = admin_client.get(response["Location"])
    assert "Move without pain" in text_of(change)
    assert admin_url(HomePage, "delete", 1) not in text_of(change)
    assert admin_client.get(admin_url(HomePage, "add")).status_code == HTTPStatus.FORBIDDEN
    delete = admin_client.get(admin_url(HomePage, "delete", 1))
    assert delete.status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize("query", ["", "?q=search"], ids=["plain", "search"])
def test_clinic_settings_changelist_without_row_goes_to_add_page(admin_client, query):
    response = admin_client.get(admin_url(ClinicSettings, "changelist") + query)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == admin_url(ClinicSettings, "add")
    add = admin_client.get(response["Location"])
    assert add.status_code == HTTPStatus.OK
    assert 'name="time_zone"' in text_of(add)


@pytest.mark.parametrize("query", ["", "?q=search"], ids=["plain", "search"])
def test_clinic_settings_changelist_goes_to_the_single_row(admin_client, query):
    clinic = ClinicSettingsFactory()
    response = admin_client.get(admin_url(ClinicSettings, "changelist") + query)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == admin_url(ClinicSettings, "change", clinic.pk)
    change = admin_client.get(response["Location"])
    assert change.status_code == HTTPStatus.OK
    assert clinic.name in text_of(change)
    # No delete button on the only row.
    assert admin_url(ClinicSettings, "delete", clinic.pk) not in text_of(change)


def test_clinic_settings_cannot_be_added_twice_or_deleted(admin_client):
    clinic = ClinicSettingsFactory()
    assert admin_client.get(admin_url(ClinicSettings, "add")).status_code == HTTPStatus.FORBIDDEN
    response = admin_client.post(admin_url(ClinicSettings, "add"), clinic_form_data(name="Two"))
    assert response.status_code == HTTPStatus.FORBIDDEN
    delete_url = admin_url(ClinicSettings, "delete", clinic.pk)
    assert admin_client.get(delete_url).status_code == HTTPStatus.FORBIDDEN
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == HTTPStatus.FORBIDDEN
    assert list(ClinicSettings.objects.values_list("name", flat=True)) == [clinic.name]


def test_clinic_settings_first_row_can_be_added_and_shows_on_the_site(admin_client, client, commit):
    with commit():
        response = admin_client.post(
            admin_url(ClinicSettings, "add"), clinic_form_data(name="Brand New Clinic")
        )
    assert response.status_code == HTTPStatus.FOUND
    assert ClinicSettings.objects.get().name == "Brand New Clinic"
    assert "Brand New Clinic" in text_of(client.get("/"))


def test_clinic_settings_edit_shows_on_the_site_at_once(admin_client, client, commit):
    clinic = ClinicSettingsFactory()
    assert clinic.name in text_of(client.get("/"))  # now cached
    with commit():
        response = admin_client.post(
            admin_url(ClinicSettings, "change", clinic.pk),
            clinic_form_data(name="Renamed Clinic", phone="(860) 555-0111"),
        )
    assert response.status_code == HTTPStatus.FOUND
    page = text_of(client.get("/"))
    assert "Renamed Clinic" in page
    assert "(860) 555-0111" in page


# --------------------------------------------------------------------------- 2. create/edit


def test_article_created_in_admin_is_public_and_edits_show_at_once(admin_client, client, commit):
    response = admin_client.post(admin_url(Article, "add"), article_form_data())
    assert response.status_code == HTTPStatus.FOUND, response.context["adminform"].form.errors
    article = Article.objects.get(slug="knee-pain-after-running")
    assert article.status == Article.Status.PUBLISHED

    public = client.get("/articles/knee-pain-after-running/")
    assert public.status_code == HTTPStatus.OK
    assert "Knee pain after running" in text_of(public)
    assert "Most runner" in text_of(public)
    assert "Preview:" not in text_of(public)

    with commit():
        response = admin_client.post(
            admin_url(Article, "change", article.pk),
            article_change_data(article, title="Knee pain: a runner's guide"),
        )
    assert response.status_code == HTTPStatus.FOUND
    public = client.get("/articles/knee-pain-after-running/")
    assert public.status_code == HTTPStatus.OK
    assert escape("Knee pain: a runner's guide") in text_of(public)
    assert "Knee pain after running" not in text_of(public)


def test_article_with_future_publish_date_is_not_public_yet(admin_client, client):
    tomorrow = datetime.date.today() + datetime.timedelta(days=2)
    response = admin_client.post(
        admin_url(Article, "add"), article_form_data(published_at_0=tomorrow.isoformat())
    )
    assert response.status_code == HTTPStatus.FOUND
    assert Article.objects.filter(slug="knee-pain-after-running").exists()
    assert client.get("/articles/knee-pain-after-running/").status_code == HTTPStatus.NOT_FOUND


# --------------------------------------------------------------------------- 3. sanitising

DIRTY_BODY = (
    "<p>Hi</p><script>alert(1)</script><img src=x onerror=alert(1)>"
    '<a href="javascript:alert(1)">x</a>'
)


def test_article_body_is_sanitised_when_saved_and_shown(admin_client, client):
    response = admin_client.post(admin_url(Article, "add"), article_form_data(body=DIRTY_BODY))
    assert response.status_code == HTTPStatus.FOUND
    saved = Article.objects.get(slug="knee-pain-after-running").body
    assert "<p>Hi</p>" in saved
    for bad in ("<script", "onerror", "javascript:"):
        assert bad not in saved.lower()

    page = text_of(client.get("/articles/knee-pain-after-running/"))
    assert "<p>Hi</p>" in page
    # The only scripts a public page has are JSON-LD data blocks, never code.
    assert EXECUTABLE_SCRIPT.search(page) is None
    for bad in ("alert(1)", "onerror", "javascript:"):
        assert bad not in page.lower()


# --------------------------------------------------------------------------- 4. uploads


def post_article_with_image(admin_client, image, **overrides):
    data = article_form_data(**{"image": image, "image_alt": "Knee brace on a table", **overrides})
    return admin_client.post(admin_url(Article, "add"), data)


def assert_upload_rejected(response, message):
    assert_form_error(response, message)
    assert not Article.objects.exists()
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


# Which files are refused and why (formats, damaged files, size and pixel limits, on both
# models' add and change forms), and what is stored for an accepted one: tests/test_uploads.py.


def test_upload_without_alt_text_is_a_form_error(admin_client):
    response = post_article_with_image(admin_client, uploaded_image(), image_alt="   ")
    assert_upload_rejected(response, MSG_ALT_REQUIRED)


def test_valid_upload_with_alt_is_saved_and_shown_as_responsive_picture(admin_client, client):
    response = post_article_with_image(admin_client, uploaded_image())
    assert response.status_code == HTTPStatus.FOUND
    article = Article.objects.get()
    assert (article.image_width, article.image_height) == (1600, 900)

    renditions = Path(settings.MEDIA_ROOT) / "renditions"
    written = sorted(
        p.relative_to(settings.MEDIA_ROOT).as_posix() for p in renditions.rglob("*") if p.is_file()
    )
    assert written == sorted(rendition_file(article.image, w, ext).name for w, ext in SPECS)

    page = text_of(client.get(article.get_absolute_url()))
    match = re.search(r"<picture>.*?</picture>", page, re.S)
    assert match, "no <picture> on the article page"
    picture = match.group(0)
    assert re.search(r'srcset="[^"]*480w', picture)
    assert 'width="1440"' in picture
    assert 'height="810"' in picture
    assert 'alt="Knee brace on a table"' in picture
    # Every URL the page offers is a file that exists under MEDIA_ROOT.
    for url in re.findall(r"(/media/\S+?)(?:\s|\")", picture):
        path = Path(settings.MEDIA_ROOT) / url.removeprefix(settings.MEDIA_URL)
        assert path.is_file(), url


# --------------------------------------------------------------------------- 5. form errors


def test_article_slug_clash_is_a_form_error(admin_client):
    ArticleFactory(slug="knee-pain-after-running")
    response = admin_client.post(admin_url(Article, "add"), article_form_data())
    assert_form_error(response, "Another article already uses this web address")
    assert Article.objects.count() == 1


def test_office_slug_clash_is_a_form_error(admin_client):
    OfficeFactory(slug="bloomfield")
    response = admin_client.post(admin_url(Office, "add"), office_form_data())
    assert_form_error(response, "Another office already uses this web address")
    assert Office.objects.count() == 1


def test_promotion_ending_before_it_starts_is_a_form_error(admin_client):
    data = promotion_form_data(starts_on="2025-03-10", ends_on="2025-03-01")
    response = admin_client.post(admin_url(Promotion, "add"), data)
    assert_form_error(response, "The end date cannot be before the start date.")
    assert not Promotion.objects.exists()


def test_office_add_form_has_the_inline_management_fields(admin_client):
    page = text_of(admin_client.get(admin_url(Office, "add")))
    for prefix in ("hours", "closures"):
        for suffix in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            assert f'name="{prefix}-{suffix}"' in page
    assert 'name="hours-__prefix__-closes"' in page
    assert 'name="closures-__prefix__-reason"' in page


def test_office_with_hours_and_closure_is_saved_from_admin(admin_client, client):
    data = office_form_data(
        **inline_management("hours", total=1),
        **{"hours-0-weekday": "0", "hours-0-opens": "08:00", "hours-0-closes": "17:00"},
        **inline_management("closures", total=1),
        **{"closures-0-date": "2030-11-28", "closures-0-reason": "Thanksgiving"},
    )
    response = admin_client.post(admin_url(Office, "add"), data)
    assert response.status_code == HTTPStatus.FOUND
    office = Office.objects.get(slug="bloomfield")
    assert list(office.hours.values_list("opens", "closes")) == [
        (datetime.time(8), datetime.time(17))
    ]
    assert office.closures.get().reason == "Thanksgiving"
    assert "Bloomfield Office" in text_of(client.get("/offices/bloomfield/"))


def test_office_hours_closing_before_opening_is_a_form_error(admin_client):
    data = office_form_data(
        **inline_management("hours", total=1),
        **{"hours-0-weekday": "0", "hours-0-opens": "17:00", "hours-0-closes": "08:00"},
    )
    response = admin_client.post(admin_url(Office, "add"), data)
    assert_form_error(response, "The closing time must be later than the opening time.")
    assert not Office.objects.exists()
    assert not OpeningHours.objects.exists()


def test_office_latitude_without_longitude_is_a_form_error(admin_client):
    response = admin_client.post(admin_url(Office, "add"), office_form_data(latitude="41.826"))
    assert_form_error(response, "Give both latitude and longitude, or neither.")
    assert not Office.objects.exists()


def test_clinic_settings_unknown_time_zone_is_a_form_error(admin_client):
    clinic = ClinicSettingsFactory()
    response = admin_client.post(
        admin_url(ClinicSettings, "change", clinic.pk), clinic_form_data(time_zone="Mars/Olympus")
    )
    assert_form_error(response, "Unknown time zone. Use a name like America/New_York.")
    clinic.refresh_from_db()
    assert clinic.time_zone == "America/New_York"


def test_clinic_settings_unknown_time_zone_is_refused_on_add_too(admin_client):
    response = admin_client.post(
        admin_url(ClinicSettings, "add"), clinic_form_data(time_zone="Not/AZone")
    )
    assert_form_error(response, "Unknown time zone.")
    assert not ClinicSettings.objects.exists()


# --------------------------------------------------------------------------- 6. change pages


def test_office_change_page_shows_hours_and_closures_inlines(admin_client):
    office = OfficeFactory()
    OpeningHoursFactory(office=office, weekday=2, opens=datetime.time(7, 15))
    ClosureFactory(office=office, reason="Staff training day")
    response = admin_client.get(admin_url(Office, "change", office.pk))
    assert response.status_code == HTTPStatus.OK
    page = text_of(response)
    assert "Opening hours (a day with no row is shown as closed)" in page
    assert "Special closures from today on" in page
    assert 'name="hours-TOTAL_FORMS" value="1"' in page
    assert 'name="closures-TOTAL_FORMS" value="1"' in page
    assert 'value="7:15 AM"' in page  # as people write it (tests/test_editor_admin.py)
    assert 'value="Staff training day"' in page


def test_article_change_page_has_a_working_view_on_site_link(admin_client):
    article = ArticleFactory()
    page = text_of(admin_client.get(admin_url(Article, "change", article.pk)))
    match = re.search(r'<a href="([^"]+)" class="viewsitelink">View on site</a>', page)
    assert match, "no 'View on site' link on the article change page"
    response = admin_client.get(match.group(1))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].endswith(f"/articles/{article.slug}/")


def test_publish_now_action_publishes_a_draft(admin_client, client):
    draft = ArticleFactory(status=Article.Status.DRAFT, slug="draft-one")
    other = ArticleFactory(status=Article.Status.DRAFT, slug="draft-two")
    assert client.get("/articles/draft-one/").status_code == HTTPStatus.NOT_FOUND

    response = admin_client.post(
        admin_url(Article, "changelist"),
        {"action": "publish_now", "_selected_action": [draft.pk]},
        follow=True,
    )
    assert response.status_code == HTTPStatus.OK
    assert "1 article(s) published." in text_of(response)
    draft.refresh_from_db()
    other.refresh_from_db()
    assert draft.status == Article.Status.PUBLISHED
    assert other.status == Article.Status.DRAFT
    assert client.get("/articles/draft-one/").status_code == HTTPStatus.OK
    assert client.get("/articles/draft-two/").status_code == HTTPStatus.NOT_FOUND


def test_make_draft_action_hides_an_article(admin_client, client, commit):
    article = ArticleFactory(slug="live-one")
    assert client.get("/articles/live-one/").status_code == HTTPStatus.OK
    with commit():
        response = admin_client.post(
            admin_url(Article, "changelist"),
            {"action": "make_draft", "_selected_action": [article.pk]},
            follow=True,
        )
    assert "1 article(s) are drafts now" in text_of(response)
    assert client.get("/articles/live-one/").status_code == HTTPStatus.NOT_FOUND


# --------------------------------------------------------------------------- 7. staff preview


def test_draft_is_hidden_from_public_and_previewed_by_staff(admin_client, client):
    draft = ArticleFactory(status=Article.Status.DRAFT, slug="secret-draft", title="Secret")
    assert client.get(draft.get_absolute_url()).status_code == HTTPStatus.NOT_FOUND

    response = admin_client.get(draft.get_absolute_url())
    assert response.status_code == HTTPStatus.OK
    assert "Secret" in text_of(response)
    assert "Preview:" in text_of(response)
    cache_control = response["Cache-Control"]
    assert "no-store" in cache_control or (
        "no-cache" in cache_control and "private" in cache_control
    )
    assert response["X-Robots-Tag"] == "noindex"


def test_published_article_has_no_preview_banner_for_staff(admin_client):
    article = ArticleFactory(slug="public-one")
    response = admin_client.get(article.get_absolute_url())
    assert response.status_code == HTTPStatus.OK
    assert "Preview:" not in text_of(response)
    assert "no-store" not in response.get("Cache-Control", "")


@pytest.mark.django_db
def test_a_pasted_body_is_cleaned_on_save():
    """The editor's sanitizer (loaded on first use) strips what a paste can bring in."""
    article = ArticleFactory(
        body='<p onclick="x()">Text<script>alert(1)</script><img src=x onerror=y()></p>'
        '<h2>Heading</h2><a href="javascript:alert(1)">link</a>'
    )
    article.full_clean()
    article.save()
    article.refresh_from_db()
    assert "<script" not in article.body and "onclick" not in article.body
    assert "<img" not in article.body and "javascript:" not in article.body
    assert "<h2>Heading</h2>" in article.body and "Text" in article.body
