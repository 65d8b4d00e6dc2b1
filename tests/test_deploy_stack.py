"""docs/deploy.md, followed on loopback (tests/deploy_stack.py) and checked through nginx.

The stack comes up once for the module: a fresh PostgreSQL database, Redis under its own
key prefix, two ``gunicorn -c clinic_site/gunicorn.conf.py`` and the notification worker
from the Procfile plus nginx with deploy/nginx/clinic.conf, all under honcho. Each test is
one of the guide's promises; the teardown checks that nothing is left behind. Skipped,
saying what is missing, without nginx, openssl, PostgreSQL (``STACK_POSTGRES_URL``, else
``TEST_DATABASE_URL``, else 127.0.0.1:5432) or Redis (``STACK_REDIS_URL``, else database
14 on 127.0.0.1:6379). About a minute.
"""

import datetime
import re
import socket
import time
import zoneinfo
from collections import Counter
from pathlib import Path

import psycopg
import pytest
import redis

from clinic_site import visits
from tests import deploy_stack
from tests.deploy_stack import ADMIN_USER, HOST, Stack
from tests.processes import Browser, form_fields, manage

MISSING = deploy_stack.unavailable()
pytestmark = [
    pytest.mark.skipif(bool(MISSING), reason="deploy stack needs: " + "; ".join(MISSING)),
    pytest.mark.one_pass,  # its own PostgreSQL and Redis, whatever the suite's pass
]

