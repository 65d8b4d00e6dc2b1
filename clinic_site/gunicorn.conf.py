"""gunicorn's settings, the way production runs the app (`make serve`, docs/deploy.md).

    gunicorn -c clinic_site/gunicorn.conf.py

Read from the environment: WEB_CONCURRENCY or GUNICORN_WORKERS (2), PORT (8000),
GUNICORN_HOST (127.0.0.1) or GUNICORN_BIND, GUNICORN_TIMEOUT and GUNICORN_GRACEFUL_TIMEOUT
(30 s), GUNICORN_MAX_REQUESTS (10000), and the app's TRUSTED_PROXIES (empty). Why these
values, and why the access log identifies nobody: docs/architecture.md, "gunicorn".
"""

import os
import sys
from pathlib import Path

# gunicorn reads this file before the project is importable: put the project on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clinic_site.checks import web_workers  # noqa: E402  (check --deploy reads the same)
from clinic_site.client_address import parse_trusted_proxies  # noqa: E402
from clinic_site.logformat import LINE_FORMATTER, STDOUT_HANDLER  # noqa: E402


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


wsgi_app = "clinic_site.wsgi:application"
chdir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_host = os.environ.get("GUNICORN_HOST", "127.0.0.1")
bind = [os.environ.get("GUNICORN_BIND") or f"{_host}:{_int('PORT', 8000)}"]
workers = web_workers()  # WEB_CONCURRENCY, else GUNICORN_WORKERS, else 2
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 10000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", max(max_requests // 10, 0))
# Django falls back to gunicorn's scheme when it drops an untrusted X-Forwarded-Proto, so
# gunicorn must believe no more peers than the app does: the same list, parsed the same way.
forwarded_allow_ips = ",".join(
    str(network)
    for network in parse_trusted_proxies(os.environ.get("TRUSTED_PROXIES", "").split(","))
)

# gunicorn 27's control socket (for `gunicornc`, unused here) defaults to one path per user
# (~/.gunicorn/gunicorn.ctl): two instances on one machine would take it from each other.
control_socket_disable = True

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Request line without the query string, status, bytes, duration: nothing that identifies
# a visitor (no address, user agent, referrer or query string).
access_log_format = '"%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": LINE_FORMATTER},
    "handlers": {"stdout": STDOUT_HANDLER},
    "root": {"level": "INFO", "handlers": ["stdout"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": ["stdout"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
    },
}


def worker_exit(server, worker):
    """A worker stopping (recycled, restarted, shut down) hands its last second of page-view
    counts to Redis (clinic_site/visits.py) rather than losing them."""
    try:
        from clinic_site import visits

        visits.push()
    except Exception:  # the app never loaded, or Redis is down: nothing to hand over
        server.log.warning("Page-view counts of worker %s not handed over", worker.pid)
