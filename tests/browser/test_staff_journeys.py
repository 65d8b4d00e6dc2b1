"""The two staff journeys of issue 12 in a real browser, each as a member of its group.

A content editor writes, links, illustrates and publishes an article, and schedules another;
the front desk finds a request by a caller-ID number, calls back, notes, assigns and erases
it. Both log in through the admin's own login form and click what staff would click.
"""

import datetime
import re

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone
from django.utils.formats import date_format
from PIL import Image
from playwright.sync_api import expect

from contact.models import ConsultationRequest, ErasureRecord, StaffNote
from pages.models import Article

pytestmark = [
    pytest.mark.browser,
    # The groups come from data migrations, which a flush between live-server tests empties.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("fast_password_hasher", "staff_groups"),
]

PASSWORD = "a-long-enough-staff-password"
AUTHOR = "Sylvestra Ramirez"  # a clinician of the demo content


def log_in(page, site, group: str, username: str, **names) -> User:
    """A member of ``group`` (not a superuser), logged in through the admin login form."""
    user = User.objects.create_user(username, password=PASSWORD, is_staff=True, **names)
    user.groups.add(Group.objects.get(name=group))
    page.goto(site + "/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(site + "/admin/")
    return user


def save(page, button="Save"):
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()


def type_body(page, text: str):
    """Types ``text`` into the rich-text editor, after what is there."""
    editor = page.locator(".prose-editor .ProseMirror[contenteditable=true]")
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


def choose_author(page, name: str):
    """The author box searches the team as one types (Django's autocomplete)."""
    page.locator(".field-author_profile .select2-selection").click()
    page.locator(".select2-search__field").fill(name.split()[0])
    page.get_by_role("option", name=name).click()
    expect(page.locator(".field-author_profile .select2-selection__rendered")).to_contain_text(name)


def fill_article(page, title: str, summary: str):
    page.get_by_label("Title:").fill(title)
    page.get_by_label("Summary:").fill(summary)
    type_body(page, "Warm up for ten minutes before every run. Read more at ")
    # A link typed the way people write one: no https://.
    page.keyboard.type("our partner site")
    for _ in "our partner site":
        page.keyboard.press("Shift+ArrowLeft")
    page.locator('.prose-menubar [title="insert link"]').click()
    dialog = page.locator("dialog.prose-editor-dialog[open]")
    dialog.get_by_label("URL").fill("www.example.com")
    dialog.get_by_role("button", name="Update").click()
    expect(page.locator(".ProseMirror a", has_text="our partner site")).to_be_visible()
    choose_author(page, AUTHOR)
    page.get_by_label("Status:").select_option(label="Published")


def test_an_editor_publishes_an_article_with_a_link_and_a_picture(page, site, tmp_path):
    picture = tmp_path / "knee-stretch.jpg"
    Image.new("RGB", (1200, 675), (40, 130, 90)).save(picture, "JPEG")
    log_in(page, site, "Content editors", "erin", first_name="Erin", last_name="Editor")

    page.get_by_role("link", name="Write an article").click()
    fill_article(page, "Stretches for runners", "Five stretches that keep your knees happy.")
    page.get_by_label("Hero image:").set_input_files(picture)
    page.get_by_label("Picture description:").fill("A runner stretching her calf")
    save(page)

    expect(page.locator(".messagelist .success")).to_contain_text("Stretches for runners")
    row = page.locator("#result_list tr", has_text="Stretches for runners")
    expect(row.locator(".field-status_text")).to_have_text("Published")
    expect(row.locator(".field-author_name")).to_have_text(AUTHOR)

    row.get_by_role("link", name="Stretches for runners").click()
    with page.expect_navigation():
        page.get_by_role("link", name="View on site").click()
    article = Article.objects.get(title="Stretches for runners")
    expect(page).to_have_url(site + article.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_have_text("Stretches for runners")
    expect(page.get_by_text("Warm up for ten minutes before every run.")).to_be_visible()
    expect(page.get_by_text(AUTHOR).first).to_be_visible()
    link = page.get_by_role("link", name="our partner site")
    expect(link).to_have_attribute("href", "https://www.example.com")
    hero = page.get_by_role("img", name="A runner stretching her calf")
    expect(hero).to_be_visible()
    assert hero.evaluate("img => img.complete && img.naturalWidth") > 0


def test_an_editor_schedules_an_article_that_stays_hidden_until_then(page, site, browser):
    log_in(page, site, "Content editors", "erin", first_name="Erin", last_name="Editor")
    when = timezone.localdate() + datetime.timedelta(days=30)

    page.goto(site + "/admin/pages/article/add/")
    fill_article(page, "Spring marathon clinic", "Get ready for the spring races with us.")
    page.locator("#id_published_at_0").fill(when.isoformat())
    page.locator("#id_published_at_1").fill("09:00")
    save(page)

    row = page.locator("#result_list tr", has_text="Spring marathon clinic")
    nine = datetime.datetime.combine(when, datetime.time(9), timezone.get_current_timezone())
    expected = f"Scheduled for {date_format(nine, 'DATETIME_FORMAT')}"  # as the admin writes it
    expect(row.locator(".field-status_text")).to_have_text(expected)

    # Staff may preview it at its address; a visitor (no staff login) gets "not found".
    url = site + Article.objects.get(title="Spring marathon clinic").get_absolute_url()
    assert page.goto(url).ok
    expect(page.get_by_role("heading", level=1)).to_have_text("Spring marathon clinic")
    visitor = browser.new_context()
    try:
        response = visitor.new_page().goto(url)
        assert response.status == 404
    finally:
        visitor.close()


def test_front_desk_finds_calls_back_notes_assigns_and_erases_a_request(page, site):
    now = timezone.now()
    common = {
        "contact_method": ConsultationRequest.ContactMethod.PHONE,
        "best_time": ConsultationRequest.BestTime.MORNING,
        "consent_at": now,
        "received_at": now,
        "next_attempt_at": now,
    }
    request = ConsultationRequest.objects.create(
        name="Pat Patient",
        phone="(860) 555-0199",
        email="pat@example.com",
        message="My knee hurts after running.",
        **common,
    )
    ConsultationRequest.objects.create(name="Other Caller", phone="(203) 555-0100", **common)
    desk = log_in(page, site, "Front desk", "dana", first_name="Dana", last_name="Desk")

    page.get_by_role("link", name="All requests").click()
    search = page.get_by_role("textbox", name="Search")
    rows = page.locator("#result_list tbody tr")
    # The number as caller ID shows it, then as the patient might say it.
    for typed in ["8605550199", "+1 860-555-0199"]:
        search.fill(typed)
        with page.expect_navigation():
            search.press("Enter")
        expect(rows).to_have_count(1)
        expect(rows).to_contain_text("Pat Patient")
    call = rows.get_by_role("link", name="(860) 555-0199")
    expect(call).to_have_attribute("href", "tel:+18605550199")

    rows.get_by_role("link", name="Pat Patient").click()
    # The change page, keeping the search to return to.
    expect(page).to_have_url(re.compile(re.escape(site + request.get_admin_url())))
    # The request page calls back in one tap too.
    expect(page.locator(".field-phone_link a")).to_have_attribute("href", "tel:+18605550199")
    page.locator("#notes-group textarea").first.fill("Called back, booked Tuesday at 3pm.")
    page.get_by_label("Assigned to:").select_option(label="Dana Desk")  # listed by name
    page.get_by_label("Status:").select_option(label="Contacted")
    save(page)

    expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")
    row = page.locator("#result_list tbody tr", has_text="Pat Patient")
    expect(row.locator(".field-status")).to_have_text("Contacted")
    expect(row.locator(".field-assigned_to_name")).to_have_text("Dana Desk")
    request.refresh_from_db()
    assert (request.status, request.assigned_to) == (ConsultationRequest.Status.CONTACTED, desk)
    note = StaffNote.objects.get(consultation=request)
    assert (note.author, note.text) == (desk, "Called back, booked Tuesday at 3pm.")

    # The patient asks to be erased: Delete, Django's confirmation, a reason.
    row.get_by_role("link", name="Pat Patient").click()
    page.get_by_role("link", name="Delete").click()
    expect(
        page.get_by_text(re.compile(rf"Erase Request #{request.pk} .* for good\?"))
    ).to_be_visible()
    page.get_by_label("Why is it being erased?").select_option(
        label="The patient asked us to erase their details"
    )
    save(page, "Yes, erase it")

    expect(page.locator(".messagelist .success")).to_have_text(
        f"Request #{request.pk} was erased. A record that it existed, without any patient "
        "details, is kept."
    )
    expect(page.locator("#changelist")).not_to_contain_text("Pat Patient")
    page.get_by_role("link", name="Erased requests").first.click()
    erased = page.locator("#result_list tbody tr")
    expect(erased).to_have_count(1)
    expect(erased).to_contain_text("Dana Desk")
    expect(erased).to_contain_text("The patient asked us to erase their details")
    expect(erased.locator(".field-request_number")).to_have_text(str(request.pk))
    assert not ConsultationRequest.objects.filter(pk=request.pk).exists()
    assert not StaffNote.objects.exists()
    record = ErasureRecord.objects.get()
    assert (record.request_number, record.erased_by) == (request.pk, desk)
    assert record.reason == ErasureRecord.Reason.PATIENT_ASKED
    kept = " ".join(str(getattr(record, field.attname)) for field in record._meta.fields)
    for detail in ["Pat", "Patient", "555", "pat@example.com", "knee"]:
        assert detail not in kept
