"""Security headers on every page type, graded by the Mozilla HTTP Observatory's rules.

The pages are served as production serves them (SITE_URL https://, HTTPS redirect, HSTS,
secure cookies; requests made over HTTPS), and each response is graded by a small
re-implementation of the Observatory's scoring (``observatory_score`` below). The site
must score 100 or more (A+) on every page type, admin included.
"""

import base64
import hashlib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

import django_prose_editor
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from clinic_site.security import PROSE_EDITOR_STYLE_HASH

from .factories import ArticleFactory, ClinicSettingsFactory, OfficeFactory, PromotionFactory

pytestmark = pytest.mark.django_db

HOST = "the-clinic.example"
PASSWORD = "a-long-enough-staff-password"


# --------------------------------------------------------------------------------------
# The grader
# --------------------------------------------------------------------------------------


@dataclass
class Scan:
    """What the Observatory fetches for one URL: the HTTPS response (headers, body, the
    cookies it set), and where the same URL over plain HTTP redirected to (None: no
    redirect)."""

    url: str
    headers: dict[str, str]
    set_cookies: list[str] = field(default_factory=list)
    body: str = ""
    http_redirect: str | None = None
    # The Observatory also sends Origin: https://http-observatory.security.mozilla.org
    cors_probe_headers: dict[str, str] = field(default_factory=dict)
    status: int = HTTPStatus.OK

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


# Modifiers from the MDN HTTP Observatory's score table (src/grader/charts.js).
MODIFIERS = {
    "csp-implemented-with-no-unsafe-default-src-none": 10,
    "csp-implemented-with-no-unsafe": 5,
    "csp-implemented-with-unsafe-inline-in-style-src-only": 0,
    "csp-implemented-with-insecure-scheme-in-passive-content-only": -10,
    "csp-implemented-with-unsafe-eval": -10,
    "csp-implemented-with-unsafe-inline": -20,
    "csp-implemented-with-insecure-scheme": -20,
    "csp-header-invalid": -25,
    "csp-not-implemented": -25,
    "cookies-secure-with-httponly-sessions-and-samesite": 5,
    "cookies-secure-with-httponly-sessions": 0,
    "cookies-not-found": 0,
    "cookies-without-secure-flag-but-protected-by-hsts": -5,
    "cookies-session-without-secure-flag-but-protected-by-hsts": -10,
    "cookies-without-secure-flag": -20,
    "cookies-samesite-flag-invalid": -20,
    "cookies-anticsrf-without-samesite-flag": -20,
    "cookies-session-without-httponly-flag": -30,
    "cookies-session-without-secure-flag": -40,
    "cross-origin-resource-sharing-not-implemented": 0,
    "cross-origin-resource-sharing-implemented-with-public-access": 0,
    "cross-origin-resource-sharing-implemented-with-restricted-access": 0,
    "cross-origin-resource-sharing-implemented-with-universal-access": -50,
    "redirection-to-https": 0,
    "redirection-off-host-from-http": -5,
    "redirection-not-to-https-on-initial-redirection": -10,
    "redirection-not-to-https": -20,
    "redirection-missing": -20,
    "referrer-policy-private": 5,
    "referrer-policy-not-implemented": 0,
    "referrer-policy-unsafe": -5,
    "referrer-policy-header-invalid": -5,
    "hsts-implemented-max-age-at-least-six-months": 0,
    "hsts-implemented-max-age-less-than-six-months": -10,
    "hsts-not-implemented": -20,
    "hsts-header-invalid": -20,
    "sri-implemented-and-all-scripts-loaded-securely": 5,
    "sri-implemented-and-external-scripts-loaded-securely": 5,
    "sri-not-implemented-response-not-html": 0,
    "sri-not-implemented-but-no-scripts-loaded": 0,
    "sri-not-implemented-but-all-scripts-loaded-from-secure-origin": 0,
    "sri-not-implemented-but-external-scripts-loaded-securely": -5,
    "sri-implemented-but-external-scripts-not-loaded-securely": -20,
    "sri-not-implemented-and-external-scripts-not-loaded-securely": -50,
    "x-content-type-options-nosniff": 0,
    "x-content-type-options-not-implemented": -5,
    "x-content-type-options-header-invalid": -5,
    "x-frame-options-implemented-via-csp": 5,
    "x-frame-options-sameorigin-or-deny": 0,
    "x-frame-options-allow-from-origin": 0,
    "x-frame-options-not-implemented": -20,
    "x-frame-options-header-invalid": -20,
    "cross-origin-resource-policy-implemented-with-same-origin": 10,
    "cross-origin-resource-policy-implemented-with-same-site": 10,
    "cross-origin-resource-policy-implemented-with-cross-origin": 0,
    "cross-origin-resource-policy-not-implemented": 0,
    "cross-origin-resource-policy-header-invalid": -5,
}
MINIMUM_SCORE_FOR_EXTRA_CREDIT = 90
DANGEROUSLY_BROAD = {"ftp:", "http:", "https:", "*", "http://*", "http://*.*", "https://*"}
DANGEROUSLY_BROAD |= {"https://*.*"}
UNSAFE_INLINE = {"'unsafe-inline'", "data:"}
NONCES_HASHES = ("'sha256-", "'sha384-", "'sha512-", "'nonce-")
SIX_MONTHS = 15_552_000  # the Observatory's "white lie" for 15768000
CORS_PROBE_ORIGIN = "https://http-observatory.security.mozilla.org"


