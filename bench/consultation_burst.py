"""A burst of 100 consultation requests at once, while the mail server is down.

Run it from the project folder (it is not part of the test run)::

    .venv/bin/python bench/consultation_burst.py

It migrates a temporary SQLite file database (or the one DATABASE_URL names), loads the
demo content, starts gunicorn (2 workers x 4 threads) with mail going to a port where
nothing listens, and sends 100 submissions at once, each from its own loopback address
(127.0.0.N) so the per-address rate limit does not apply. Then one notification pass with
SMTP still refused (everything fails, nothing is lost), then a real SMTP server comes up on
that port and a second pass must deliver each staff notification exactly once.

Prints a table and exits 1 when a target is missed: 100 stored, 100 notified,
0 duplicates, 0 responses 5xx.
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from tests.smtp_server import RecordingSMTPServer, free_port  # noqa: E402

HOST = "127.0.0.1"
MIN_FILL_SECONDS = 3.1  # contact.spam.MIN_FILL_SECONDS is 3: a faster form counts as spam

DB_SCRIPT = """
import datetime, json, sys, django
django.setup()
from django.utils import timezone
from contact.models import ConsultationRequest
command, first_pk = sys.argv[1], int(sys.argv[2])
rows = ConsultationRequest.objects.filter(pk__gte=first_pk)
if command == "make-due":
    rows.update(next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))
print(json.dumps({
    "max_pk": ConsultationRequest.objects.order_by("-pk").values_list("pk", flat=True).first(),
    "rows": list(rows.values("pk", "status", "notify_attempts", "last_error", "notified_at",
                             "confirmation_sent_at", "email")),
}, default=str))
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100, help="submissions (default 100)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    return parser.parse_args()


