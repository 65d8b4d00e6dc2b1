"""A burst of 100 consultation requests at once, while the mail server is down.

Run it from the project folder (it is not part of the test run)::

    .venv/bin/python bench/consultation_burst.py

It migrates a temporary SQLite file database (or the one DATABASE_URL names, or with
``--postgres URL`` a scratch database it creates on that PostgreSQL server and drops
afterwards), loads the demo content, starts gunicorn (2 workers x 4 threads) with mail
going to a port where nothing listens, and sends 100 submissions at once, each from its own
loopback address (127.0.0.N) so the per-address rate limit does not apply. Then one
notification pass with SMTP still refused (everything fails, nothing is lost), then a real
SMTP server comes up on that port and a second pass must deliver each staff notification
exactly once.

Prints a table and exits 1 when a target is missed: 100 stored, 100 notified,
0 duplicates, 0 responses 5xx.

``--paced``: instead of the burst, 250 patients use the form embedded in an article page
served from the page cache (so all of them get the token of the one cached copy): 200 at a
human pace (3 to 8 s between opening and sending) and 50 autofilled (under a second), each
from its own address. Target: every one thanked, stored, not spam, and mailed to staff
(0 unseen by staff).
"""

import argparse
import concurrent.futures
import contextlib
import http.client
import json
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ is not a package
from support import (  # noqa: E402
    BASE_DIR,
    HOST,
    Gunicorn,
    TempSite,
    free_port,
    scratch_postgres_database,
)

from tests.smtp_server import RecordingSMTPServer  # noqa: E402  (support put it on sys.path)

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
    parser.add_argument(
        "--paced",
        action="store_true",
        help="200 human-paced and 50 autofilled submissions from a cached page, not a burst",
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="run on a scratch database created on this PostgreSQL server (postgres://...; "
        "any database there to connect to) and dropped afterwards",
    )
    return parser.parse_args()


# An article page: it embeds the form and is served from the page cache.
PACED_PAGE = "/articles/what-is-dry-needling/"


