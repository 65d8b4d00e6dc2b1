"""Page views per public path per day, counted without anything that identifies a visitor.

How a view is counted (docs/architecture.md, "Counting page views"):

- The app counts a GET of an ``@public_page`` (or ``@counted``) view that answers 200,
  page cache hit or not, from a browser (``is_person``) without a session cookie (staff
  are not counted). The count goes to a buffer in the cache (this process's memory, then
  a Redis hash), never to the database on the way; the worker writes the buffer in batches
  (``flush``), and the dashboard does so before it reads.
- Behind nginx, pages nginx answers from its own cache never reach the app: nginx writes
  each such view (its time and path, nothing else) to a file per minute in
  ``NGINX_VIEW_LOG_DIR`` (deploy/nginx/clinic.conf), which the worker imports and deletes
  (``import_nginx_views``). Everything nginx passes on is counted by the app, once.
- Daily rows are kept ``VIEW_RETENTION_MONTHS`` (25) and purged with the other retention
  jobs (``purge``).

No address, user agent, cookie, referrer or query string is read into a count, stored or
logged: a count is (the clinic's date, the path) and a number.
"""

import calendar
import collections
import contextlib
import datetime
import fcntl
import json
import logging
import os
import re
import threading
import time
from itertools import repeat
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .cache import _fail_soft

logger = logging.getLogger(__name__)

BUFFER_KEY = "visits:buffer"
MAX_PATH = 200
# Crawlers that say so; the same list is in deploy/nginx/clinic.conf (a test compares them).
BOT_PATTERN = (
    r"bot|crawl|spider|slurp|archiver|facebookexternalhit|embedly|preview|monitor|"
    r"lighthouse|pingdom|uptime|headless|curl|wget|python|httpclient|okhttp|go-http|java/|"
    r"libwww|scrapy|axios|node-fetch"
)
_BOT = re.compile(BOT_PATTERN, re.IGNORECASE)
# nginx's per-minute files: views-2026-12-01T10:15.log (its local time, as in each line).
LOG_FILE = re.compile(r"^views-\d{4}-\d\d-\d\dT\d\d:\d\d\.log(\.importing)?$")
_missing_warned = [-3600.0]


def is_person(request) -> bool:
    """A browser, as far as its headers tell: a Mozilla/... user agent that names no crawler,
    and the Accept-Language every browser sends and most scripts and crawlers do not."""
    agent = request.headers.get("User-Agent", "")
    return (
        agent.startswith("Mozilla/")
        and request.headers.get("Accept-Language")
        and not _BOT.search(agent)
        and "prefetch" not in request.headers.get("Sec-Purpose", request.headers.get("Purpose", ""))
    )


def counted(view):
    """Count the views of a page that is not an ``@public_page`` (the consultation form:
    never cached, as each copy carries its own form token)."""
    view.counted_view = True
    return view


def _counted(view) -> bool:
    return hasattr(view, "public_page_query") or getattr(view, "counted_view", False)


class ViewCountMiddleware:
    """Counts the views of public pages; inside the clinic's time zone, outside the page
    cache (so its hits are counted too)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = request.resolver_match
        if (
            response.status_code == 200
            and request.method == "GET"
            and match is not None
            and _counted(getattr(match.func, "view_class", match.func))
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and is_person(request)
        ):
            record(timezone.localdate(), request.path)
        return response


# --------------------------------------------------------------------------- the buffer

# Each process counts in memory first: a view then costs a dict update, not a Redis round
# trip (which measured 20-30% of a cached page's requests/s, bench/page_speed.py). With
# Redis, a thread of the process adds them to the shared hash in one pipeline a second
# (and gunicorn's worker_exit hook on the way out: a worker killed outright loses at most
# that second); without Redis (make run, tests), the process writes its own batch to the
# database every LOCAL_FLUSH_SECONDS, as no worker can read its memory.
_local = collections.Counter()
_local_lock = threading.Lock()
_push_lock = threading.Lock()  # one push at a time: the thread's, or a flush's
_local_flushed = [time.monotonic()]
_pusher = {"pid": None}
PUSH_SECONDS = 1.0
LOCAL_FLUSH_SECONDS = 60


def _redis():
    """(redis client, buffer key) when the cache is Redis, else (None, None)."""
    backend = caches["default"]  # not ``cache``: a proxy, never an instance of RedisCache
    if isinstance(backend, RedisCache):
        key = backend.make_and_validate_key(BUFFER_KEY)
        return backend._cache.get_client(key, write=True), key
    return None, None


def record(day: datetime.date, path: str, views: int = 1) -> None:
    if len(path) > MAX_PATH:
        return
    with _local_lock:
        _local[(day, path)] += views
        due = time.monotonic() - _local_flushed[0] >= LOCAL_FLUSH_SECONDS
    if isinstance(caches["default"], RedisCache):
        if _pusher["pid"] != os.getpid():  # first view in this process (after a fork)
            _start_pusher()
    elif due:
        with contextlib.suppress(Exception):
            flush()


def _start_pusher() -> None:
    with _local_lock:
        if _pusher["pid"] == os.getpid():
            return
        _pusher["pid"] = os.getpid()

    def run():
        while True:
            time.sleep(PUSH_SECONDS)
            with contextlib.suppress(Exception):
                push()

    threading.Thread(target=run, name="view-counts", daemon=True).start()


def _take() -> collections.Counter:
    with _local_lock:
        counts = collections.Counter(_local)
        _local.clear()
        _local_flushed[0] = time.monotonic()
    return counts


def push() -> None:
    """Add this process's counts to the shared hash in Redis (one round trip)."""
    client, key = _redis()
    if client is not None:
        with _push_lock:
            _push(client, key)


