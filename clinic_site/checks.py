"""System checks of how the site is deployed (``manage.py check --deploy``)."""

import os

from django.conf import settings
from django.core.checks import Tags, Warning, register


def web_workers() -> int:
    """The gunicorn worker processes this environment starts (gunicorn.conf.py uses this)."""
    for name in ("WEB_CONCURRENCY", "GUNICORN_WORKERS"):
        value = os.environ.get(name, "").strip()
        if value.isdigit():
            return int(value)
    return 2


@register(Tags.caches, deploy=True)
def shared_cache_for_several_processes(app_configs, **kwargs):
    """Each process has a local-memory cache of its own: an edit in admin then bumps the
    page-cache version in one process only, and the others serve the old page for up to
    PAGE_CACHE_SECONDS. (The form's rate limit counts in the database, so it holds.)"""
    backend = settings.CACHES["default"]["BACKEND"]
    workers = web_workers()
    if backend.endswith("LocMemCache") and workers > 1:
        return [
            Warning(
                f"{workers} app processes (WEB_CONCURRENCY) share no cache: an edit in admin "
                "shows at once only in the process that saved it; the others keep serving "
                "the old page for up to PAGE_CACHE_SECONDS.",
                hint="Set REDIS_URL to a Redis every app process uses (docs/deploy.md), or "
                "run one process (WEB_CONCURRENCY=1).",
                id="clinic.W001",
            )
        ]
    return []
