from .models import ClinicSettings


def clinic(request):
    """The clinic's name, phone and footer text, for the header and footer of every page."""
    # Loaded once per request, by ClinicTimezoneMiddleware (here only if it could not).
    clinic = getattr(request, "clinic", None) or ClinicSettings.load()
    return {"clinic": clinic}
