import importlib

from django.apps import apps
from django.core.management.base import BaseCommand
from django.utils.module_loading import module_has_submodule


class Command(BaseCommand):
    help = (
        "Fill an empty database with the demo clinic's content: settings, articles, offices "
        "with hours and closures, the first-responder offer, and each other app's own demo "
        "rows (its demo_content module). Safe to run again: it only adds what is missing and "
        "never changes existing rows."
    )

    def handle(self, *args, **options):
        detail = self.stdout if options["verbosity"] > 1 else None
        # Each app that has a demo_content module loads its own rows, so no app needs to
        # import another's internals.
        for config in apps.get_app_configs():
            if not module_has_submodule(config.module, "demo_content"):
                continue
            module = importlib.import_module(f"{config.name}.demo_content")
            counts = module.load_demo_content(stdout=detail)
            message = module.summarize(counts)
            if message:
                self.stdout.write(self.style.SUCCESS(message) if any(counts.values()) else message)
