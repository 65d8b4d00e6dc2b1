import datetime

from django.conf import settings
from django.core.management import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clinic_site import visits
from contact.models import ConsultationRequest


def _days(name, default):
    days = getattr(settings, name, default)
    if not isinstance(days, int) or days < 1:
        raise CommandError(f"{name} must be a whole number of days, at least 1 (got {days!r}).")
    return days


class Command(BaseCommand):
    help = (
        "Delete consultation requests (and their staff notes) older than "
        "CONSULTATION_RETENTION_DAYS, spam older than CONSULTATION_SPAM_RETENTION_DAYS, and "
        "daily page-view counts older than VIEW_RETENTION_MONTHS. Run it daily."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count what would be deleted."
        )

    def handle(self, *args, dry_run=False, **options):
        now = timezone.now()
        keep_days = _days("CONSULTATION_RETENTION_DAYS", 365)
        spam_days = _days("CONSULTATION_SPAM_RETENTION_DAYS", 30)
        expired = ConsultationRequest.objects.filter(
            Q(received_at__lt=now - datetime.timedelta(days=keep_days))
            | Q(
                status=ConsultationRequest.Status.SPAM,
                received_at__lt=now - datetime.timedelta(days=spam_days),
            )
        )
        with transaction.atomic():
            total = expired.count()
            spam = expired.filter(status=ConsultationRequest.Status.SPAM).count()
            views = visits.purge(dry_run=dry_run)
            months = settings.VIEW_RETENTION_MONTHS
            if dry_run:
                self.stdout.write(
                    f"Would delete {total} requests ({spam} spam) and {views} daily page-view "
                    f"counts older than {months} months. Nothing deleted."
                )
                return
            expired.delete()  # staff notes go with their request (on_delete=CASCADE)
        self.stdout.write(
            f"Deleted {total} requests ({spam} spam) and {views} daily page-view counts older "
            f"than {months} months."
        )
