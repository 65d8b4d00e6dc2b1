"""docs/deploy.md followed step by step on loopback: nginx, 2 app servers, a worker; checked.

Run it from the project folder (tests/test_deploy_stack.py runs it too)::

    .venv/bin/python bench/stack.py                 # bring up, check, tear down
    .venv/bin/python bench/stack.py --keep-running  # ... and stay up until Ctrl+C

It needs nginx (Debian: ``apt-get install nginx``; no nginx service is used: the script
runs its own instance as a foreground process), openssl, and the PostgreSQL and Redis that
``STACK_POSTGRES_URL`` (else ``TEST_DATABASE_URL``, else
``postgres://postgres@127.0.0.1:5432/postgres``) and ``STACK_REDIS_URL``
(``redis://127.0.0.1:6379/14``) name; ``STACK_NGINX`` picks another nginx binary. The
steps, as the guide's sections:

1. "The environment": the guide's variables, for loopback: a random DJANGO_SECRET_KEY,
   ``SITE_URL=https://127.0.0.1:<nginx port>``, ``TRUSTED_PROXIES=127.0.0.1`` (nginx's),
   ``PROXY_CACHE_SECONDS=10``, a fresh PostgreSQL database (created here, dropped at the
   end), Redis with its own key prefix (its keys are deleted at the end: nothing else in
   that Redis database is touched), mail to an aiosmtpd server (tests/smtp_server.py),
   media in the temporary folder. Written to ``<tmp>/env`` as well.
2. "Deploying a new version": ``migrate``, ``collectstatic`` with
   ``DJANGO_STATIC_MANIFEST=1``, ``check --deploy --fail-level WARNING``; plus what a
   fresh site needs, ``load_demo_content`` and a superuser.
3. "Web server and notification worker": ``gunicorn -c clinic_site/gunicorn.conf.py`` twice
   (``PORT`` = two free ports, as ``clinic-web@%i``) and one
   ``manage.py send_notifications --loop``.
4. "nginx": deploy/nginx/clinic.conf rendered with the two app servers, the static and
   media folders, a cache folder and a self-signed certificate (openssl) into
   ``<tmp>/nginx/``, included by a small nginx.conf there (pid, logs, temp folders), then
   ``nginx -p <tmp>/nginx -c nginx.conf -g 'daemon off;'`` on two free loopback ports
   (HTTPS and the plain-HTTP redirect).

Then it checks, through nginx: the pages, the static and media files (served by nginx, never
by an app server), the proxy cache (a second article request is a HIT; the app's
X-Accel-Expires does not reach the client; a page that sets a cookie is never stored; a
logged-in admin bypasses the cache), a consultation request (stored, and the worker mails
the staff notification to the SMTP server), that visitors from different loopback addresses
each get their own count of the form's rate limit whatever X-Forwarded-For they send (and
that a client reaching gunicorn directly is believed nothing), and that both app servers
served requests.
Prints one line per check; exits 0 when all pass, 1 when one fails, 3 when nginx, openssl,
PostgreSQL or Redis is missing. Everything is stopped and removed on exit, also on failure,
Ctrl+C or SIGTERM.

Static files are collected into the temporary folder (``DJANGO_STATIC_ROOT``), never into
the checkout's staticfiles/, where a manifest would change how every DEBUG-off process of
the checkout serves static files.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ is not a package
from support import (  # noqa: E402
    BASE_DIR,
    HOST,
    Gunicorn,
    TempSite,
    collectstatic_beside,
    free_port,
    scratch_postgres_database,
)

# support put the project on sys.path.
from tests.processes import Browser, Process, form_fields  # noqa: E402
from tests.smtp_server import RecordingSMTPServer  # noqa: E402

NGINX_TEMPLATE = BASE_DIR / "deploy" / "nginx" / "clinic.conf"
GUNICORN_CONF = "clinic_site/gunicorn.conf.py"
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
ADMIN_USER = "stack-admin"
ADMIN = "/admin/"  # ADMIN_URL's default
PAGES = {
    "home": "/",
    "article": "/articles/what-is-dry-needling/",
    "office": "/offices/bloomfield/",
}
# Requested only by the proxy-cache check, so that its first request is a miss.
FRESH_ARTICLE = "/articles/understanding-dry-needling-back-shoulder-pain/"
EXIT_UNAVAILABLE = 3
RATE_LIMIT_CHECK = "each visitor has their own rate limit; X-Forwarded-For spoofing ignored"
SPOOFED_POSTS = 500  # from one visitor, each with a new made-up X-Forwarded-For
DIRECT_POSTS = 3

# What Debian's /etc/nginx/nginx.conf gives the site file, with every path in the prefix.
NGINX_MAIN = """\
# Written by bench/stack.py: a private nginx for the loopback bring-up.
{user}worker_processes {worker_processes};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    {mime_types}
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    server_tokens off;
    client_body_temp_path {prefix}/temp/client_body;
    proxy_temp_path {prefix}/temp/proxy;
    fastcgi_temp_path {prefix}/temp/fastcgi;
    uwsgi_temp_path {prefix}/temp/uwsgi;
    scgi_temp_path {prefix}/temp/scgi;
    log_format stack '$remote_addr "$request" $status $body_bytes_sent '
                     'upstream=$upstream_addr cache=$upstream_cache_status';
    access_log {prefix}/access.log stack;
    include {site};
}}
"""


# Prerequisites -----------------------------------------------------------------------


def find_nginx() -> str | None:
    """``STACK_NGINX`` when set, else nginx on the PATH, else Debian's /usr/sbin/nginx."""
    chosen = os.environ.get("STACK_NGINX")
    if chosen is not None:
        return chosen if os.access(chosen, os.X_OK) else None
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None
    )