def parse_csp(header: str) -> dict[str, set[str]] | None:
    """Directive -> sources; None when the header cannot be parsed (a directive twice)."""
    policy: dict[str, set[str]] = {}
    for part in header.split(";"):
        tokens = part.split()
        if not tokens:
            continue
        name = tokens[0].lower()
        if name in policy:
            return None
        # Keywords are case-insensitive; nonces and hashes are not.
        policy[name] = {t if t.startswith(NONCES_HASHES) else t.lower() for t in tokens[1:]}
    return policy


def grade_csp(scan: Scan) -> tuple[str, dict | None]:
    header = scan.header("Content-Security-Policy")
    if not header:
        return "csp-not-implemented", None
    csp = parse_csp(header.split(",")[0])
    if csp is None or not csp:
        return "csp-header-invalid", None
    https = urlsplit(scan.url).scheme == "https"
    default = csp.get("default-src")
    object_src = set(csp.get("object-src") or default or {"*"})
    script_src = set(csp.get("script-src") or default or {"*"})
    style_src = set(csp.get("style-src") or default or {"*"})
    for sources in (script_src, style_src):
        if any(s.startswith(NONCES_HASHES) for s in sources):
            sources.discard("'unsafe-inline'")
    result = None
    if "'strict-dynamic'" in script_src:
        if any(s.startswith(NONCES_HASHES) for s in script_src):
            script_src = {
                s
                for s in script_src
                if s not in ("'self'", "'unsafe-inline'")
                and not any(s.startswith(b) for b in DANGEROUSLY_BROAD)
            }
        else:
            result = "csp-header-invalid"
    passive = {"img-src", "media-src"}
    active_sources = [s for d, v in csp.items() if d not in passive | {"script-src"} for s in v]
    active_sources += script_src
    passive_sources = [s for d in passive for s in (csp.get(d) or default or set())]

    def first(candidate):
        nonlocal result
        if result is None:
            result = candidate

    if script_src & (DANGEROUSLY_BROAD | UNSAFE_INLINE) or object_src & DANGEROUSLY_BROAD:
        first("csp-implemented-with-unsafe-inline")
    if https and any(s.startswith(("http:", "ftp:")) for s in active_sources):
        first("csp-implemented-with-insecure-scheme")
    if "'unsafe-eval'" in script_src | style_src:
        first("csp-implemented-with-unsafe-eval")
    if https and any(s.startswith(("http:", "ftp:")) for s in passive_sources):
        first("csp-implemented-with-insecure-scheme-in-passive-content-only")
    if style_src & (DANGEROUSLY_BROAD | UNSAFE_INLINE):
        first("csp-implemented-with-unsafe-inline-in-style-src-only")
    if default == {"'none'"}:
        first("csp-implemented-with-no-unsafe-default-src-none")
    first("csp-implemented-with-no-unsafe")
    return result, csp