PAGES = {
    "home": "/",
    "article": "/articles/what-is-dry-needling/",
    "office": "/offices/bloomfield/",
}
# Requested first by the proxy-cache test, so that its first request is a miss.
FRESH_ARTICLE = "/articles/understanding-dry-needling-back-shoulder-pain/"
SPOOFED_POSTS = 500  # from one visitor, each with a new made-up X-Forwarded-For
# Requested by the page-view test only, so that its first request is a miss.
COUNTED_PAGE = "/services/physical-therapy/"
PERSON = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Accept-Language": "en-US,en;q=0.9",
}
NOT_VIEWS = [  # a crawler that says so, a script, a browser's prerender
    {
        **PERSON,
        "User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    },
    {"User-Agent": "curl/7.88.1"},
    {**PERSON, "Sec-Purpose": "prefetch;prerender"},
]
PATIENT = {
    "phone": "(860) 555-0100",
    "contact_method": "phone",
    "best_time": "morning",
    "message": "Knee pain after running.",
    "consent": "on",
}


@pytest.fixture(scope="module")
def stack():
    with Stack() as stack:
        yield stack
    assert leftovers(stack) == []


def leftovers(stack) -> list[str]:
    """The folder, database, Redis keys and listening ports still there after teardown."""
    left = [str(stack.tmp)] if stack.tmp.exists() else []
    name = stack.database_url.rsplit("/", 1)[-1]
    with psycopg.connect(deploy_stack.POSTGRES_URL, connect_timeout=10) as connection:
        query = "select datname from pg_database where datname = %s"
        left += [row[0] for row in connection.execute(query, (name,))]
    client = redis.Redis.from_url(deploy_stack.REDIS_URL, socket_connect_timeout=5)
    left += [key.decode() for key in client.scan_iter(match=f"{stack.redis_prefix}:*")]
    client.close()
    for port in [stack.https_port, stack.http_port, *stack.app_ports]:
        with socket.socket() as sock:
            if sock.connect_ex((HOST, port)) == 0:
                left.append(f"port {port}")
    return left


def test_check_deploy_reports_nothing(stack):
    output = manage(stack.env, "check", "--deploy", "--fail-level", "WARNING")
    assert "no issues" in output


def test_plain_http_redirects_to_https(stack):
    response = Browser(stack.http_port).get("/offices/")
    assert (response.status, response.header("Location")) == (301, f"https://{HOST}/offices/")


def test_pages_through_nginx(stack):
    # 200, not a redirect loop: the app believes nginx's X-Forwarded-Proto.
    browser = stack.browser()
    assert {name: browser.get(path).status for name, path in PAGES.items()} == dict.fromkeys(
        PAGES, 200
    )


def requests_for(stack, prefix: str) -> list[str]:
    return [r for port in stack.app_ports for r in stack.app_requests(port) if prefix in r]


def test_static_file_from_nginx(stack):
    browser = stack.browser()
    home = browser.get("/").text
    path = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', home).group(1)
    plain = browser.get(path)
    gzipped = browser.get(path, headers={"Accept-Encoding": "gzip"})
    on_disk = stack.static_root / path.removeprefix("/static/")
    assert plain.status == 200 and plain.body == on_disk.read_bytes()
    assert "immutable" in ", ".join(plain.headers.get_all("Cache-Control"))
    assert gzipped.header("Content-Encoding") == "gzip"
    assert int(gzipped.header("Content-Length")) == Path(f"{on_disk}.gz").stat().st_size
    assert requests_for(stack, "/static/") == []


def test_media_file_from_nginx(stack):
    browser = stack.browser()
    article = browser.get(PAGES["article"]).text
    path = re.search(r'(/media/[^"\s,]+\.(?:webp|jpg|jpeg|png))', article).group(1)
    response = browser.get(path)
    assert response.status == 200
    assert response.header("Content-Type").startswith("image/")
    assert requests_for(stack, "/media/") == []


def test_second_article_request_is_a_proxy_cache_hit(stack):
    browser = stack.browser()
    first, second = browser.get(FRESH_ARTICLE), browser.get(FRESH_ARTICLE)
    assert (first.status, second.status) == (200, 200)
    assert [first.header("X-Cache-Status"), second.header("X-Cache-Status")] == ["MISS", "HIT"]
    assert first.body == second.body
    assert not second.headers.get_all("Set-Cookie")
    # The app's X-Accel-Expires is for nginx only.
    assert first.header("X-Accel-Expires") == second.header("X-Accel-Expires") == ""


def test_a_page_that_sets_a_cookie_is_never_cached(stack):
    responses = [stack.browser().get("/admin/login/") for _ in range(3)]
    assert [r.status for r in responses] == [200] * 3
    assert all(r.headers.get_all("Set-Cookie") for r in responses)
    assert "HIT" not in [r.header("X-Cache-Status") for r in responses]


def test_logged_in_requests_bypass_the_proxy_cache(stack):
    anonymous = stack.browser()
    anonymous.get(PAGES["article"])  # now in nginx's cache for PROXY_CACHE_SECONDS
    staff = stack.browser()
    login = staff.get("/admin/login/")
    fields = dict(form_fields(login.text, "login-form"))
    fields.update(username=ADMIN_USER, password=stack.admin_password, next="/admin/")
    logged_in = staff.post("/admin/login/", fields, headers={"Referer": f"{staff.origin}/"})
    assert logged_in.status == 302 and "sessionid" in staff.cookies
    article, admin = staff.get(PAGES["article"]), staff.get("/admin/")
    assert [article.header("X-Cache-Status"), admin.header("X-Cache-Status")] == ["BYPASS"] * 2
    assert "Log out" in admin.text
    assert article.header("X-Page-Cache") == ""  # nor from the app's page cache
    assert anonymous.get(PAGES["article"]).header("X-Cache-Status") == "HIT"


def test_consultation_stored_and_mailed_by_the_worker(stack):
    browser = stack.browser()
    fields = dict(form_fields(browser.get("/consultation/").text, "consultation-form"))
    fields.update(PATIENT, name="Stack Patient", email="stack-patient@example.com")
    before = stack.sql("select coalesce(max(id), 0) from contact_consultationrequest")[0][0]
    response = browser.post("/consultation/", fields)
    assert response.status == 302 and "/thanks/" in response.header("Location")
    [(request_id, status)] = stack.sql(
        "select id, status from contact_consultationrequest where id > %s", before
    )
    assert status != "spam"
    deadline = time.monotonic() + 30  # the worker polls every 5 s
    while not any(f"#{request_id} sent" in line for line in stack.output("worker.1")):
        assert time.monotonic() < deadline, stack.output("worker.1")
        time.sleep(0.2)
    [mail] = [m for m in stack.smtp.staff_notifications() if m.request_id == request_id]
    assert "frontdesk@example.com" in mail.rcpt_tos
    assert f"{browser.origin}/admin/contact/consultationrequest/{request_id}/" in mail.text
    query = "select notified_at is not null from contact_consultationrequest where id = %s"
    assert stack.sql(query, request_id) == [(True,)]


def test_each_visitor_has_their_own_rate_limit_whatever_x_forwarded_for_says(stack):
    """Visitor A (127.0.0.2) sends the form with a new made-up X-Forwarded-For each time, B
    (127.0.0.3) once, naming A's address. nginx appends each one's own address, the only
    entry the app believes (TRUSTED_PROXIES is nginx's 127.0.0.1). C (127.0.0.4) goes
    straight to an app server claiming HTTPS: believed by no one, it is redirected away."""
    page = stack.browser().get("/consultation/").text
    fields = {**dict(form_fields(page, "consultation-form")), **PATIENT}
    before = stack.sql("select coalesce(max(id), 0) from contact_consultationrequest")[0][0]
    a, b = stack.browser(source="127.0.0.2"), stack.browser(source="127.0.0.3")
    a_statuses = Counter(
        a.post(
            "/consultation/",
            {**fields, "name": "Visitor A"},
            headers={"X-Forwarded-For": f"198.18.{n // 256}.{n % 256}"},
        ).status
        for n in range(SPOOFED_POSTS)
    )
    b_post = b.post(
        "/consultation/", {**fields, "name": "Visitor B"}, headers={"X-Forwarded-For": "127.0.0.2"}
    )
    c = Browser(stack.app_ports[0], source="127.0.0.4")
    headers = {"X-Forwarded-Proto": "https", "Origin": a.origin}
    c_statuses = Counter(
        c.post("/consultation/", {**fields, "name": "Visitor C"}, headers=headers).status
        for _ in range(3)
    )
    stored = stack.sql(
        "select name, count(*) from contact_consultationrequest where id > %s group by name",
        before,
    )
    assert a_statuses == {302: 5, 429: SPOOFED_POSTS - 5}
    assert b_post.status == 302
    assert c_statuses == {301: 3}
    assert dict(stored) == {"Visitor A": 5, "Visitor B": 1}


def test_both_app_servers_serve_requests_through_nginx(stack):
    browser = stack.browser()
    for _ in range(6):  # never cached, so each one reaches an app server
        assert browser.get("/consultation/").status == 200
    served = {port: len(stack.app_requests(port)) for port in stack.app_ports}
    assert all(served.values()), served
    access_log = (stack.tmp / "nginx" / "access.log").read_text()
    assert set(re.findall(r"upstream=(\S+)", access_log)) - {"-"} == {
        f"{HOST}:{port}" for port in stack.app_ports
    }


def test_page_views_counted_once_whether_the_app_or_nginx_answers(stack):
    """A person's first view reaches the app, which counts it; nginx answers the next ones
    from its cache and writes them to its view log, which the worker imports and deletes.
    A crawler's (Googlebot), a script's (curl) and a prerender are counted by neither."""
    zone = zoneinfo.ZoneInfo(stack.sql("select time_zone from pages_clinicsettings")[0][0])
    days = {datetime.datetime.now(zone).date()}
    browser = stack.browser()
    seen = [browser.get(COUNTED_PAGE, headers=PERSON) for _ in range(5)]
    others = [browser.get(COUNTED_PAGE, headers=headers) for headers in NOT_VIEWS * 2]
    days.add(datetime.datetime.now(zone).date())  # the clinic's midnight may have passed
    assert {r.status for r in seen + others} == {200}
    assert [r.header("X-Cache-Status") for r in seen] == ["MISS"] + ["HIT"] * 4
    assert {r.header("X-Cache-Status") for r in others} == {"HIT"}
    # Counted for good once nothing waits to be: nginx's files imported and deleted, and
    # nothing left in the app's buffer (each app process hands its counts to Redis within
    # a second; the worker empties Redis before it reads the files).
    buffer = redis.Redis.from_url(deploy_stack.REDIS_URL, socket_connect_timeout=5)
    key = f"{stack.redis_prefix}:1:{visits.BUFFER_KEY}"
    deadline = time.monotonic() + 30  # the worker passes every 5 s

    def counted():
        rows = stack.sql(
            "select day, views from clinic_site_pageviews where path = %s", COUNTED_PAGE
        )
        assert {day for day, _ in rows} <= days
        return sum(views for _, views in rows)

    while (
        any(stack.view_log_dir.iterdir())
        or any(field.decode().endswith(f" {COUNTED_PAGE}") for field in buffer.hkeys(key))
        or counted() != 5
    ):
        assert time.monotonic() < deadline, (counted(), stack.output("worker.1")[-20:])
        time.sleep(0.2)
    buffer.close()
    time.sleep(2)  # a second pass of the app's thread and the worker adds nothing
    assert counted() == 5
    # nginx's log of the site does not say who asked: no address, no user agent.
    access_log = (stack.tmp / "nginx" / "access.log").read_text()
    assert f"GET {COUNTED_PAGE}" in access_log
    assert not re.search(r"\d+\.\d+\.\d+\.\d+", re.sub(r" upstream=.*", "", access_log))
    assert not re.search("Mozilla|Googlebot|curl", access_log)
