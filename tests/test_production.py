"""Production configuration: `check --deploy`, settings from SITE_URL, gunicorn, logging.

The suite itself runs with DEBUG off on plain http (SITE_URL http://127.0.0.1:8000), so
the HTTPS settings are checked in subprocesses that get production's environment.
"""

import json
import logging
import os
import runpy
import secrets
import smtplib
import subprocess
import sys
import time
import urllib.request
from http import HTTPStatus
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.mail.backends.base import BaseEmailBackend

from clinic_site.logformat import OneLineFormatter
from contact.models import ConsultationRequest, NotificationRecipient
from contact.notifications import send_pending
from contact.spam import sign_form_start

from .factories import ClinicSettingsFactory
from .smtp_server import free_port

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN_CONF = ROOT / "clinic_site" / "gunicorn.conf.py"
# What each variable of the environment decides; everything else is inherited.
OURS = (
    "SITE_URL",
    "PORT",
    "WEB_CONCURRENCY",
    "FORWARDED_ALLOW_IPS",
    "TRUSTED_PROXIES",
    "REDIS_URL",
)


def production_env(**changes) -> dict:
    """The environment of a production app server (DESIGN.md's variables), plus changes."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name == "DJANGO_SETTINGS_MODULE"
        or not (name.startswith(("DJANGO_", "GUNICORN_")) or name in OURS)
    }
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="the-clinic.example",
        SITE_URL="https://the-clinic.example",
        DATABASE_URL="postgres://clinic@127.0.0.1:5432/clinic",
        DEFAULT_FROM_EMAIL="website@the-clinic.example",
        PYTHONDONTWRITEBYTECODE="1",
    )
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def demo_site_env(tmp: Path, port: int, *commands: list[str]) -> dict:
    """Production settings on a migrated SQLite file in ``tmp`` with the demo content (then
    ``commands``, e.g. createsuperuser), served at 127.0.0.1:``port``: no Redis, no proxy."""
    env = production_env(
        TRUSTED_PROXIES=None,
        REDIS_URL=None,
        CACHE_KEY_PREFIX=None,
        DJANGO_SETTINGS_MODULE="clinic_site.settings",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        SITE_URL=f"http://127.0.0.1:{port}",
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        DJANGO_MEDIA_ROOT=str(tmp / "media"),
        DJANGO_STATIC_MANIFEST="0",
        DJANGO_LOG_LEVEL="WARNING",
        EMAIL_HOST=None,
    )
    for command in (["migrate", "--noinput"], ["load_demo_content"], *commands):
        done = run([PYTHON, "manage.py", *command], env, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
    return env


def run(args, env, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def check_deploy(env) -> subprocess.CompletedProcess:
    return run([PYTHON, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)


def settings_in(env) -> dict:
    """Some settings as a process with this environment sees them."""
    names = [
        "DEBUG",
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "CSRF_TRUSTED_ORIGINS",
        "SILENCED_SYSTEM_CHECKS",
        "TRUSTED_PROXIES",
    ]
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {names!r}}}, default=str))"
    )
    result = run([PYTHON, "-c", code], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# --- check --deploy -------------------------------------------------------------------


def test_check_deploy_reports_nothing_with_production_variables():
    # (check --deploy does not connect to Redis: any address will do.)
    result = check_deploy(production_env(REDIS_URL="redis://127.0.0.1:6379/14"))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in result.stdout, output
    assert "WARNING" not in output and "security.W" not in output, output


def test_check_deploy_fails_loudly_with_the_generated_local_key():
    result = check_deploy(production_env(DJANGO_SECRET_KEY=None))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
    assert ".local_secret_key" in result.stderr  # says which key it refused and why


def test_check_deploy_warns_without_https():
    """On http, the HTTPS settings stay off: fine locally, and check --deploy says so."""
    result = check_deploy(production_env(SITE_URL="http://the-clinic.example"))
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr, warning


# --- settings derived from SITE_URL ---------------------------------------------------


def test_https_site_switches_on_redirect_hsts_and_secure_cookies():
    seen = settings_in(production_env())
    assert seen["DEBUG"] is False
    assert seen["SECURE_SSL_REDIRECT"] is True
    assert seen["SECURE_HSTS_SECONDS"] == 31536000
    assert seen["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert seen["SECURE_HSTS_PRELOAD"] is True
    assert seen["SESSION_COOKIE_SECURE"] is True and seen["CSRF_COOKIE_SECURE"] is True
    assert seen["CSRF_TRUSTED_ORIGINS"] == ["https://the-clinic.example"]
    # X-Forwarded-Proto is not believed unless the operator names the proxy that sets it.
    assert seen["SECURE_PROXY_SSL_HEADER"] is None
    assert seen["TRUSTED_PROXIES"] == []
    assert seen["SILENCED_SYSTEM_CHECKS"] == []


def test_proxy_header_and_hsts_options_come_from_the_environment():
    seen = settings_in(
        production_env(
            TRUSTED_PROXIES="127.0.0.1,::1",
            DJANGO_HSTS_PRELOAD="0",
            DJANGO_HSTS_INCLUDE_SUBDOMAINS="0",
        )
    )
    assert seen["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert seen["SECURE_HSTS_PRELOAD"] is False
    assert seen["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    # A deliberate choice is not reported as a problem by check --deploy.
    assert sorted(seen["SILENCED_SYSTEM_CHECKS"]) == ["security.W005", "security.W021"]


@pytest.mark.parametrize(
    ("changes", "warned"),
    [
        ({"REDIS_URL": None}, True),  # gunicorn.conf.py's default: 2 workers
        ({"REDIS_URL": None, "WEB_CONCURRENCY": "4"}, True),
        ({"REDIS_URL": None, "WEB_CONCURRENCY": "1"}, False),
        ({"REDIS_URL": "redis://127.0.0.1:6379/14", "WEB_CONCURRENCY": "4"}, False),
    ],
)
def test_check_deploy_warns_of_several_processes_without_a_shared_cache(changes, warned):
    result = check_deploy(production_env(**changes))
    assert ("clinic.W001" in result.stderr) == warned, result.stderr
    assert (result.returncode != 0) == warned, result.stderr


def test_local_http_settings_keep_working():
    """The tests (and make run/serve) are plain http: nothing forces HTTPS there."""
    assert django_settings.SITE_URL.startswith("http://")
    assert django_settings.SECURE_SSL_REDIRECT is False
    assert django_settings.SECURE_HSTS_SECONDS == 0
    assert django_settings.SESSION_COOKIE_SECURE is False
    assert django_settings.CSRF_COOKIE_SECURE is False
    assert django_settings.SESSION_COOKIE_HTTPONLY and django_settings.CSRF_COOKIE_HTTPONLY
    assert django_settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert django_settings.CSRF_COOKIE_SAMESITE == "Lax"


@pytest.mark.django_db
def test_pages_send_the_security_headers(client):
    ClinicSettingsFactory()
    for url in ("/", "/consultation/", "/admin/login/", "/healthz"):
        response = client.get(url)
        assert response.status_code == HTTPStatus.OK, url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["X-Frame-Options"] == "DENY", url
        assert response["Referrer-Policy"] == "same-origin", url
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", url
        assert "Strict-Transport-Security" not in response, url  # plain http here


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_password_hasher")
def test_admin_login_cookies_are_httponly_and_samesite(client, admin_user):
    response = client.post(
        "/admin/login/?next=/admin/", {"username": admin_user.username, "password": "password"}
    )
    assert response.status_code == HTTPStatus.FOUND
    for name in ("sessionid", "csrftoken"):
        cookie = response.cookies[name]
        assert cookie["httponly"] is True, name
        assert cookie["samesite"] == "Lax", name
    # The admin still works with an HttpOnly CSRF cookie: its forms carry the token.
    page = client.get("/admin/pages/article/add/")
    assert page.status_code == HTTPStatus.OK
    assert b'name="csrfmiddlewaretoken"' in page.content


# --- gunicorn -------------------------------------------------------------------------


def gunicorn_settings(monkeypatch, **env) -> dict:
    for name in (
        "WEB_CONCURRENCY",
        "GUNICORN_WORKERS",
        "GUNICORN_HOST",
        "GUNICORN_BIND",
        "TRUSTED_PROXIES",
        "FORWARDED_ALLOW_IPS",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


def test_gunicorn_config_reads_the_environment(monkeypatch):
    conf = gunicorn_settings(monkeypatch, PORT="8123")
    assert conf["workers"] == 2
    assert conf["bind"] == ["127.0.0.1:8123"]
    assert conf["timeout"] > 0 and conf["graceful_timeout"] > 0
    assert conf["max_requests"] > 0 and conf["max_requests_jitter"] > 0
    # gunicorn believes X-Forwarded-Proto from TRUSTED_PROXIES only: none by default, and
    # its own FORWARDED_ALLOW_IPS cannot widen that.
    assert conf["forwarded_allow_ips"] == ""
    assert gunicorn_settings(monkeypatch, FORWARDED_ALLOW_IPS="*")["forwarded_allow_ips"] == ""
    conf = gunicorn_settings(monkeypatch, PORT="9000", WEB_CONCURRENCY="5", GUNICORN_HOST="0.0.0.0")
    assert conf["workers"] == 5 and conf["bind"] == ["0.0.0.0:9000"]
    conf = gunicorn_settings(monkeypatch, GUNICORN_WORKERS="3", TRUSTED_PROXIES="10.0.0.2")
    assert conf["workers"] == 3 and conf["forwarded_allow_ips"] == "10.0.0.2/32"
    # The path without its query string; no full request line, query, Referer, address or
    # user agent.
    assert "%(U)s" in conf["access_log_format"]
    for atom in ("%(r)s", "%(q)s", "%(f)s", "%({referer}i)s", "%(h)s", "%(a)s"):
        assert atom not in conf["access_log_format"], atom


def test_gunicorn_logs_one_line_per_event_to_stdout_without_query_strings(tmp_path):
    port = free_port()
    env = production_env(
        SITE_URL=f"http://127.0.0.1:{port}",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        REDIS_URL=None,
        PORT=str(port),
        WEB_CONCURRENCY="1",
    )
    gunicorn = Path(PYTHON).with_name("gunicorn")
    log = (tmp_path / "stdout.log").open("w+")
    server = subprocess.Popen(
        [gunicorn, "-c", GUNICORN_CONF],
        cwd=tmp_path,  # the config finds the project itself
        env=env,
        stdout=log,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                url = f"http://127.0.0.1:{port}/healthz?email=pat%40example.com"
                with urllib.request.urlopen(url, timeout=5) as response:
                    assert response.status == HTTPStatus.OK and response.read() == b"ok"
                break
            except OSError:
                assert server.poll() is None, server.stderr.read()
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.2)
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=60)
        log.close()
    lines = (tmp_path / "stdout.log").read_text().splitlines()
    access = [line for line in lines if " gunicorn.access " in line]
    assert access and '"GET /healthz HTTP/1.1" 200' in access[-1], lines
    assert not any("pat%40" in line or "email=" in line for line in lines), lines
    # Nor the client's address or user agent (urllib's).
    assert not any("127.0.0.1" in line or "Python-urllib" in line for line in access), access
    assert any(" INFO gunicorn.error Listening at:" in line for line in lines), lines
    # Every line: "<UTC time> <LEVEL> <logger> <message>".
    for line in lines:
        stamp, level, name, _message = line.split(" ", 3)
        assert stamp.endswith("Z") and "T" in stamp, line
        assert level in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), line
        assert name.startswith("gunicorn."), line
    assert "gunicorn.error" not in stderr and "gunicorn.access" not in stderr


# --- logging --------------------------------------------------------------------------

PATIENT = {
    "name": "Zebulon Quimby",
    "phone": "860.555.0177",
    "email": "zebulon.quimby@patients.example",
    "message": "Left knee swells after running; taking ibuprofen",
}
# The phone as the app stores it, and its digits, must not show up either.
NEEDLES = [*PATIENT.values(), "Quimby", "555-0177", "5550177", "zebulon.quimby", "ibuprofen"]


class RefusingPatientBackend(BaseEmailBackend):
    """Takes staff mail, refuses the patient's, with an error that names the address."""

    def send_messages(self, messages):
        for message in messages:
            patients = [r for r in message.recipients() if r.endswith("@patients.example")]
            if patients:
                raise smtplib.SMTPRecipientsRefused(
                    {r: (550, f"no mailbox {r}: {message.body}".encode()) for r in patients}
                )
        return len(messages)