def _cookies(scan: Scan) -> list[dict]:
    cookies = []
    for line in scan.set_cookies:
        name_value, *attributes = (part.strip() for part in line.split(";"))
        cookie = {"name": name_value.split("=", 1)[0], "secure": False, "httponly": False}
        cookie["samesite"] = None
        for attribute in attributes:
            key, _, value = attribute.partition("=")
            key = key.strip().lower()
            if key in ("secure", "httponly"):
                cookie[key] = True
            elif key == "samesite":
                cookie["samesite"] = value.strip()
        cookies.append(cookie)
    return cookies


def grade_cookies(scan: Scan) -> str:
    cookies = _cookies(scan)
    if not cookies:
        return "cookies-not-found"
    hsts = grade_hsts(scan) == "hsts-implemented-max-age-at-least-six-months"
    worst = [
        "cookies-without-secure-flag-but-protected-by-hsts",
        "cookies-without-secure-flag",
        "cookies-session-without-secure-flag-but-protected-by-hsts",
        "cookies-samesite-flag-invalid",
        "cookies-anticsrf-without-samesite-flag",
        "cookies-session-without-httponly-flag",
        "cookies-session-without-secure-flag",
    ]
    found = []
    for cookie in cookies:
        name = cookie["name"].lower()
        session = "login" in name or "sess" in name
        samesite = cookie["samesite"]
        if samesite is not None and samesite.lower() not in ("lax", "strict", "none"):
            found.append("cookies-samesite-flag-invalid")
        if not cookie["secure"] and (samesite or "").lower() == "none":
            found.append("cookies-samesite-flag-invalid")
        if not cookie["secure"]:
            found.append(
                "cookies-without-secure-flag-but-protected-by-hsts"
                if hsts
                else "cookies-without-secure-flag"
            )
        if "csrf" in name and not samesite:
            found.append("cookies-anticsrf-without-samesite-flag")
        if session and not cookie["secure"]:
            found.append(
                "cookies-session-without-secure-flag-but-protected-by-hsts"
                if hsts
                else "cookies-session-without-secure-flag"
            )
        if session and not cookie["httponly"]:
            found.append("cookies-session-without-httponly-flag")
    if found:
        return max(found, key=worst.index)
    if all(cookie["samesite"] for cookie in cookies):
        return "cookies-secure-with-httponly-sessions-and-samesite"
    return "cookies-secure-with-httponly-sessions"


def grade_cors(scan: Scan) -> str:
    allow_origin = (scan.cors_probe_headers or scan.headers).get("Access-Control-Allow-Origin")
    credentials = (scan.cors_probe_headers or scan.headers).get(
        "Access-Control-Allow-Credentials", ""
    )
    if not allow_origin:
        return "cross-origin-resource-sharing-not-implemented"
    if allow_origin.strip() == "*":
        return "cross-origin-resource-sharing-implemented-with-public-access"
    if allow_origin.strip() == CORS_PROBE_ORIGIN and credentials.strip().lower() == "true":
        return "cross-origin-resource-sharing-implemented-with-universal-access"
    return "cross-origin-resource-sharing-implemented-with-restricted-access"


def grade_redirection(scan: Scan) -> str:
    if scan.http_redirect is None:
        return "redirection-missing"
    target = urlsplit(scan.http_redirect)
    if target.scheme != "https":
        return "redirection-not-to-https"
    if target.hostname != urlsplit(scan.url).hostname:
        return "redirection-off-host-from-http"
    return "redirection-to-https"


def grade_referrer_policy(scan: Scan) -> str:
    header = scan.header("Referrer-Policy")
    if not header:
        return "referrer-policy-not-implemented"
    good = ["no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"]
    bad = ["origin", "origin-when-cross-origin", "unsafe-url", "no-referrer-when-downgrade"]
    valid = [p.strip().lower() for p in header.split(",") if p.strip().lower() in good + bad]
    if valid and valid[-1] in good:
        return "referrer-policy-private"
    if valid:
        return "referrer-policy-unsafe"
    return "referrer-policy-header-invalid"


