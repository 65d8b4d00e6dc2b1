"""ClinicSettings now belongs to clinic_site (its 0001 migration): the table stays."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("pages", "0001_initial"),
        ("clinic_site", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ClinicSettings")],
            database_operations=[],
        ),
    ]
