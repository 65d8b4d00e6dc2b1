"""What the banner, the footer and the consultation form show on every page."""

from .models import Office, Promotion


def site_content(request):
    """Lazy querysets: each is read once per page that uses it (one query), never by a page
    without it. A view that loads the same rows anyway (home, office list) passes its own."""
    return {
        "site_offices": Office.objects.active(),
        "site_banners": Promotion.objects.active().filter(show_as_banner=True),
    }
