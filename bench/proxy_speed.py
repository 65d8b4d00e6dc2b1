"""Proxy speed: the article page through nginx's cache, beside nginx serving it as a file.

    .venv/bin/python -m bench.proxy_speed [--duration 10] [--rounds 5]

Brings up docs/deploy.md's stack (tests/deploy_stack.py) plus two nginx instances from the
same template with nginx's cache off (in front of one app server, and of both), and loads
the article page with wrk over HTTPS, the targets taking turns in rounds. Target: the
proxy-cached page at least half the static file's requests/s. Exits 0 either way, 2 when wrk
or what the stack needs is missing.
"""

import argparse
import os
import shutil
import sys

from bench.page_speed import combine, wrk
from tests.deploy_stack import HOST, Stack, unavailable
from tests.processes import Browser

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
    return parser.parse_args()


def warm(stack: Stack, name: str, port: int, path: str) -> str:
    """Warm a target up: '' when it answers as it should, else what is wrong."""
    browser = Browser(port, tls=stack.tls)
    for _ in range(10 * stack.workers):
        response = browser.get(path)
    cache, page_cache = response.header("X-Cache-Status"), response.header("X-Page-Cache")
    if response.status != 200:
        return f"answered {response.status}"
    if name == "proxy cache" and cache != "HIT":
        return f"X-Cache-Status {cache or '-'} (not HIT)"
    if name.endswith("app") and (cache or page_cache != "hit"):
        return f"X-Cache-Status {cache or '-'}, X-Page-Cache {page_cache or '-'}"
    return ""


def measure(stack: Stack, a) -> None:
    page = stack.browser().get(ARTICLE)
    (stack.static_root / STATIC_COPY).parent.mkdir(parents=True)
    (stack.static_root / STATIC_COPY).write_bytes(page.body)
    targets = {
        "1 app": ("nginx -> 1 gunicorn (app page cache)", stack.app_ports[:1], ARTICLE),
        "2 app": ("nginx -> 2 gunicorn (app page cache)", stack.app_ports, ARTICLE),
        "proxy cache": ("nginx proxy cache -> 2 gunicorn", None, ARTICLE),
        "static file": ("nginx, the same HTML as a file", None, f"/static/{STATIC_COPY}"),
    }
    ports = {
        name: stack.extra_nginx(f"nginx-{n}", apps) if apps else stack.https_port
        for n, (name, (_, apps, _)) in enumerate(targets.items())
    }
    broken = {name: warm(stack, name, ports[name], t[2]) for name, t in targets.items()}
    broken = {name: why for name, why in broken.items() if why}
    print(
        f"\nwrk -t{a.threads} -c{a.connections} --latency over HTTPS, {a.duration} s per target "
        f"in {a.rounds} rounds; {len(page.body) / 1024:.1f} KB page; {a.workers} workers each",
        flush=True,
    )
    rounds = {name: [] for name in targets if name not in broken}
    for n in range(a.rounds):
        for name in rounds:
            url = f"https://{HOST}:{ports[name]}{targets[name][2]}"
            load = wrk(url, a.duration / a.rounds, threads=a.threads, connections=a.connections)
            rounds[name].append(load)
        print(f"  round {n + 1}/{a.rounds} done", flush=True)
    results = {name: combine(loads) for name, loads in rounds.items()}
    print(f"\n{'target':<12} {'what':<38} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}  rounds req/s")
    for name, (what, _, _) in targets.items():
        if name in broken:
            print(f"{name:<12} {what:<38} not measured: {broken[name]}")
            continue
        r = results[name]
        figures = f"{r['rps']:>7.0f} {r['p50']:>7.2f} {r['p99']:>7.2f} "
        figures += " ".join(f"{x:.0f}" for x in r["round_rps"])
        figures += f"  {r['non_2xx']} non-2xx" if r["non_2xx"] else ""
        print(f"{name:<12} {what:<38} {figures} {r['socket_errors']}")
    cached, static = results.get("proxy cache"), results.get("static file")
    if not (cached and static and static["rps"]):
        print("\nFAIL  proxy-cached page >= half the static file's rate: not measured")
        return
    share = cached["rps"] / static["rps"]
    met = share >= MIN_SHARE_OF_STATIC and not cached["non_2xx"]
    print(
        f"\n{'PASS' if met else 'FAIL'}  proxy-cached page >= {MIN_SHARE_OF_STATIC:.0%} of the "
        f"static file's rate: {cached['rps']:.0f} / {static['rps']:.0f} req/s = {share:.0%}"
    )
    if "1 app" in results and "2 app" in results:
        gain = results["2 app"]["rps"] / results["1 app"]["rps"]
        print(f"      2 app servers vs 1: x{gain:.2f} on {len(os.sched_getaffinity(0))} cores")
    # gunicorn.conf.py recycles a worker every GUNICORN_MAX_REQUESTS; each shows in the p99.
    booted = sum("Booting worker" in line for w in ("web.1", "web.2") for line in stack.output(w))
    print(f"      gunicorn workers recycled during the run: {booted - 2 * stack.workers}")


def main() -> int:
    args = parse_args()
    missing = [] if shutil.which("wrk") else ["wrk not found (Debian: apt-get install wrk)"]
    missing += unavailable()
    if missing:
        print("proxy_speed cannot run:", *missing, sep="\n  ")
        return 2
    print("Bringing up the stack (tests/deploy_stack.py)...", flush=True)
    with Stack(workers=args.workers) as stack:
        measure(stack, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
