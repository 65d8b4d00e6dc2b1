"""A burst of consultation requests while the mail server is down, or a paced crowd.

    .venv/bin/python -m bench.consultation_burst [--paced] [--postgres URL] [--keep]

The burst: 100 patients send the form at once, each from its own loopback address, to
gunicorn (2 workers x 4 threads) whose mail server refuses; a notification pass (every send
fails, nothing is lost), then an SMTP server comes up and a second pass must mail each
staff notification exactly once. ``--paced``: 250 visitors of a cached article page, 200 at
a human pace and 50 autofilled. Prints a table; exits 1 when a target is missed.
"""

import argparse
import concurrent.futures
import datetime
import io
import os
import random
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack

import django
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from tests.processes import HOST, AppServer, Browser, TempSite, form_fields, free_port
from tests.smtp_server import RecordingSMTPServer

ARTICLE = "/articles/what-is-dry-needling/"  # embeds the form; served from the page cache
HUMANS, AUTOFILLED = 200, 50  # --paced


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100, help="submissions in the burst")
    parser.add_argument("--paced", action="store_true", help="a paced crowd, not a burst")
    parser.add_argument("--postgres", metavar="URL", help="on a scratch database on this server")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    return parser.parse_args()


def visit(port: int, n: int, path: str, pause: float, barrier: threading.Barrier | None):
    """Patient ``n`` opens the form on ``path``, waits (for the others too), and sends it."""
    browser = Browser(port, source=f"127.0.{1 + n // 250}.{1 + n % 250}")
    fields = dict(form_fields(browser.get(path, timeout=60).text, "consultation-form"))
    fields.update(name=f"Bench Patient {n}", phone=f"(860) 555-{n:04d}", consent="on")
    fields.update(contact_method="phone", best_time="morning", message="Knee pain.")
    fields["email"] = f"bench-patient-{n}@example.com" if n % 3 else ""
    time.sleep(pause)
    if barrier is not None:
        barrier.wait(timeout=60)
    started = time.monotonic()
    try:
        response = browser.post("/consultation/", fields, timeout=120)
    except OSError as exc:
        return 0, f"{type(exc).__name__}: {exc}", fields["started"], started
    return response.status, response.header("Location"), fields["started"], started


def crowd(port: int, args) -> tuple[list, float]:
    """Every visit's (status, location, form token, start); seconds from the first POST."""
    count = HUMANS + AUTOFILLED if args.paced else args.requests
    if args.paced:
        Browser(port).get(ARTICLE)  # the first visit fills the page cache
    barrier = None if args.paced else threading.Barrier(count)

    def one(n):
        pause = random.Random(n).uniform(*((3.0, 8.0) if n < HUMANS else (0.0, 0.9)))
        page = ARTICLE if args.paced else "/consultation/"
        return visit(port, n, page, pause if args.paced else 0.0, barrier)

    with concurrent.futures.ThreadPoolExecutor(max_workers=count) as pool:
        results = list(pool.map(one, range(count)))
    return results, time.monotonic() - min(r[3] for r in results)


def notification_pass() -> str:
    output = io.StringIO()
    call_command("send_notifications", stdout=output)
    return output.getvalue().strip().splitlines()[-1]


def main() -> int:
    args = parse_args()
    with ExitStack() as stack:
        site = stack.enter_context(TempSite("consultation-burst-", keep=args.keep))
        if args.postgres:
            from tests.processes import scratch_database

            url = stack.enter_context(scratch_database(args.postgres, "consultation_burst"))
            site.database_url = site.env["DATABASE_URL"] = url
        smtp_port, web_port = free_port(), free_port()  # nothing listens on smtp_port yet
        site.env.update(EMAIL_HOST=HOST, EMAIL_PORT=str(smtp_port), EMAIL_TIMEOUT="5")
        print(f"Database: {site.database_url}")
        site.setup()
        # This process counts the rows and runs the notification passes, on the same site.
        os.environ.update(site.env, DJANGO_LOG_LEVEL="ERROR")  # the passes report below
        django.setup()
        from contact.models import ConsultationRequest

        stack.callback(connections.close_all)
        before = ConsultationRequest.objects.order_by("-pk").values_list("pk", flat=True).first()
        server = AppServer(site.env, web_port, site.log, config=None, options=("--threads", "4"))
        stack.enter_context(server).wait_until_ready(path="/consultation/")
        results, seconds = crowd(web_port, args)
        rows = ConsultationRequest.objects.filter(pk__gt=before or 0)
        count, stored = len(results), rows.count()
        down = notification_pass()  # the mail server refuses: every send fails
        kept = rows.filter(notified_at=None, notify_attempts=1).exclude(last_error="").count()
        with RecordingSMTPServer(port=smtp_port) as smtp:
            rows.update(next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))
            up = notification_pass()
            per_request, confirmations = smtp.notification_counts(), len(smtp.confirmations())
        pks = set(rows.values_list("pk", flat=True))
        expected_confirmations = rows.exclude(email="").exclude(status="spam").count()
        statuses = Counter(status for status, *_ in results)
        thanked = sum(1 for s, location, *_ in results if s == 302 and "/thanks/" in location)
        errors = [detail for status, detail, *_ in results if status == 0]
        server_errors = sum(n for status, n in statuses.items() if status >= 500)
        notified = sum(1 for pk in pks if per_request.get(pk, 0) >= 1)
        duplicates = sum(n - 1 for n in per_request.values() if n > 1)
        strangers = sum(1 for pk in per_request if pk not in pks)
        # A spam row gets no staff mail either: counted once, with the requests never mailed.
        unseen = sum(1 for pk in pks if pk not in per_request) + (count - stored)
        table = {
            "submissions sent": count,
            "HTTP statuses": dict(sorted(statuses.items())),
            "connection errors": len(errors),
            "seconds from the first POST": f"{seconds:.2f}",
            "form tokens seen": len({token for _, _, token, _ in results}),
            "stored": stored,
            "stored, by status": dict(Counter(rows.values_list("status", flat=True))),
            "worker, SMTP refused": down,
            "kept for retry after failure": kept,
            "worker, SMTP back": up,
            "notified (staff mail received)": notified,
            "duplicate staff mails": duplicates,
            "unseen by staff": unseen,
            "confirmations received / expected": f"{confirmations} / {expected_confirmations}",
        }
        targets = {
            f"{count} stored": stored == count,
            "all kept after the failed pass": kept == stored,
            f"{count} notified": notified == count,
            "0 duplicates": duplicates == strangers == 0,
            "0 unseen by staff": unseen == 0 and thanked == count,
            "0 responses 5xx": server_errors == 0 and not errors,
        }
    print()
    for label, value in table.items():
        print(f"{label:<36} {value}")
    if errors:
        print("First connection errors:", *errors[:5], sep="\n  ")
    missed = [name for name, met in targets.items() if not met]
    print("\nMISSED: " + ", ".join(missed) if missed else "\nAll targets met.")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
