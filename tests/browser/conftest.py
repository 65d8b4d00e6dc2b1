"""Real-browser tests: Debian's Chromium driven by pytest-playwright against live_server.

Needs ``/usr/bin/chromium`` (``apt-get install chromium``) and axe-core from ``npm ci``;
without them the tests here are skipped, except under CI (``CI=true``) where a missing
browser or axe-core is an error. Playwright's own browsers are never downloaded.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests.page_types import load_demo_site

# Playwright's sync API runs an event loop in this thread; Django's ORM would refuse to run
# beside it. The tests are still synchronous, one statement after the other. The loop lives
# as long as pytest-playwright's session-scoped `playwright` fixture, so every test after
# the browser tests needs the flag too: it is set for the whole run, and a test that starts
# a production-like process (tests/test_deploy_stack.py) leaves it out of that process.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = Path(django_settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # Without this Chromium still reaches out to the network on its own.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]


def _missing_requirements() -> list[str]:
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"Chromium at {CHROMIUM} (install it: apt-get install -y chromium)")
    if not AXE_JS.exists():
        missing.append(f"axe-core at {AXE_JS} (install it: npm ci)")
    return missing


@pytest.fixture(scope="session", autouse=True)
def _browser_requirements():
    """Skip the browser tests when Chromium or axe-core is missing; under CI, fail instead."""
    missing = _missing_requirements()
    if missing:
        message = "Browser tests need " + " and ".join(missing) + "."
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, _browser_requirements):
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


@pytest.fixture(scope="session")
def base_url(live_server):
    """Playwright's base URL (``page.goto("/")``) is the live server's."""
    return live_server.url


@pytest.fixture
def site(request, live_server, settings, monkeypatch):
    """The live server's database filled with the demo content; its base URL. The
    pictures' resized copies (6.5 s a test) are written only for tests marked ``pictures``
    (the layout checks): elsewhere a copy answers 404 and the page keeps its layout, as
    every <img> has its width and height."""
    with monkeypatch.context() as loading:  # a picture uploaded later gets its copies
        load_demo_site(loading, renditions=request.node.get_closest_marker("pictures") is not None)
    settings.SITE_URL = live_server.url
    return live_server.url


@pytest.fixture
def page(page, settings):
    """A page whose /media/ requests are answered from MEDIA_ROOT.

    live_server serves static files but not uploads (DEBUG is off), and the pictures'
    real sizes matter for the layout checks.
    """
    media_root = Path(settings.MEDIA_ROOT)

    def serve_media(route):
        path = route.request.url.split("/media/", 1)[1].split("?", 1)[0]
        file = (media_root / path).resolve()
        if file.is_file() and file.is_relative_to(media_root.resolve()):
            route.fulfill(path=file)
        else:
            route.fulfill(status=404)

    page.route("**/media/**", serve_media)
    page.set_default_timeout(10_000)
    return page