def _push(client, key) -> None:
    counts = _take()
    if not counts:
        return
    with _fail_soft("count views"):  # a Redis outage loses counts, never a page
        pipe = client.pipeline(transaction=False)
        for (day, path), views in counts.items():
            pipe.hincrby(key, f"{day.isoformat()} {path}", views)
        pipe.execute()


def _drain() -> collections.Counter:
    client, key = _redis()
    if client is None:
        return _take()
    counts = collections.Counter()
    # This process's own counts first (the dashboard's, the tests'), after any push its
    # thread has under way: a flush holds every view counted here before it began.
    with _push_lock, _fail_soft("read the view counts"):
        _push(client, key)
        pipe = client.pipeline(transaction=True)  # read and empty at once: no view lost
        pipe.hgetall(key)
        pipe.delete(key)
        fields, _deleted = pipe.execute()
        for field, views in fields.items():
            day, path = field.decode().split(" ", 1)
            counts[(datetime.date.fromisoformat(day), path)] += int(views)
    return counts


def save(counts: collections.Counter) -> None:
    """Add counts to the daily rows: one UPDATE per (day, path), an INSERT for a new one."""
    from .models import PageViews

    with transaction.atomic():
        for (day, path), views in sorted(counts.items()):
            rows = PageViews.objects.filter(day=day, path=path)
            if rows.update(views=F("views") + views):
                continue
            try:
                with transaction.atomic():
                    PageViews.objects.create(day=day, path=path, views=views)
            except IntegrityError:  # another worker made the row meanwhile
                rows.update(views=F("views") + views)


def flush() -> int:
    """Write the buffered counts to the database; how many views. Put back if that fails."""
    counts = _drain()
    if not counts:
        return 0
    try:
        save(counts)
    except Exception:
        for (day, path), views in counts.items():
            record(day, path, views)
        raise
    return counts.total()


# --------------------------------------------------------------------------- nginx's views


def import_nginx_views(directory=None, settle_seconds: float | None = None) -> int:
    """Count the views nginx answered from its cache: each per-minute file left untouched
    for ``settle_seconds`` (NGINX_VIEW_LOG_SETTLE_SECONDS, 65: its minute is over) is renamed,
    counted and deleted. A file left ``.importing`` by a worker that stopped half-way is
    counted again on the next pass."""
    from .models import ClinicSettings

    directory = directory or settings.NGINX_VIEW_LOG_DIR
    if not directory:
        return 0
    if settle_seconds is None:
        settle_seconds = settings.NGINX_VIEW_LOG_SETTLE_SECONDS
    if not Path(directory).is_dir():
        if time.monotonic() - _missing_warned[0] >= 3600:  # an hour apart, not every pass
            _missing_warned[0] = time.monotonic()
            logger.warning("NGINX_VIEW_LOG_DIR %s is not a folder: no views from nginx", directory)
        return 0
    zone = ClinicSettings.load().tzinfo
    now = time.time()
    total = 0
    for path in sorted(Path(directory).iterdir()):
        if not LOG_FILE.match(path.name):
            continue
        if not path.name.endswith(".importing"):
            try:
                if now - path.stat().st_mtime < settle_seconds:
                    continue
                path = path.rename(path.with_name(path.name + ".importing"))
            except FileNotFoundError:  # another worker took it
                continue
        try:
            total += _import_file(path, zone)
        except FileNotFoundError:  # another worker counted it and deleted it
            continue
    return total


def _import_file(path: Path, zone) -> int:
    """Count one renamed file and delete it, under a lock: a second worker on this machine
    skips a file being counted, and takes over one whose worker stopped half-way."""
    with path.open(encoding="utf-8", errors="replace") as lines:
        try:
            fcntl.flock(lines, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0
        if os.fstat(lines.fileno()).st_nlink == 0:  # counted and deleted while we waited
            return 0
        counts = collections.Counter(view for view in map(_parse, lines, repeat(zone)) if view)
        save(counts)
        os.unlink(path)
    return counts.total()


def _parse(line: str, zone):
    """'2026-12-01T10:15:02-05:00 /articles/x/' -> (the clinic's date, '/articles/x/')."""
    moment, _, path = line.rstrip("\n").partition(" ")
    try:
        when = datetime.datetime.fromisoformat(moment)
        path = json.loads(f'"{path}"')  # nginx's escape=json
    except ValueError:
        return None
    if not path.startswith("/") or len(path) > MAX_PATH or when.tzinfo is None:
        return None
    return timezone.localdate(when, zone), path


# --------------------------------------------------------------------------- retention


def purge(today: datetime.date | None = None, dry_run: bool = False) -> int:
    """Delete daily rows older than VIEW_RETENTION_MONTHS; how many (would be, dry_run)."""
    from .models import ClinicSettings, PageViews

    today = today or timezone.localdate(timezone=ClinicSettings.load().tzinfo)
    year, month = divmod(today.year * 12 + today.month - 1 - settings.VIEW_RETENTION_MONTHS, 12)
    month += 1
    last_day = calendar.monthrange(year, month)[1]
    cutoff = datetime.date(year, month, min(today.day, last_day))  # 25 months ago to the day
    expired = PageViews.objects.filter(day__lt=cutoff)
    return expired.count() if dry_run else expired.delete()[0]
