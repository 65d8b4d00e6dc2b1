"""TRUSTED_PROXIES: X-Forwarded-For and X-Forwarded-Proto are believed from those peers only.

First ``client_ip_address`` (a table, and hypothesis for any header text), X-Forwarded-Proto
and the settings; then one real gunicorn (2 workers, the production config, TRUSTED_PROXIES
left empty) on a migrated SQLite file, reached directly from several loopback addresses:
spoofed X-Forwarded-For values neither dodge the consultation form's rate limit or the
admin lockout nor lock another address out, and the form's limit holds across both
workers and their restart without Redis. The nginx side: tests/test_deploy_stack.py.
"""

import ipaddress
import os
import re
import signal
import sqlite3
import sys
import time
from collections import Counter
from http import HTTPStatus

import pytest
from django.test import RequestFactory
from hypothesis import assume, given
from hypothesis import strategies as st

from clinic_site.client_address import client_ip_address
from contact.models import ConsultationRequest

from .processes import HOST, AppServer, Browser, form_fields, replace_field
from .smtp_server import free_port
from .test_consultation_form import form_data
from .test_production import demo_site_env, production_env, run, settings_in

CONSULTATION = "/consultation/"


def networks(*values: str) -> list:
    return [ipaddress.ip_network(value, strict=False) for value in values]


def address_of(peer: str, forwarded: str | None = None) -> str | None:
    meta = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip_address(RequestFactory().get("/", **meta))


# --- client_ip_address ----------------------------------------------------------------

NGINX = ["127.0.0.1", "::1"]
CHAIN = ["10.0.0.0/8"]  # a load balancer and nginx, both on the private network
CASES = [
    # (trusted proxies, peer, X-Forwarded-For, the client's address)
    # An untrusted peer is the client, whatever it sends.
    ([], "203.0.113.7", "198.51.100.1", "203.0.113.7"),
    ([], "127.0.0.1", "198.51.100.1", "127.0.0.1"),
    (NGINX, "127.0.0.2", "198.51.100.1", "127.0.0.2"),  # loopback, but not nginx's address
    (CHAIN, "203.0.113.7", "10.0.0.2, 198.51.100.1", "203.0.113.7"),
    # A trusted peer: the entry it appended, never the client's own (on the left).
    (NGINX, "127.0.0.1", "198.51.100.1", "198.51.100.1"),
    (NGINX, "127.0.0.1", "192.0.2.66, 198.51.100.1", "198.51.100.1"),
    (NGINX, "127.0.0.1", None, "127.0.0.1"),
    (NGINX, "127.0.0.1", "", "127.0.0.1"),
    # Two proxies: the load balancer appended the client, nginx appended the balancer.
    (CHAIN, "10.0.0.3", "192.0.2.66, 198.51.100.1, 10.0.0.2", "198.51.100.1"),
    (CHAIN, "10.0.0.3", "10.9.9.9, 198.51.100.1, 10.0.0.2", "198.51.100.1"),
    (CHAIN, "10.0.0.3", "10.0.0.5, 10.0.0.2", "10.0.0.5"),  # all trusted: the left-most
    # Not an address where a proxy wrote: the nearest trusted hop, nothing a client chose.
    (CHAIN, "10.0.0.3", "198.51.100.1, unknown", "10.0.0.3"),
    (CHAIN, "10.0.0.3", "198.51.100.1, not-an-ip, 10.0.0.2", "10.0.0.2"),
    (CHAIN, "10.0.0.3", "198.51.100.1,, 10.0.0.2", "10.0.0.2"),
    (CHAIN, "10.0.0.3", "garbage, 198.51.100.1", "198.51.100.1"),  # left of the client
    (NGINX, "127.0.0.1", "198.51.100.1, 300.1.1.1", "127.0.0.1"),
    (NGINX, "127.0.0.1", "198.51.100.1\x00", "127.0.0.1"),
    # IPv6, ports, brackets, dual-stack sockets.
    (NGINX, "::1", "2001:db8::1", "2001:db8::1"),
    (NGINX, "::1", "2001:DB8:0:0::1", "2001:db8::1"),
    (["fd00::/8"], "fd00::3", "2001:db8::7, fd00::2", "2001:db8::7"),
    (NGINX, "2001:db8::9", "2001:db8::1", "2001:db8::9"),
    (NGINX, "::ffff:127.0.0.1", "198.51.100.1", "198.51.100.1"),
    (NGINX, "127.0.0.1", "::ffff:198.51.100.1", "198.51.100.1"),
    (NGINX, "127.0.0.1", "198.51.100.1:5555", "198.51.100.1"),
    (NGINX, "127.0.0.1", "[2001:db8::1]:443", "2001:db8::1"),
    (NGINX, "127.0.0.1", "[2001:db8::1]", "2001:db8::1"),
    (NGINX, "127.0.0.1", "[2001:db8::1", "127.0.0.1"),
    (NGINX, "127.0.0.1", "198.51.100.1:http", "127.0.0.1"),
    # No peer address (a unix socket): nothing to trust.
    (NGINX, "", "198.51.100.1", ""),
]


