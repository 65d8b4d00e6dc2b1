"""Status changes are recorded (who, when, to what), and the insight dashboard has a
permission: given to the "Front desk" group if it still exists, and to a new "Managers"
group (the dashboard, and reading requests), made only if missing. Content editors do not
get it."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from clinic_site.permissions import grant
from django.db import migrations, models

MANAGERS = "Managers"
MANAGER_PERMISSIONS = ["view_insight", "view_consultationrequest", "view_staffnote"]


def grant_insight(apps, schema_editor):
    grant(apps, schema_editor, "Front desk", "contact", ["view_insight"])
    Group = apps.get_model("auth", "Group")
    _managers, made = Group.objects.using(schema_editor.connection.alias).get_or_create(
        name=MANAGERS
    )
    if made:
        grant(apps, schema_editor, MANAGERS, "contact", MANAGER_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("contact", "0007_front_desk_erasure_and_phone_search"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="consultationrequest",
            options={
                "ordering": ["-received_at"],
                "permissions": [
                    ("view_insight", "Can see the insight dashboard (views and requests)")
                ],
                "verbose_name": "consultation request",
            },
        ),
        migrations.CreateModel(
            name="StatusChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("new", "New"),
                            ("review", "Needs review"),
                            ("contacted", "Contacted"),
                            ("scheduled", "Scheduled"),
                            ("not_a_fit", "Not a fit"),
                            ("spam", "Spam"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "changed_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                (
                    "changed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "consultation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="status_changes",
                        to="contact.consultationrequest",
                    ),
                ),
            ],
            options={
                "verbose_name": "status change",
                "ordering": ["changed_at", "pk"],
            },
        ),
        migrations.RunPython(grant_insight, migrations.RunPython.noop),
    ]