class Bench:
    def __init__(self, args, site: TempSite):
        self.args = args
        self.site = site
        self.smtp_port = free_port()  # nothing listens here until the mail server "comes back"
        self.web_port = free_port()
        site.env.update(EMAIL_HOST=HOST, EMAIL_PORT=str(self.smtp_port), EMAIL_TIMEOUT="5")
        self.env = site.env

    # Helpers -----------------------------------------------------------------------

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

    # The burst ---------------------------------------------------------------------

    def client_address(self, n: int) -> str:
        return f"127.0.{1 + n // 250}.{1 + n % 250}"

    def open_form(self, n: int, path: str = "/consultation/") -> dict:
        """GET the form on ``path`` as client n: its hidden values, and Django's CSRF cookie.

        The form now carries no per-visitor CSRF token (contact/csrf.py checks the Origin
        and the signed ``started`` value instead); a cookie and token are still sent back
        when the page sets them.
        """
        connection = http.client.HTTPConnection(
            HOST, self.web_port, timeout=60, source_address=(self.client_address(n), 0)
        )
        connection.request("GET", path)
        response = connection.getresponse()
        html = response.read().decode()
        cookies = response.headers.get_all("Set-Cookie") or []
        connection.close()
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}")
        csrf_cookie = next(
            (
                re.match(r"csrftoken=([^;]+)", c).group(1)
                for c in cookies
                if c.startswith("csrftoken=")
            ),
            "",
        )

        def hidden(name):
            match = re.search(rf'name="{name}" value="([^"]*)"', html)
            return match.group(1) if match else ""

        offices = re.findall(r'<option value="(\d+)"', html)
        return {
            "cookie": csrf_cookie,
            "token": hidden("csrfmiddlewaretoken"),
            "started": hidden("started"),
            "source": hidden("source") or "/",
            "office": offices[n % len(offices)] if offices and n % 4 else "",
        }

    def submit(
        self, n: int, form: dict, barrier: threading.Barrier | None
    ) -> tuple[int, str, float]:
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
                "source": form["source"],
            }
        )
        connection = http.client.HTTPConnection(
            HOST, self.web_port, timeout=120, source_address=(self.client_address(n), 0)
        )
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": f"http://{HOST}:{self.web_port}",  # as a browser sends it on a POST
        }
        if form["cookie"]:
            headers["Cookie"] = f"csrftoken={form['cookie']}"
        if barrier is not None:
            barrier.wait(timeout=60)
        started = time.monotonic()
        try:
            connection.request("POST", "/consultation/", body=body, headers=headers)
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
        barrier = threading.Barrier(count)
        with concurrent.futures.ThreadPoolExecutor(max_workers=count) as pool:
            futures = [pool.submit(self.submit, n, forms[n], barrier) for n in range(count)]
            results = [f.result() for f in futures]
        ended = time.monotonic()
        first = min(started for _, _, started in results)
        return results, ended - first

    def paced_visit(self, n: int, autofilled: bool) -> tuple[tuple[int, str, float], str]:
        """Open the article page (from the page cache), wait like a person or not, send."""
        form = self.open_form(n, PACED_PAGE)
        rng = random.Random(n)
        time.sleep(rng.uniform(0.0, 0.9) if autofilled else rng.uniform(3.0, 8.0))
        return self.submit(n, form, None), form["started"]

    def paced(self, humans: int, autofilled: int):
        self.open_form(humans + autofilled, PACED_PAGE)  # the first visit fills the page cache
        kinds = [False] * humans + [True] * autofilled
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(kinds)) as pool:
            futures = [pool.submit(self.paced_visit, n, kind) for n, kind in enumerate(kinds)]
            visits = [f.result() for f in futures]
        results = [result for result, _ in visits]
        return results, time.monotonic() - started, len({token for _, token in visits})

    def run(self) -> int:
        print(f"Database: {self.site.database_url}")
        self.site.setup()
        first_pk = (self.db("show", 0)["max_pk"] or 0) + 1
        a = self.args
        server = Gunicorn(
            self.env,
            self.web_port,
            workers=a.workers,
            threads=a.threads,
            backlog=1024,
            log=self.site.log,
        )
        with server:
            server.wait_until_ready("/consultation/")
            print(
                f"gunicorn on {HOST}:{self.web_port} ({a.workers} workers x "
                f"{a.threads} threads); SMTP refused on port {self.smtp_port}"
            )
            return self.measure(first_pk)

    def measure(self, first_pk: int) -> int:
        """The burst, the two notification passes, the table and the targets."""
        if self.args.paced:
            humans, autofilled = 200, 50
            count = humans + autofilled
            results, seconds, tokens = self.paced(humans, autofilled)
            print(
                f"{humans} human-paced and {autofilled} autofilled visitors of {PACED_PAGE}; "
                f"form tokens seen: {tokens} (1: every visitor got the one cached copy)"
            )
        else:
            count = self.args.requests
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
        down = self.site.manage("send_notifications").strip().splitlines()[-1]
        rows_after_failure = self.db("show", first_pk)["rows"]
        kept = sum(
            1
            for row in rows_after_failure
            if row["notified_at"] is None and row["notify_attempts"] == 1 and row["last_error"]
        )

        # Mail server back on the same port; the retry time has come.
        with RecordingSMTPServer(port=self.smtp_port) as smtp:
            self.db("make-due", first_pk)
            up = self.site.manage("send_notifications").strip().splitlines()[-1]
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
        # Spam rows get no staff mail either: counted once, with the rest never mailed.
        unseen = sum(1 for pk in pks if per_request.get(pk, 0) == 0) + (count - stored)

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
            ("needs review", sum(1 for row in rows if row["status"] == "review")),
            ("unseen by staff (spam, or no staff mail)", unseen),
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
            "0 unseen by staff": unseen == 0 and thanked == count,
            "0 responses 5xx": server_errors == 0 and not errors,
        }
        missed = [name for name, met in targets.items() if not met]
        print()
        if missed:
            print("MISSED:", ", ".join(missed))
            log = self.site.log.read_text()
            tail = [line for line in log.splitlines() if "Error" in line][-5:]
            if tail:
                print("Last errors in the gunicorn log:", *tail, sep="\n  ")
            return 1
        print("All targets met.")
        return 0


def main() -> int:
    args = parse_args()
    with contextlib.ExitStack() as scratch:
        database_url = None
        if args.postgres:
            database_url = scratch.enter_context(
                scratch_postgres_database(args.postgres, prefix="consultation_burst")
            )
        with TempSite("consultation-burst-", keep=args.keep) as site:
            if database_url:
                site.database_url = site.env["DATABASE_URL"] = database_url
            return Bench(args, site).run()


if __name__ == "__main__":
    sys.exit(main())
