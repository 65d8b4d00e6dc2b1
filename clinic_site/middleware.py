import contextlib

from django.utils import timezone

from .models import ClinicSettings


class ClinicTimezoneMiddleware:
    """Show every date and time in the clinic's own time zone (set in admin)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # With the database or cache down, keep the server's zone (settings.TIME_ZONE) and
        # let the view report the outage (/healthz answers 503, a page its error page).
        with contextlib.suppress(Exception):
            request.clinic = ClinicSettings.load()  # also for the templates' context
            timezone.activate(request.clinic.tzinfo)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
