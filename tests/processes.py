"""Real processes for tests: gunicorn app servers, notification workers, and a browser.

- ``Process``: a command in its own session, its output (stdout and stderr) in a log file;
  ``stop()`` sends SIGTERM to the whole group (SIGKILL after a grace period), ``kill()``
  sends SIGKILL at once. Both are safe to repeat. bench/ runs its gunicorn, nginx and
  worker on it too (bench/support.py).
- ``AppServer``: gunicorn with the production config (``clinic_site/gunicorn.conf.py``) on
  a port; ``wait_until_ready()`` polls ``/healthz`` until it says "ok" (database and cache).
- ``Worker``: ``manage.py send_notifications --loop``; ``wait_until_running()``.
- ``Browser``: one visitor talking HTTP/1.1 to one server, with its own cookies (never
  shared with another ``Browser``, whatever the port) and no redirect following.
- ``form_fields(html, form_id)``: what a browser would submit for a form (its inputs,
  textareas and selects), as (name, value) pairs.

Nothing here imports Django, so test modules may use it before settings exist.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode

BASE_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
GUNICORN_CONF = BASE_DIR / "clinic_site" / "gunicorn.conf.py"


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
    """gunicorn the way production runs it (``-c clinic_site/gunicorn.conf.py``) on ``port``."""

    def __init__(self, env: dict, port: int, log: Path, name: str = "", workers: int = 2):
        gunicorn = Path(sys.executable).with_name("gunicorn")
        env = {
            name: value
            for name, value in env.items()
            if not name.startswith("GUNICORN_") and name != "WEB_CONCURRENCY"
        }
        env.update(PORT=str(port), WEB_CONCURRENCY=str(workers), GUNICORN_HOST=HOST)
        # gunicorn's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl),
        # which two instances on one machine would take from each other: none here.
        command = [gunicorn, "-c", GUNICORN_CONF, "--no-control-socket"]
        super().__init__(command, env, log, name or f"gunicorn:{port}")
        self.port = port

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    def browser(self) -> Browser:
        return Browser(self.port)

    def wait_until_ready(self, timeout: float = 90) -> None:
        """Until ``/healthz`` answers "ok": the database and the cache answer (a degraded
        cache answers 200 too, which must not pass for ready here)."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited ({self.returncode}):\n{self.tail()}")
            try:
                health = Browser(self.port).get("/healthz", timeout=5)
                if health.status == 200 and health.text == "ok":
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not answer in {timeout:g} s\n{self.tail()}")
            time.sleep(0.1)


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

    def header(self, name: str) -> str:
        return self.headers.get(name, "")


class Browser:
    """One visitor of the server on ``port``: keeps its own cookies, follows no redirect.

    A POST of form data carries ``Origin`` (the server's own origin), as browsers send it.
    ``source`` connects from another loopback address (e.g. ``127.0.0.2``: Linux routes all
    of 127.0.0.0/8 to lo), so that the server sees a different client.
    """

    def __init__(self, port: int, source: str | None = None):
        self.port = port
        self.source = source
        self.cookies: dict[str, str] = {}

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

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
        connection = http.client.HTTPConnection(
            HOST,
            self.port,
            timeout=timeout,
            source_address=(self.source, 0) if self.source else None,
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
        return Response(response.status, response.headers, content.decode("utf-8", "replace"))

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
