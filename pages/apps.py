from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "pages"
    verbose_name = "Website content"

    def ready(self):
        from .cache import connect_invalidation
        from .models import Article, ClinicSettings, Closure, Office, OpeningHours, Promotion

        connect_invalidation([ClinicSettings, Article, Office, OpeningHours, Closure, Promotion])
