"""Proxy speed: the cached article page through nginx, beside nginx serving it as a file.

Run it from the project folder (it is not part of the test run); it needs ``wrk`` and what
bench/stack.py needs (nginx, openssl, PostgreSQL, Redis)::

    .venv/bin/python bench/proxy_speed.py

It brings up docs/deploy.md's stack with bench/stack.py (a fresh PostgreSQL database,
Redis, two gunicorn instances with clinic_site/gunicorn.conf.py, 2 workers each, nginx
from deploy/nginx/clinic.conf over HTTPS, ``PROXY_CACHE_SECONDS=10``), starts two more
nginx instances rendered from the same template, and loads the article page
(``/articles/what-is-dry-needling/``) with wrk on loopback, the targets taking turns in
rounds so that other work on the machine weighs on each alike:

- ``1 app``: nginx -> 1 gunicorn instance, nginx's proxy cache off (``proxy_cache off;``):
  every request is answered by the app from its page cache (Redis);
- ``2 apps``: the same with both instances in the upstream;
- ``proxy cache``: the template as it is: nginx answers from its own cache (the app sees
  one request per PROXY_CACHE_SECONDS);
- ``static file``: the same HTML saved under STATIC_ROOT, served by nginx's ``/static/``
  location.

Prints a table and PASS/FAIL for the target "the proxy-cached page at least half of the
static file's requests/s"; the exit status is 0 either way (2 when wrk, nginx, openssl,
PostgreSQL or Redis is missing), so ``make bench`` runs every bench.
"""

import argparse
import contextlib
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ is not a package
from page_speed import combine, wrk  # noqa: E402
from stack import HOST, Client, Nginx, Stack, unavailable  # noqa: E402

ARTICLE = "/articles/what-is-dry-needling/"
STATIC_COPY = "proxy-speed/article.html"  # under STATIC_ROOT, so at /static/<this>
MIN_SHARE_OF_STATIC = 0.5  # the target for the proxy-cached page


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per target")
    parser.add_argument("--rounds", type=int, default=5, help="the targets take turns, N rounds")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    return parser.parse_args()


