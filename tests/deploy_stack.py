"""docs/deploy.md on loopback: nginx in front of two app servers and a worker, under honcho.

``Stack`` follows the guide in a temporary folder: a fresh PostgreSQL database, Redis under a
key prefix of its own, mail to an aiosmtpd server, "The environment" in ``<tmp>/env``,
"Deploying a new version" (plus demo content and a superuser), deploy/nginx/clinic.conf with
a self-signed certificate, then the Procfile's web (twice) and worker, and nginx, under
``honcho start``. tests/test_deploy_stack.py checks it, bench/proxy_speed.py measures it, and
``python -m tests.deploy_stack`` (``make stack``) keeps it up for a look until Ctrl+C.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from tests.processes import (
    BASE_DIR,
    HOST,
    Browser,
    Process,
    TempSite,
    collectstatic_beside,
    manage,
    scratch_database,
)
from tests.smtp_server import RecordingSMTPServer

POSTGRES_URL = (
    os.environ.get("STACK_POSTGRES_URL")
    or os.environ.get("TEST_DATABASE_URL")
    or "postgres://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("STACK_REDIS_URL") or "redis://127.0.0.1:6379/14"
NGINX = os.environ.get("STACK_NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"
HONCHO = Path(sys.executable).with_name("honcho")
ADMIN_USER = "stack-admin"
# Set by the test run or the caller's shell; the stack sets its own or must not have them
# (DJANGO_ALLOW_ASYNC_UNSAFE, from the browser tests, is what `check --deploy` refuses).
NOT_INHERITED = {
    "DATABASE_URL",
    "REDIS_URL",
    "CACHE_KEY_PREFIX",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DJANGO_DEBUG",
    "DJANGO_ROOT_URLCONF",
    "PORT",
}
# What Debian's /etc/nginx/nginx.conf gives the site file, with every path in the prefix.
NGINX_MAIN = """\
{user}worker_processes 2;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    server_tokens off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    # Debian's is "combined"; like the site's (access.log), this one identifies nobody.
    log_format stack '$time_iso8601 "$request_method $uri" $status upstream=$upstream_addr';
    access_log {prefix}/main.log stack;
    include {prefix}/clinic.conf;
}}
"""


def unavailable() -> list[str]:
    """Why the stack cannot come up on this machine (empty when it can)."""
    import psycopg
    import redis

    problems = []
    if not os.access(NGINX, os.X_OK):
        problems.append(f"nginx not found at {NGINX} (Debian: apt-get install nginx)")
    if shutil.which("openssl") is None:
        problems.append("openssl not found (Debian: apt-get install openssl)")
    if not HONCHO.exists():
        problems.append(f"honcho not found at {HONCHO} (make install)")
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=5).close()
    except Exception as exc:
        where = f"{urlsplit(POSTGRES_URL).hostname}:{urlsplit(POSTGRES_URL).port or 5432}"
        problems.append(f"PostgreSQL does not answer at {where} ({type(exc).__name__})")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5).ping()
    except Exception as exc:
        problems.append(f"Redis does not answer at {REDIS_URL} ({type(exc).__name__})")
    return problems


def unused_ports(count: int) -> list[int]:
    """``count`` consecutive ports that bind now, below the kernel's ephemeral range, where
    outgoing connections take their local ports (so none can take one before it is bound)."""
    ephemeral = Path("/proc/sys/net/ipv4/ip_local_port_range")
    low = int(ephemeral.read_text().split()[0]) if ephemeral.exists() else 32768
    while True:
        ports = list(range(base := random.randrange(10000, low - count), base + count))
        try:
            with contextlib.ExitStack() as held:
                for port in ports:
                    held.enter_context(socket.socket()).bind((HOST, port))
            return ports
        except OSError:
            continue


class Stack:
    """``with Stack() as stack:`` brings everything up, and removes all of it on leaving."""

    def __init__(self, *, workers: int = 2, proxy_cache_seconds: int = 10):
        self.workers = workers
        self.site = TempSite("clinic-stack-", exclude=NOT_INHERITED)
        self.tmp = self.site.tmp
        self.static_root = Path(self.site.env["DJANGO_STATIC_ROOT"])
        self.media_root = Path(self.site.env["DJANGO_MEDIA_ROOT"])
        self.https_port = self.http_port = 0
        self.app_ports: list[int] = []
        self.redis_prefix = f"clinic-stack-{secrets.token_hex(4)}"
        self.admin_password = secrets.token_urlsafe(18)
        self.proxy_cache_seconds = proxy_cache_seconds
        self.exit = contextlib.ExitStack()
        self.database_url = ""
        self.certificate = self.tmp / "tls.crt"
        self.view_log_dir = self.tmp / "views"  # nginx's views from its cache, per minute
        self.tls = None
        self.smtp: RecordingSMTPServer | None = None
        self.honcho: Process | None = None

    def __enter__(self) -> Stack:
        try:
            self.up()
        except BaseException:
            self.exit.close()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.exit.close()

    def up(self) -> None:
        self.exit.enter_context(self.site)
        # "The environment": PostgreSQL, Redis, SMTP, then /etc/clinic/env's variables.
        self.database_url = self.exit.enter_context(scratch_database(POSTGRES_URL, "clinic_stack"))
        self.exit.callback(self.delete_redis_keys)
        self.smtp = self.exit.enter_context(RecordingSMTPServer())
        variables = {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            "DJANGO_ALLOWED_HOSTS": HOST,
            "TRUSTED_PROXIES": HOST,  # where nginx connects to the app servers from
            "DATABASE_URL": self.database_url,
            "REDIS_URL": REDIS_URL,
            "CACHE_KEY_PREFIX": self.redis_prefix,
            "EMAIL_HOST": HOST,
            "EMAIL_PORT": str(self.smtp.port),
            "EMAIL_USE_TLS": "0",
            "DEFAULT_FROM_EMAIL": f"website@{HOST}",
            "SERVER_EMAIL": f"website@{HOST}",
            "DJANGO_MEDIA_ROOT": str(self.media_root),
            "DJANGO_SERVE_MEDIA": "0",
            "DJANGO_STATIC_ROOT": str(self.static_root),
            "DJANGO_STATIC_MANIFEST": "1",
            "DJANGO_LOG_LEVEL": "INFO",
            "PROXY_CACHE_SECONDS": str(self.proxy_cache_seconds),
            "WEB_CONCURRENCY": str(self.workers),
            # Not the guide's: X-Page-Cache tells the checks and proxy_speed whether an app
            # server answered from its page cache.
            "DJANGO_PAGE_CACHE_HEADER": "1",
            "NGINX_VIEW_LOG_DIR": str(self.view_log_dir),
            # Not the guide's either (65 s): the worker imports nginx's files 2 s after
            # their last line, so that a test need not wait for the minute to end.
            "NGINX_VIEW_LOG_SETTLE_SECONDS": "2",
        }
        self.env = {**self.site.env, **variables}

        # "Deploying a new version": migrate, collectstatic; a fresh site's content and admin.
        # collectstatic leaves out the brotli copies (40 s of CPU; nginx serves the .gz ones).
        with collectstatic_beside(self.env, compress=False):
            self.site.setup(env=self.env)
            manage(
                {**self.env, "DJANGO_SUPERUSER_PASSWORD": self.admin_password},
                *("createsuperuser", "--noinput", "--username", ADMIN_USER),
                *("--email", f"{ADMIN_USER}@example.com"),
            )
        subprocess.run(
            [sys.executable, "-m", "whitenoise.compress", "--no-brotli", "-q", self.static_root],
            check=True,
            timeout=300,
        )

        # "nginx", then the Procfile's processes and nginx under honcho.
        self.view_log_dir.mkdir()
        key = self.tmp / "tls.key"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
            + ["-keyout", key, "-out", self.certificate, "-subj", f"/CN={HOST}"]
            + ["-addext", f"subjectAltName=IP:{HOST}"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        self.tls = ssl.create_default_context(cafile=str(self.certificate))
        # Ports are picked just before they are bound, so that nothing else takes them first.
        # honcho gives web.2 web.1's port + 1.
        *self.app_ports, self.https_port, self.http_port = unused_ports(4)
        variables["SITE_URL"] = self.env["SITE_URL"] = f"https://{HOST}:{self.https_port}"
        (self.tmp / "env").write_text("".join(f"{k}={v}\n" for k, v in variables.items()))
        nginx = self.nginx_command("nginx", self.app_ports, self.https_port, self.http_port)
        procfile = self.tmp / "Procfile"
        procfile.write_text((BASE_DIR / "Procfile").read_text() + f"nginx: {nginx}\n")
        self.honcho = Process(
            [HONCHO, "--no-colour", "start", "-f", procfile, "-e", self.tmp / "env"]
            + ["-p", str(self.app_ports[0]), "-c", "web=2"],
            self.env,
            self.tmp / "honcho.log",
            name="honcho",
        )
        self.exit.callback(self.honcho.stop, grace=30)
        self.honcho.start()
        self.wait_until_ready()

    def nginx_command(
        self, name: str, app_ports: list[int], https_port: int, http_port: int, cache=True
    ) -> str:
        """deploy/nginx/clinic.conf rendered into ``<tmp>/<name>/``; the command to run it."""
        prefix = self.tmp / name
        prefix.mkdir()
        site = (BASE_DIR / "deploy" / "nginx" / "clinic.conf").read_text()
        values = {
            "SERVER_NAME": HOST,
            "HTTP_LISTEN": f"{HOST}:{http_port}",
            "HTTPS_LISTEN": f"{HOST}:{https_port}",
            "APP_SERVERS": " ".join(f"server {HOST}:{port};" for port in app_ports),
            "STATIC_ROOT": str(self.static_root),
            "MEDIA_ROOT": str(self.media_root),
            "CACHE_PATH": str(prefix / "cache"),
            "ACCESS_LOG": str(prefix / "access.log"),
            "VIEW_LOG_DIR": str(self.view_log_dir),
            "SSL_CERTIFICATE": str(self.certificate),
            "SSL_CERTIFICATE_KEY": str(self.tmp / "tls.key"),
        }
        for placeholder, value in values.items():
            site = site.replace(f"@{placeholder}@", value)
        if not cache:  # bench/proxy_speed.py compares with and without nginx's cache
            site = re.sub(r"^(\s*)proxy_cache clinic;$", r"\1proxy_cache off;", site, flags=re.M)
        (prefix / "clinic.conf").write_text(site)
        # As root the workers would run as nobody; the files here are root's.
        user = "user root;\n" if os.geteuid() == 0 else ""
        (prefix / "nginx.conf").write_text(NGINX_MAIN.format(user=user, prefix=prefix))
        command = [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
        subprocess.run([*command, "-t", "-q"], check=True, timeout=30)
        return " ".join(command) + " -g 'daemon off;'"

    def extra_nginx(self, name: str, app_ports: list[int]) -> int:
        """Another nginx from the template, nginx's cache off; its HTTPS port."""
        port, http_port = unused_ports(2)
        command = self.nginx_command(name, app_ports, port, http_port, cache=False)
        process = Process(["sh", "-c", f"exec {command}"], self.env, self.tmp / f"{name}.log")
        self.exit.callback(process.stop)
        process.start()
        self.wait_for_port(port, process)
        return port

    def wait_for_port(self, port: int, process: Process, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if not process.alive():
                raise RuntimeError(f"{process.name} exited:\n{process.tail()}")
            with socket.socket() as sock:
                if sock.connect_ex((HOST, port)) == 0:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on {port} after {timeout:g} s")
            time.sleep(0.1)

    def wait_until_ready(self, timeout: float = 120) -> None:
        """Until every app server says "ok" with all its workers booted, and nginx listens."""
        deadline = time.monotonic() + timeout
        for n, port in enumerate(self.app_ports, start=1):
            while True:
                if not self.honcho.alive():
                    raise RuntimeError(f"honcho exited:\n{self.honcho.tail()}")
                booted = sum("Booting worker" in line for line in self.output(f"web.{n}"))
                with contextlib.suppress(OSError):
                    health = Browser(port).get("/healthz", timeout=5)
                    if health.text == "ok" and booted >= self.workers:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"web.{n} not ready in {timeout:g} s\n{self.honcho.tail()}")
                time.sleep(0.2)
        self.wait_for_port(self.https_port, self.honcho)

    # Looking at it -----------------------------------------------------------------------

    def browser(self, source: str | None = None) -> Browser:
        """A visitor talking HTTPS to nginx (trusting only the stack's certificate)."""
        return Browser(self.https_port, source=source, tls=self.tls)

    def output(self, process: str) -> list[str]:
        """What one of honcho's processes (``web.1``, ``worker.1``, ``nginx.1``) printed."""
        found = re.findall(rf"^\S+ {re.escape(process)}\s*\| (.*)$", self.honcho.output(), re.M)
        return found

    def app_requests(self, port: int) -> list[str]:
        """The request lines in one app server's access log (``GET /path``)."""
        n = self.app_ports.index(port) + 1
        pattern = r'"((?:GET|POST|HEAD) \S+) HTTP/[\d.]+"'
        return [m for line in self.output(f"web.{n}") for m in re.findall(pattern, line)]

    def sql(self, query: str, *params) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.database_url, connect_timeout=10) as connection:
            return connection.execute(query, params).fetchall()

    def delete_redis_keys(self) -> None:
        import redis

        connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5)
        with contextlib.closing(connection):
            keys = list(connection.scan_iter(match=f"{self.redis_prefix}:*", count=1000))
            if keys:
                connection.delete(*keys)


def main() -> int:
    problems = unavailable()
    if problems:
        print("The stack cannot come up here:", *problems, sep="\n  ")
        return 2
    # Ctrl+C and SIGTERM stop everything, also when started with SIGINT ignored (`make ... &`).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print("Bringing up docs/deploy.md's stack (about a minute)...", flush=True)
    with contextlib.suppress(KeyboardInterrupt), Stack() as stack:
        origin = stack.browser().origin
        print(
            f"Running: {origin}/ (self-signed: curl --cacert {stack.certificate})\n"
            f"  admin: {origin}/admin/  {ADMIN_USER} / {stack.admin_password}\n"
            f"  app servers: {', '.join(f'http://{HOST}:{port}' for port in stack.app_ports)}\n"
            f"  honcho: {stack.tmp}/Procfile with {stack.tmp}/env; output in "
            f"{stack.honcho.log}\nCtrl+C stops everything and removes it.",
            flush=True,
        )
        signal.pause()
    return 0


if __name__ == "__main__":
    sys.exit(main())
