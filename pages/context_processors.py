"""What the banner, the menu, the footer and the consultation form show on every page."""

from django.utils.functional import SimpleLazyObject

from .models import MenuItem, Office, Promotion


def menus():
    """The main menu's and the footer's links, in one query; a hidden target drops out."""
    found = {location: [] for location in MenuItem.Location.values}
    for item in MenuItem.objects.select_related("page", "service"):
        if item.url:
            found[item.location].append(item)
    return found


def site_content(request):
    """Lazy: each is read once per page that uses it (one query), never by a page without
    it. A view that loads the same rows anyway (home, office list) passes its own."""
    return {
        "site_offices": Office.objects.active(),
        "site_banners": Promotion.objects.active().filter(show_as_banner=True),
        "site_menus": SimpleLazyObject(menus),
    }
