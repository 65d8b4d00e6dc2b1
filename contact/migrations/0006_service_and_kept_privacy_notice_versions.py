"""What a request is about (a service), and every privacy notice version kept as it was.

Each version becomes a row of its own (numbers made unique first: a second row added
in admin used to start at 1 too), and a request links to the row it agreed to where
its recorded number has one. The front desk may read the notices, to open that text.
"""

import django.db.models.deletion
from clinic_site.permissions import grant
from django.db import migrations, models


def number_versions_uniquely(apps, schema_editor):
    """Where rows share a number, the newest keeps it (it was the one shown), others move up."""
    PrivacyNotice = apps.get_model("contact", "PrivacyNotice")
    notices = PrivacyNotice.objects.using(schema_editor.connection.alias)
    rows = list(notices.order_by("version", "-published_at", "-pk"))
    taken, moved = set(), []
    for row in rows:
        if row.version in taken:
            moved.append(row)
        taken.add(row.version)
    top = max(taken, default=0)
    for offset, row in enumerate(moved, start=1):
        row.version = top + offset
        row.save(update_fields=["version"])


def link_requests_and_let_front_desk_read_notices(apps, schema_editor):
    db = schema_editor.connection.alias
    PrivacyNotice = apps.get_model("contact", "PrivacyNotice")
    ConsultationRequest = apps.get_model("contact", "ConsultationRequest")
    for notice in PrivacyNotice.objects.using(db).only("pk", "version"):
        ConsultationRequest.objects.using(db).filter(
            privacy_notice_version=notice.version, privacy_notice__isnull=True
        ).update(privacy_notice=notice)
    grant(apps, schema_editor, "Front desk", "contact", ["view_privacynotice"])


class Migration(migrations.Migration):
    dependencies = [
        ("contact", "0005_rename_staffnote_consultation"),
        ("pages", "0004_content_editors_and_default_menu"),
        ("clinic_site", "0002_staff_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="privacynotice",
            options={"ordering": ["-version"], "verbose_name": "privacy notice"},
        ),
        # The last change of a row that was edited in place is when its version came out.
        migrations.RenameField(
            model_name="privacynotice", old_name="updated_at", new_name="published_at"
        ),
        migrations.AlterField(
            model_name="privacynotice",
            name="published_at",
            field=models.DateTimeField(auto_now_add=True, verbose_name="published at"),
        ),
        migrations.AlterField(
            model_name="privacynotice",
            name="title",
            field=models.CharField(
                default="Privacy notice",
                help_text="The heading of the notice, e.g. 'Privacy notice'.",
                max_length=150,
            ),
        ),
        migrations.AlterField(
            model_name="privacynotice",
            name="version",
            field=models.PositiveIntegerField(
                editable=False, help_text="Goes up by one with each changed text that is saved."
            ),
        ),
        migrations.RunPython(number_versions_uniquely, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="privacynotice",
            constraint=models.UniqueConstraint(
                fields=("version",), name="unique_privacy_notice_version"
            ),
        ),
        migrations.AddField(
            model_name="consultationrequest",
            name="privacy_notice",
            field=models.ForeignKey(
                blank=True,
                help_text="The exact version of the privacy notice the patient agreed to.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="consultation_requests",
                to="contact.privacynotice",
                verbose_name="privacy notice agreed to",
            ),
        ),
        migrations.AddField(
            model_name="consultationrequest",
            name="service",
            field=models.ForeignKey(
                blank=True,
                help_text="What the patient said they are interested in. Empty: not chosen.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="consultation_requests",
                to="pages.service",
            ),
        ),
        # Last: data written in the same transaction as a later ALTER TABLE fails on PostgreSQL.
        migrations.RunPython(
            link_requests_and_let_front_desk_read_notices, migrations.RunPython.noop
        ),
    ]
