"""What the benchmarks in this folder share: a free port, a temporary site and gunicorn.

bench/ is not a package: each script puts this folder on ``sys.path`` and imports
``support``, which puts the project folder there too (for ``tests.processes`` and
``tests.smtp_server``). Nothing here imports Django, so a script can import it before
settings exist.

- ``free_port()``: a loopback port nothing listens on.
- ``manage(env, *args)``: ``manage.py`` in a subprocess; its output, or RuntimeError.
- ``TempSite(prefix, keep=...)``: a temporary folder, a database in it (or the one
  ``DATABASE_URL`` names), the environment to run the site on it with ``DEBUG`` off, and
  ``setup()`` to migrate it and load the demo content. The folder is removed on leaving the
  ``with`` block (printed and kept with ``keep``).
- ``Gunicorn(env, port, workers=..., threads=..., log=...)``: gunicorn in its own session
  (a ``tests.processes.Process``); ``start()``, ``wait_until_ready(path)``,
  ``worker_pids()``, ``stop()`` (SIGTERM to the process group, SIGKILL after 15 s);
  ``with Gunicorn(...) as server`` starts and stops it.
- ``collectstatic_beside(env, compress=...)``: ``collectstatic`` running in the background
  while the ``with`` block sets the site up; waited for (and checked) on leaving.
- ``scratch_postgres_database(server_url)``: a new, empty PostgreSQL database on that server
  (a context manager yielding its URL), dropped on leaving.
"""

import contextlib
import http.client
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
from tests.processes import Process  # noqa: E402

HOST = "127.0.0.1"

# Hashed names and the manifest as `collectstatic` writes them, without the gzip and brotli
# copies (a minute or more of CPU): collectstatic_beside(compress=False).
COLLECTSTATIC_WITHOUT_COMPRESSION = """
import django
from django.conf import settings
django.setup()
settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
from django.core.management import call_command
call_command("collectstatic", interactive=False, verbosity=0)
"""


def free_port(host: str = HOST) -> int:
    """A port nothing listens on (bound by the kernel, then released)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def manage(env: dict, *args: str, timeout: float = 600) -> str:
    """Run ``manage.py *args`` with ``env``: its output, or RuntimeError with its stderr."""
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


def get(port: int, path: str, timeout: float = 30, host: str = HOST):
    """GET ``path`` from the server on ``port``: the response (read and closed) and its body."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