@pytest.mark.parametrize(("trusted", "peer", "forwarded", "client"), CASES)
def test_client_address(settings, trusted, peer, forwarded, client):
    settings.TRUSTED_PROXIES = networks(*trusted)
    assert address_of(peer, forwarded) == client


# Hypothesis: the header is anything a client may send.
header_text = st.text(max_size=200) | st.lists(
    st.sampled_from(["10.0.0.2", "127.0.0.1", "::1", "[::1]:80", "198.51.100.9", " ", "x"])
    | st.text(max_size=20),
    max_size=8,
).map(", ".join)
some_trusted = st.lists(st.sampled_from(NGINX + CHAIN + ["fd00::/8", "0.0.0.0/0"]), max_size=3)


@given(trusted=some_trusted, peer=header_text, forwarded=header_text)
def test_no_header_value_raises(settings, trusted, peer, forwarded):
    settings.TRUSTED_PROXIES = networks(*trusted)
    found = address_of(peer, forwarded)
    # The peer as given, or an address (normalised) read from the peer or the header.
    assert found == peer or found == str(ipaddress.ip_address(found))


@given(
    client=st.ip_addresses().filter(lambda a: a.version == 4 or not a.ipv4_mapped),
    sent=header_text,
    proxy=st.sampled_from(NGINX),
)
def test_behind_nginx_the_address_nginx_appended_counts_whatever_the_client_sent(
    settings, client, sent, proxy
):
    """nginx appends the address it saw ($proxy_add_x_forwarded_for) to whatever the client
    sent: that address, and only that one, is the client's."""
    settings.TRUSTED_PROXIES = networks(*NGINX)
    assume(str(client) not in NGINX)
    forwarded = f"{sent}, {client}" if sent else str(client)
    assert address_of(proxy, forwarded) == str(client)


@given(peer=st.ip_addresses(v=4), sent=header_text)
def test_a_client_that_is_not_a_trusted_proxy_is_its_own_address(settings, peer, sent):
    settings.TRUSTED_PROXIES = networks(*CHAIN)
    assume(peer not in settings.TRUSTED_PROXIES[0])
    assert address_of(str(peer), sent) == str(peer)


# --- X-Forwarded-Proto ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("clinic")
def test_x_forwarded_proto_counts_only_from_a_trusted_proxy(client, settings):
    """As on an https SITE_URL behind nginx: HTTPS redirect on, the header configured."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXIES = networks(*NGINX)
    direct = client.get("/", REMOTE_ADDR="127.0.0.2", HTTP_X_FORWARDED_PROTO="https")
    assert direct.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert direct["Location"] == "https://testserver/"
    through_nginx = client.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    assert through_nginx.status_code == HTTPStatus.OK
    plain = client.get("/", REMOTE_ADDR="::1", HTTP_X_FORWARDED_PROTO="http")
    assert plain.status_code == HTTPStatus.MOVED_PERMANENTLY


# --- settings ------------------------------------------------------------------------


def settings_error(env) -> str:
    """The error output of a process that loads the settings with ``env`` (it must fail)."""
    result = run([sys.executable, "-c", "import django; django.setup()"], env)
    assert result.returncode != 0, result.stdout
    return result.stderr


def test_trusted_proxies_are_parsed_and_switch_on_the_proxy_ssl_header():
    seen = settings_in(production_env(TRUSTED_PROXIES="127.0.0.1, ::1,10.1.2.3/8"))
    assert seen["TRUSTED_PROXIES"] == ["127.0.0.1/32", "::1/128", "10.0.0.0/8"]
    assert seen["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    seen = settings_in(production_env(TRUSTED_PROXIES=""))
    assert seen["TRUSTED_PROXIES"] == []
    assert seen["SECURE_PROXY_SSL_HEADER"] is None


def test_an_invalid_trusted_proxy_stops_everything_naming_it():
    stderr = settings_error(production_env(TRUSTED_PROXIES="127.0.0.1,10.0.0.300/8"))
    assert "ImproperlyConfigured" in stderr
    assert "TRUSTED_PROXIES: '10.0.0.300/8' is not an IP address or network" in stderr


@pytest.mark.parametrize("value", ["1", "0"])
def test_the_old_switch_stops_everything_saying_what_replaces_it(value):
    """Ignored, it would leave TRUSTED_PROXIES empty: every visitor behind nginx would share
    nginx's address (one rate limit, one lockout for all)."""
    stderr = settings_error(production_env(DJANGO_TRUST_PROXY_HEADERS=value))
    assert "ImproperlyConfigured: DJANGO_TRUST_PROXY_HEADERS is gone" in stderr
    assert "TRUSTED_PROXIES=127.0.0.1,::1" in stderr