def grade_hsts(scan: Scan) -> str:
    if urlsplit(scan.url).scheme != "https":
        return "hsts-not-implemented"
    header = scan.header("Strict-Transport-Security")
    if not header:
        return "hsts-not-implemented"
    if "," in header:
        return "hsts-header-invalid"
    max_age = None
    for parameter in (p.strip().lower() for p in header.split(";")):
        if parameter.startswith("max-age="):
            try:
                max_age = int(parameter[8:128])
            except ValueError:
                return "hsts-header-invalid"
    if max_age is None:
        return "hsts-header-invalid"
    if max_age < SIX_MONTHS:
        return "hsts-implemented-max-age-less-than-six-months"
    return "hsts-implemented-max-age-at-least-six-months"


class _ScriptTags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append(dict(attrs))


def grade_sri(scan: Scan) -> str:
    mime = (scan.header("Content-Type") or "").split(";")[0].strip()
    if mime and mime not in ("text/html", "application/xhtml+xml"):
        return "sri-not-implemented-response-not-html"
    parser = _ScriptTags()
    parser.feed(scan.body)
    if not parser.scripts:
        return "sri-not-implemented-but-no-scripts-loaded"
    site = urlsplit(scan.url)
    order = [
        "sri-implemented-and-all-scripts-loaded-securely",
        "sri-implemented-and-external-scripts-loaded-securely",
        "sri-implemented-but-external-scripts-not-loaded-securely",
        "sri-not-implemented-but-external-scripts-loaded-securely",
        "sri-not-implemented-and-external-scripts-not-loaded-securely",
    ]
    result = None
    foreign = False

    def worse(candidate):
        nonlocal result
        if result is None or order.index(candidate) > order.index(result):
            result = candidate

    for script in parser.scripts:
        src = script.get("src")
        if not src:
            continue
        integrity = script.get("integrity")
        if src.startswith("//"):
            foreign, secure_scheme = True, False
        elif re.match(r"^https?://", src):
            parts = urlsplit(src)
            same_domain = parts.hostname == site.hostname
            secure_scheme = parts.scheme == "https"
            foreign = foreign or not same_domain
            if same_domain:
                if integrity and secure_scheme and result is None:
                    result = order[0]
                continue
        else:
            if integrity and site.scheme == "https" and result is None:
                result = order[0]
            continue
        if integrity and not secure_scheme:
            worse("sri-implemented-but-external-scripts-not-loaded-securely")
        elif not integrity and secure_scheme:
            worse("sri-not-implemented-but-external-scripts-loaded-securely")
        elif not integrity:
            worse("sri-not-implemented-and-external-scripts-not-loaded-securely")
    if result is None:
        result = (
            "sri-implemented-and-external-scripts-loaded-securely"
            if foreign
            else "sri-not-implemented-but-all-scripts-loaded-from-secure-origin"
        )
    return result


def grade_x_content_type_options(scan: Scan) -> str:
    header = scan.header("X-Content-Type-Options")
    if not header:
        return "x-content-type-options-not-implemented"
    if header.strip().lower() == "nosniff":
        return "x-content-type-options-nosniff"
    return "x-content-type-options-header-invalid"


def grade_x_frame_options(scan: Scan) -> str:
    header = (scan.header("X-Frame-Options") or "").strip().lower()
    if not header:
        result = "x-frame-options-not-implemented"
    elif header in ("deny", "sameorigin"):
        result = "x-frame-options-sameorigin-or-deny"
    elif header.startswith("allow-from"):
        result = "x-frame-options-allow-from-origin"
    else:
        result = "x-frame-options-header-invalid"
    _, csp = grade_csp(scan)
    if csp and csp.get("frame-ancestors"):
        result = "x-frame-options-implemented-via-csp"
    return result


def grade_corp(scan: Scan) -> str:
    header = (scan.header("Cross-Origin-Resource-Policy") or "").strip().lower()
    return {
        "": "cross-origin-resource-policy-not-implemented",
        "same-origin": "cross-origin-resource-policy-implemented-with-same-origin",
        "same-site": "cross-origin-resource-policy-implemented-with-same-site",
        "cross-origin": "cross-origin-resource-policy-implemented-with-cross-origin",
    }.get(header, "cross-origin-resource-policy-header-invalid")


