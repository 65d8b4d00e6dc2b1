"""Real processes for tests and bench/: app servers, workers, a visitor, scratch databases.

``Process`` runs a command in its own session, logging to a file; ``stop()`` sends SIGTERM
to its group (SIGKILL after a grace period). ``AppServer`` is gunicorn (the production
config by default), ``Worker`` the notification worker, ``Browser`` one visitor over HTTP
or HTTPS with its own cookies; ``form_fields()`` reads what a browser would submit;
``manage()`` runs manage.py; ``TempSite`` is a site with DEBUG off in a temporary folder;
``scratch_database()`` makes a PostgreSQL database and drops it. Nothing here imports Django
at import time, so it works before settings exist.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
GUNICORN_CONF = BASE_DIR / "clinic_site" / "gunicorn.conf.py"


def free_port() -> int:
    """A loopback port nothing listens on (bound by the kernel, then released)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def manage(env: dict, *args: str, timeout: float = 600) -> str:
    """``manage.py *args`` with ``env``: its output, or RuntimeError with its stderr."""
    done = subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


# Hashed names and the manifest as `collectstatic` writes them, without the gzip and brotli
# copies (a minute or more of CPU): collectstatic_beside(compress=False).
COLLECTSTATIC_MANIFEST_ONLY = """
import django
from django.conf import settings
django.setup()
settings.STORAGES["staticfiles"] = {
    "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
}
from django.core.management import call_command
call_command("collectstatic", interactive=False, verbosity=0)
"""


