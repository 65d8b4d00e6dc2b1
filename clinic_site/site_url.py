"""Absolute links (canonical URLs, sitemaps, breadcrumbs' JSON-LD, mail) on ``SITE_URL``.

Never from the request's Host header: a page cached under one host name, or fetched
through a proxy, still points search engines and patients at the real site.
"""

from urllib.parse import urljoin

from django.conf import settings


def site_url() -> str:
    """``SITE_URL`` without a trailing slash, e.g. ``https://www.example.com``."""
    return settings.SITE_URL.rstrip("/")


def absolute_url(path_or_url: str) -> str:
    """A root-relative path (``/media/...``) on ``SITE_URL``; absolute URLs pass through."""
    return urljoin(site_url() + "/", path_or_url)