# --- the consultation form's rate limit, behind a trusted proxy (test client) --------


@pytest.mark.django_db
@pytest.mark.usefixtures("clinic")
def test_behind_the_proxy_each_visitor_has_their_own_rate_limit(client, settings):
    """Every request comes from nginx (127.0.0.1): the limit counts the address nginx
    appended to X-Forwarded-For, never one a visitor sent or nginx's own."""
    settings.TRUSTED_PROXIES = networks(*NGINX)

    def post(forwarded, peer="127.0.0.1"):
        return client.post(
            CONSULTATION, form_data(), REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded
        ).status_code

    # The visitor makes up a different left-hand entry each time: it does not count.
    statuses = [post(f"203.0.113.{n}, 198.51.100.20") for n in range(6)]
    assert statuses == [HTTPStatus.FOUND] * 5 + [HTTPStatus.TOO_MANY_REQUESTS]
    # Someone reaching the app directly and naming another visitor is counted as itself.
    statuses = [post("198.51.100.21", peer="192.0.2.50") for n in range(6)]
    assert statuses == [HTTPStatus.FOUND] * 5 + [HTTPStatus.TOO_MANY_REQUESTS]
    # That other visitor, behind the same nginx, is held back by neither.
    assert post("198.51.100.21") == HTTPStatus.FOUND
    assert ConsultationRequest.objects.count() == 11


# --- one real gunicorn, reached directly ----------------------------------------------