class Bench:
    def __init__(self, args):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="consultation-burst-"))
        database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{self.tmp / 'bench.sqlite3'}"
        self.database_url = database_url
        self.smtp_port = free_port()  # nothing listens here until the mail server "comes back"
        self.web_port = free_port()
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "clinic_site.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_ALLOWED_HOSTS": HOST,
            "DATABASE_URL": database_url,
            "EMAIL_HOST": HOST,
            "EMAIL_PORT": str(self.smtp_port),
            "EMAIL_TIMEOUT": "5",
            "DJANGO_LOG_LEVEL": "WARNING",
        }
        self.gunicorn = None
        self.gunicorn_log = self.tmp / "gunicorn.log"

    # Helpers -----------------------------------------------------------------------

    def manage(self, *args) -> str:
        done = subprocess.run(
            [sys.executable, str(BASE_DIR / "manage.py"), *args],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def db(self, command: str, first_pk: int) -> dict:
        done = subprocess.run(
            [sys.executable, "-c", DB_SCRIPT, command, str(first_pk)],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return json.loads(done.stdout.strip().splitlines()[-1])

    def start_gunicorn(self):
        gunicorn = Path(sys.executable).parent / "gunicorn"
        if not gunicorn.exists():
            gunicorn = shutil.which("gunicorn")
        command = [
            str(gunicorn),
            "clinic_site.wsgi",
            "-b",
            f"{HOST}:{self.web_port}",
            "-w",
            str(self.args.workers),
            "--threads",
            str(self.args.threads),
            "--backlog",
            "1024",
        ]
        self.log_file = open(self.gunicorn_log, "w")  # noqa: SIM115 (closed in stop())
        self.gunicorn = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.gunicorn.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.gunicorn_log.read_text()[-3000:]}")
            try:
                connection = http.client.HTTPConnection(HOST, self.web_port, timeout=5)
                connection.request("GET", "/consultation/")
                response = connection.getresponse()
                response.read()
                connection.close()
                if response.status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer within 60 s")
            time.sleep(0.1)

    def stop(self):
        if self.gunicorn is not None and self.gunicorn.poll() is None:
            try:
                os.killpg(self.gunicorn.pid, signal.SIGTERM)
                self.gunicorn.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.gunicorn.pid, signal.SIGKILL)
                self.gunicorn.wait(timeout=15)
            except ProcessLookupError:
                pass
        if self.gunicorn is not None:
            self.log_file.close()
        if self.args.keep:
            print(f"Kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # The burst ---------------------------------------------------------------------

    def client_address(self, n: int) -> str:
        return f"127.0.{1 + n // 250}.{1 + n % 250}"

    def open_form(self, n: int) -> dict:
        """GET the form as client n: its CSRF cookie and the form's hidden values."""
        connection = http.client.HTTPConnection(
            HOST, self.web_port, timeout=60, source_address=(self.client_address(n), 0)
        )
        connection.request("GET", "/consultation/")
        response = connection.getresponse()
        html = response.read().decode()
        cookies = response.headers.get_all("Set-Cookie") or []
        connection.close()
        if response.status != 200:
            raise RuntimeError(f"GET /consultation/ answered {response.status}")
        csrf_cookie = next(
            re.match(r"csrftoken=([^;]+)", c).group(1)
            for c in cookies
            if c.startswith("csrftoken=")
        )

        def hidden(name):
            return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)

        offices = re.findall(r'<option value="(\d+)"', html)
        return {
            "cookie": csrf_cookie,
            "token": hidden("csrfmiddlewaretoken"),
            "started": hidden("started"),
            "office": offices[n % len(offices)] if offices and n % 4 else "",
            "opened_at": time.monotonic(),
        }

    def submit(self, n: int, form: dict, barrier: threading.Barrier) -> tuple[int, str, float]:
        body = urlencode(
            {
                "csrfmiddlewaretoken": form["token"],
                "name": f"Bench Patient {n}",
                "phone": f"(860) 555-{n % 10000:04d}",
                "email": f"bench-patient-{n}@example.com" if n % 3 else "",
                "office": form["office"],
                "contact_method": "phone",
                "best_time": "morning",
                "message": "Knee pain after running.",
                "consent": "on",
                "website": "",
                "started": form["started"],
                "source": "/",
            }
        )
        connection = http.client.HTTPConnection(
            HOST, self.web_port, timeout=120, source_address=(self.client_address(n), 0)
        )
        barrier.wait(timeout=60)
        started = time.monotonic()
        try:
            connection.request(
                "POST",
                "/consultation/",
                body=body,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": f"csrftoken={form['cookie']}",
                },
            )
            response = connection.getresponse()
            response.read()
            return response.status, response.getheader("Location") or "", started
        except OSError as exc:
            return 0, f"{type(exc).__name__}: {exc}", started
        finally:
            connection.close()

    def burst(self, count: int):
        with concurrent.futures.ThreadPoolExecutor(max_workers=count) as pool:
            forms = list(pool.map(self.open_form, range(count)))
        # The forms must look at least 3 s old, or they are stored as spam.
        ready_at = max(f["opened_at"] for f in forms) + MIN_FILL_SECONDS
        time.sleep(max(0.0, ready_at - time.monotonic()))
        barrier = threading.Barrier(count)
        with concurrent.futures.ThreadPoolExecutor(max_workers=count) as pool:
            futures = [pool.submit(self.submit, n, forms[n], barrier) for n in range(count)]
            results = [f.result() for f in futures]
        ended = time.monotonic()
        first = min(started for _, _, started in results)
        return results, ended - first

    def run(self) -> int:
        count = self.args.requests
        print(f"Database: {self.database_url}")
        self.manage("migrate", "--noinput")
        self.manage("load_demo_content")
        first_pk = (self.db("show", 0)["max_pk"] or 0) + 1
        self.start_gunicorn()
        print(
            f"gunicorn on {HOST}:{self.web_port} ({self.args.workers} workers x "
            f"{self.args.threads} threads); SMTP refused on port {self.smtp_port}"
        )

        results, seconds = self.burst(count)
        statuses = Counter(status for status, _, _ in results)
        thanked = sum(
            1 for status, location, _ in results if status == 302 and "/thanks/" in location
        )
        errors = [detail for status, detail, _ in results if status == 0]
        server_errors = sum(n for status, n in statuses.items() if status >= 500)
        rows = self.db("show", first_pk)["rows"]
        stored = len(rows)
        spam = sum(1 for row in rows if row["status"] == "spam")

        # Mail server down: every row fails, none is lost.
        down = self.manage("send_notifications").strip()
        rows_after_failure = self.db("show", first_pk)["rows"]
        kept = sum(
            1
            for row in rows_after_failure
            if row["notified_at"] is None and row["notify_attempts"] == 1 and row["last_error"]
        )

        # Mail server back on the same port; the retry time has come.
        with RecordingSMTPServer(port=self.smtp_port) as smtp:
            self.db("make-due", first_pk)
            up = self.manage("send_notifications").strip()
            per_request = smtp.notification_counts()
            confirmations = len(smtp.confirmations())
        final_rows = self.db("show", first_pk)["rows"]
        pks = {row["pk"] for row in final_rows}
        notified = sum(1 for pk in pks if per_request.get(pk, 0) >= 1)
        duplicates = sum(n - 1 for n in per_request.values() if n > 1)
        strangers = sum(1 for pk in per_request if pk not in pks)
        expected_confirmations = sum(
            1 for row in final_rows if row["email"] and row["status"] != "spam"
        )

        table = [
            ("submissions sent", count),
            ("HTTP statuses", dict(sorted(statuses.items()))),
            ("redirected to thank-you page", thanked),
            ("connection errors", len(errors)),
            ("responses 5xx", server_errors),
            ("burst duration (s)", f"{seconds:.2f}"),
            ("submissions per second", f"{count / seconds:.1f}"),
            ("stored", stored),
            ("stored as spam", spam),
            ("worker, SMTP refused", down),
            ("kept for retry after failure", kept),
            ("worker, SMTP back", up),
            ("notified (staff mail received)", notified),
            ("duplicate staff mails", duplicates),
            ("staff mails for unknown ids", strangers),
            ("confirmations received / expected", f"{confirmations} / {expected_confirmations}"),
        ]
        width = max(len(label) for label, _ in table)
        print()
        for label, value in table:
            print(f"{label:<{width}}  {value}")
        if errors:
            print("\nFirst connection errors:", *errors[:5], sep="\n  ")

        targets = {
            f"{count} stored": stored == count,
            "all kept after the failed pass": kept == stored,
            f"{count} notified": notified == count,
            "0 duplicates": duplicates == 0 and strangers == 0,
            "0 responses 5xx": server_errors == 0 and not errors,
        }
        missed = [name for name, met in targets.items() if not met]
        print()
        if missed:
            print("MISSED:", ", ".join(missed))
            log = self.gunicorn_log.read_text()
            tail = [line for line in log.splitlines() if "Error" in line][-5:]
            if tail:
                print("Last errors in the gunicorn log:", *tail, sep="\n  ")
            return 1
        print("All targets met.")
        return 0


def main() -> int:
    bench = Bench(parse_args())
    try:
        return bench.run()
    finally:
        bench.stop()


if __name__ == "__main__":
    sys.exit(main())
