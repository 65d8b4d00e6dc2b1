"""Page speed: public pages served by gunicorn, from the page cache and without it.

Run it from the project folder (it is not part of the test run); it needs ``wrk``
(Debian: ``apt-get install -y wrk``)::

    .venv/bin/python bench/page_speed.py

It migrates a temporary SQLite file database (or the one DATABASE_URL names), loads the
demo content, runs ``collectstatic`` (hashed names, as in production; the gzip and brotli
copies only with --compress) and starts gunicorn (``clinic_site.wsgi``, 2 sync workers)
with production settings and ``DJANGO_ROOT_URLCONF=bench.bench_urls``, which adds a bare
baseline page at /bench/bare/ (static markup of about a real page's size: the whole
middleware stack, no query, no cache). wrk loads the home, an article and an office page
from the page cache, and the bare page; then gunicorn restarts with
``PAGE_CACHE_SECONDS=0`` (no page is stored; pages are built from their own queries and the
shared fragments: header, footer, SEO head, article parts) and wrk loads the three pages
again; last, with ``FRAGMENT_CACHE_SECONDS=0`` as well (nothing cached at all, what the
first request after an edit costs), the article page once more (no target). Queries
per page are counted in a separate process with the same settings (Django's test client
and CaptureQueriesContext); worker memory is read from /proc after each load.

Prints a table and PASS/FAIL for each target; the exit status is 0 either way (2 when wrk
is missing), so ``make bench`` runs every bench.
"""

import argparse
import json
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ is not a package
from support import (  # noqa: E402
    BASE_DIR,
    HOST,  # the load generator only ever targets this address
    Gunicorn,
    TempSite,
    collectstatic_beside,
    free_port,
    get,
)

BARE = ("bare", "/bench/bare/")
PAGES = [
    ("home", "/"),
    ("article", "/articles/what-is-dry-needling/"),
    ("office", "/offices/bloomfield/"),
]

# Targets from the issue.
CACHED_VS_BARE = 0.90  # cached pages within 10% of the bare page's requests/s
UNCACHED_ARTICLE_RPS = 400
MAX_QUERIES_CACHED = 0
MAX_QUERIES_UNCACHED = 4
MAX_WORKER_RSS_MB = 60

# Also measured (no target): the article with nothing cached at all, page or fragments.
COLD_PAGE = PAGES[1]
COLD = {"PAGE_CACHE_SECONDS": "0", "FRAGMENT_CACHE_SECONDS": "0"}

# Runs in a subprocess with the server's environment, so the settings match. For each URL:
# one request to warm (clinic settings, shared fragments, the page itself), then counted:
# - "again": the same URL once more (a hit on a caching server; with PAGE_CACHE_SECONDS=0
#   what every request costs);
# - "first_visit": the URL with a query string never seen before: a page the page cache
#   has to build on a running site (shared fragments cached);
# - "after_edit": after the page-cache version is bumped, as any edit in admin does (the
#   shared fragments are keyed by that version too, so they are rebuilt as well).
QUERY_SCRIPT = """
import json, sys
import django
django.setup()
from django.core.cache import cache
from django.core.signals import got_request_exception
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pages.cache import VERSION_KEY

client = Client(HTTP_HOST=sys.argv[1], raise_request_exception=False)
errors = []
got_request_exception.connect(
    lambda **kwargs: errors.append(repr(sys.exc_info()[1])[:300]), weak=False
)

def counted(url):
    client.cookies.clear()  # like wrk: no cookie at all
    errors.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    return {
        "status": response.status_code,
        "header": getattr(response, "page_cache", None) or "",
        "error": errors[-1] if errors else "",
        "queries": [q["sql"] for q in ctx.captured_queries],
    }

result = {}
for n, url in enumerate(json.loads(sys.argv[2])):
    counted(url)
    again = counted(url)
    first_visit = counted(f"{url}?page-speed={n}")
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, None)
    result[url] = {"again": again, "first_visit": first_visit, "after_edit": counted(url)}
print(json.dumps(result))
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per page")
    parser.add_argument(
        "--rounds", type=int, default=5, help="the pages take turns, in this many rounds"
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--show-queries", action="store_true", help="print the SQL of uncached requests"
    )
    parser.add_argument(
        "--compress",
        action="store_true",
        help="run the real collectstatic, with gzip and brotli copies (a minute or two more)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    return parser.parse_args()


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value).groups()
    factor = {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}[unit]
    return float(number) * factor


def parse_wrk(output: str) -> dict:
    def find(pattern):
        match = re.search(pattern, output, re.M)
        return match.group(1) if match else None

    done = re.search(r"^\s+(\d+) requests in (\S+),", output, re.M)
    if not done:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    errors = dict.fromkeys(("connect", "read", "write", "timeout"), 0)
    for kind, count in re.findall(
        r"(connect|read|write|timeout) (\d+)", find(r"Socket errors: (.*)$") or ""
    ):
        errors[kind] = int(count)
    return {
        "requests": int(done.group(1)),
        "seconds": to_ms(done.group(2)) / 1000,
        "p50": to_ms(find(r"^\s+50%\s+(\S+)") or "0ms"),
        "p99": to_ms(find(r"^\s+99%\s+(\S+)") or "0ms"),
        "non_2xx": int(find(r"Non-2xx or 3xx responses: (\d+)") or 0),
        "errors": errors,
    }


def wrk(url: str, seconds: float, *, threads: int, connections: int) -> dict:
    """``seconds`` of wrk's load on ``url``: its figures, as parse_wrk() reads them."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",  # wrk's default (2 s) drops slow uncached responses from the latencies
        "--latency",
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True)
    return parse_wrk(done.stdout)


