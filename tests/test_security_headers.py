"""Security headers on every page type, asserted header by header.

The pages are served as production serves them (SITE_URL https://, HTTPS redirect, HSTS,
secure cookies; requests made over HTTPS). ``assert_secure`` checks what the Mozilla HTTP
Observatory grades, as plain assertions: the redirect to HTTPS, HSTS, a strict CSP, the
framing, sniffing, referrer and cross-origin headers, cookie flags, no CORS, and scripts
only from this site.
"""

import base64
import hashlib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http import HTTPStatus
from pathlib import Path

import django_prose_editor
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from clinic_site.security import PROSE_EDITOR_STYLE_HASH

from .factories import ArticleFactory, ClinicSettingsFactory, OfficeFactory, PromotionFactory

pytestmark = pytest.mark.django_db

HOST = "the-clinic.example"
PASSWORD = "a-long-enough-staff-password"
FOREIGN_ORIGIN = "https://elsewhere.example"
NONCES_HASHES = ("'sha256-", "'sha384-", "'sha512-", "'nonce-")


@dataclass
class Scan:
    """One URL as a browser sees it: the HTTPS response (headers, body, the cookies it set),
    where the same URL over plain HTTP redirected to, and the headers of an answer to a
    request from another origin."""

    url: str
    headers: dict[str, str]
    set_cookies: list[str] = field(default_factory=list)
    body: str = ""
    http_redirect: str | None = None
    cors_probe_headers: dict[str, str] = field(default_factory=dict)
    status: int = HTTPStatus.OK

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), "")


def parse_csp(header: str) -> dict[str, set[str]]:
    """Directive -> sources (keywords lower-cased; nonces and hashes as they are)."""
    policy: dict[str, set[str]] = {}
    for part in header.split(";"):
        name, *sources = part.split() or [""]
        if name:
            assert name.lower() not in policy, f"{name} twice: browsers ignore the second"
            policy[name.lower()] = {
                s if s.startswith(NONCES_HASHES) else s.lower() for s in sources
            }
    return policy


class _ScriptTags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append(dict(attrs))


def assert_secure(scan: Scan) -> None:
    """What the Observatory grades, each as an assertion: any miss is a failure."""
    assert scan.http_redirect == scan.url, "plain HTTP must redirect to the same HTTPS URL"
    hsts = scan.header("Strict-Transport-Security")
    assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31536000, hsts
    csp = parse_csp(scan.header("Content-Security-Policy"))
    assert csp.get("default-src") == {"'self'"}, csp
    assert csp.get("frame-ancestors") == {"'none'"}, csp
    assert csp.get("object-src") == {"'none'"}, csp
    assert csp.get("form-action") == {"'self'"}, csp
    assert csp.get("base-uri") in ({"'none'"}, {"'self'"}), csp
    unsafe = {"'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:", "data:"}
    for directive in ("script-src", "style-src"):
        assert not csp.get(directive, csp["default-src"]) & unsafe, (directive, csp)
    # Nothing from another host, in any directive (a base64 nonce or hash may contain "//").
    hosts = [s for v in csp.values() for s in v if not s.startswith(NONCES_HASHES)]
    assert not [s for s in hosts if "." in s or "//" in s], csp
    assert scan.header("X-Frame-Options") == "DENY"
    assert scan.header("X-Content-Type-Options") == "nosniff"
    assert scan.header("Referrer-Policy") == "same-origin"
    assert scan.header("Cross-Origin-Opener-Policy") == "same-origin"
    assert scan.header("Cross-Origin-Resource-Policy") == "same-origin"
    permissions = scan.header("Permissions-Policy")
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in permissions, permissions
    for cookie in scan.set_cookies:
        flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
        assert {"secure", "samesite"} <= flags, cookie
        if re.search("sess|login", cookie.split("=")[0], re.I):  # the Observatory's test
            assert "httponly" in flags, cookie
    assert not scan.cors_probe_headers.get("Access-Control-Allow-Origin"), "no CORS"
    parser = _ScriptTags()
    parser.feed(scan.body)
    foreign = [s["src"] for s in parser.scripts if re.match(r"^(\w+:)?//", s.get("src", ""))]
    assert foreign == [], "scripts only from this site"