class Bench:
    def __init__(self, args, stack: Stack):
        self.args = args
        self.stack = stack
        self.targets: dict[str, tuple[str, int, str]] = {}  # name: (description, port, path)

    def extra_nginx(self, name: str, app_ports: list[int], exit_stack) -> int:
        """Another nginx from the same template, proxy cache off; its HTTPS port."""
        nginx = Nginx(
            self.stack.tmp / f"nginx-{name}",
            app_servers=[f"{HOST}:{port}" for port in app_ports],
            static_root=self.stack.static_root,
            media_root=self.stack.media_root,
            certificate=self.stack.certificate,
            certificate_key=self.stack.certificate_key,
            proxy_cache=False,
        )
        exit_stack.enter_context(nginx)
        return nginx.https_port

    def check(self, name: str) -> str:
        """Warm the target up; '' when it answers as it should, else what is wrong."""
        _, port, path = self.targets[name]
        client = self.stack.client
        if port != self.stack.https_port:
            client = Client(port, self.stack.certificate)
        for _ in range(10 * self.args.workers):
            response = client.get(path)
        if response.status != 200:
            return f"answered {response.status}"
        cache = response.header("X-Cache-Status")
        if name == "proxy cache" and cache != "HIT":
            return f"X-Cache-Status {cache or '-'} (not HIT)"
        if name in ("1 app", "2 apps") and (cache or response.header("X-Page-Cache") != "hit"):
            return f"X-Cache-Status {cache or '-'}, X-Page-Cache {response.header('X-Page-Cache')}"
        return ""

    def run(self) -> int:
        stack, a = self.stack, self.args
        html = stack.client.get(ARTICLE)
        if html.status != 200:
            print(f"{ARTICLE} answered {html.status}: nothing to measure")
            return 0
        copy = stack.static_root / STATIC_COPY
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(html.body)
        with contextlib.ExitStack() as nginxes:
            one = self.extra_nginx("1app", stack.app_ports[:1], nginxes)
            two = self.extra_nginx("2apps", stack.app_ports, nginxes)
            self.targets = {
                "1 app": ("nginx -> 1 gunicorn (app page cache)", one, ARTICLE),
                "2 apps": ("nginx -> 2 gunicorn (app page cache)", two, ARTICLE),
                "proxy cache": ("nginx proxy cache -> 2 gunicorn", stack.https_port, ARTICLE),
                "static file": (
                    "nginx, the same HTML as a file",
                    stack.https_port,
                    "/static/" + STATIC_COPY,
                ),
            }
            broken = {name: why for name in self.targets if (why := self.check(name))}
            print(
                f"\nwrk -t{a.threads} -c{a.connections} --latency over HTTPS, {a.duration} s "
                f"per target in {a.rounds} rounds; {len(html.body) / 1024:.1f} KB page; "
                f"{a.workers} sync workers per gunicorn instance",
                flush=True,
            )
            rounds = {name: [] for name in self.targets}
            seconds = a.duration / a.rounds
            for n in range(a.rounds):
                for name, (_, port, path) in self.targets.items():
                    if name not in broken:
                        url = f"https://{HOST}:{port}{path}"
                        rounds[name].append(
                            wrk(url, seconds, threads=a.threads, connections=a.connections)
                        )
                print(f"  round {n + 1}/{a.rounds} done", flush=True)
        results = {name: combine(r) if r else None for name, r in rounds.items()}
        self.table(results, broken, len(html.body))
        # gunicorn.conf.py recycles a worker after GUNICORN_MAX_REQUESTS (10000 +- 10%):
        # under this load that is every few seconds, and each restart shows in the p99.
        booted = sum(
            (stack.tmp / f"gunicorn-{port}.log").read_text().count("Booting worker")
            for port in stack.app_ports
        )
        restarts = booted - len(stack.app_ports) * a.workers
        print(f"      gunicorn workers recycled during the run (max_requests): {restarts}")
        return 0

    def table(self, results: dict, broken: dict, size: int) -> None:
        header = (
            f"{'target':<12} {'what':<38} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}  "
            f"{'rounds req/s':<30} errors"
        )
        print()
        print(header)
        print("-" * len(header))
        for name, (what, _, _) in self.targets.items():
            r = results[name]
            if r is None:
                print(f"{name:<12} {what:<38} {'-':>7} {'-':>7} {'-':>7}  {broken[name]}")
                continue
            errors = []
            if r["non_2xx"]:
                errors.append(f"{r['non_2xx']} non-2xx")
            if r["socket_errors"]:
                errors.append(f"socket {r['socket_errors']}")
            spread = " ".join(f"{x:.0f}" for x in r["round_rps"])
            print(
                f"{name:<12} {what:<38} {r['rps']:>7.0f} {r['p50']:>7.2f} {r['p99']:>7.2f}  "
                f"{spread:<30} {', '.join(errors) or '-'}"
            )
        cached, static = results["proxy cache"], results["static file"]
        print()
        if cached is None or static is None:
            print("FAIL  proxy-cached page >= half the static file's rate: not measured")
            return
        share = cached["rps"] / static["rps"] if static["rps"] else 0.0
        met = share >= MIN_SHARE_OF_STATIC and not cached["non_2xx"]
        print(
            f"{'PASS' if met else 'FAIL'}  proxy-cached page >= "
            f"{MIN_SHARE_OF_STATIC:.0%} of the static file's rate: "
            f"{cached['rps']:.0f} / {static['rps']:.0f} req/s = {share:.0%}"
        )
        if results["1 app"] and results["2 apps"] and results["1 app"]["rps"]:
            gain = results["2 apps"]["rps"] / results["1 app"]["rps"]
            print(f"      2 app servers vs 1: x{gain:.2f} (on this machine's {cpu_count()} cores)")
        spreads = [r["round_rps"] for r in results.values() if r and len(r["round_rps"]) > 1]
        if any(max(s) > 1.15 * min(s) for s in spreads):
            print("      Rounds differ by more than 15%: the machine is busy; figures are rough.")


def cpu_count() -> int:
    return len(os.sched_getaffinity(0))


def main() -> int:
    args = parse_args()
    missing = [] if shutil.which("wrk") else ["wrk not found (Debian: apt-get install wrk)"]
    missing += unavailable()
    if missing:
        print("proxy_speed.py cannot run:", *missing, sep="\n  ")
        return 2
    started = time.monotonic()
    print("Bringing up the stack (bench/stack.py):", flush=True)
    with Stack(quick_static=True, workers=args.workers, keep_files=args.keep) as stack:
        print(f"Up in {time.monotonic() - started:.0f} s", flush=True)
        return Bench(args, stack).run()


if __name__ == "__main__":
    sys.exit(main())
