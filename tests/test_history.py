"""Content history in admin (clinic_site/history.py): who changed what and when, two
versions compared, and restore, through the admin's own pages as staff use them.

A superuser and a member of "Content editors" see, compare and restore the content they
may change; the front desk sees no content history. A restore reaches patients at once.
"""

import datetime
import re
from collections import defaultdict
from http import HTTPStatus

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.text import capfirst
from reversion.models import Version

from clinic_site.history import BEFORE_FIRST_EDIT
from clinic_site.models import ClinicSettings
from contact.models import PrivacyNotice
from pages.models import Article, HomePage, Office

from .factories import (
    ArticleFactory,
    ClinicianFactory,
    ClosureFactory,
    MenuItemFactory,
    OfficeFactory,
    OpeningHoursFactory,
    PageFactory,
    PromotionFactory,
    ServiceFactory,
    uploaded_image,
)
from .processes import form_fields

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher", "clinic")]

REVERTED = "Reverted to previous version, saved on"  # django-reversion's comment on a restore


# --------------------------------------------------------------------------- helpers


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def staff_client(username, group_name) -> Client:
    user = User.objects.create_user(username, password="x" * 12, is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def editor():
    return staff_client("editor", "Content editors")


@pytest.fixture
def front_desk():
    return staff_client("desk", "Front desk")


def submit(client, url, model, changes=None, files=None):
    """Open the admin form at ``url``, change ``changes``, and save it as a browser would."""
    page = client.get(url)
    assert page.status_code == HTTPStatus.OK
    data = defaultdict(list)
    for name, value in form_fields(page.content.decode(), f"{model._meta.model_name}_form"):
        data[name].append(value)
    for name, value in (changes or {}).items():
        # Not in the form as sent: an unticked "delete" box, and a row "Add another" makes
        # from the form's empty template row (prefix __prefix__).
        template_row = re.sub(r"-\d+-", "-__prefix__-", name)
        known = name in data or template_row in data or name.endswith("-DELETE")
        assert known, f"no field {name!r} on {url}"
        data[name] = [value]
    response = client.post(url, {**data, **(files or {}), "_save": "Save"})
    assert response.status_code == HTTPStatus.FOUND, (
        response.context and response.context["adminform"].form.errors
    )
    return response


def edit(client, obj, changes=None, files=None):
    return submit(client, admin_url(type(obj), "change", obj.pk), type(obj), changes, files)


def restore(client, version):
    """Open a version from the history list and save it, as the history page offers."""
    url = admin_url(version._model, "revision", version.object_id, version.pk)
    return submit(client, url, version._model)


def versions(obj):
    """``obj``'s versions, newest first."""
    return list(Version.objects.get_for_object(obj).select_related("revision__user"))


def text_of(response):
    return response.content.decode()


def home_page():
    return HomePage.objects.create(heading="Move without pain", text="We help.", button_label="Ask")


def clinic_settings():
    return ClinicSettings.objects.get()


# --------------------------------------------------------------------------- who and when

# Each content model: a row as the demo content makes it, and a text field staff change.
EDITABLE = {
    "article": (ArticleFactory, "title", "Tennis elbow explained"),
    "service": (ServiceFactory, "title", "Sports massage"),
    "team member": (ClinicianFactory, "role", "Head of rehabilitation"),
    "page": (PageFactory, "title", "Insurance we accept"),
    "offer": (PromotionFactory, "title", "Teachers save $50"),
    "menu link": (MenuItemFactory, "label", "Read our advice"),
    "office": (OfficeFactory, "name", "Hartford Office"),
    "home page": (home_page, "heading", "Back in the game"),
    "clinic settings": (clinic_settings, "tagline", "Strong again, for good"),
}


@pytest.mark.parametrize(("make", "field", "new"), EDITABLE.values(), ids=EDITABLE.keys())
def test_an_admin_edit_is_in_the_history_with_who_and_when(
    admin_client, admin_user, make, field, new
):
    obj = make()
    old = getattr(obj, field)
    before = timezone.now()
    edit(admin_client, obj, {field: new})
    after = timezone.now()

    edited, first = versions(obj)
    label = capfirst(obj._meta.get_field(field).verbose_name)
    assert edited.revision.user == admin_user
    assert before <= edited.revision.date_created <= after
    assert edited.revision.get_comment() == f"Changed {label}."
    assert edited.field_dict[field] == new
    # Made outside admin (as the demo content is): kept as it was before the edit.
    assert first.revision.user is None
    assert first.revision.get_comment() == BEFORE_FIRST_EDIT
    assert first.field_dict[field] == old

    page = admin_client.get(admin_url(type(obj), "history", obj.pk))
    assert page.status_code == HTTPStatus.OK
    row = re.search(r"<tr>(?:(?!</tr>).)*?Changed " + label + r"\.", text_of(page), re.S)
    assert row, f"no history row saying 'Changed {label}.'"
    with timezone.override(clinic_settings().tzinfo):  # admin shows the clinic's clock
        when = timezone.localtime(edited.revision.date_created)
        when = formats.date_format(when, "DATETIME_FORMAT")
    assert when in row.group(0)
    assert admin_user.get_username() in row.group(0)
    assert BEFORE_FIRST_EDIT in text_of(page)


@pytest.mark.parametrize(("make", "field", "new"), EDITABLE.values(), ids=EDITABLE.keys())
def test_an_edit_can_be_undone_by_restoring_the_version_before_it(editor, make, field, new):
    obj = make()
    old = getattr(obj, field)
    edit(editor, obj, {field: new})
    restore(editor, versions(obj)[1])
    obj.refresh_from_db()
    assert getattr(obj, field) == old


def test_a_content_editor_sees_the_history_of_what_they_change(editor):
    service = ServiceFactory(title="Dry needling")
    edit(editor, service, {"summary": "Fine needles that release tight muscles."})

    page = editor.get(admin_url(type(service), "history", service.pk))
    assert page.status_code == HTTPStatus.OK
    assert "editor" in text_of(page)
    assert "Changed Summary." in text_of(page)
    assert versions(service)[0].revision.user == editor.user


def test_a_row_never_edited_in_admin_says_it_has_no_history_yet(admin_client):
    article = ArticleFactory()
    page = admin_client.get(admin_url(Article, "history", article.pk))
    assert page.status_code == HTTPStatus.OK
    assert "doesn't have a change history" in text_of(page)


def test_a_form_sent_back_with_errors_records_no_change(admin_client):
    article = ArticleFactory(title="Shoulder pain in swimmers")
    url = admin_url(Article, "change", article.pk)
    data = dict(form_fields(text_of(admin_client.get(url)), "article_form"), title="")
    response = admin_client.post(url, data)
    assert response.status_code == HTTPStatus.OK  # the form again, with its error
    assert [v.revision.get_comment() for v in versions(article)] == [BEFORE_FIRST_EDIT]


# --------------------------------------------------------------------------- compare


def test_comparing_two_versions_shows_the_old_and_the_new_text(editor):
    article = ArticleFactory(title="Shoulder pain in swimmers")
    edit(editor, article, {"title": "Tennis elbow explained"})
    newer, older = versions(article)

    history = text_of(editor.get(admin_url(Article, "history", article.pk)))
    for version in (newer, older):
        assert f'name="version_id1" value="{version.pk}"' in history
        assert f'name="version_id2" value="{version.pk}"' in history

    page = editor.get(
        admin_url(Article, "compare", article.pk),
        {"version_id1": older.pk, "version_id2": newer.pk},
    )
    assert page.status_code == HTTPStatus.OK
    body = text_of(page)
    assert "<del>Shoulder pain in swimmers</del>" in body
    assert "<ins>Tennis elbow explained</ins>" in body
    # Only what changed is listed: not the summary, nor the (empty, unchanged) author link.
    assert "<h3>summary</h3>" not in body
    assert "<h3>author" not in body


def test_comparing_office_versions_lists_the_changed_hours(admin_client):
    office = OfficeFactory()
    OpeningHoursFactory(office=office, weekday=0, opens=datetime.time(8), closes=datetime.time(17))
    edit(admin_client, office, {"hours-0-opens": "10:00"})
    newer, older = versions(office)

    page = admin_client.get(
        admin_url(Office, "compare", office.pk), {"version_id1": older.pk, "version_id2": newer.pk}
    )
    assert page.status_code == HTTPStatus.OK
    assert "Monday 08:00–17:00" in text_of(page)
    assert "Monday 10:00–17:00" in text_of(page)


# --------------------------------------------------------------------------- restore


def office_page_hours(client, office):
    """The public office page's week: {"Monday": "8:00 AM – 5:00 PM", ...}; the response."""
    response = client.get(office.get_absolute_url())
    assert response.status_code == HTTPStatus.OK
    rows = re.findall(
        r'<th scope="row">(\w+)(?: \(today\))?</th>\s*<td>\s*(.*?)\s*</td>', text_of(response), re.S
    )
    return dict(rows), response


def test_restoring_an_office_brings_back_its_hours_and_closures(editor, client, commit):
    in_ten_days = timezone.localdate() + datetime.timedelta(days=10)
    in_twenty_days = in_ten_days + datetime.timedelta(days=10)
    # Made in admin: this first version is the editor's.
    submit(
        editor,
        admin_url(Office, "add"),
        Office,
        {
            "name": "Avon Office",
            "slug": "avon",
            "street": "5 Simsbury Road",
            "city": "Avon",
            "state": "CT",
            "zip_code": "06001",
            "phone": "(860) 555-0130",
            "hours-TOTAL_FORMS": "2",
            "hours-0-weekday": "0",
            "hours-0-opens": "08:00",
            "hours-0-closes": "17:00",
            "hours-1-weekday": "1",
            "hours-1-opens": "09:00",
            "hours-1-closes": "18:00",
            "closures-TOTAL_FORMS": "1",
            "closures-0-date": in_ten_days.isoformat(),
            "closures-0-reason": "Staff training day",
        },
    )
    office = Office.objects.get(slug="avon")
    [created] = versions(office)
    assert created.revision.user == editor.user

    # Later: Monday opens at 10, Tuesday's row is deleted, Saturday morning is added, and
    # the closure moves to another day.
    with commit():
        edit(
            editor,
            office,
            {
                "hours-0-opens": "10:00",
                "hours-1-DELETE": "on",
                "hours-TOTAL_FORMS": "3",
                "hours-2-weekday": "5",
                "hours-2-opens": "09:00",
                "hours-2-closes": "12:00",
                "closures-0-date": in_twenty_days.isoformat(),
                "closures-0-reason": "Inventory day",
            },
        )
    week, _ = office_page_hours(client, office)
    assert (week["Monday"], week["Tuesday"], week["Saturday"]) == (
        "10:00 AM – 5:00 PM",
        "Closed",
        "9:00 AM – 12:00 PM",
    )
    _, cached = office_page_hours(client, office)
    assert cached.page_cache == "hit"

    # The restore page shows the first version's rows before anything is saved.
    restore_page = editor.get(admin_url(Office, "revision", office.pk, created.pk))
    assert restore_page.status_code == HTTPStatus.OK
    fields = dict(form_fields(text_of(restore_page), "office_form"))
    assert fields["hours-TOTAL_FORMS"] == "2"
    assert (fields["hours-0-opens"], fields["hours-1-weekday"]) == ("8:00 AM", "1")
    assert fields["closures-0-reason"] == "Staff training day"
    assert office.hours.get(weekday=0).opens == datetime.time(10)  # nothing saved by looking

    with commit():
        restore(editor, created)

    hours = office.hours.values_list("weekday", "opens", "closes")
    assert sorted(hours) == [
        (0, datetime.time(8), datetime.time(17)),
        (1, datetime.time(9), datetime.time(18)),
    ]
    assert list(office.closures.values_list("date", "reason")) == [
        (in_ten_days, "Staff training day")
    ]
    # Patients see it at once: the cached page was dropped by the restore.
    week, response = office_page_hours(client, office)
    assert response.page_cache == "miss"
    assert (week["Monday"], week["Tuesday"], week["Saturday"]) == (
        "8:00 AM – 5:00 PM",
        "9:00 AM – 6:00 PM",
        "Closed",
    )
    assert "Staff training day" in text_of(response)
    assert "Inventory day" not in text_of(response)
    # And the restore is in the history, by whom.
    restored = versions(office)[0]
    assert restored.revision.user == editor.user
    assert restored.revision.get_comment().startswith(REVERTED)


def test_a_restored_article_is_on_the_public_site_at_once(admin_client, client, commit):
    article = ArticleFactory(title="Shoulder pain in swimmers")
    with commit():
        edit(admin_client, article, {"title": "Tennis elbow explained"})
    url = article.get_absolute_url()
    client.get(url)
    cached = client.get(url)
    assert cached.page_cache == "hit"
    assert "Tennis elbow explained" in text_of(cached)

    with commit():
        restore(admin_client, versions(article)[1])

    page = client.get(url)
    assert page.page_cache == "miss"
    assert "Shoulder pain in swimmers" in text_of(page)
    assert "Tennis elbow explained" not in text_of(page)


def test_the_restore_page_runs_the_text_editor_under_the_csp(admin_client):
    article = ArticleFactory()
    edit(admin_client, article, {"summary": "A new summary."})
    page = admin_client.get(admin_url(Article, "revision", article.pk, versions(article)[1].pk))
    assert page.status_code == HTTPStatus.OK
    nonce = re.search(r'<script type="importmap" nonce="([^"]+)"', text_of(page))
    assert nonce, "the editor's import map has no nonce: the browser would refuse it"
    assert f"'nonce-{nonce.group(1)}'" in page.headers["Content-Security-Policy"]


def test_a_row_made_outside_admin_can_be_restored_to_how_it_was(admin_client):
    office = OfficeFactory(name="Bloomfield Office")
    ClosureFactory(office=office, reason="Thanksgiving")
    OpeningHoursFactory(office=office, weekday=2)
    edit(admin_client, office, {"name": "Bloomfield Centre", "hours-0-DELETE": "on"})
    assert not office.hours.exists()

    restore(admin_client, versions(office)[1])

    office.refresh_from_db()
    assert office.name == "Bloomfield Office"
    assert list(office.hours.values_list("weekday", flat=True)) == [2]
    assert list(office.closures.values_list("reason", flat=True)) == ["Thanksgiving"]


def test_a_deleted_office_made_outside_admin_can_be_recovered(editor):
    office = OfficeFactory(name="Newington Office")
    OpeningHoursFactory(office=office, weekday=4)
    delete = editor.post(admin_url(Office, "delete", office.pk), {"post": "yes"})
    assert delete.status_code == HTTPStatus.FOUND
    assert not Office.objects.filter(pk=office.pk).exists()

    recover_list = editor.get(admin_url(Office, "recoverlist"))
    assert "Newington Office" in text_of(recover_list)
    [version] = Version.objects.get_deleted(Office)
    submit(editor, admin_url(Office, "recover", version.pk), Office)

    recovered = Office.objects.get(pk=office.pk)
    assert recovered.name == "Newington Office"
    assert list(recovered.hours.values_list("weekday", flat=True)) == [4]


def test_a_restore_keeps_the_current_picture_when_the_old_one_was_deleted(admin_client, commit):
    article = ArticleFactory(title="Shoulder pain in swimmers")
    with commit():
        edit(admin_client, article, {"image_alt": "A swimmer"}, {"image": uploaded_image("a.jpg")})
    article.refresh_from_db()
    first_picture = article.image.name
    with commit():  # django-cleanup deletes the replaced picture once this commits
        edit(
            admin_client,
            article,
            {"title": "Tennis elbow explained", "image_alt": "A tennis player"},
            {"image": uploaded_image("b.jpg", color=(200, 30, 30))},
        )
    article.refresh_from_db()
    current_picture = article.image.name
    assert not article.image.storage.exists(first_picture)

    with commit():
        restore(admin_client, versions(article)[1])  # the version with the first picture

    article.refresh_from_db()
    assert article.title == "Shoulder pain in swimmers"  # the words are restored
    assert (article.image.name, article.image_alt) == (current_picture, "A tennis player")
    assert article.image.storage.exists(current_picture)


# --------------------------------------------------------------------------- who may


def test_a_content_editor_can_restore_an_article(editor):
    article = ArticleFactory(title="Shoulder pain in swimmers")
    edit(editor, article, {"title": "Tennis elbow explained"})
    restore(editor, versions(article)[1])
    article.refresh_from_db()
    assert article.title == "Shoulder pain in swimmers"


@pytest.mark.parametrize("make", [ArticleFactory, OfficeFactory, ServiceFactory])
def test_the_front_desk_sees_no_content_history(admin_client, front_desk, make):
    obj = make()
    edit(admin_client, obj, {})
    newer, older = versions(obj)
    model = type(obj)
    pages = [
        admin_url(model, "history", obj.pk),
        admin_url(model, "revision", obj.pk, older.pk),
        admin_url(model, "compare", obj.pk) + f"?version_id1={older.pk}&version_id2={newer.pk}",
        admin_url(model, "recoverlist"),
    ]
    answers = {url: front_desk.get(url).status_code for url in pages}
    assert answers == dict.fromkeys(pages, HTTPStatus.FORBIDDEN)
    assert front_desk.post(pages[1], {}).status_code == HTTPStatus.FORBIDDEN


# --------------------------------------------------------------------------- privacy notice


def test_the_privacy_notice_history_is_visible(editor):
    submit(
        editor,
        admin_url(PrivacyNotice, "add"),
        PrivacyNotice,
        {"title": "Privacy notice", "body": "<p>We keep your request for two years.</p>"},
    )
    notice = PrivacyNotice.objects.get()
    [version] = versions(notice)
    assert version.revision.user == editor.user

    page = editor.get(admin_url(PrivacyNotice, "history", notice.pk))
    assert page.status_code == HTTPStatus.OK
    assert "editor" in text_of(page)
    assert "Added." in text_of(page)
