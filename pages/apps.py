from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "pages"
    verbose_name = "Website content"

    def ready(self):
        import clinic_site.checks  # noqa: F401 (registers the deployment checks)

        from .cache import connect_invalidation
        from .models import Article, ClinicSettings, Closure, Office, OpeningHours, Promotion

        connect_invalidation([ClinicSettings, Article, Office, OpeningHours, Closure, Promotion])