@pytest.fixture
def every_log_record(caplog):
    """Every record of every logger, at DEBUG, formatted the way production writes it."""
    caplog.set_level(logging.DEBUG)
    for name in ("django", "django.request", "django.db.backends", "django.security"):
        caplog.set_level(logging.DEBUG, logger=name)
    quiet = [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    for logger in quiet:
        logger.addHandler(caplog.handler)
    yield caplog
    for logger in quiet:
        logger.removeHandler(caplog.handler)


def consultation_post(client, **headers):
    data = {
        **PATIENT,
        "office": "",
        "contact_method": "email",
        "best_time": "morning",
        "consent": "on",
        "website": "",
        "started": sign_form_start(time.time() - 30),
        "source": "/?email=zebulon.quimby@patients.example",
    }
    return client.post("/consultation/", data, **headers)


@pytest.mark.django_db
def test_a_request_and_a_failing_mail_log_nothing_the_patient_typed(
    client, settings, every_log_record
):
    assert settings.DEBUG is False
    settings.EMAIL_BACKEND = f"{__name__}.RefusingPatientBackend"
    ClinicSettingsFactory()
    NotificationRecipient.objects.create(email="frontdesk@the-clinic.example")

    assert consultation_post(client).status_code == HTTPStatus.FOUND
    forged = consultation_post(client, HTTP_ORIGIN="https://elsewhere.example")
    assert forged.status_code == HTTPStatus.FORBIDDEN
    assert send_pending() == (0, 1)

    row = ConsultationRequest.objects.get()
    # The error named the patient: admin sees it, the log does not.
    assert PATIENT["email"] in row.confirmation_error
    formatter = OneLineFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    lines = [formatter.format(record) for record in every_log_record.records]
    assert any(f"for consultation request #{row.pk} failed" in line for line in lines), lines
    assert any("Forbidden" in line for line in lines), lines  # the forged POST, by path
    for line in lines:
        assert "\n" not in line
        for needle in NEEDLES:
            assert needle.lower() not in line.lower(), (needle, line)
    # With DEBUG off Django logs no SQL (whose parameters would be what the patient typed).
    assert not [r for r in every_log_record.records if r.name.startswith("django.db.backends")]


def test_a_traceback_stays_on_its_line():
    formatter = OneLineFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        raise ValueError("first\nsecond")
    except ValueError:
        record = logging.LogRecord(
            "clinic", logging.ERROR, __file__, 1, "Failed: %s", ("a\r\nforged line",), True
        )
        record.exc_info = sys.exc_info()
    line = formatter.format(record)
    assert "\n" not in line and "\r" not in line
    assert "ERROR clinic Failed: a\\r\\nforged line" in line
    assert "Traceback" in line and "ValueError: first\\nsecond" in line