USERNAME = "frontdesk"
PASSWORD = "a-long-staff-passphrase-42"
LOGIN = "/admin/login/"
LOCKED_TEXT = "Login locked for now"
# Past the limit (5) many times over; each spoofed value is new, so 100 prove what 500 did.
SPOOFED_POSTS = 100


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """gunicorn -c clinic_site/gunicorn.conf.py, 2 workers, TRUSTED_PROXIES unset, DEBUG off,
    on a migrated SQLite file with the demo content and one staff user; no Redis."""
    tmp = tmp_path_factory.mktemp("trusted-proxies")
    port = free_port()
    superuser = ["createsuperuser", "--noinput", "--username", USERNAME, "--email", "fd@x.org"]
    env = demo_site_env(tmp, port)
    env["DJANGO_SUPERUSER_PASSWORD"] = PASSWORD
    done = run([sys.executable, "manage.py", *superuser], env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    app = AppServer(env, port, tmp / "gunicorn.log", workers=2).start()
    try:
        app.wait_until_ready()
        app.database = tmp / "db.sqlite3"
        yield app
    finally:
        app.stop(grace=10)
        print(app.tail())


def stored_requests(database) -> int:
    with sqlite3.connect(database) as connection:
        return connection.execute("select count(*) from contact_consultationrequest").fetchone()[0]


def log_in(browser: Browser, password: str, forwarded: str):
    """The admin login as a browser sends it (the CSRF cookie and token from the page)."""
    page = browser.get(LOGIN)
    assert page.status == HTTPStatus.OK, page.text[-2000:]
    fields = replace_field(form_fields(page.text, "login-form"), "username", USERNAME)
    fields = replace_field(fields, "password", password)
    return browser.post(LOGIN, fields, headers={"X-Forwarded-For": forwarded})


def locked(response) -> bool:
    return response.status == HTTPStatus.TOO_MANY_REQUESTS and LOCKED_TEXT in response.text


def test_rotating_x_forwarded_for_does_not_dodge_the_admin_lockout(server):
    attacker = Browser(server.port, source="127.0.0.3")
    answers = [log_in(attacker, "wrong-password", f"198.51.100.{n}") for n in range(5)]
    assert [locked(answer) for answer in answers] == [False] * 4 + [True]
    assert all(answer.status == HTTPStatus.OK for answer in answers[:4])
    right_password = log_in(attacker, PASSWORD, "198.51.100.77")
    assert locked(right_password)
    assert "sessionid" not in attacker.cookies


def test_x_forwarded_for_cannot_lock_another_address_out(server):
    attacker = Browser(server.port, source="127.0.0.4")
    answers = [log_in(attacker, "wrong-password", "127.0.0.2") for _ in range(5)]
    assert locked(answers[-1])  # the failures counted: against the attacker's own address
    victim = Browser(server.port, source="127.0.0.2")
    response = log_in(victim, PASSWORD, "127.0.0.2")
    assert response.status == HTTPStatus.FOUND, response.text[-2000:]
    assert "sessionid" in victim.cookies


def test_a_client_cannot_claim_https_through_gunicorn(server):
    """With TRUSTED_PROXIES empty neither gunicorn nor the app believes X-Forwarded-Proto,
    even from 127.0.0.1. Seen through CSRF: a request taken for HTTPS would accept an
    https:// Origin for this host; a plain-HTTP one refuses it as another site's."""
    browser = Browser(server.port)  # from 127.0.0.1
    page = browser.get(LOGIN)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    claimed = browser.post(
        LOGIN,
        {"csrfmiddlewaretoken": token},
        headers={"X-Forwarded-Proto": "https", "Origin": f"https://{HOST}:{server.port}"},
    )
    assert claimed.status == HTTPStatus.FORBIDDEN
    honest = browser.post(LOGIN, {"csrfmiddlewaretoken": token})
    assert honest.status == HTTPStatus.OK  # the same request with its own origin is fine


def test_spoofed_x_forwarded_for_values_do_not_dodge_the_form_limit(server, capsys):
    """(c) 100 POSTs from one client, a new made-up X-Forwarded-For each: 5 stored."""
    visitor = Browser(server.port, source="127.0.0.5")
    page = visitor.get(CONSULTATION)
    assert page.status == HTTPStatus.OK
    fields = dict(form_fields(page.text, "consultation-form"))
    fields.update(
        name="Pat Example",
        phone="(860) 555-0123",
        email="pat@example.com",
        contact_method="phone",
        message="Sore shoulder after tennis",
        consent="on",
    )
    before = stored_requests(server.database)
    statuses = Counter()
    started = time.monotonic()
    for n in range(SPOOFED_POSTS):
        spoofed = f"198.{18 + n // 65536}.{n // 256 % 256}.{n % 256}"
        response = visitor.post(CONSULTATION, fields, headers={"X-Forwarded-For": spoofed})
        statuses[response.status] += 1
    stored = stored_requests(server.database) - before
    with capsys.disabled():
        print(
            f"\n(c) {SPOOFED_POSTS} POSTs from one client straight to gunicorn, a new spoofed "
            f"X-Forwarded-For each: {stored} stored, {statuses[HTTPStatus.TOO_MANY_REQUESTS]} "
            f"refused (429), in {time.monotonic() - started:.1f} s; all answers: {dict(statuses)}"
        )
    assert stored == 5
    assert statuses == {HTTPStatus.FOUND: 5, HTTPStatus.TOO_MANY_REQUESTS: SPOOFED_POSTS - 5}


def test_the_form_limit_holds_across_workers_and_a_restart_without_redis(server):
    """(b) No shared cache: the count lives in the database, so neither the other worker
    nor a reload of every worker (SIGHUP, as a deploy does) forgets it."""
    visitor = Browser(server.port, source="127.0.0.6")
    fields = dict(form_fields(visitor.get(CONSULTATION).text, "consultation-form"))
    fields.update(name="Pat Example", phone="(860) 555-0123", consent="on")
    before = stored_requests(server.database)

    def post():
        return visitor.post(CONSULTATION, fields).status

    statuses = [post() for _ in range(3)]
    booted = server.output().count("Booting worker")
    os.kill(server.pid, signal.SIGHUP)  # gunicorn replaces both workers
    deadline = time.monotonic() + 60
    while server.output().count("Booting worker") < booted + 2:
        assert time.monotonic() < deadline, server.tail()
        time.sleep(0.1)
    server.wait_until_ready()
    statuses += [post() for _ in range(3)]
    assert statuses == [HTTPStatus.FOUND] * 5 + [HTTPStatus.TOO_MANY_REQUESTS]
    assert stored_requests(server.database) - before == 5