def observatory_score(scan: Scan) -> tuple[int, dict[str, str]]:
    """The MDN HTTP Observatory's score for one scan, and each test's result.

    A re-implementation of the scoring of https://github.com/mdn/mdn-http-observatory
    (``src/scanner/index.js``, the tests in ``src/analyzer/tests/*.js`` and the modifiers
    in ``src/grader/charts.js``; its predecessor's table is mozilla/http-observatory
    ``httpobs/docs/scoring.md``): start at 100, add each test's modifier; the bonuses
    count only when the score with penalties alone is 90 (A) or more; 100 and up is A+.
    Left out: HSTS preloading (+5, only for hosts on the browsers' preload list) and the
    crossdomain.xml / clientaccesspolicy.xml files (the site has none).
    """
    results = {
        "content-security-policy": grade_csp(scan)[0],
        "cookies": grade_cookies(scan),
        "cross-origin-resource-sharing": grade_cors(scan),
        "redirection": grade_redirection(scan),
        "referrer-policy": grade_referrer_policy(scan),
        "strict-transport-security": grade_hsts(scan),
        "subresource-integrity": grade_sri(scan),
        "x-content-type-options": grade_x_content_type_options(scan),
        "x-frame-options": grade_x_frame_options(scan),
        "cross-origin-resource-policy": grade_corp(scan),
    }
    modifiers = [MODIFIERS[result] for result in results.values()]
    uncurved = 100 + sum(m for m in modifiers if m < 0)
    score = 100 + sum(modifiers) if uncurved >= MINIMUM_SCORE_FOR_EXTRA_CREDIT else uncurved
    return max(score, 0), results


# --------------------------------------------------------------------------------------
# The grader discriminates
# --------------------------------------------------------------------------------------

GOOD_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def scan_with(headers=GOOD_HEADERS, **kwargs) -> Scan:
    defaults = {
        "url": f"https://{HOST}/",
        "headers": dict(headers),
        "body": '<html><script src="/static/x.js"></script></html>',
        "http_redirect": f"https://{HOST}/",
    }
    return Scan(**(defaults | kwargs))


def without(name):
    return {k: v for k, v in GOOD_HEADERS.items() if k != name}


def test_grader_gives_a_strict_header_set_every_bonus():
    score, results = observatory_score(scan_with())
    assert results["content-security-policy"] == "csp-implemented-with-no-unsafe"
    assert results["x-frame-options"] == "x-frame-options-implemented-via-csp"
    assert score == 100 + 5 + 5 + 5 + 10


@pytest.mark.parametrize(
    ("change", "expected_result", "expected_score"),
    [
        (without("Content-Security-Policy"), "csp-not-implemented", 100 - 25),
        (
            GOOD_HEADERS
            | {"Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'"},
            "csp-implemented-with-unsafe-inline",
            # -20, and without frame-ancestors nor a bonus for Referrer-Policy or CORP.
            100 - 20,
        ),
        (
            GOOD_HEADERS | {"Content-Security-Policy": "default-src 'self' 'unsafe-eval'"},
            "csp-implemented-with-unsafe-eval",
            100 - 10 + 5 + 10,  # A: still earns the Referrer-Policy and CORP bonuses
        ),
        (
            GOOD_HEADERS | {"Content-Security-Policy": "default-src *; frame-ancestors 'none'"},
            "csp-implemented-with-unsafe-inline",
            100 - 20,
        ),
        (
            GOOD_HEADERS | {"Content-Security-Policy": "script-src 'self'; script-src 'none'"},
            "csp-header-invalid",
            100 - 25,
        ),
    ],
)
def test_grader_penalises_a_missing_or_unsafe_csp(change, expected_result, expected_score):
    score, results = observatory_score(scan_with(change))
    assert results["content-security-policy"] == expected_result
    assert score == expected_score
    assert score < observatory_score(scan_with())[0]