class TempSite:
    """A temporary folder and ``env``, the site with DEBUG off on it: a SQLite database there
    (unless ``database_url``, or else DATABASE_URL, names one), media and static files there.
    ``exclude``: variables not to inherit. Removed on leaving, unless ``keep``."""

    def __init__(self, prefix: str, *, database_url="", keep=False, exclude=frozenset()):
        self.tmp = Path(tempfile.mkdtemp(prefix=prefix))
        self.keep = keep
        self.database_url = database_url or os.environ.get("DATABASE_URL", "")
        self.database_url = self.database_url or f"sqlite:///{self.tmp}/site.sqlite3"
        self.env = {name: value for name, value in os.environ.items() if name not in exclude}
        self.env.update(
            PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            DJANGO_SETTINGS_MODULE="clinic_site.settings",
            DJANGO_DEBUG="0",
            DJANGO_ALLOWED_HOSTS=HOST,
            DATABASE_URL=self.database_url,
            DJANGO_LOG_LEVEL="WARNING",
            DJANGO_MEDIA_ROOT=str(self.tmp / "media"),  # never the checkout's media/
            DJANGO_STATIC_ROOT=str(self.tmp / "staticfiles"),  # nor its staticfiles/
        )
        self.log = self.tmp / "gunicorn.log"

    def manage(self, *args: str, env: dict | None = None, timeout: float = 600) -> str:
        return manage(env or self.env, *args, timeout=timeout)

    def setup(self, env: dict | None = None, timeout: float = 600) -> None:
        """Migrate the database and load the demo content."""
        self.manage("migrate", "--noinput", env=env, timeout=timeout)
        self.manage("load_demo_content", env=env, timeout=timeout)

    def __enter__(self) -> TempSite:
        return self

    def __exit__(self, *exc_info) -> None:
        if self.keep:
            print(f"Kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


@contextlib.contextmanager
def collectstatic_beside(env: dict, *, compress: bool = True, timeout: float = 600):
    """``collectstatic`` in the background while the ``with`` block runs; waited for and
    checked on leaving. ``compress=False``: the same hashed names and manifest, without the
    gzip and brotli copies."""
    script = ["-c", COLLECTSTATIC_MANIFEST_ONLY]
    command = [
        sys.executable,
        *(["manage.py", "collectstatic", "--noinput"] if compress else script),
    ]
    process = subprocess.Popen(
        command, cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        yield
        _, stderr = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if process.returncode != 0:
        raise RuntimeError(f"collectstatic failed:\n{stderr[-3000:]}")


class Process:
    """A command in its own process group, logging to ``log`` (appended to)."""

    def __init__(self, command: list[str], env: dict, log: Path, name: str = ""):
        self.command = [str(part) for part in command]
        self.env = env
        self.log = log
        self.name = name or Path(self.command[0]).name
        self.process: subprocess.Popen | None = None
        self._log_file = None

    def start(self) -> Process:
        self._log_file = open(self.log, "ab")  # noqa: SIM115 (closed in stop()/kill())
        self.process = subprocess.Popen(
            self.command,
            cwd=BASE_DIR,
            env=self.env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def kill(self) -> int:
        """SIGKILL to the group, at once; the exit status (-9 when it was still running)."""
        if self.alive():
            self._signal_group(signal.SIGKILL)
        code = self.process.wait(timeout=30) if self.process is not None else None
        self._close_log()
        return code

    def stop(self, grace: float = 15) -> int | None:
        """SIGTERM to the group, SIGKILL after ``grace`` seconds; the exit status."""
        if self.process is None:
            return None
        if self.alive():
            self._signal_group(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.process.wait(timeout=30)
        self._close_log()
        return self.process.returncode

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, chars: int = 4000) -> str:
        return f"----- {self.name} ({self.log}) -----\n{self.output()[-chars:]}"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def wait_for_output(self, text: str, timeout: float = 60) -> None:
        """Until ``text`` appears in the log; RuntimeError if the process exits first."""
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if not self.alive():
                raise RuntimeError(f"{self.name} exited ({self.returncode}):\n{self.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: no {text!r} within {timeout:g} s\n{self.tail()}")
            time.sleep(0.05)


class AppServer(Process):
    """gunicorn on ``port``: as production runs it (``-c clinic_site/gunicorn.conf.py``), or
    with ``config=None`` bare (no access log, gunicorn's defaults) plus ``options``."""

    def __init__(
        self,
        env: dict,
        port: int,
        log: Path,
        name: str = "",
        workers: int = 2,
        config: Path | None = GUNICORN_CONF,
        options: tuple[str, ...] = (),
    ):
        gunicorn = Path(sys.executable).with_name("gunicorn")
        env = {
            name: value
            for name, value in env.items()
            if not name.startswith("GUNICORN_") and name != "WEB_CONCURRENCY"
        }
        env.update(PORT=str(port), WEB_CONCURRENCY=str(workers), GUNICORN_HOST=HOST)
        if config:
            command = [gunicorn, "-c", config]
        else:
            command = [gunicorn, "clinic_site.wsgi", "-b", f"{HOST}:{port}", "-w", str(workers)]
        # gunicorn's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl),
        # which two instances on one machine would take from each other: none here.
        command += ["--no-control-socket", *options]
        super().__init__(command, env, log, name or f"gunicorn:{port}")
        self.port = port
        self.workers = workers

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    def browser(self) -> Browser:
        return Browser(self.port)

    def wait_until_ready(
        self, timeout: float = 90, path: str = "/healthz", all_workers: bool = False
    ) -> None:
        """Until ``path`` answers 200 (``/healthz``: "ok", the database and the cache answer;
        a degraded cache answers 200 too, which must not pass for ready here), and with
        ``all_workers`` until every worker has booted."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited ({self.returncode}):\n{self.tail()}")
            try:
                page = Browser(self.port).get(path, timeout=5)
                if (
                    page.status == 200
                    and (path != "/healthz" or page.text == "ok")
                    and (not all_workers or len(self.worker_pids()) == self.workers)
                ):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not answer in {timeout:g} s\n{self.tail()}")
            time.sleep(0.1)

    def worker_pids(self) -> list[int]:
        """The master's children (the workers), from /proc."""
        children = []
        for task in Path(f"/proc/{self.pid}/task").glob("*/children"):
            children += [int(pid) for pid in task.read_text().split()]
        return sorted(children)


class Worker(Process):
    """``manage.py send_notifications --loop`` (a notification worker)."""

    READY = "Notification worker running"

    def __init__(self, env: dict, log: Path, name: str = "worker", interval: float = 0.2):
        command = [
            sys.executable,
            BASE_DIR / "manage.py",
            "send_notifications",
            "--loop",
            "--interval",
            str(interval),
        ]
        super().__init__(command, env, log, name)

    def wait_until_running(self, timeout: float = 60) -> None:
        self.wait_for_output(self.READY, timeout)


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    text: str
    body: bytes = b""

    def header(self, name: str) -> str:
        return self.headers.get(name, "")


class Browser:
    """One visitor of the server on ``port``: keeps its own cookies, follows no redirect.

    A POST of form data carries ``Origin`` (the server's own origin), as browsers send it.
    ``source`` connects from another loopback address (e.g. ``127.0.0.2``: Linux routes all
    of 127.0.0.0/8 to lo), so that the server sees a different client. With ``tls`` (an
    ``ssl.SSLContext``) it speaks HTTPS.
    """

    def __init__(self, port: int, source: str | None = None, tls: ssl.SSLContext | None = None):
        self.port = port
        self.source = source
        self.tls = tls
        self.cookies: dict[str, str] = {}

    @property
    def origin(self) -> str:
        return f"{'https' if self.tls else 'http'}://{HOST}:{self.port}"

    def request(
        self,
        method: str,
        path: str,
        data=None,
        headers: dict | None = None,
        timeout: float = 30,
    ) -> Response:
        headers = dict(headers or {})
        body = None
        if data is not None:
            body = urlencode(data, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers.setdefault("Origin", self.origin)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        source = (self.source, 0) if self.source else None
        if self.tls:
            connection = http.client.HTTPSConnection(
                HOST, self.port, timeout=timeout, source_address=source, context=self.tls
            )
        else:
            connection = http.client.HTTPConnection(
                HOST, self.port, timeout=timeout, source_address=source
            )
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return Response(
            response.status, response.headers, content.decode("utf-8", "replace"), content
        )

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data, **kwargs) -> Response:
        return self.request("POST", path, data=data, **kwargs)


class _FormParser(HTMLParser):
    """The successful controls of one ``<form id=...>``, as a browser would submit them
    (without any submit button and file inputs)."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.found = False
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._textarea: str | None = None
        self._text: list[str] = []
        self._select: str | None = None
        self._multiple = False
        self._options: list[tuple[str, bool]] = []
        self._option: tuple[str | None, bool] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == self.form_id:
            self.found = self.inside = True
            return
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name and "disabled" not in attrs:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields.append((name, attrs.get("value") or "on"))
                return
            self.fields.append((name, attrs.get("value") or ""))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []
        elif tag == "select" and name:
            self._select, self._options = name, []
            self._multiple = "multiple" in attrs
        elif tag == "option" and self._select is not None:
            self._option = (attrs.get("value"), "selected" in attrs)
            self._text = []

    def handle_data(self, data):
        if self._textarea is not None or self._option is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            # The HTML parser keeps the newline a browser drops right after <textarea>.
            self.fields.append((self._textarea, text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "option" and self._option is not None:
            value, selected = self._option
            self._options.append((value if value is not None else "".join(self._text), selected))
            self._option = None
        elif tag == "select" and self._select is not None:
            chosen = [value for value, selected in self._options if selected]
            if not chosen and self._options and not self._multiple:
                chosen = [self._options[0][0]]  # a single select submits its first option
            self.fields += [(self._select, value) for value in chosen]
            self._select = None


def form_fields(html: str, form_id: str) -> list[tuple[str, str]]:
    """What submitting ``<form id=form_id>`` unchanged would send; ValueError without it."""
    parser = _FormParser(form_id)
    parser.feed(html)
    parser.close()
    if not parser.found:
        raise ValueError(f"no <form id={form_id!r}> in the page")
    return parser.fields


def replace_field(fields: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    """``fields`` with ``name``'s value(s) replaced by ``value``; KeyError without it."""
    if not any(key == name for key, _ in fields):
        raise KeyError(name)
    replaced, done = [], False
    for key, old in fields:
        if key != name:
            replaced.append((key, old))
        elif not done:
            replaced.append((key, value))
            done = True
    return replaced


def database_url() -> str:
    """DATABASE_URL of pytest-django's test database (``test_<name>``), for subprocesses."""
    from django.db import connection  # here: the rest of this module runs without Django

    params = connection.settings_dict
    auth = quote(params["USER"] or "", safe="")
    if params["PASSWORD"]:
        auth += ":" + quote(params["PASSWORD"], safe="")
    host = params["HOST"] or "localhost"
    port = f":{params['PORT']}" if params["PORT"] else ""
    return f"postgres://{auth}{'@' if auth else ''}{host}{port}/{quote(params['NAME'])}"


@contextlib.contextmanager
def scratch_database(server_url: str, prefix: str):
    """A new, empty database ``<prefix>_<random>`` on the PostgreSQL server of ``server_url``
    (whose user may create databases): its URL; dropped on leaving, connections and all."""
    import psycopg  # here: SQLite-only runs need no PostgreSQL driver

    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlsplit(server_url)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
