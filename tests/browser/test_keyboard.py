"""Keyboard-only use: skip link, visible focus, and a consultation request sent without a mouse.

Only ``page.keyboard`` drives the page here (no clicks); ``page.evaluate`` merely reads
which element has focus.
"""

import pytest

from contact.models import ConsultationRequest
from pages.models import HomePage, Office

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAX_TABS = 60

FOCUSED = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return {
        tag: el.tagName.toLowerCase(),
        id: el.id,
        type: el.getAttribute("type") || "",
        name: el.getAttribute("name") || "",
        text: (el.innerText || el.value || "").trim(),
        outlineStyle: style.outlineStyle,
        outlineWidth: parseFloat(style.outlineWidth),
    };
}"""


# Bootstrap scrolls smoothly, so a field focused below the fold arrives a moment later.
FOCUS_ON_SCREEN = """() => {
    const r = document.activeElement.getBoundingClientRect();
    return r.width > 1 && r.height > 1 && r.top >= 0 && r.bottom <= innerHeight;
}"""


def focused(page) -> dict:
    return page.evaluate(FOCUSED)


def tab_until(page, matches, what: str) -> dict:
    """Press Tab until the focused element satisfies ``matches``; fail after MAX_TABS."""
    seen = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        element = focused(page)
        if matches(element):
            return element
        seen.append(element["id"] or element["text"][:30] or element["tag"])
    pytest.fail(f"Tab never reached {what}; focus went through: {seen}")


def assert_visible_focus(page, element: dict):
    page.wait_for_function(FOCUS_ON_SCREEN, timeout=3000)
    assert element["outlineStyle"] != "none" and element["outlineWidth"] >= 2, (
        f"focused {element['tag']} {element['text']!r} shows no focus outline: "
        f"outline {element['outlineStyle']} {element['outlineWidth']}px"
    )


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(page, site):
    page.goto(site + "/")

    page.keyboard.press("Tab")
    first = focused(page)
    assert first["text"] == "Skip to main content"
    assert_visible_focus(page, first)

    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main"
    assert page.url.endswith("#main")
    # The next Tab continues inside main, not back at the header.
    page.keyboard.press("Tab")
    assert page.evaluate("document.getElementById('main').contains(document.activeElement)")


def test_focused_links_and_buttons_show_an_outline(page, site):
    page.goto(site + "/consultation/")

    assert_visible_focus(
        page, tab_until(page, lambda e: e["text"] == "Articles", "the Articles link")
    )
    assert_visible_focus(
        page,
        tab_until(page, lambda e: e["text"] == "Free consultation", "the nav's consultation link"),
    )
    for field_id in ("id_name", "id_office", "id_contact_method_0", "id_consent"):
        assert_visible_focus(page, tab_until(page, lambda e, i=field_id: e["id"] == i, field_id))
    assert_visible_focus(
        page, tab_until(page, lambda e: e["type"] == "submit", "the submit button")
    )


def test_consultation_request_with_the_keyboard_alone(page, site):
    avon = Office.objects.get(slug="avon")
    page.goto(site + "/")

    # The home page invites to the form: Tab past the banner and header to the hero's button.
    label = HomePage.load().button_label
    tab_until(page, lambda e: e["text"] == label, "the home page's consultation button")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_until(page, lambda e: e["id"] == "id_name", "the form's name field")
    page.keyboard.type("Robin Keyboard")
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "id_phone"
    page.keyboard.type("860 555 0123")
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "id_email"
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "id_service"  # left at "Not sure yet"
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "id_office"
    # "No preference", Bloomfield, Newington, Avon: three steps down a closed select.
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    assert page.evaluate("document.getElementById('id_office').value") == str(avon.pk)

    # A radio group is one Tab stop; the arrow keys move the choice within it.
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "id_contact_method_0"  # none is preselected: the first
    page.keyboard.press("ArrowDown")
    assert focused(page)["id"] == "id_contact_method_1"  # text message
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "id_best_time_0"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert focused(page)["id"] == "id_best_time_2"  # evening

    page.keyboard.press("Tab")
    assert focused(page)["id"] == "id_message"
    page.keyboard.type("Knee pain after running.")
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "id_consent"
    page.keyboard.press("Space")
    assert page.evaluate("document.getElementById('id_consent').checked")

    # Past the privacy notice link in the consent label, the honeypot is skipped.
    submit = tab_until(page, lambda e: e["type"] == "submit", "the submit button")
    assert submit["text"] == "Ask for my free consultation"
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.url == f"{site}/consultation/thanks/?office=avon"
    assert page.locator("h1").inner_text() == "Thank you, we have your request"
    assert ConsultationRequest.objects.count() == 1
    consultation = ConsultationRequest.objects.get()
    assert consultation.status == ConsultationRequest.Status.NEW, consultation.flag_reason
    assert consultation.name == "Robin Keyboard"
    assert consultation.phone == "(860) 555-0123"
    assert consultation.office == avon
    assert consultation.contact_method == ConsultationRequest.ContactMethod.TEXT
    assert consultation.best_time == ConsultationRequest.BestTime.EVENING
    assert consultation.message == "Knee pain after running."
    assert consultation.source_path == "/"


def test_error_summary_links_move_focus_to_the_field(page, site):
    page.goto(site + "/consultation/")
    tab_until(page, lambda e: e["type"] == "submit", "the submit button")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # everything empty

    link = tab_until(page, lambda e: e["text"] == "Your name", "the error summary's first link")
    assert_visible_focus(page, link)
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "id_name"
    assert ConsultationRequest.objects.count() == 0
