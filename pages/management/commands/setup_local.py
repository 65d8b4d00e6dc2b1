"""First-run set-up for ``make run``: demo content on an empty database, a local admin."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, call_command
from django.urls import reverse

from clinic_site.models import ClinicSettings
from pages.models import Article, Clinician, HomePage, Office, Page, Promotion, Service


class Command(BaseCommand):
    help = (
        "Load the demo content when the database is empty and, with DEBUG on, create a "
        "local superuser with a random password (printed once)."
    )

    def handle(self, *args, **options):
        # Menu links are left out: a migration makes the default ones on every database.
        content_models = (ClinicSettings, Article, Office, Promotion)
        content_models += (Service, Clinician, Page, HomePage)
        if any(model.objects.exists() for model in content_models):
            self.stdout.write("Content found: demo content not loaded.")
        else:
            call_command("load_demo_content", stdout=self.stdout)

        if not settings.DEBUG:
            return
        User = get_user_model()
        admin_url = settings.SITE_URL + reverse("admin:index")
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write(
                f"Admin: {admin_url} (the password was printed on the first run; "
                "reset it with: .venv/bin/python manage.py changepassword admin)"
            )
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser("admin", "admin@localhost", password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created a local admin. Log in at {admin_url} as 'admin' with password: {password}"
            )
        )