class TempSite:
    """A temporary folder, a database in it, and the environment to run the site on it.

    The database is ``<folder>/<sqlite_name>``, or the one ``DATABASE_URL`` names when it is
    set and ``use_database_url``. ``env`` is ``os.environ`` with the settings module,
    ``DJANGO_DEBUG=0``, ``DJANGO_ALLOWED_HOSTS=127.0.0.1``, ``DATABASE_URL`` and
    ``DJANGO_LOG_LEVEL=WARNING``; a bench adds its own variables to it. ``log`` is where
    gunicorn writes. Leaving the ``with`` block (or ``cleanup()``) removes the folder, or
    with ``keep`` prints ``Kept <folder><kept_note>`` and leaves it.
    """

    def __init__(
        self,
        prefix: str,
        *,
        keep: bool = False,
        kept_note: str = "",
        sqlite_name: str = "bench.sqlite3",
        use_database_url: bool = True,
    ):
        self.tmp = Path(tempfile.mkdtemp(prefix=prefix))
        self.keep = keep
        self.kept_note = kept_note
        self.database_url = (use_database_url and os.environ.get("DATABASE_URL")) or (
            f"sqlite:///{self.tmp / sqlite_name}"
        )
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "clinic_site.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_ALLOWED_HOSTS": HOST,
            "DATABASE_URL": self.database_url,
            "DJANGO_LOG_LEVEL": "WARNING",
            # Demo pictures and uploads stay in the temporary folder, not the checkout.
            "DJANGO_MEDIA_ROOT": str(self.tmp / "media"),
        }
        self.log = self.tmp / "gunicorn.log"

    def manage(self, *args: str, env: dict | None = None, timeout: float = 600) -> str:
        return manage(env or self.env, *args, timeout=timeout)

    def setup(self, env: dict | None = None, timeout: float = 600) -> None:
        """Migrate the database and load the demo content (with ``env``, default ``self.env``).

        A step of its own, not done on entering: page_speed.py runs collectstatic beside it
        and lighthouse_audit.py checks its tools first.
        """
        self.manage("migrate", "--noinput", env=env, timeout=timeout)
        self.manage("load_demo_content", env=env, timeout=timeout)

    def cleanup(self) -> None:
        if self.keep:
            print(f"Kept {self.tmp}{self.kept_note}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> "TempSite":
        return self

    def __exit__(self, *exc_info) -> None:
        self.cleanup()


class Gunicorn(Process):
    """gunicorn in its own session (so that stop() reaches every worker), logging to ``log``.

    ``with Gunicorn(...) as server:`` starts it and stops it on leaving, also when something
    fails; call ``server.wait_until_ready(path)`` before sending it anything. ``options``
    come before the app (e.g. ``--pythonpath``); ``threads`` and ``backlog`` are passed only
    when given. The log is opened for appending, so a restart adds to it.
    """

    def __init__(
        self,
        env: dict,
        port: int,
        *,
        log: Path,
        app: str = "clinic_site.wsgi",
        workers: int = 2,
        threads: int | None = None,
        backlog: int | None = None,
        options: tuple[str, ...] | list[str] = (),
        host: str = HOST,
    ):
        gunicorn = Path(sys.executable).parent / "gunicorn"
        command = [
            str(gunicorn if gunicorn.exists() else shutil.which("gunicorn") or "gunicorn"),
            *options,
            app,
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(workers),
        ]
        if threads is not None:
            command += ["--threads", str(threads)]
        if backlog is not None:
            command += ["--backlog", str(backlog)]
        super().__init__(command, env, log, name=f"gunicorn:{port}")
        self.port = port
        self.workers = workers
        self.host = host

    def wait_until_ready(
        self,
        path: str = "/",
        *,
        all_workers: bool = False,
        timeout: float = 60,
        interval: float = 0.1,
    ) -> None:
        """Until GET ``path`` answers 200 (and, with ``all_workers``, every worker is up).

        RuntimeError with the end of the log when gunicorn exits, or after ``timeout`` s.
        """
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
            try:
                response, _ = get(self.port, path, timeout=5, host=self.host)
                if response.status == 200 and (
                    not all_workers or len(self.worker_pids()) == self.workers
                ):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer within {timeout:g} s")
            time.sleep(interval)

    def worker_pids(self) -> list[int]:
        """The master's children (the workers), from /proc."""
        children = []
        for task in Path(f"/proc/{self.pid}/task").glob("*/children"):
            children += [int(pid) for pid in task.read_text().split()]
        return sorted(children)

    def __enter__(self) -> "Gunicorn":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


@contextlib.contextmanager
def collectstatic_beside(env: dict, *, compress: bool = True, timeout: float = 600):
    """``collectstatic`` with ``env``, in the background while the ``with`` block runs.

    ``compress=False`` writes the hashed names and the manifest only (the same names and
    HTML, without the gzip and brotli copies). On leaving the block it is waited for (up to
    ``timeout`` s) and RuntimeError, with the end of its stderr, says when it failed; when
    the block raises, it is killed.
    """
    if compress:
        command = [sys.executable, str(BASE_DIR / "manage.py"), "collectstatic", "--noinput"]
        command += ["--verbosity", "0"]
    else:
        command = [sys.executable, "-c", COLLECTSTATIC_WITHOUT_COMPRESSION]
    process = subprocess.Popen(
        command,
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
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


def postgres_url_for(server_url: str, database: str) -> str:
    """``server_url`` (postgres://user@host:port/anything) naming ``database`` instead."""
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@contextlib.contextmanager
def scratch_postgres_database(server_url: str, prefix: str = "bench"):
    """A new, empty database ``<prefix>_<random>`` on the PostgreSQL server of ``server_url``.

    ``server_url`` names a database to connect to for ``CREATE DATABASE`` (``postgres``
    will do; its user needs the right to create databases). Yields the new database's URL;
    on leaving, drops it, closing whatever connections are still open to it.
    """
    import psycopg  # not imported at the top: SQLite-only runs need no PostgreSQL driver

    if urlsplit(server_url).scheme not in ("postgres", "postgresql", "pgsql"):
        raise ValueError(f"not a PostgreSQL URL: {server_url}")
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url_for(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
