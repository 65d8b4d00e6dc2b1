"""bench/pypi_advisories.py (`make audit`'s fallback when pip-audit cannot reach its data),
against a local server that answers like PyPI's JSON API."""

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "pypi_advisories.py"

PROJECTS = {
    "safe-pkg": {"info": {"version": "2.0.0"}, "releases": {"2.0.0": [{}]}, "vulnerabilities": []},
    "bad-pkg": {
        "info": {"version": "1.4.0"},
        "releases": {"1.4.0": [{}]},
        "vulnerabilities": [
            {"id": "PYSEC-2026-1", "fixed_in": ["1.4.1"], "summary": "Header injection"}
        ],
    },
    "old-pkg": {
        "info": {"version": "3.0.0"},
        "releases": {"2.1.0": [{}], "2.1.5": [{}], "3.0.0": [{}]},
        "vulnerabilities": [],
    },
}


class FakePyPI(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        name = self.path.strip("/").split("/")[1]
        project = PROJECTS.get(name)
        body = json.dumps(project or {"message": "Not Found"}).encode()
        self.send_response(200 if project else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_pypi():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakePyPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/pypi/{{name}}/json"
    server.shutdown()


def run(lock: Path, index: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(lock)],
        env={"PYPI_JSON_URL": index, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_known_vulnerability_in_a_newest_release_fails_the_audit(tmp_path, fake_pypi):
    lock = tmp_path / "requirements.lock"
    lock.write_text("# pins\nsafe-pkg==2.0.0\nbad-pkg==1.4.0\nold-pkg==2.1.0\n")
    done = run(lock, fake_pypi)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2 of 3 pins are their project's newest release" in done.stdout
    assert "VULNERABLE bad-pkg==1.4.0: PYSEC-2026-1 (fixed in 1.4.1)" in done.stdout
    # An older pin is listed as not checked, with the patch it could take.
    assert "old-pkg==2.1.0 (newest release 3.0.0; newer patch in its series: 2.1.5)" in done.stdout


def test_clean_newest_releases_pass_and_unreadable_projects_are_listed(tmp_path, fake_pypi):
    lock = tmp_path / "requirements.lock"
    lock.write_text("safe-pkg==2.0.0\nmissing-pkg==1.0\n")
    done = run(lock, fake_pypi)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 known vulnerabilities" in done.stdout
    assert "missing-pkg: HTTP Error 404" in done.stdout
