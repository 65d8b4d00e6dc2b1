"""The Content-Security-Policy blocks nothing the site itself uses, in a real browser.

Staff log into the admin, edit an article's body in the rich-text editor (django-prose-
editor: an inline import map, module scripts, a style block its library injects) and save;
a visitor opens the public pages. Every CSP violation Chromium reports, as a
``securitypolicyviolation`` event or a console message, fails the test.
"""

import pytest
from django.contrib.auth import get_user_model

from pages.models import Article

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-enough-staff-password"
# Added before any page script runs (through the DevTools protocol, so the CSP does not
# apply to it): records every violation the page reports.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile || event.documentURI}:${event.lineNumber}`
  );
});
"""
ARTICLE_SLUG = "what-is-dry-needling"


@pytest.fixture
def watched(page):
    """The page, and the CSP-related problems it reports: violations, console lines about
    the policy or the Permissions-Policy header, and uncaught script errors."""
    problems = []
    page.add_init_script(RECORD_VIOLATIONS)

    def on_console(message):
        text = message.text
        if any(
            marker in text
            for marker in ("Content Security Policy", "Refused to", "Permissions-Policy")
        ):
            problems.append(f"console {message.type}: {text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    def collect():
        violations = page.evaluate("window.__cspViolations || []")
        return problems + [f"violation: {v}" for v in violations]

    return page, collect


def log_in(page, site):
    get_user_model().objects.create_superuser("staff", "staff@example.com", PASSWORD)
    page.goto(site + "/admin/login/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(site + "/admin/")


def test_admin_and_prose_editor_work_under_the_csp(watched, site):
    page, collect = watched
    response = page.goto(site + "/admin/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert collect() == []
    log_in(page, site)
    assert collect() == []

    article = Article.objects.get(slug=ARTICLE_SLUG)
    response = page.goto(f"{site}/admin/pages/article/{article.pk}/change/")
    policy = response.headers["content-security-policy"]
    assert "'nonce-" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy

    # The editor initialised: its toolbar and its editable ProseMirror area are there, the
    # import map ran (the module imports "django-prose-editor/editor" by that name), and the
    # style block the editor library injects was allowed by its hash.
    editable = page.locator(".prose-editor .ProseMirror[contenteditable=true]")
    editable.wait_for()
    assert page.locator(".prose-editor .prose-menubar").count() == 1
    assert page.evaluate("getComputedStyle(document.querySelector('.ProseMirror')).whiteSpace") in (
        "pre-wrap",
        "break-spaces",
    )

    # Typing into it updates the (hidden) textarea the form submits...
    editable.click()
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.keyboard.type("Typed under a strict content security policy.")
    body = page.eval_on_selector("textarea#id_body", "textarea => textarea.value")
    assert "Typed under a strict content security policy." in body

    # ...and saving keeps it.
    with page.expect_navigation():
        page.click("input[name=_continue]")
    assert page.locator(".messagelist .success").count() == 1
    article.refresh_from_db()
    assert "Typed under a strict content security policy." in article.body

    # The reloaded change page starts the editor again, on the saved body.
    page.locator(".prose-editor .ProseMirror", has_text="strict content security").wait_for()
    assert collect() == []

    # The add page (a fresh nonce) and a list page.
    page.goto(site + "/admin/pages/article/add/")
    page.locator(".prose-editor .ProseMirror[contenteditable=true]").wait_for()
    page.goto(site + "/admin/pages/article/")
    page.locator("#result_list").wait_for()
    assert collect() == []


@pytest.mark.parametrize("path", ["/", "/articles/", f"/articles/{ARTICLE_SLUG}/", "/offices/"])
def test_public_pages_report_no_csp_violation(watched, site, path, settings):
    settings.PAGE_CACHE_HEADER = True  # off in production; here it shows the visit was a hit
    page, collect = watched
    response = page.goto(site + path)
    assert response.ok
    policy = response.headers["content-security-policy"]
    assert "nonce-" not in policy and "unsafe-inline" not in policy
    # The page cache's hit carries the same policy and still breaks nothing.
    again = page.goto(site + path)
    assert again.headers["x-page-cache"] == "hit"
    assert again.headers["content-security-policy"] == policy
    # Bootstrap's stylesheet is applied (style-src 'self'; its data: icons via img-src).
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"
    assert collect() == []
