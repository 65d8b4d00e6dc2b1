"""The breadcrumb trail from Home to the current page, from what each app registers.

An app's ``breadcrumbs`` module maps its view names to functions ``(context, request)``
returning the crumbs after Home: ``[]`` for no trail at all (the home page), ``None`` to
fall back to the page's title. A page no app names (the 404 page) sits right under Home.
"""

import functools
import html
from dataclasses import dataclass

from .apps import app_modules
from .site_url import absolute_url


@dataclass(frozen=True)
class Crumb:
    name: str
    path: str  # root-relative, for the visible link

    @property
    def url(self) -> str:
        """Absolute, on ``SITE_URL``, for JSON-LD."""
        return absolute_url(self.path)


HOME = Crumb("Home", "/")


@functools.cache
def registered() -> dict:
    """Every app's view name -> crumbs function."""
    table = {}
    for module in app_modules("breadcrumbs"):
        table.update(module.BREADCRUMBS)
    return table


def trail(context) -> list[Crumb]:
    """Home, then this page's parents and the page itself (empty on the home page)."""
    request = context.get("request")
    if request is None:
        return []
    match = getattr(request, "resolver_match", None)
    crumbs_for = registered().get(match.view_name if match else None)
    crumbs = crumbs_for(context, request) if crumbs_for else None
    if crumbs is None:
        name = _title_without_clinic(context)
        crumbs = [Crumb(name, request.path)] if name else []
    return [HOME, *crumbs] if crumbs else []


def _title_without_clinic(context) -> str:
    """The ``<title>`` as one line of text, without the " · clinic name" ending."""
    title = " ".join(html.unescape(str(context.get("seo_title") or "")).split())
    clinic = context.get("clinic")
    suffix = f" · {clinic.name}" if clinic is not None else None
    if suffix and title.endswith(suffix):
        title = title[: -len(suffix)]
    return title