def test_grader_allows_inline_style_but_gives_no_csp_bonus_for_it():
    unsafe_style = GOOD_HEADERS["Content-Security-Policy"] + "; style-src 'self' 'unsafe-inline'"
    score, results = observatory_score(
        scan_with(GOOD_HEADERS | {"Content-Security-Policy": unsafe_style})
    )
    assert results["content-security-policy"] == (
        "csp-implemented-with-unsafe-inline-in-style-src-only"
    )
    assert score == 100 + 5 + 5 + 10


def test_grader_nonce_cancels_unsafe_inline_as_browsers_do():
    csp = GOOD_HEADERS["Content-Security-Policy"].replace(
        "script-src 'self'", "script-src 'self' 'unsafe-inline' 'nonce-abc'"
    )
    _, results = observatory_score(scan_with(GOOD_HEADERS | {"Content-Security-Policy": csp}))
    assert results["content-security-policy"] == "csp-implemented-with-no-unsafe"


@pytest.mark.parametrize(
    ("change", "test", "result", "expected_score"),
    [
        (
            without("Strict-Transport-Security"),
            "strict-transport-security",
            "hsts-not-implemented",
            80,
        ),
        (
            GOOD_HEADERS | {"Strict-Transport-Security": "max-age=86400"},
            "strict-transport-security",
            "hsts-implemented-max-age-less-than-six-months",
            90 + 25,
        ),
        (
            without("X-Content-Type-Options"),
            "x-content-type-options",
            "x-content-type-options-not-implemented",
            95 + 25,
        ),
        (
            without("X-Frame-Options") | {"Content-Security-Policy": "default-src 'self'"},
            "x-frame-options",
            "x-frame-options-not-implemented",
            80,
        ),
        (
            GOOD_HEADERS | {"Referrer-Policy": "unsafe-url"},
            "referrer-policy",
            "referrer-policy-unsafe",
            95 + 5 + 5 + 10,
        ),
        (
            GOOD_HEADERS | {"Cross-Origin-Resource-Policy": "nonsense"},
            "cross-origin-resource-policy",
            "cross-origin-resource-policy-header-invalid",
            95 + 5 + 5 + 5,
        ),
    ],
)
def test_grader_penalises_other_missing_headers(change, test, result, expected_score):
    score, results = observatory_score(scan_with(change))
    assert results[test] == result
    assert score == expected_score


@pytest.mark.parametrize(
    ("cookie", "result"),
    [
        (
            "sessionid=x; Path=/; Secure; HttpOnly; SameSite=Lax",
            "cookies-secure-with-httponly-sessions-and-samesite",
        ),
        ("sessionid=x; Path=/; Secure; HttpOnly", "cookies-secure-with-httponly-sessions"),
        (
            "sessionid=x; Path=/; HttpOnly; SameSite=Lax",
            "cookies-session-without-secure-flag-but-protected-by-hsts",
        ),
        ("sessionid=x; Path=/; Secure; SameSite=Lax", "cookies-session-without-httponly-flag"),
        ("csrftoken=x; Path=/; Secure", "cookies-anticsrf-without-samesite-flag"),
        ("csrftoken=x; Path=/; Secure; SameSite=Sometimes", "cookies-samesite-flag-invalid"),
    ],
)
def test_grader_reads_cookie_flags(cookie, result):
    _, results = observatory_score(scan_with(set_cookies=[cookie]))
    assert results["cookies"] == result


def test_grader_penalises_plain_http_and_foreign_scripts_without_integrity():
    _, results = observatory_score(scan_with(http_redirect=None))
    assert results["redirection"] == "redirection-missing"
    _, results = observatory_score(scan_with(http_redirect="https://elsewhere.example/"))
    assert results["redirection"] == "redirection-off-host-from-http"
    body = '<script src="https://cdn.example.net/lib.js"></script>'
    score, results = observatory_score(scan_with(body=body))
    assert results["subresource-integrity"] == (
        "sri-not-implemented-but-external-scripts-loaded-securely"
    )
    assert score == 95 + 25
    body = '<script src="https://cdn.example.net/lib.js" integrity="sha384-x"></script>'
    _, results = observatory_score(scan_with(body=body))
    assert results["subresource-integrity"] == (
        "sri-implemented-and-external-scripts-loaded-securely"
    )
    _, results = observatory_score(scan_with(body='<script type="application/ld+json">{}</script>'))
    assert results["subresource-integrity"] == (
        "sri-not-implemented-but-all-scripts-loaded-from-secure-origin"
    )