def postgres_server_url() -> str:
    for name in ("STACK_POSTGRES_URL", "TEST_DATABASE_URL"):
        url = os.environ.get(name, "")
        if urlsplit(url).scheme in ("postgres", "postgresql", "pgsql"):
            return url
    return DEFAULT_POSTGRES_URL


def redis_url() -> str:
    return os.environ.get("STACK_REDIS_URL") or DEFAULT_REDIS_URL


def _shown(url: str) -> str:
    """``url`` without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()
    return url


def unavailable() -> list[str]:
    """Why the stack cannot come up on this machine (empty when it can)."""
    problems = []
    if find_nginx() is None:
        where = os.environ.get("STACK_NGINX") or "on the PATH or at /usr/sbin/nginx"
        problems.append(f"nginx not found {where} (Debian: apt-get install nginx)")
    if shutil.which("openssl") is None:
        problems.append("openssl not found (Debian: apt-get install openssl)")
    try:
        import psycopg

        psycopg.connect(postgres_server_url(), connect_timeout=5).close()
    except Exception as exc:
        problems.append(
            f"PostgreSQL does not answer at {_shown(postgres_server_url())} "
            f"({type(exc).__name__}: {' '.join(str(exc).split())})"
        )
    try:
        import redis

        redis.Redis.from_url(redis_url(), socket_connect_timeout=5).ping()
    except Exception as exc:
        problems.append(
            f"Redis does not answer at {_shown(redis_url())} ({type(exc).__name__}: {exc})"
        )
    return problems


# nginx -------------------------------------------------------------------------------


def render_nginx_site(template: str, **values: str) -> str:
    """The template with each ``@NAME@`` replaced by ``values[NAME.lower()]``."""
    rendered = template
    for name, value in values.items():
        rendered = rendered.replace(f"@{name.upper()}@", value)
    missing = sorted(set(re.findall(r"@[A-Z_]+@", rendered)))
    if missing:
        raise ValueError(f"placeholders without a value: {', '.join(missing)}")
    return rendered


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (one day), and its key."""
    certificate, key = folder / "tls.crt", folder / "tls.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(certificate), "-subj", f"/CN={HOST}"]
        + ["-addext", f"subjectAltName=IP:{HOST}"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return certificate, key


class Nginx(Process):
    """A private nginx in ``prefix``: the site file rendered from the repo's template.

    ``app_servers`` are ``host:port`` strings; ``proxy_cache=False`` switches the page cache
    off (bench/proxy_speed.py compares both). The master runs in the foreground in its own
    session; ``stop()`` sends SIGTERM, then SIGKILL to the group.
    """

    def __init__(
        self,
        prefix: Path,
        *,
        app_servers: list[str],
        static_root: Path,
        media_root: Path,
        certificate: Path,
        certificate_key: Path,
        https_port: int | None = None,
        http_port: int | None = None,
        proxy_cache: bool = True,
        worker_processes: str = "auto",
    ):
        self.prefix = prefix
        self.https_port = https_port or free_port()
        self.http_port = http_port or free_port()
        prefix.mkdir(parents=True, exist_ok=True)
        (prefix / "temp").mkdir(exist_ok=True)
        site = render_nginx_site(
            NGINX_TEMPLATE.read_text(),
            server_name=HOST,
            http_listen=f"{HOST}:{self.http_port}",
            https_listen=f"{HOST}:{self.https_port}",
            app_servers=" ".join(f"server {address};" for address in app_servers),
            static_root=str(static_root),
            media_root=str(media_root),
            cache_path=str(prefix / "cache"),
            ssl_certificate=str(certificate),
            ssl_certificate_key=str(certificate_key),
        )
        if not proxy_cache:
            site, replaced = re.subn(
                r"^(\s*)proxy_cache clinic;$", r"\1proxy_cache off;", site, flags=re.M
            )
            if replaced != 1:
                raise ValueError("the template's `proxy_cache clinic;` line was not found")
        self.site = prefix / "clinic.conf"
        self.site.write_text(site)
        mime_types = Path("/etc/nginx/mime.types")
        self.conf = prefix / "nginx.conf"
        self.conf.write_text(
            NGINX_MAIN.format(
                # As root the workers would run as nobody; the files here are root's.
                user="user root;\n" if os.geteuid() == 0 else "",
                worker_processes=worker_processes,
                prefix=prefix,
                site=self.site,
                mime_types=f"include {mime_types};"
                if mime_types.exists()
                else "types { text/html html; text/css css; application/javascript js; }",
            )
        )
        self.access_log = prefix / "access.log"
        self.error_log = prefix / "error.log"
        nginx = [find_nginx(), "-p", str(prefix), "-c", str(self.conf)]
        self.test_command = [*nginx, "-t"]
        super().__init__([*nginx, "-g", "daemon off;"], dict(os.environ), prefix / "nginx.out")

    def test_config(self) -> None:
        done = subprocess.run(
            self.test_command, capture_output=True, text=True, timeout=30, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{done.stderr}")

    def start(self, timeout: float = 20) -> Nginx:
        self.test_config()
        super().start()
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                raise RuntimeError(f"nginx exited:\n{self.output()[-3000:]}")
            try:
                socket.create_connection((HOST, self.https_port), timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not listen within {timeout:g} s") from None
                time.sleep(0.05)

    def __enter__(self) -> Nginx:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


# HTTPS through nginx -----------------------------------------------------------------


class Response:
    def __init__(self, raw: http.client.HTTPResponse, body: bytes):
        self.status = raw.status
        self.headers = raw.headers
        self.body = body

    def header(self, name: str) -> str:
        return self.headers.get(name) or ""

    def cookies(self) -> dict[str, str]:
        found = {}
        for line in self.headers.get_all("Set-Cookie") or []:
            name, _, rest = line.partition("=")
            found[name.strip()] = rest.split(";", 1)[0]
        return found

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Client:
    """HTTPS requests to nginx on 127.0.0.1, trusting only the stack's own certificate;
    from ``source`` (another loopback address, e.g. 127.0.0.2) when given."""

    def __init__(self, port: int, certificate: Path, source: str | None = None):
        self.port = port
        self.origin = f"https://{HOST}:{port}"
        self.context = ssl.create_default_context(cafile=str(certificate))
        self.source_address = (source, 0) if source else None

    def request(
        self, method: str, path: str, *, headers: dict | None = None, body: str | None = None
    ) -> Response:
        connection = http.client.HTTPSConnection(
            HOST, self.port, timeout=30, context=self.context, source_address=self.source_address
        )
        try:
            connection.request(method, path, body=body, headers=headers or {})
            raw = connection.getresponse()
            return Response(raw, raw.read())
        finally:
            connection.close()

    def get(self, path: str, **headers: str) -> Response:
        return self.request(
            "GET", path, headers={k.replace("_", "-"): v for k, v in headers.items()}
        )

    def post_form(self, path: str, data: dict, headers: dict | None = None) -> Response:
        """POST ``data`` form-encoded, with the ``Origin`` a browser sends."""
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": self.origin,
            **(headers or {}),
        }
        return self.request("POST", path, body=urlencode(data), headers=headers)


# The stack ---------------------------------------------------------------------------


class Stack:
    """Everything of docs/deploy.md on loopback; ``with Stack(...) as stack:`` tears it down."""

    def __init__(
        self,
        *,
        quick_static: bool = False,
        workers: int = 2,
        proxy_cache_seconds: int = 10,
        keep_files: bool = False,
        say=print,
    ):
        self.quick_static = quick_static
        self.workers = workers
        self.proxy_cache_seconds = proxy_cache_seconds
        self.say = say
        self.exit = contextlib.ExitStack()
        self.site = TempSite("clinic-stack-", keep=keep_files, use_database_url=False)
        self.exit.callback(self.site.cleanup)
        self.tmp = self.site.tmp
        self.static_root = self.tmp / "staticfiles"
        self.media_root = self.tmp / "media"
        self.https_port = free_port()
        self.http_port = free_port()
        self.app_ports = [free_port(), free_port()]
        self.redis_url = redis_url()
        self.redis_prefix = f"clinic-stack-{secrets.token_hex(4)}"
        self.admin_password = secrets.token_urlsafe(18)
        self.database_url = ""
        self.smtp: RecordingSMTPServer | None = None
        self.servers: list[Gunicorn] = []
        self.worker: Process | None = None
        self.nginx: Nginx | None = None
        self.client: Client | None = None
        self.certificate: Path | None = None
        self.certificate_key: Path | None = None
        self.env: dict = {}
        self.timings: dict[str, float] = {}

    # Bring-up ------------------------------------------------------------------------

    def _step(self, name: str, started: float) -> None:
        self.timings[name] = time.monotonic() - started
        self.say(f"  {name:<46} {self.timings[name]:5.1f} s")

    def up(self) -> Stack:
        try:
            self._up()
        except BaseException:
            self.down()
            raise
        return self

    def _up(self) -> None:
        started = time.monotonic()
        # 1. The environment: PostgreSQL, Redis, SMTP, then /etc/clinic/env's variables.
        self.database_url = self.exit.enter_context(
            scratch_postgres_database(postgres_server_url(), prefix="clinic_stack")
        )
        self.exit.callback(self._delete_redis_keys)
        self.smtp = self.exit.enter_context(RecordingSMTPServer())
        self.media_root.mkdir()
        variables = {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            "DJANGO_ALLOWED_HOSTS": HOST,
            "SITE_URL": f"https://{HOST}:{self.https_port}",
            "TRUSTED_PROXIES": HOST,  # where nginx connects to the app servers from
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "CACHE_KEY_PREFIX": self.redis_prefix,
            "EMAIL_HOST": HOST,
            "EMAIL_PORT": str(self.smtp.port),
            "EMAIL_USE_TLS": "0",
            "DEFAULT_FROM_EMAIL": f"website@{HOST}",
            "SERVER_EMAIL": f"website@{HOST}",
            "DJANGO_MEDIA_ROOT": str(self.media_root),
            "DJANGO_STATIC_ROOT": str(self.static_root),
            "PROXY_CACHE_SECONDS": str(self.proxy_cache_seconds),
            "DJANGO_STATIC_MANIFEST": "1",
            "DJANGO_LOG_LEVEL": "INFO",
            "WEB_CONCURRENCY": str(self.workers),
        }
        (self.tmp / "env").write_text("".join(f"{k}={v}\n" for k, v in variables.items()))
        self.env = {**self.site.env, **variables}  # the site's: DJANGO_DEBUG=0 too
        # Not one of the guide's: X-Page-Cache shows the checks below (and proxy_speed.py)
        # whether an app server answered from its page cache. Production sends no such header.
        self.env["DJANGO_PAGE_CACHE_HEADER"] = "1"
        self.env.pop("DJANGO_ROOT_URLCONF", None)
        self._step(f"environment, database {self.database_url.rsplit('/', 1)[-1]}", started)

        # 2. Deploying a new version: migrate, collectstatic, check --deploy.
        started = time.monotonic()
        # collectstatic runs beside the set-up, as in page_speed.py; the guide's command
        # unless --quick-static.
        with collectstatic_beside(self.env, compress=not self.quick_static):
            self.site.setup(env=self.env)
            self.site.manage(
                "createsuperuser",
                "--noinput",
                "--username",
                ADMIN_USER,
                "--email",
                f"{ADMIN_USER}@example.com",
                env={**self.env, "DJANGO_SUPERUSER_PASSWORD": self.admin_password},
            )
        if self.quick_static:
            self._gzip_static()
        self._step("migrate, load_demo_content, collectstatic", started)
        started = time.monotonic()
        self.check_deploy = subprocess.run(
            [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self._step("check --deploy --fail-level WARNING", started)

        # 3. Web servers (clinic-web@<port>) and the notification worker.
        started = time.monotonic()
        for port in self.app_ports:
            server = Gunicorn(
                {**self.env, "PORT": str(port)},
                port,
                workers=self.workers,
                options=["-c", GUNICORN_CONF],
                log=self.tmp / f"gunicorn-{port}.log",
            )
            self.exit.callback(server.stop)
            self.servers.append(server.start())
        self.worker = Process(
            [sys.executable, "manage.py", "send_notifications", "--loop"],
            self.env,
            self.tmp / "worker.log",
            name="worker",
        )
        self.exit.callback(self.worker.stop)
        self.worker.start()
        # On the way down, every process is told to stop at once (then waited for in turn).
        self.exit.callback(self._signal_all)
        for server in self.servers:
            server.wait_until_ready("/healthz", all_workers=True, interval=0.2)
        self._step(f"gunicorn x2 on {', '.join(map(str, self.app_ports))}, worker", started)

        # 4. nginx.
        started = time.monotonic()
        (self.tmp / "nginx").mkdir()
        self.certificate, self.certificate_key = self_signed_certificate(self.tmp / "nginx")
        self.nginx = Nginx(
            self.tmp / "nginx",
            app_servers=[f"{HOST}:{port}" for port in self.app_ports],
            static_root=self.static_root,
            media_root=self.media_root,
            certificate=self.certificate,
            certificate_key=self.certificate_key,
            https_port=self.https_port,
            http_port=self.http_port,
        )
        self.exit.callback(self.nginx.stop)
        self.nginx.start()
        self.client = Client(self.https_port, self.certificate)
        self._step(f"nginx on {self.https_port} (https), {self.http_port} (http)", started)

    def _gzip_static(self) -> None:
        """--quick-static: the .gz copies nginx's gzip_static serves (no brotli ones)."""
        done = subprocess.run(
            [sys.executable, "-m", "whitenoise.compress", "--no-brotli", "-q"]
            + [str(self.static_root)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"whitenoise.compress failed:\n{done.stderr[-3000:]}")

    def _signal_all(self) -> None:
        for process in [self.worker, *self.servers]:
            if process.alive():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)

    def _delete_redis_keys(self) -> None:
        import redis

        connection = redis.Redis.from_url(self.redis_url, socket_connect_timeout=5)
        try:
            keys = list(connection.scan_iter(match=f"{self.redis_prefix}:*", count=1000))
            if keys:
                connection.delete(*keys)
        finally:
            connection.close()

    def down(self) -> None:
        """Stop nginx, the worker, gunicorn, SMTP; drop the database, delete the Redis keys."""
        self.exit.close()

    def __enter__(self) -> Stack:
        return self.up()

    def __exit__(self, *exc_info) -> None:
        self.down()

    # Looking at it -------------------------------------------------------------------

    def app_log_requests(self, port: int) -> list[str]:
        """The request lines in one app server's access log (``"GET /path HTTP/1.0"``)."""
        log = (self.tmp / f"gunicorn-{port}.log").read_text()
        return re.findall(r'"((?:GET|POST|HEAD|PUT|DELETE) \S+) HTTP/[\d.]+"', log)

    def sql(self, query: str, *params) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.database_url, connect_timeout=10) as connection:
            return connection.execute(query, params).fetchall()


# The checks ----------------------------------------------------------------------------


class Checks:
    def __init__(self, stack: Stack, say=print):
        self.stack = stack
        self.client = stack.client
        self.say = say
        self.results: list[dict] = []

    def record(self, name: str, ok: bool, detail: str) -> bool:
        self.results.append({"name": name, "ok": bool(ok), "detail": detail})
        self.say(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")
        return ok

    def run(self) -> list[dict]:
        form = self.open_form()  # filled in while the other checks run (3 s minimum)
        for check in (
            self.deploy_check,
            self.https_redirect,
            self.pages,
            self.static_file,
            self.media_file,
            self.proxy_cache,
            self.cookie_pages_not_cached,
            self.logged_in_bypass,
        ):
            try:
                check()
            except Exception as exc:  # one broken check must not hide the others
                self.record(check.__name__.replace("_", " "), False, f"{type(exc).__name__}: {exc}")
        try:
            self.consultation(form)
        except Exception as exc:
            self.record("consultation stored and mailed", False, f"{type(exc).__name__}: {exc}")
        try:
            self.rate_limit_per_visitor(form)
        except Exception as exc:
            self.record(RATE_LIMIT_CHECK, False, f"{type(exc).__name__}: {exc}")
        self.app_servers()
        return self.results

    # Each check ----------------------------------------------------------------------

    def deploy_check(self):
        done = self.stack.check_deploy
        output = " ".join((done.stdout + done.stderr).split())[-300:]
        self.record(
            "check --deploy",
            done.returncode == 0,
            f"exit {done.returncode}: {output or 'no output'}",
        )

    def https_redirect(self):
        connection = http.client.HTTPConnection(HOST, self.stack.http_port, timeout=10)
        try:
            connection.request("GET", "/offices/")
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()
        location = response.getheader("Location") or ""
        self.record(
            "plain HTTP redirects to HTTPS",
            response.status == 301 and location == f"https://{HOST}/offices/",
            f"{response.status} -> {location}",
        )

    def pages(self):
        statuses = {}
        for name, path in PAGES.items():
            response = self.client.get(path)
            statuses[name] = response.status
        # 200 (not a redirect loop) also shows the app believes nginx's X-Forwarded-Proto.
        self.record(
            "pages through nginx",
            all(status == 200 for status in statuses.values()),
            ", ".join(f"{name} {status}" for name, status in statuses.items()),
        )

    def linked(self, page: str, pattern: str) -> str:
        """The first match of ``pattern``'s group in ``page``'s HTML ('' when none)."""
        match = re.search(pattern, self.client.get(PAGES[page]).text)
        return match.group(1) if match else ""

    def app_requests(self, prefix: str) -> list[str]:
        """The app servers' requests for paths under ``prefix`` (nginx should answer them)."""
        return [
            line
            for port in self.stack.app_ports
            for line in self.stack.app_log_requests(port)
            if prefix in line
        ]

    def static_file(self):
        path = self.linked("home", r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"')
        if not path:
            self.record("static file from nginx", False, "no hashed stylesheet in the home page")
            return
        plain = self.client.get(path)
        gzipped = self.client.get(path, Accept_Encoding="gzip")
        on_disk = self.stack.static_root / path.removeprefix("/static/")
        gz_size = (on_disk.parent / (on_disk.name + ".gz")).stat().st_size
        app_hits = self.app_requests("/static/")
        checks = {
            "200": plain.status == 200 and plain.body == on_disk.read_bytes(),
            "immutable": "immutable" in ", ".join(plain.headers.get_all("Cache-Control") or []),
            "gzip_static": gzipped.header("Content-Encoding") == "gzip"
            and int(gzipped.header("Content-Length") or -1) == gz_size,
            "never reached an app server": not app_hits,
        }
        self.record(
            "static file from nginx",
            all(checks.values()),
            f"{path}: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in checks.items()),
        )

    def media_file(self):
        path = self.linked("article", r'(/media/[^"\s,]+\.(?:webp|jpg|jpeg|png))')
        if not path:
            self.record("media file from nginx", False, "no /media/ picture in the article page")
            return
        response = self.client.get(path)
        app_hits = self.app_requests("/media/")
        self.record(
            "media file from nginx",
            response.status == 200
            and response.header("Content-Type").startswith("image/")
            and not app_hits,
            f"{path}: {response.status} {response.header('Content-Type')}, "
            f"app servers asked {len(app_hits)} times",
        )

    def proxy_cache(self):
        first = self.client.get(FRESH_ARTICLE)
        second = self.client.get(FRESH_ARTICLE)
        statuses = [first.header("X-Cache-Status"), second.header("X-Cache-Status")]
        leaked = [
            r.header("X-Accel-Expires") for r in (first, second) if r.header("X-Accel-Expires")
        ]
        self.record(
            "second article request is a proxy-cache HIT",
            first.status == second.status == 200
            and statuses == ["MISS", "HIT"]
            and not leaked
            and not second.headers.get_all("Set-Cookie")
            and first.body == second.body,
            f"X-Cache-Status {' then '.join(s or '-' for s in statuses)}; "
            f"X-Accel-Expires reaching the client: {leaked or 'none'}",
        )

    def cookie_pages_not_cached(self):
        login = f"{ADMIN}login/"
        responses = [self.client.get(login) for _ in range(3)]
        statuses = [r.header("X-Cache-Status") or "-" for r in responses]
        sets_cookie = all(r.headers.get_all("Set-Cookie") for r in responses)
        self.record(
            "a page that sets a cookie is never cached",
            all(r.status == 200 for r in responses) and sets_cookie and "HIT" not in statuses,
            f"admin login page 3 times: {', '.join(statuses)}; Set-Cookie each time: "
            f"{'yes' if sets_cookie else 'NO'}",
        )

    def log_in(self) -> str:
        """Log in to admin through nginx, as a browser does: the session cookie."""
        login = f"{ADMIN}login/"
        page = self.client.get(login)
        csrf_cookie = page.cookies().get("csrftoken", "")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = self.client.post_form(
            login,
            {
                "csrfmiddlewaretoken": token,
                "username": ADMIN_USER,
                "password": self.stack.admin_password,
                "next": ADMIN,
            },
            headers={
                "Cookie": f"csrftoken={csrf_cookie}",
                "Referer": self.client.origin + login,
            },
        )
        session = response.cookies().get("sessionid", "")
        if response.status != 302 or not session:
            raise RuntimeError(f"admin login answered {response.status} without a session")
        return session

    def logged_in_bypass(self):
        session = self.log_in()
        cookie = f"sessionid={session}"
        # The article is in the proxy cache by now (the pages check and the HIT check).
        article = self.client.get(FRESH_ARTICLE, Cookie=cookie)
        admin = self.client.get(ADMIN, Cookie=cookie)
        anonymous = self.client.get(FRESH_ARTICLE)
        statuses = {
            "article": article.header("X-Cache-Status") or "-",
            "admin": admin.header("X-Cache-Status") or "-",
            "anonymous again": anonymous.header("X-Cache-Status") or "-",
        }
        self.record(
            "logged-in requests bypass the proxy cache",
            article.status == admin.status == 200
            and statuses["article"] == statuses["admin"] == "BYPASS"
            and statuses["anonymous again"] == "HIT"
            and "Log out" in admin.text
            and not article.header("X-Page-Cache"),
            ", ".join(f"{k}: {v}" for k, v in statuses.items()) + f"; admin page {admin.status}",
        )

    def open_form(self) -> dict:
        page = self.client.get("/consultation/")
        started = re.search(r'name="started" value="([^"]*)"', page.text)
        offices = re.findall(r'<option value="(\d+)"', page.text)
        return {
            "status": page.status,
            "started": started.group(1) if started else "",
            "office": offices[0] if offices else "",
            "html": page.text,
        }

    def consultation(self, form: dict):
        name = "consultation stored and mailed"
        if form["status"] != 200 or not form["started"]:
            self.record(name, False, f"GET /consultation/ answered {form['status']}")
            return
        before = self.stack.sql("select coalesce(max(id), 0) from contact_consultationrequest")
        response = self.client.post_form(
            "/consultation/",
            {
                "name": "Stack Patient",
                "phone": "(860) 555-0100",
                "email": "stack-patient@example.com",
                "office": form["office"],
                "contact_method": "phone",
                "best_time": "morning",
                "message": "Knee pain after running.",
                "consent": "on",
                "website": "",
                "started": form["started"],
                "source": "/",
            },
        )
        location = response.header("Location")
        rows = self.stack.sql(
            "select id, status from contact_consultationrequest where id > %s", before[0][0]
        )
        if response.status != 302 or "/thanks/" not in location or len(rows) != 1:
            self.record(name, False, f"POST answered {response.status} -> {location}; rows {rows}")
            return
        request_id, status = rows[0]
        # The worker polls every 5 s (send_notifications --loop's default).
        deadline = time.monotonic() + 20
        while True:
            mails = [m for m in self.stack.smtp.staff_notifications() if m.request_id == request_id]
            notified = self.stack.sql(
                "select notified_at is not null from contact_consultationrequest where id = %s",
                request_id,
            )[0][0]
            worker_log = (self.stack.tmp / "worker.log").read_text()
            logged = f"#{request_id} sent" in worker_log
            if (mails and notified and logged) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        admin_link = f"{self.client.origin}{ADMIN}contact/consultationrequest/{request_id}/"
        self.record(
            name,
            status != "spam"
            and len(mails) == 1
            and "frontdesk@example.com" in mails[0].rcpt_tos
            and admin_link in mails[0].text
            and notified
            and logged,
            f"POST 302 -> {location}; request #{request_id} stored ({status}); "
            f"staff mails: {len(mails)}"
            + (f" to {', '.join(mails[0].rcpt_tos)}" if mails else "")
            + f", link to admin {'yes' if mails and admin_link in mails[0].text else 'NO'}"
            + f"; marked notified {'yes' if notified else 'NO'}; worker log says sent "
            + ("yes" if logged else "NO"),
        )

    def rate_limit_per_visitor(self, form: dict):
        """Visitor A (127.0.0.2) sends the form with a new made-up X-Forwarded-For each
        time, B (127.0.0.3) once, naming A's address; C (127.0.0.4) goes straight to an app
        server, claiming HTTPS. nginx appends each one's own address, the only entry the app
        believes (TRUSTED_PROXIES is nginx's 127.0.0.1); C's headers are believed by no one,
        so the HTTPS redirect sends it away. After the one request from 127.0.0.1 above."""
        fields = dict(form_fields(form["html"], "consultation-form"))
        fields.update(
            phone="(860) 555-0101",
            email="stack-visitor@example.com",
            office=form["office"],
            contact_method="phone",
            best_time="morning",
            message="Ankle sprain.",
            consent="on",
        )
        before = self.stack.sql("select coalesce(max(id), 0) from contact_consultationrequest")
        a = Client(self.stack.https_port, self.stack.certificate, source="127.0.0.2")
        a_statuses = Counter(
            a.post_form(
                "/consultation/",
                {**fields, "name": "Visitor A"},
                {"X-Forwarded-For": f"198.18.{n // 256}.{n % 256}"},
            ).status
            for n in range(SPOOFED_POSTS)
        )
        b = Client(self.stack.https_port, self.stack.certificate, source="127.0.0.3")
        b_status = b.post_form(
            "/consultation/", {**fields, "name": "Visitor B"}, {"X-Forwarded-For": "127.0.0.2"}
        ).status
        c = Browser(self.stack.app_ports[0], source="127.0.0.4")
        c_statuses = Counter(
            c.post(
                "/consultation/",
                {**fields, "name": "Visitor C"},
                headers={
                    "X-Forwarded-For": f"198.19.0.{n}",
                    "X-Forwarded-Proto": "https",
                    "Origin": self.client.origin,
                },
            ).status
            for n in range(DIRECT_POSTS)
        )
        stored = Counter(
            dict(
                self.stack.sql(
                    "select name, count(*) from contact_consultationrequest where id > %s "
                    "group by name",
                    before[0][0],
                )
            )
        )
        self.record(
            RATE_LIMIT_CHECK,
            a_statuses == {302: 5, 429: SPOOFED_POSTS - 5}
            and b_status == 302
            and c_statuses == {301: DIRECT_POSTS}
            and stored == {"Visitor A": 5, "Visitor B": 1},
            f"A: {SPOOFED_POSTS} spoofed POSTs: {stored['Visitor A']} stored, "
            f"{a_statuses[429]} refused (429); B: {b_status}, {stored['Visitor B']} stored; "
            f"C straight to gunicorn claiming HTTPS: "
            + ", ".join(f"{n} x {status}" for status, n in c_statuses.items())
            + f", {stored['Visitor C']} stored",
        )

    def app_servers(self):
        counts = {}
        for port in self.stack.app_ports:
            counts[port] = len(
                [line for line in self.stack.app_log_requests(port) if "/healthz" not in line]
            )
        upstreams = set(re.findall(r"upstream=(\S+)", self.stack.nginx.access_log.read_text())) - {
            "-"
        }
        self.record(
            "both app servers served requests through nginx",
            all(n > 0 for n in counts.values()) and len(upstreams) == 2,
            ", ".join(f"port {port}: {n} requests" for port, n in counts.items())
            + f"; nginx's upstreams: {', '.join(sorted(upstreams))}",
        )


# Running it ------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--keep-running",
        action="store_true",
        help="after the checks, stay up (and print how to reach it) until Ctrl+C",
    )
    parser.add_argument(
        "--quick-static",
        action="store_true",
        help="collectstatic without the brotli copies nginx cannot use (saves 40 s of CPU)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--report", type=Path, help="write the checks as JSON to this file")
    return parser.parse_args(argv)


def _terminate(signum, frame):
    raise KeyboardInterrupt  # SIGTERM as Ctrl+C: every process is stopped on the way out


def main(argv=None) -> int:
    args = parse_args(argv)
    problems = unavailable()
    if problems:
        print("Cannot bring the stack up:", *problems, sep="\n  ")
        return EXIT_UNAVAILABLE
    signal.signal(signal.SIGTERM, _terminate)
    report = {"checks": [], "error": "", "database": ""}
    stack = Stack(quick_static=args.quick_static, workers=args.workers, keep_files=args.keep)
    report.update(
        tmp=str(stack.tmp),
        redis_url=stack.redis_url,
        redis_prefix=stack.redis_prefix,
        ports={"https": stack.https_port, "http": stack.http_port, "app": stack.app_ports},
    )
    started = time.monotonic()
    try:
        print(f"Bringing up docs/deploy.md's stack in {stack.tmp}", flush=True)
        with stack:
            report["database"] = stack.database_url
            report["timings"] = stack.timings
            print(f"Up in {time.monotonic() - started:.0f} s; checking through nginx:", flush=True)
            report["checks"] = Checks(stack).run()
            if args.keep_running:
                print(
                    f"\nRunning: {stack.client.origin}/ (self-signed: curl -k, or "
                    f"--cacert {stack.certificate})\n"
                    f"  admin: {stack.client.origin}{ADMIN}  {ADMIN_USER} / "
                    f"{stack.admin_password}\n"
                    f"  app servers: {', '.join(f'http://{HOST}:{p}' for p in stack.app_ports)}"
                    f"\n  environment: {stack.tmp / 'env'}; logs: {stack.tmp}/*.log, "
                    f"{stack.tmp}/nginx/*.log\n  mail: {len(stack.smtp.messages)} received so "
                    "far (printed on exit)\nCtrl+C stops everything.",
                    flush=True,
                )
                with contextlib.suppress(KeyboardInterrupt):
                    signal.pause()
                for message in stack.smtp.messages:
                    print(f"  mail to {', '.join(message.rcpt_tos)}: {message.subject}")
    except Exception as exc:
        report["error"] = f"{type(exc).__name__}: {exc}"
        print(f"\nBring-up failed: {report['error']}")
    finally:
        if args.report:
            args.report.write_text(json.dumps(report, indent=2))
    failed = [c["name"] for c in report["checks"] if not c["ok"]]
    print(f"\nTorn down; {time.monotonic() - started:.0f} s in all.")
    if report["error"] or failed or not report["checks"]:
        print("FAILED:", ", ".join(failed) or report["error"])
        return 1
    print(f"All {len(report['checks'])} checks passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
