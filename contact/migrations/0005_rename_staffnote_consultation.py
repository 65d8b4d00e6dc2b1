"""A staff note's request is ``consultation``: ``request`` is the HTTP request in views."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("contact", "0004_request_review_and_mail_states"),
    ]

    operations = [
        migrations.RenameField(model_name="staffnote", old_name="request", new_name="consultation"),
    ]