def test_grader_penalises_credentialed_cors_for_any_origin():
    probe = {
        "Access-Control-Allow-Origin": CORS_PROBE_ORIGIN,
        "Access-Control-Allow-Credentials": "true",
    }
    score, results = observatory_score(scan_with(cors_probe_headers=probe))
    assert results["cross-origin-resource-sharing"] == (
        "cross-origin-resource-sharing-implemented-with-universal-access"
    )
    assert score == 50


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
    """GET ``path`` over HTTPS (and over HTTP, for the redirect), as the Observatory does."""
    plain = client.get(path, HTTP_HOST=HOST, secure=False)
    response = client.get(path, HTTP_HOST=HOST, secure=True, **extra)
    probe = client.get(path, HTTP_HOST=HOST, secure=True, HTTP_ORIGIN=CORS_PROBE_ORIGIN)
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


def assert_headers_of_every_page(scan: Scan, name: str):
    """The headers the issue lists, beside the grade."""
    assert "max-age=31536000" in scan.header("Strict-Transport-Security"), name
    assert scan.header("X-Frame-Options") == "DENY", name
    assert scan.header("X-Content-Type-Options") == "nosniff", name
    assert scan.header("Referrer-Policy") == "same-origin", name
    assert scan.header("Cross-Origin-Opener-Policy") == "same-origin", name
    assert scan.header("Cross-Origin-Resource-Policy") == "same-origin", name
    permissions = scan.header("Permissions-Policy")
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in permissions, name
    csp = parse_csp(scan.header("Content-Security-Policy"))
    assert csp["default-src"] == {"'self'"}
    assert csp["frame-ancestors"] == {"'none'"}
    assert csp["object-src"] == {"'none'"}
    assert csp["form-action"] == {"'self'"}
    for directive in ("script-src", "style-src"):
        assert not csp[directive] & {"'unsafe-inline'", "'unsafe-eval'", "*", "https:", "data:"}
    # Nothing from another host.
    assert not [s for sources in csp.values() for s in sources if "." in s or "//" in s], csp


@pytest.mark.parametrize("name", list(PUBLIC_PAGES))
def test_every_public_page_type_scores_a_plus(client, production, content, name):
    path = PUBLIC_PAGES[name](content)
    scan = fetch(client, path)
    score, results = observatory_score(scan)
    print(f"Observatory score, {name}: {score}")
    assert scan.status == EXPECTED_STATUS.get(name, HTTPStatus.OK)
    assert scan.http_redirect == f"https://{HOST}{path}"
    assert_headers_of_every_page(scan, name)
    assert "nonce-" not in scan.header("Content-Security-Policy")  # cached pages: no nonce
    assert score >= 100, (name, score, results)


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
def test_admin_pages_score_a_plus_with_the_login_cookies(client, production, content, page):
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
    scan = scan_of(response, path, plain=plain, set_cookies=cookies)
    score, results = observatory_score(scan)
    print(f"Observatory score, admin {page}: {score}")
    assert results["cookies"] == "cookies-secure-with-httponly-sessions-and-samesite"
    assert_headers_of_every_page(scan, page)
    assert score >= 100, (page, score, results)


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
    assert observatory_score(scan_of(hit, path, plain=plain))[0] >= 100
    # The CSP is not part of the stored entry: the middleware sets it on every response,
    # so a changed policy applies to pages already in the cache.
    production.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    later = client.get(path, HTTP_HOST=HOST, secure=True)
    assert later.page_cache == "hit"
    assert later["Content-Security-Policy"] == "default-src 'none'"


def test_without_the_csp_the_site_would_fail_the_grade(client, production, content, settings):
    settings.CONTENT_SECURITY_POLICY = None
    score, results = observatory_score(fetch(client, "/"))
    assert results["content-security-policy"] == "csp-not-implemented"
    assert score < 100
