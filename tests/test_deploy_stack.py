"""docs/deploy.md, followed on loopback: nginx in front of two app servers and a worker.

``bench/stack.py`` does the bring-up (see its docstring for how each step maps to the
guide): a fresh PostgreSQL database, Redis under a key prefix of its own, migrate,
demo content, collectstatic, two ``gunicorn -c clinic_site/gunicorn.conf.py`` instances,
``send_notifications --loop``, an aiosmtpd server, and nginx running the repo's
deploy/nginx/clinic.conf as an unprivileged foreground process. It runs here as a
subprocess (so that its processes and temporary files are its own), once for the module;
each test looks at one of its checks, and the last one at what is left after it exits.

Skipped, saying what is missing, without nginx, openssl, PostgreSQL
(``STACK_POSTGRES_URL``, else ``TEST_DATABASE_URL``, else 127.0.0.1:5432 as postgres) or
Redis (``STACK_REDIS_URL``, else ``redis://127.0.0.1:6379/14``). Takes about 40 s.
"""

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR / "bench"))  # bench/ is not a package
import stack  # noqa: E402

MISSING = stack.unavailable()
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason="deploy stack needs: " + "; ".join(MISSING) if MISSING else ""
)

CHECKS = [
    "check --deploy",
    "plain HTTP redirects to HTTPS",
    "pages through nginx",
    "static file from nginx",
    "media file from nginx",
    "second article request is a proxy-cache HIT",
    "a page that sets a cookie is never cached",
    "logged-in requests bypass the proxy cache",
    "consultation stored and mailed",
    "each visitor has their own rate limit; X-Forwarded-For spoofing ignored",
    "both app servers served requests through nginx",
]
TIMEOUT = 240  # seconds; it takes about 40 on a busy 2-core machine


@pytest.fixture(scope="module")
def bring_up(tmp_path_factory):
    """Run bench/stack.py once: its exit status, its output and its JSON report."""
    report = tmp_path_factory.mktemp("stack") / "report.json"
    env = {
        key: value
        for key, value in os.environ.items()
        # The stack sets its own (a fresh database, its own Redis prefix); and
        # DJANGO_ALLOW_ASYNC_UNSAFE, which the browser tests' conftest sets for the whole
        # test run, is exactly what `check --deploy` refuses (async.E001) in production.
        if key
        not in (
            "DATABASE_URL",
            "REDIS_URL",
            "DJANGO_SETTINGS_MODULE",
            "CACHE_KEY_PREFIX",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        )
    }
    process = subprocess.Popen(
        [sys.executable, str(BASE_DIR / "bench" / "stack.py"), "--quick-static"]
        + ["--report", str(report)],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)  # it tears everything down on SIGTERM
        output, _ = process.communicate(timeout=60)
        pytest.fail(f"bench/stack.py took over {TIMEOUT} s:\n{output[-5000:]}")
    assert report.exists(), f"no report from bench/stack.py:\n{output[-5000:]}"
    return process.returncode, output, json.loads(report.read_text())


def test_stack_comes_up_and_every_check_passes(bring_up):
    returncode, output, report = bring_up
    assert report["error"] == "", output[-5000:]
    assert [check["name"] for check in report["checks"]] == CHECKS, output[-5000:]
    assert returncode == 0, output[-5000:]
    assert f"All {len(CHECKS)} checks passed." in output


@pytest.mark.parametrize("name", CHECKS)
def test_check(bring_up, name):
    _, output, report = bring_up
    found = {check["name"]: check for check in report["checks"]}
    assert name in found, f"check {name!r} did not run:\n{output[-5000:]}"
    assert found[name]["ok"], f"{name}: {found[name]['detail']}"


def test_everything_is_gone_afterwards(bring_up):
    """No folder, database, Redis key or listening port is left behind."""
    import psycopg
    import redis

    _, output, report = bring_up
    assert report["database"].rsplit("/", 1)[-1].startswith("clinic_stack_"), output[-3000:]
    assert not Path(report["tmp"]).exists()
    with psycopg.connect(stack.postgres_server_url(), connect_timeout=10) as connection:
        left = connection.execute(
            "select datname from pg_database where datname = %s",
            (report["database"].rsplit("/", 1)[-1],),
        ).fetchall()
    assert left == []
    client = redis.Redis.from_url(report["redis_url"], socket_connect_timeout=5)
    try:
        assert list(client.scan_iter(match=f"{report['redis_prefix']}:*")) == []
    finally:
        client.close()
    ports = [report["ports"]["https"], report["ports"]["http"], *report["ports"]["app"]]
    listening = []
    for port in ports:
        with socket.socket() as sock:
            if sock.connect_ex((stack.HOST, port)) == 0:
                listening.append(port)
    assert listening == []
