"""Every published privacy notice version stays as it was, and each request links to its own.

Staff edit the notice in admin: the save publishes a new version and the old text stays
readable, from the request, by the front desk too.
"""

import re
from http import HTTPStatus

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from contact.models import ConsultationRequest, PrivacyNotice, PrivacyNoticeChanged

from .test_consultation_form import form_data

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("clinic", "fast_password_hasher"),
]

FIRST = "<p>We keep your details for one year.</p>"
SECOND = "<p>We keep your details for two years.</p>"


def change_url(notice):
    return reverse("admin:contact_privacynotice_change", args=[notice.pk])


def text_url(notice):
    return reverse("admin:contact_privacynotice_text", args=[notice.pk])


def make_request(**fields):
    now = timezone.now()
    defaults = {
        "name": "Pat Patient",
        "phone": "(860) 555-0100",
        "contact_method": ConsultationRequest.ContactMethod.PHONE,
        "best_time": ConsultationRequest.BestTime.MORNING,
        "consent_at": now,
        "received_at": now,
    }
    return ConsultationRequest.objects.create(**{**defaults, **fields})


def front_desk_client(client):
    user = User.objects.create_user("desk", password="x" * 12, is_staff=True)
    user.groups.add(Group.objects.get(name="Front desk"))
    client.force_login(user)
    return client


def edit_in_admin(client, notice, body, **extra):
    return client.post(change_url(notice), {"title": notice.title, "body": body, **extra})


def posted_version(html):
    return re.search(r'name="privacy_version" value="([^"]*)"', html).group(1)


def test_editing_the_notice_publishes_a_new_version_and_keeps_the_old_text(
    admin_client, client, commit
):
    first = PrivacyNotice.objects.create(title="Privacy notice", body=FIRST)
    with commit():
        response = edit_in_admin(admin_client, first, SECOND)
    assert response.status_code == HTTPStatus.FOUND
    first.refresh_from_db()
    assert (first.version, first.body) == (1, FIRST)  # untouched
    second = PrivacyNotice.objects.get(version=2)
    assert (second.title, second.body) == ("Privacy notice", SECOND)
    page = admin_client.get(response["Location"]).content.decode()
    assert "Published as version 2. Version 1 stays as it was" in page
    # The public page (even a copy cached before the edit) shows the new text.
    public = client.get(reverse("contact:privacy")).content.decode()
    assert "two years" in public and "Version 2" in public and "one year" not in public


def test_save_and_continue_opens_the_new_version(admin_client):
    first = PrivacyNotice.objects.create(body=FIRST)
    response = edit_in_admin(admin_client, first, SECOND, _continue="1")
    second = PrivacyNotice.objects.get(version=2)
    assert response["Location"] == change_url(second)


def test_saving_an_unchanged_notice_publishes_nothing(admin_client):
    first = PrivacyNotice.objects.create(body=FIRST)
    assert edit_in_admin(admin_client, first, FIRST).status_code == HTTPStatus.FOUND
    assert list(PrivacyNotice.objects.values_list("version", "body")) == [(1, FIRST)]


def test_only_the_newest_version_can_be_edited(admin_client):
    first = PrivacyNotice.objects.create(body=FIRST)
    second = PrivacyNotice.objects.create(body=SECOND)
    response = admin_client.get(change_url(first))
    assert response.status_code == HTTPStatus.OK
    assert set(response.context["adminform"].form.fields) == set()
    assert FIRST in response.content.decode()  # shown as patients read it, not as markup
    assert "viewsitelink" not in response.content.decode()  # the public page shows the newest
    assert edit_in_admin(admin_client, first, "<p>Rewritten</p>").status_code == (
        HTTPStatus.FORBIDDEN
    )
    assert PrivacyNotice.objects.get(pk=first.pk).body == FIRST
    newest = admin_client.get(change_url(second))
    assert "body" in newest.context["adminform"].form.fields
    assert "viewsitelink" in newest.content.decode()


def test_the_model_refuses_to_rewrite_a_published_version():
    notice = PrivacyNotice.objects.create(body=FIRST)
    notice.body = SECOND
    with pytest.raises(PrivacyNoticeChanged):
        notice.save()
    assert PrivacyNotice.objects.get().body == FIRST
    assert PrivacyNotice.objects.create(body=SECOND).version == 2


def test_an_old_request_links_to_the_text_its_patient_agreed_to(admin_client, client):
    first = PrivacyNotice.objects.create(body=FIRST)
    old = make_request(privacy_notice=first, privacy_notice_version=1)
    edit_in_admin(admin_client, first, SECOND)

    desk = front_desk_client(client)
    html = desk.get(old.get_admin_url()).content.decode()
    assert f'<a href="{text_url(first)}">Version 1 (read the text)</a>' in html
    response = desk.get(text_url(first))
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert FIRST in page and SECOND not in page
    assert set(response.context["adminform"].form.fields) == set()  # nothing to edit
    assert 'name="_save"' not in page
    # Nobody changes or deletes a version from the page that reads it.
    assert desk.post(text_url(first), {"body": "x"}).status_code == HTTPStatus.FORBIDDEN
    assert admin_client.post(text_url(first), {"body": "x"}).status_code == HTTPStatus.FORBIDDEN
    superuser_page = admin_client.get(text_url(first)).content.decode()
    assert "deletelink" not in superuser_page and FIRST in superuser_page


