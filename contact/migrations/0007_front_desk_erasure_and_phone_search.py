"""Phone search in any format, and erasure by the front desk, recorded without the patient.

Each request gets the digits of its phone number (filled here for existing rows); a new
model records each erased request without its patient details; the "Front desk" group, if
it still exists, may delete requests and their notes and read the erasure records.
"""

import re

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from clinic_site.permissions import grant
from django.db import migrations, models

FRONT_DESK_PERMISSIONS = [
    ("consultationrequest", "delete"),
    ("staffnote", "delete"),
    ("erasurerecord", "view"),
]


def phone_digits(value):
    # As contact.models.phone_digits when this was written (models change; migrations stay).
    digits = re.sub(r"[^0-9]", "", value or "")
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


def fill_phone_digits(apps, schema_editor):
    ConsultationRequest = apps.get_model("contact", "ConsultationRequest")
    rows = ConsultationRequest.objects.using(schema_editor.connection.alias).exclude(phone="")
    batch = []
    for row in rows.only("pk", "phone").iterator(chunk_size=500):
        row.phone_digits = phone_digits(row.phone)
        batch.append(row)
        if len(batch) == 500:
            ConsultationRequest.objects.bulk_update(batch, ["phone_digits"])
            batch = []
    ConsultationRequest.objects.bulk_update(batch, ["phone_digits"])


def let_front_desk_erase(apps, schema_editor):
    codenames = [f"{action}_{model}" for model, action in FRONT_DESK_PERMISSIONS]
    grant(apps, schema_editor, "Front desk", "contact", codenames)


class Migration(migrations.Migration):
    dependencies = [
        ("contact", "0006_service_and_kept_privacy_notice_versions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="consultationrequest",
            name="phone_digits",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=20),
        ),
        migrations.AlterField(
            model_name="consultationrequest",
            name="contact_method",
            field=models.CharField(
                choices=[("phone", "Phone call"), ("text", "Text message"), ("email", "Email")],
                help_text="What the patient chose. If they left it empty: Phone call when they gave a phone number, otherwise Email.",
                max_length=10,
                verbose_name="preferred contact method",
            ),
        ),
        migrations.CreateModel(
            name="ErasureRecord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "request_number",
                    models.PositiveIntegerField(db_index=True, verbose_name="request number"),
                ),
                ("received_at", models.DateTimeField(verbose_name="request received at")),
                (
                    "office",
                    models.CharField(
                        blank=True,
                        help_text="The office chosen. Empty: no preference.",
                        max_length=120,
                    ),
                ),
                (
                    "erased_at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, verbose_name="erased at"
                    ),
                ),
                (
                    "reason",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("patient_asked", "The patient asked us to erase their details"),
                            ("mistake", "Sent by mistake, or a duplicate"),
                            ("spam", "Spam, not a real patient"),
                            ("other", "Another reason"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "erased_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="erased by",
                    ),
                ),
            ],
            options={
                "verbose_name": "erased request",
                "verbose_name_plural": "erased requests",
                "ordering": ["-erased_at"],
            },
        ),
        # Last: data written in the same transaction as a later ALTER TABLE fails on PostgreSQL.
        migrations.RunPython(fill_phone_digits, migrations.RunPython.noop),
        migrations.RunPython(let_front_desk_erase, migrations.RunPython.noop),
    ]
