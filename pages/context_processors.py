from .models import ClinicSettings


def clinic(request):
    """The clinic's name, phone and footer text, for the header and footer of every page."""
    return {"clinic": ClinicSettings.load()}