def test_the_read_page_is_read_only_for_the_newest_version_too(admin_client):
    notice = PrivacyNotice.objects.create(body=FIRST)
    response = admin_client.get(text_url(notice))
    assert response.status_code == HTTPStatus.OK
    assert set(response.context["adminform"].form.fields) == set()
    assert "body" in admin_client.get(change_url(notice)).context["adminform"].form.fields


def test_a_request_sent_after_the_edit_links_to_the_new_version(admin_client, client, commit):
    first = PrivacyNotice.objects.create(body=FIRST)
    with commit():
        edit_in_admin(admin_client, first, SECOND)
    second = PrivacyNotice.objects.get(version=2)
    shown = posted_version(client.get("/consultation/").content.decode())
    assert shown == "2"
    assert client.post("/consultation/", form_data(privacy_version=shown)).status_code == 302
    row = ConsultationRequest.objects.get()
    assert row.privacy_notice == second
    html = admin_client.get(row.get_admin_url()).content.decode()
    assert f'<a href="{text_url(second)}">Version 2 (read the text)</a>' in html


def test_a_request_older_than_kept_versions_says_so(admin_client):
    old = make_request(privacy_notice_version=4)
    html = admin_client.get(old.get_admin_url()).content.decode()
    assert "Version 4 (its text was not kept)" in html
    html = admin_client.get(make_request().get_admin_url()).content.decode()
    assert "Not recorded" in html


def test_a_version_a_request_links_to_cannot_be_deleted(admin_client):
    first = PrivacyNotice.objects.create(body=FIRST)
    make_request(privacy_notice=first, privacy_notice_version=1)
    unused = PrivacyNotice.objects.create(body=SECOND)
    delete = reverse("admin:contact_privacynotice_delete", args=[first.pk])
    response = admin_client.post(delete, {"post": "yes"})
    assert response.status_code == HTTPStatus.OK
    assert "would require deleting the following protected related objects" in (
        response.content.decode()
    )
    assert PrivacyNotice.objects.filter(pk=first.pk).exists()
    delete = reverse("admin:contact_privacynotice_delete", args=[unused.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == HTTPStatus.FOUND
    assert not PrivacyNotice.objects.filter(pk=unused.pk).exists()


def test_the_front_desk_may_read_notices_and_not_change_them():
    front_desk = Group.objects.get(name="Front desk").permissions
    assert front_desk.filter(codename="view_privacynotice").exists()
    assert not front_desk.filter(codename="change_privacynotice").exists()


# Migrating backwards and forwards changes the schema: SQLite allows that outside a
# transaction only (and pytest-django runs these after the others).
@pytest.mark.django_db(transaction=True)
def test_existing_requests_are_linked_to_the_version_they_recorded():
    executor = MigrationExecutor(connection)
    before = executor.migrate([("contact", "0005_rename_staffnote_consultation")]).apps
    ContentType.objects.clear_cache()
    OldNotice = before.get_model("contact", "PrivacyNotice")
    OldRequest = before.get_model("contact", "ConsultationRequest")
    kept = OldNotice.objects.create(body=FIRST, version=3)
    # A second row added in admin started at version 1 again, whatever the first had.
    added = OldNotice.objects.create(body=SECOND, version=1)
    twin = OldNotice.objects.create(body="<p>Older twin</p>", version=1)
    OldNotice.objects.filter(pk=twin.pk).update(updated_at=timezone.now().replace(year=2020))
    now = timezone.now()
    common = {"name": "Pat", "phone": "(860) 555-0100", "contact_method": "phone"}
    common |= {"best_time": "morning", "consent_at": now, "received_at": now}
    agreed_3 = OldRequest.objects.create(privacy_notice_version=3, **common)
    agreed_1 = OldRequest.objects.create(privacy_notice_version=1, **common)
    agreed_2 = OldRequest.objects.create(privacy_notice_version=2, **common)
    unknown = OldRequest.objects.create(privacy_notice_version=None, **common)
    Group.objects.get_or_create(name="Front desk")  # emptied by an earlier transactional test

    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()

    by_pk = {n.pk: n for n in PrivacyNotice.objects.all()}
    assert (by_pk[kept.pk].version, by_pk[added.pk].version) == (3, 1)
    assert by_pk[twin.pk].version == 4  # the newer of the two kept the number patients saw
    links = dict(ConsultationRequest.objects.values_list("pk", "privacy_notice_id"))
    assert links == {
        agreed_3.pk: kept.pk,
        agreed_1.pk: added.pk,
        agreed_2.pk: None,
        unknown.pk: None,
    }
    assert (
        Group.objects.get(name="Front desk")
        .permissions.filter(codename="view_privacynotice")
        .exists()
    )
    assert Permission.objects.filter(codename="view_privacynotice").count() == 1