# --------------------------------------------------------------------------------------
# The site, served as production serves it
# --------------------------------------------------------------------------------------


@pytest.fixture
def production(settings):
    """HTTPS settings as SITE_URL=https://... gives them in clinic_site/settings.py."""
    settings.SITE_URL = f"https://{HOST}"
    settings.ALLOWED_HOSTS = [HOST]
    settings.CSRF_TRUSTED_ORIGINS = [f"https://{HOST}"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    return settings


@pytest.fixture
def content():
    ClinicSettingsFactory()
    office = OfficeFactory()
    return {
        "article": ArticleFactory(),
        "office": office,
        "promotion": PromotionFactory(),
    }


def fetch(client, path, **extra) -> Scan:
    """GET ``path`` over HTTPS, over HTTP (for the redirect), and from another origin."""
    plain = client.get(path, HTTP_HOST=HOST, secure=False)
    response = client.get(path, HTTP_HOST=HOST, secure=True, **extra)
    probe = client.get(path, HTTP_HOST=HOST, secure=True, HTTP_ORIGIN=FOREIGN_ORIGIN)
    return scan_of(response, path, plain=plain, probe=probe)


def scan_of(response, path, plain=None, probe=None, set_cookies=()) -> Scan:
    redirect = None
    if plain is not None and plain.status_code in (301, 302, 307, 308):
        redirect = plain["Location"]
    body = b"" if getattr(response, "streaming", False) else response.content
    return Scan(
        url=f"https://{HOST}{path}",
        headers=dict(response.headers),
        set_cookies=[*set_cookies, *(m.OutputString() for m in response.cookies.values())],
        body=body.decode(errors="replace"),
        http_redirect=redirect,
        cors_probe_headers=dict(probe.headers) if probe is not None else {},
        status=response.status_code,
    )


PUBLIC_PAGES = {
    "home": lambda c: "/",
    "article list": lambda c: reverse("pages:article_list"),
    "article": lambda c: c["article"].get_absolute_url(),
    "office list": lambda c: reverse("pages:office_list"),
    "office": lambda c: c["office"].get_absolute_url(),
    "promotion": lambda c: c["promotion"].get_absolute_url(),
    "consultation form": lambda c: reverse("contact:request"),
    "thanks": lambda c: reverse("contact:thanks"),
    "privacy notice": lambda c: reverse("contact:privacy"),
    "404": lambda c: "/no-such-page/",
    "sitemap.xml": lambda c: "/sitemap.xml",
    "robots.txt": lambda c: "/robots.txt",
    "admin login": lambda c: reverse("admin:login"),
}
EXPECTED_STATUS = {"404": HTTPStatus.NOT_FOUND}


@pytest.mark.parametrize("name", list(PUBLIC_PAGES))
def test_every_public_page_type_sends_every_security_header(client, production, content, name):
    scan = fetch(client, PUBLIC_PAGES[name](content))
    assert scan.status == EXPECTED_STATUS.get(name, HTTPStatus.OK)
    assert_secure(scan)
    assert "nonce-" not in scan.header("Content-Security-Policy")  # cached pages: no nonce


def login(client) -> list[str]:
    """Log in through the admin's own login form over HTTPS; the cookies it set."""
    get_user_model().objects.create_superuser("staff", "staff@example.com", PASSWORD)
    url = reverse("admin:login")
    client.get(url, HTTP_HOST=HOST, secure=True)
    response = client.post(
        url,
        {"username": "staff", "password": PASSWORD, "next": reverse("admin:index")},
        HTTP_HOST=HOST,
        secure=True,
    )
    assert response.status_code == HTTPStatus.FOUND, response.content[:500]
    return [m.OutputString() for m in response.cookies.values()]


@pytest.mark.usefixtures("fast_password_hasher")
@pytest.mark.parametrize("page", ["index", "article add", "article change", "office change"])
def test_admin_pages_send_every_security_header_and_safe_cookies(client, production, content, page):
    cookies = login(client)
    assert any(c.startswith("sessionid=") for c in cookies)
    path = {
        "index": reverse("admin:index"),
        "article add": reverse("admin:pages_article_add"),
        "article change": reverse("admin:pages_article_change", args=[content["article"].pk]),
        "office change": reverse("admin:pages_office_change", args=[content["office"].pk]),
    }[page]
    plain = client.get(path, HTTP_HOST=HOST, secure=False)
    response = client.get(path, HTTP_HOST=HOST, secure=True)
    assert response.status_code == HTTPStatus.OK
    assert_secure(scan_of(response, path, plain=plain, set_cookies=cookies))


@pytest.mark.usefixtures("fast_password_hasher")
def test_prose_editor_page_gets_a_nonce_for_its_import_map_and_nothing_else_inline(
    admin_client, content
):
    response = admin_client.get(reverse("admin:pages_article_change", args=[content["article"].pk]))
    csp = parse_csp(response["Content-Security-Policy"])
    nonces = [s for s in csp["script-src"] if s.startswith("'nonce-")]
    assert len(nonces) == 1
    nonce = nonces[0][len("'nonce-") : -1]
    parser = _ScriptTags()
    parser.feed(response.content.decode())
    inline = [s for s in parser.scripts if "src" not in s]
    assert inline and all(s.get("type") == "importmap" for s in inline)
    assert all(s.get("nonce") == nonce for s in inline)
    assert csp["style-src"] == {"'self'", PROSE_EDITOR_STYLE_HASH}
    # A second response gets a fresh nonce.
    again = admin_client.get(reverse("admin:pages_article_add"))
    assert nonce not in again["Content-Security-Policy"]
    assert "'nonce-" in again["Content-Security-Policy"]
    # Admin pages without the editor get neither.
    index = admin_client.get(reverse("admin:index"))
    assert "nonce-" not in index["Content-Security-Policy"]
    assert "sha256-" not in index["Content-Security-Policy"]


def test_prose_editor_style_hash_matches_the_installed_editor():
    """The hash allows exactly the <style> text Tiptap injects (see clinic_site/security.py)."""
    editor_js = (
        Path(django_prose_editor.__file__).parent / "static/django_prose_editor/editor.js"
    ).read_text()
    css = re.search(r"=`(\.ProseMirror \{.*?)`", editor_js, re.DOTALL).group(1)
    assert "\\" not in css and "${" not in css  # the literal's text is the string itself
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"'sha256-{digest}'" == PROSE_EDITOR_STYLE_HASH


def test_a_page_cache_hit_carries_the_same_security_headers(client, production, content):
    path = content["article"].get_absolute_url()
    miss = client.get(path, HTTP_HOST=HOST, secure=True)
    hit = client.get(path, HTTP_HOST=HOST, secure=True)
    assert (miss.page_cache, hit.page_cache) == ("miss", "hit")
    names = [
        "Content-Security-Policy",
        "Permissions-Policy",
        "Cross-Origin-Resource-Policy",
        "Cross-Origin-Opener-Policy",
        "Strict-Transport-Security",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
    ]
    for name in names:
        assert hit[name] == miss[name], name
    plain = client.get(path, HTTP_HOST=HOST, secure=False)
    assert_secure(scan_of(hit, path, plain=plain))
    # The CSP is not part of the stored entry: the middleware sets it on every response,
    # so a changed policy applies to pages already in the cache.
    production.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    later = client.get(path, HTTP_HOST=HOST, secure=True)
    assert later.page_cache == "hit"
    assert later["Content-Security-Policy"] == "default-src 'none'"
