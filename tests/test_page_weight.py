"""What each public page type costs uncached: database queries and bytes sent (gzip).

Budgets with room, so a template that starts to query per row or balloons is caught; run
with ``-s`` to see the figures (the closing notes quote them).
"""

import gzip
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic_site.colours import stylesheet
from clinic_site.models import ClinicSettings

from .page_types import load_demo_site, page_urls

pytestmark = pytest.mark.django_db

MAX_QUERIES = 14  # constant in the number of rows: tests/test_query_counts.py
MAX_HTML_GZIP = 12_000  # bytes, the longest page (the dry-needling service) included
MAX_SITE_CSS_GZIP = 5_000  # ours: site.css and theme.css; Bootstrap's is on top


def gzipped(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def test_every_page_type_stays_within_its_query_and_size_budget(client, monkeypatch):
    load_demo_site(monkeypatch)
    rows = []
    for name, (method, url, data, status) in page_urls().items():
        cache.clear()  # uncached: the page, the clinic settings, everything
        with CaptureQueriesContext(connection) as queries:
            response = getattr(client, method)(url, data) if data else client.get(url)
        assert response.status_code == status, name
        rows.append((name, len(queries), len(response.content), gzipped(response.content)))
    print(f"\n{'page type':26} queries  HTML bytes  gzip")
    for name, count, raw, packed in rows:
        print(f"{name:26} {count:7}  {raw:10}  {packed:5}")
    assert [row for row in rows if row[1] > MAX_QUERIES] == []
    assert [row for row in rows if row[3] > MAX_HTML_GZIP] == []


def test_our_stylesheets_stay_small():
    static = Path(settings.BASE_DIR) / "static"
    site_css = (static / "css" / "site.css").read_bytes()
    theme_css = stylesheet(ClinicSettings().brand_colour).encode()
    bootstrap = next(Path(settings.BASE_DIR).glob("**/bootstrap/css/bootstrap.min.css"), None)
    ours = gzipped(site_css) + gzipped(theme_css)
    print(f"\nsite.css + theme.css gzip: {ours} bytes", end="")
    if bootstrap is not None:
        print(f"; bootstrap.min.css gzip: {gzipped(bootstrap.read_bytes())} bytes", end="")
    assert ours <= MAX_SITE_CSS_GZIP
