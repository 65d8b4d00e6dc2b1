"""axe-core finds no WCAG 2.2 A/AA violation on any public page type, on a phone and a desktop.

Each page is loaded from the live server with the demo content, at 360 px and at 1280 px
wide; axe-core (``node_modules/axe-core``) is injected and run on the whole document. At
360 px the page must also fit without horizontal scrolling.

Besides the WCAG tags, axe's "best-practice" rules run too: heading order, landmarks and
the one-``<h1>`` rule are best practices in axe, not WCAG success criteria.
"""

import pytest

from .conftest import AXE_JS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_TAGS = [*WCAG_TAGS, "best-practice"]
PHONE, DESKTOP = 360, 1280
VIEWPORTS = [(PHONE, 780), (DESKTOP, 900)]

RUN_AXE = """async (tags) => {
    const results = await axe.run(document, {runOnly: {type: "tag", values: tags}});
    return results.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary})),
    }));
}"""


def open_consultation_form_with_errors(page, base_url):
    page.goto(f"{base_url}/consultation/")
    with page.expect_navigation():
        page.locator("#consultation-form [type=submit]").click()
    assert page.locator("#form-errors").is_visible(), "the empty form showed no error summary"
    assert page.locator(".invalid-feedback").count() > 0


# name -> path, or a function that takes (page, base_url) and leaves the page to check.
PAGES = {
    "home": "/",
    "article-list": "/articles/",
    "article-detail": "/articles/understanding-dry-needling-back-shoulder-pain/",
    "office-list": "/offices/",
    "office-detail": "/offices/bloomfield/",
    "promotion-detail": "/offers/first-responder-discount/",
    "service-list": "/services/",
    "service-detail": "/services/dry-needling/",
    "team": "/team/",
    "clinician-detail": "/team/sylvestra-ramirez/",
    "page-detail": "/about/",
    "consultation-with-errors": open_consultation_form_with_errors,
    "thanks": "/consultation/thanks/?office=bloomfield",
    "privacy-notice": "/privacy/",
    "not-found": "/this-page-does-not-exist/",
}


def run_axe(page) -> list[dict]:
    # Not add_script_tag: the site's Content-Security-Policy refuses inline scripts. A
    # function evaluated through the DevTools protocol is not subject to it.
    page.evaluate("() => {\n" + AXE_JS.read_text() + "\n}")
    return page.evaluate(RUN_AXE, AXE_TAGS)


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"  {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"      {node['target']}  -- {summary}")
    return "\n".join(lines)


@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_axe_violations_and_fits_a_phone(page, site, name):
    target = PAGES[name]
    problems = []
    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        if callable(target):
            target(page, site)
        else:
            response = page.goto(site + target)
            expected = 404 if name == "not-found" else 200
            assert response.status == expected, f"{target} answered {response.status}"

        violations = run_axe(page)
        if violations:
            problems.append(
                f"{len(violations)} axe violation(s) at {width} px:\n{describe(violations)}"
            )
        if width == PHONE:
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > PHONE:
                problems.append(f"scrolls sideways at {PHONE} px: {scroll_width} px wide")

    assert not problems, f"{name} ({page.url}):\n" + "\n".join(problems)
