"""pa11y (HTML_CodeSniffer, WCAG2AA) finds no error on any public page type, at 360 and 1280 px.

The pages are those of tests/page_types.py on the live server with the demo content; the
consultation form is checked empty and after pressing its button. One node process
(pa11y_run.mjs) runs them all in Debian's Chromium. Warnings and notices are not counted.
Without node or pa11y (``npm ci``) the test is skipped, except under CI, where it fails.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from ..page_types import page_urls
from .conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RUNNER = Path(__file__).with_name("pa11y_run.mjs")
PA11Y = Path(django_settings.BASE_DIR) / "node_modules" / "pa11y"
WIDTHS = [360, 1280]
SUBMIT_EMPTY_FORM = [
    "click element #consultation-form [type=submit]",
    "wait for element #form-errors to be visible",
]


@pytest.fixture
def node():
    node = shutil.which("node")
    if node is None or not PA11Y.is_dir():
        message = "pa11y needs Node.js 20 and node_modules/pa11y (install them: npm ci)."
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return node


def test_pages_have_no_pa11y_errors(site, node):
    pages = page_urls()
    config = {
        "pages": [
            # A POST is made the way a patient makes it: by pressing the empty form's button.
            {"name": name, "url": site + url, "actions": SUBMIT_EMPTY_FORM}
            if method == "post"
            else {"name": name, "url": site + url}
            for name, (method, url, _data, _status) in pages.items()
        ],
        "widths": WIDTHS,
        "executablePath": str(CHROMIUM),
        "args": CHROMIUM_ARGS,
    }
    result = subprocess.run(
        [node, str(RUNNER)],
        input=json.dumps(config),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    print(f"pa11y on {', '.join(pages)} at {WIDTHS} px")

    problems = [
        f"{run['name']} at {run['width']} px: {issue['code']}\n"
        f"    {issue['selector']}\n    {issue['message']}"
        for run in json.loads(result.stdout)
        for issue in run["issues"]
        if issue["type"] == "error"
    ]
    assert not problems, f"{len(problems)} pa11y error(s):\n" + "\n".join(problems)
