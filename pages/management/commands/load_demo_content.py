from django.core.management.base import BaseCommand

from clinic_site.apps import app_modules


class Command(BaseCommand):
    help = (
        "Fill an empty database with the demo clinic's content: settings, services, team, "
        "articles, pages, offices with hours and closures, the first-responder offer, menu "
        "links, the home page, and each other app's own demo rows (its demo_content module). "
        "Safe to run again: it only adds what is missing and never changes existing rows."
    )

    def handle(self, *args, **options):
        detail = self.stdout if options["verbosity"] > 1 else None
        # Each app that has a demo_content module loads its own rows, so no app needs to
        # import another's internals.
        for module in app_modules("demo_content"):
            counts = module.load_demo_content(stdout=detail)
            message = module.summarize(counts)
            if message:
                self.stdout.write(self.style.SUCCESS(message) if any(counts.values()) else message)
