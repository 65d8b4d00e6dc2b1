"""The consultation pages' place in the breadcrumb trail (clinic_site/breadcrumbs.py)."""

from django.urls import reverse

from clinic_site.breadcrumbs import Crumb


def _consultation() -> Crumb:
    return Crumb("Free consultation", reverse("contact:request"))


def _privacy(context, request):
    notice = context.get("notice")
    return [Crumb(getattr(notice, "title", "") or "Privacy notice", request.path)]


BREADCRUMBS = {
    "contact:request": lambda context, request: [_consultation()],
    "contact:thanks": lambda context, request: [_consultation(), Crumb("Thank you", request.path)],
    "contact:privacy": _privacy,
}
