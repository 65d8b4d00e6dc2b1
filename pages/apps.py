from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "pages"
    verbose_name = "Website content"

    def ready(self):
        from clinic_site.models import ClinicSettings

        from .cache import connect_invalidation
        from .models import (
            Article,
            Clinician,
            Closure,
            HomePage,
            MenuItem,
            Office,
            OpeningHours,
            Page,
            Promotion,
            Service,
        )

        # Every page shows the clinic's name and phone: editing them clears the page cache.
        connect_invalidation(
            [
                ClinicSettings,
                Article,
                Office,
                OpeningHours,
                Closure,
                Promotion,
                Service,
                Clinician,
                Page,
                MenuItem,
                HomePage,
            ]
        )
