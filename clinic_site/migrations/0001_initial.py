"""ClinicSettings moves here from the pages app: the model, not the table.

The table keeps its name (``pages_clinicsettings``) and its row, so nothing in the
database changes but the content type's app label: permissions already given to groups
and users, and the admin's history of the row, follow the model to its new app.
"""

from django.db import migrations, models


def relabel(source, target):
    def run(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        types = ContentType.objects.using(schema_editor.connection.alias)
        # A fresh database has neither yet (permissions come after migrate, or with the
        # staff groups in 0002); never two: only a missing one is renamed into place.
        if not types.filter(app_label=target, model="clinicsettings").exists():
            types.filter(app_label=source, model="clinicsettings").update(app_label=target)

    return run


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("pages", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ClinicSettings",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(help_text="The clinic's name as patients know it.", max_length=120)),
                        ("tagline", models.CharField(blank=True, help_text="A short line under the name on the home page.", max_length=200)),
                        ("phone", models.CharField(help_text="Main phone number, shown in every page's header and footer.", max_length=30)),
                        ("email", models.EmailField(blank=True, help_text="Public email address for the clinic.", max_length=254)),
                        ("time_zone", models.CharField(default="America/New_York", help_text="Opening hours and 'open now' are worked out in this time zone.", max_length=64)),
                        ("footer_text", models.TextField(blank=True, help_text="A short note at the bottom of every page (e.g. copyright line).")),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        "verbose_name": "clinic settings",
                        "verbose_name_plural": "clinic settings",
                        "db_table": "pages_clinicsettings",
                        "constraints": [models.CheckConstraint(condition=models.Q(("pk", 1)), name="clinic_settings_single_row")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(relabel("pages", "clinic_site"), relabel("clinic_site", "pages")),
    ]
