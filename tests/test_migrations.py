"""Migrations that move things between apps keep what existing databases hold.

ClinicSettings moved from ``pages`` to ``clinic_site`` (state only: the table, its row,
the content type's id and so every permission and admin history entry stay); the staff
groups are made on a fresh database and left alone on one that has them.
"""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from clinic_site.models import ClinicSettings

# Migrating backwards and forwards changes the schema: SQLite allows that outside a
# transaction only.
pytestmark = pytest.mark.django_db(transaction=True)


def migrate(targets):
    """Migrate the test database to ``targets``; the historical models there."""
    state = MigrationExecutor(connection).migrate(targets)
    ContentType.objects.clear_cache()
    return state.apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def test_clinic_settings_keep_their_row_permissions_and_history_across_the_move():
    before = migrate([("clinic_site", None)])  # as a database migrated before the move
    OldClinicSettings = before.get_model("pages", "ClinicSettings")
    OldClinicSettings.objects.create(pk=1, name="Back to Motion", phone="(860) 555-0100")
    content_type = ContentType.objects.get(app_label="pages", model="clinicsettings")
    editors = Group.objects.create(name="Old editors")
    editors.permissions.add(
        Permission.objects.get(content_type=content_type, codename="change_clinicsettings")
    )
    editor = User.objects.create_user("editor", password="x" * 12, is_staff=True)
    editor.groups.add(editors)
    assert editor.has_perm("pages.change_clinicsettings")
    LogEntry.objects.create(
        user=editor, content_type=content_type, object_id="1", object_repr="x", action_flag=CHANGE
    )
    # Staff narrowed one group down and deleted the other.
    Group.objects.filter(name="Front desk").delete()
    narrowed, _ = Group.objects.get_or_create(name="Content editors")
    narrowed.permissions.set(Permission.objects.filter(codename="view_article"))

    migrate(latest())

    assert ClinicSettings.load().name == "Back to Motion"
    assert ContentType.objects.get_for_model(ClinicSettings).pk == content_type.pk
    assert not ContentType.objects.filter(app_label="pages", model="clinicsettings").exists()
    editor = User.objects.get(pk=editor.pk)  # no cached permissions
    assert editor.has_perm("clinic_site.change_clinicsettings")
    entry = LogEntry.objects.get()
    assert entry.get_edited_object() == ClinicSettings.objects.get()
    assert entry.get_admin_url() == "/admin/clinic_site/clinicsettings/1/change/"
    # A group already there is left as staff made it; a missing one is made again.
    # The new content models get what the group holds on articles: viewing, nothing more.
    assert sorted(p.codename for p in narrowed.permissions.all()) == [
        "view_article",
        "view_clinician",
        "view_homepage",
        "view_menuitem",
        "view_page",
        "view_service",
        "view_topic",
    ]
    assert Group.objects.get(name="Front desk").permissions.count() == 12  # + view_insight


@pytest.mark.django_db  # before any transactional test empties the tables
def test_a_fresh_database_gets_both_staff_groups_with_their_permissions():
    editors = Group.objects.get(name="Content editors").permissions.all()
    assert editors.filter(
        content_type__app_label="clinic_site", codename="change_clinicsettings"
    ).exists()
    assert editors.filter(content_type__app_label="pages", codename="add_article").exists()
    front_desk = Group.objects.get(name="Front desk").permissions.all()
    assert set(front_desk.values_list("codename", flat=True)) == {
        "view_consultationrequest",
        "change_consultationrequest",
        "view_staffnote",
        "add_staffnote",
        "change_staffnote",
        "view_notificationrecipient",
        "view_privacynotice",
        "delete_consultationrequest",
        "delete_staffnote",
        "view_erasurerecord",
        "view_topic",
        "view_insight",
    }
    managers = Group.objects.get(name="Managers").permissions.all()
    assert set(managers.values_list("codename", flat=True)) == {
        "view_insight",
        "view_consultationrequest",
        "view_staffnote",
        "view_topic",
    }
    assert not editors.filter(codename="view_insight").exists()