def combine(rounds: list[dict]) -> dict:
    """A page's rounds as one: every request over all the time, median p50, worst p99."""
    requests = sum(r["requests"] for r in rounds)
    seconds = sum(r["seconds"] for r in rounds)
    errors = {kind: sum(r["errors"][kind] for r in rounds) for kind in rounds[0]["errors"]}
    return {
        "rps": requests / seconds if seconds else 0.0,
        "round_rps": [r["requests"] / r["seconds"] for r in rounds if r["seconds"]],
        "p50": statistics.median(r["p50"] for r in rounds),
        "p99": max(r["p99"] for r in rounds),
        "non_2xx": sum(r["non_2xx"] for r in rounds),
        "socket_errors": ", ".join(f"{kind} {n}" for kind, n in errors.items() if n),
    }


class Bench:
    def __init__(self, args, site: TempSite):
        self.args = args
        self.site = site
        self.port = free_port()
        site.env.update(
            {
                "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
                "DJANGO_ROOT_URLCONF": "bench.bench_urls",
                "DJANGO_STATIC_MANIFEST": "1",
                # Never the checkout's staticfiles/: a manifest there would switch other
                # runs with DEBUG off to hashed names.
                "DJANGO_STATIC_ROOT": str(site.tmp / "staticfiles"),
                "SITE_URL": f"http://{HOST}:{self.port}",
                # X-Page-Cache: hit or miss, which the load phases check (off in production).
                "DJANGO_PAGE_CACHE_HEADER": "1",
            }
        )
        self.env = site.env

    # Helpers -----------------------------------------------------------------------

    def count_queries(self, env: dict, urls: list[str]) -> dict:
        done = subprocess.run(
            [sys.executable, "-c", QUERY_SCRIPT, HOST, json.dumps(urls)],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"counting queries failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def get(self, url: str) -> tuple[int, str, int]:
        response, body = get(self.port, url, timeout=30)
        return response.status, response.getheader("X-Page-Cache") or "", len(body)

    def worker_rss_mb(self, server: Gunicorn) -> dict[int, float]:
        rss = {}
        for pid in server.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except FileNotFoundError:
                continue
            match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
            if match:
                rss[pid] = int(match.group(1)) / 1024
        return rss

    def warm(self, url: str) -> set[int]:
        """Enough requests that each worker has the page (or the clinic settings) cached."""
        return {self.get(url)[0] for _ in range(10 * self.args.workers)}

    def load(self, url: str, seconds: float) -> dict:
        a = self.args
        url = f"http://{HOST}:{self.port}{url}"
        return wrk(url, seconds, threads=a.threads, connections=a.connections)

    # The run -----------------------------------------------------------------------

    def phase(self, name: str, env: dict, pages: list) -> tuple[dict, dict]:
        """Start gunicorn with ``env``, load the pages, read the workers' memory.

        The load comes in rounds, each page in turn, so that whatever else the machine is
        doing weighs on every page alike.
        """
        server = Gunicorn(
            env, self.port, workers=self.args.workers, backlog=1024, log=self.site.log
        )
        with server:
            server.wait_until_ready(BARE[1], all_workers=True)
            broken, rounds = {}, {page: [] for page, _ in pages}
            for page, url in pages:
                statuses = self.warm(url)
                if statuses != {200}:  # a broken page is reported, not loaded
                    broken[page] = f"answered {sorted(statuses)}: not loaded"
            seconds = self.args.duration / self.args.rounds
            for _ in range(self.args.rounds):
                for page, url in pages:
                    if page not in broken:
                        rounds[page].append(self.load(url, seconds))
            results = {}
            for page, url in pages:
                status, header, size = self.get(url)
                if page in broken:
                    result = {"rps": 0.0, "round_rps": [], "p50": 0.0, "p99": 0.0}
                    result.update(non_2xx=0, socket_errors="")
                else:
                    result = combine(rounds[page])
                result.update(status=status, header=header or "-", bytes=size)
                results[page] = result
                note = broken.get(page) or f"{result['rps']:.0f} req/s"
                print(f"  {name:<8} {page:<8} {note}", flush=True)
            return results, self.worker_rss_mb(server)

    def prepare(self) -> tuple[dict, dict]:
        """Database, demo content, static files; the queries per page, in both modes."""
        # collectstatic runs beside the set-up; the queries are counted without the
        # manifest, which does not change them. Without --compress the gzip and brotli
        # copies (a minute or two of CPU, and nothing the measured pages use) are skipped:
        # same hashed names, same manifest, same HTML.
        with collectstatic_beside(self.env, compress=self.args.compress, timeout=300):
            no_manifest = {**self.env, "DJANGO_STATIC_MANIFEST": "0"}
            self.site.setup(env=no_manifest, timeout=300)
            urls = [BARE[1], *(url for _, url in PAGES)]
            cached = self.count_queries(no_manifest, urls)
            uncached = self.count_queries({**no_manifest, "PAGE_CACHE_SECONDS": "0"}, urls)
            cold = self.count_queries({**no_manifest, **COLD}, [COLD_PAGE[1]])
        return cached, uncached, cold

    def run(self) -> int:
        started = time.monotonic()
        a = self.args
        print(f"Database: {self.site.database_url}")
        queries_cached, queries_uncached, queries_cold = self.prepare()
        print(f"Set up in {time.monotonic() - started:.0f} s")
        print(
            f"gunicorn on {HOST}:{self.port} ({a.workers} sync workers); "
            f"wrk -t{a.threads} -c{a.connections} --latency, {a.duration} s per page "
            f"in {a.rounds} rounds"
        )
        cached, rss_cached = self.phase("cached", self.env, [BARE, *PAGES])
        uncached_env = {**self.env, "PAGE_CACHE_SECONDS": "0"}
        uncached, rss_uncached = self.phase("uncached", uncached_env, PAGES)
        cold, rss_cold = self.phase("cold", {**self.env, **COLD}, [COLD_PAGE])
        bare_rps = cached["bare"]["rps"]

        # The table ---------------------------------------------------------------------
        bare_queries = queries_cached[BARE[1]]["again"]
        rows = [("bare", BARE[1], "none", cached["bare"], bare_queries)]
        rows += [(p, url, "cached", cached[p], queries_cached[url]["again"]) for p, url in PAGES]
        rows += [
            (p, url, "uncached", uncached[p], queries_uncached[url]["again"]) for p, url in PAGES
        ]
        page, url = COLD_PAGE
        rows.append((page, url, "cold", cold[page], queries_cold[url]["again"]))
        print()
        header = (
            f"{'page':<8} {'path':<33} {'cache':<8} {'req/s':>6} {'p50 ms':>7} {'p99 ms':>7} "
            f"{'queries':>7} {'KB':>5}  {'X-Page-Cache':<12}  errors"
        )
        print(header)
        print("-" * len(header))
        for page, url, mode, r, q in rows:
            errors = []
            if r["non_2xx"]:
                errors.append(f"{r['non_2xx']} non-2xx")
            if r["socket_errors"]:
                errors.append(f"socket {r['socket_errors']}")
            if r["status"] != 200:
                errors.append(f"status {r['status']}")
            print(
                f"{page:<8} {url:<33} {mode:<8} {r['rps']:>6.0f} {r['p50']:>7.2f} "
                f"{r['p99']:>7.2f} {len(q['queries']):>7} {r['bytes'] / 1024:>5.1f}  "
                f"{r['header']:<12}  {', '.join(errors) or '-'}"
            )
        print(
            "\nreq/s: all rounds together; p50: the rounds' median; p99: the worst round."
            "\ncached: the page cache answers. uncached: PAGE_CACHE_SECONDS=0, the page cache "
            "stores nothing and\nevery request builds the page (its own queries; the header, "
            "footer, SEO head and article\nparts come from the shared fragment cache, as on a "
            "running site). cold: FRAGMENT_CACHE_SECONDS=0\ntoo, nothing cached at all: what "
            "the first request after an edit costs."
        )
        print("\nQueries when a caching server has to build the page:")
        print(f"  {'page':<8} {'first visit':>11} {'after an edit':>13}")
        for page, url in PAGES:
            first = queries_cached[url]["first_visit"]
            edit = queries_cached[url]["after_edit"]
            note = first["error"] or edit["error"]
            if first["status"] != 200:
                note = f"status {first['status']} {note}"
            print(f"  {page:<8} {len(first['queries']):>11} {len(edit['queries']):>13}  {note}")
        bare_rounds = cached["bare"]["round_rps"]
        if bare_rounds and min(bare_rounds) / max(bare_rounds) < 0.85:
            low, high = min(bare_rounds), max(bare_rounds)
            print(
                f"Note: the bare page went from {low:.0f} to {high:.0f} req/s between rounds: "
                "the machine was busy\n(other processes), so the req/s comparisons are rough."
            )
        print("Worker memory (VmRSS after the load):")
        for name, rss in (("cached", rss_cached), ("uncached", rss_uncached), ("cold", rss_cold)):
            figures = ", ".join(f"pid {pid} {mb:.1f} MB" for pid, mb in sorted(rss.items()))
            print(f"  {name:<8} {figures or 'no worker found'}")

        if a.show_queries:
            for page, url in PAGES:
                for label, q in (
                    ("first visit, caching server", queries_cached[url]["first_visit"]),
                    ("after an edit, caching server", queries_cached[url]["after_edit"]),
                    ("every request, PAGE_CACHE_SECONDS=0", queries_uncached[url]["again"]),
                ):
                    print(f"\n{page} {url} ({label}): {len(q['queries'])} queries")
                    for sql in q["queries"]:
                        print(f"    {sql}")

        # The targets -------------------------------------------------------------------
        checks = []
        # Each round loads the bare page and the cached pages one after the other, so a
        # round's ratio compares them under the same background load; the median of the
        # rounds' ratios is the figure judged (the ratio of the totals is shown beside it).
        bare_rounds = cached["bare"]["round_rps"]
        for page, _ in PAGES:
            rps = cached[page]["rps"]
            overall = rps / bare_rps if bare_rps else 0
            page_rounds = cached[page]["round_rps"]
            paired = []
            if len(page_rounds) == len(bare_rounds):
                paired = [p / b for p, b in zip(page_rounds, bare_rounds, strict=True) if b]
            ratio = statistics.median(paired) if paired else 0
            checks.append(
                (
                    f"{page} cached within 10% of bare req/s",
                    ratio >= CACHED_VS_BARE,
                    f"{ratio:.0%} (median of the rounds; all rounds: {rps:.0f} vs "
                    f"{bare_rps:.0f}, {overall:.0%})",
                )
            )
        article_rps = uncached["article"]["rps"]
        checks.append(
            (
                f"article uncached >= {UNCACHED_ARTICLE_RPS} req/s",
                article_rps >= UNCACHED_ARTICLE_RPS,
                f"{article_rps:.0f}",
            )
        )
        for page, url in PAGES:
            hit = queries_cached[url]["again"]
            n = len(hit["queries"])
            checks.append(
                (
                    f"{page} {MAX_QUERIES_CACHED} queries cached",
                    n <= MAX_QUERIES_CACHED and hit["status"] == 200 and hit["header"] == "hit",
                    f"{n} (status {hit['status']}, X-Page-Cache: {hit['header'] or '-'})",
                )
            )
        for page, url in PAGES:
            first = queries_cached[url]["first_visit"]
            n = len(first["queries"])
            edit = len(queries_cached[url]["after_edit"]["queries"])
            off = len(queries_uncached[url]["again"]["queries"])
            checks.append(
                (
                    f"{page} <= {MAX_QUERIES_UNCACHED} queries uncached",
                    n <= MAX_QUERIES_UNCACHED and first["status"] == 200,
                    f"{n} on a first visit ({edit} after an edit, {off} with PAGE_CACHE_SECONDS=0)",
                )
            )
        all_rss = [*rss_cached.values(), *rss_uncached.values(), *rss_cold.values()]
        worst = max(all_rss, default=0)
        checks.append(
            (
                f"worker RSS <= {MAX_WORKER_RSS_MB} MB",
                bool(all_rss) and worst <= MAX_WORKER_RSS_MB,
                f"largest {worst:.1f} MB",
            )
        )
        failed = [
            f"{mode} {page}"
            for mode, results in (("cached", cached), ("uncached", uncached), ("cold", cold))
            for page, r in results.items()
            if r["non_2xx"] or r["status"] != 200
        ]
        checks.append(("no error responses under load", not failed, ", ".join(failed) or "none"))

        print()
        width = max(len(name) for name, _, _ in checks)
        for name, met, detail in checks:
            print(f"{'PASS' if met else 'FAIL'}  {name:<{width}}  {detail}")
        missed = [name for name, met, _ in checks if not met]
        print()
        if missed:
            print(f"MISSED {len(missed)} of {len(checks)}:", "; ".join(missed))
        else:
            print("All targets met.")
        print(f"({time.monotonic() - started:.0f} s; the exit status is 0 either way)")
        return 0


def main() -> int:
    args = parse_args()
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install -y wrk", file=sys.stderr)
        return 2
    with TempSite("page-speed-", keep=args.keep) as site:
        return Bench(args, site).run()


if __name__ == "__main__":
    sys.exit(main())
