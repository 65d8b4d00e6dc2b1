"""The logo's size is kept with it, so the header reserves its space before it loads."""

from django.core.files.images import get_image_dimensions
from django.core.files.storage import default_storage
from django.db import migrations, models


def record_logo_size(apps, schema_editor):
    """A logo uploaded before its size was kept: read it once now. Django would otherwise
    read the file on every load of the settings, and fail on every page if it is gone."""
    settings = apps.get_model("clinic_site", "ClinicSettings").objects.using(
        schema_editor.connection.alias
    )
    for pk, name in settings.exclude(logo="").values_list("pk", "logo"):
        try:
            with default_storage.open(name) as file:
                width, height = get_image_dimensions(file)
        except OSError:
            width = height = None
        if width and height:
            settings.filter(pk=pk).update(logo_width=width, logo_height=height)
        else:  # missing or unreadable: the header shows the clinic's name instead
            settings.filter(pk=pk).update(logo="")


class Migration(migrations.Migration):
    dependencies = [
        ("clinic_site", "0003_brand_and_patient_texts"),
    ]

    operations = [
        migrations.AddField(
            model_name="clinicsettings",
            name="logo_height",
            field=models.PositiveIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="clinicsettings",
            name="logo_width",
            field=models.PositiveIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AlterField(
            model_name="clinicsettings",
            name="logo",
            field=models.ImageField(
                blank=True,
                height_field="logo_height",
                help_text="Optional: shown in the header instead of the name, at most 48 px "
                "tall (PNG or WebP with a transparent background works best; the name stays "
                "its text).",
                upload_to="brand/",
                width_field="logo_width",
            ),
        ),
        migrations.RunPython(record_logo_size, migrations.RunPython.noop),
    ]
