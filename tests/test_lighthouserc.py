"""lighthouserc.json (`make audit`'s Lighthouse CI): its pages exist, nothing leaves the host.

Lighthouse itself runs in `make audit`, not here; this keeps its list from drifting from the
demo content and the URLs, and its Chromium from reaching out to the network.
"""

import io
import json
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command

CONFIG = json.loads((Path(settings.BASE_DIR) / "lighthouserc.json").read_text())["ci"]


@pytest.mark.django_db
def test_every_audited_page_answers_on_the_demo_content(client):
    call_command("load_demo_content", stdout=io.StringIO())
    urls = CONFIG["collect"]["url"]
    assert {urlsplit(url).netloc for url in urls} == {"127.0.0.1:8765"}
    assert "PORT=8765 " in CONFIG["collect"]["startServerCommand"]
    for url in urls:
        assert client.get(urlsplit(url).path).status_code == HTTPStatus.OK, url


def test_chromium_and_the_reports_stay_on_this_machine():
    flags = CONFIG["collect"]["settings"]["chromeFlags"]
    for flag in ("--no-sandbox", "--disable-background-networking", "--disable-quic"):
        assert flag in flags
    assert '--host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"' in flags
    assert CONFIG["upload"]["target"] == "filesystem"
