from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "pages"
    verbose_name = "Website content"

    def ready(self):
        from clinic_site.models import ClinicSettings

        from . import models
        from .cache import connect_invalidation

        # Every page shows the clinic's name and phone: editing them clears the page cache.
        connect_invalidation([ClinicSettings, *models.CONTENT_MODELS])
