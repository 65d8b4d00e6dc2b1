from django.apps import AppConfig


class ContactConfig(AppConfig):
    name = "contact"
    verbose_name = "Consultation requests"

    def ready(self):
        from pages.cache import connect_invalidation

        from .models import PrivacyNotice

        # The privacy notice is a public page like any other.
        connect_invalidation([PrivacyNotice])
