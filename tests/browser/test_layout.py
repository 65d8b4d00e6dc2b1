"""The layout in a real browser: a short header and a bottom bar on phones, the whole menu
on wide screens, a menu that opens without JavaScript, and no JavaScript at all.

Pages come from the live server with the demo content; the main menu is the one a fresh
site starts with (pages/migrations/0004) when the demo content left it shorter.
"""

import pytest

from pages.context_processors import menus
from pages.models import MenuItem

from ..page_types import page_urls

# The pictures' real copies: their sizes are part of the layout checked here.
pytestmark = [pytest.mark.browser, pytest.mark.pictures, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 900}
LONG_ARTICLE = "/articles/understanding-dry-needling-back-shoulder-pain/"
DEFAULT_MAIN_MENU = ["home", "services", "team", "articles", "offices", "consultation"]
BOX = "(el) => el.getBoundingClientRect().toJSON()"


@pytest.fixture
def main_menu(site):
    """The main menu's (text, URL) pairs, at least the sections a fresh site starts with."""
    if MenuItem.objects.filter(location=MenuItem.Location.MAIN).count() < 3:
        for order, section in enumerate(DEFAULT_MAIN_MENU, start=1):
            MenuItem.objects.create(location=MenuItem.Location.MAIN, section=section, order=order)
    return [(item.text, item.url) for item in menus()["main"]]


def box(locator) -> dict:
    return locator.evaluate(BOX)


def test_on_a_phone_the_header_is_short_and_the_bottom_bar_stays_in_reach(page, site):
    page.set_viewport_size(PHONE)
    page.goto(site + LONG_ARTICLE)
    header = box(page.locator("header.site-header"))
    assert header["bottom"] <= PHONE["height"] / 4, f"header ends at {header['bottom']} px"

    bar = page.locator(".action-bar")
    call = bar.get_by_role("link", name="Call")
    consultation = bar.get_by_role("link", name="Free consultation")
    assert call.get_attribute("href").startswith("tel:")
    assert "/consultation/" in consultation.get_attribute("href")
    for link in (call, consultation):
        size = box(link)
        assert size["width"] >= 44 and size["height"] >= 44, size

    height = page.evaluate("document.documentElement.scrollHeight")
    assert height > 3 * PHONE["height"], "the article is not long enough to scroll"
    for y in (0, height // 2):
        page.evaluate("(y) => window.scrollTo(0, y)", y)
        page.wait_for_function("(y) => Math.abs(window.scrollY - y) < 2", arg=y)
        assert bar.is_visible()
        where = box(bar)
        assert where["top"] >= 0 and where["bottom"] == PHONE["height"], where

    # At the very end the bar covers none of the footer's last line.
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    footer_end = page.locator("footer.site-footer .container > :last-child").evaluate(
        "(el) => el.getBoundingClientRect().bottom"
    )
    assert footer_end <= box(bar)["top"]


def test_the_phone_menu_opens_by_click_and_by_keyboard_with_every_link(page, site, main_menu):
    page.set_viewport_size(PHONE)
    page.goto(site + "/")
    assert not page.get_by_role("navigation", name="Main", exact=True).is_visible()
    menu = page.get_by_role("navigation", name="Main menu")
    summary = page.locator("details.site-menu > summary")
    assert summary.inner_text().strip() == "Menu"
    assert not menu.is_visible()

    summary.click()
    for text, url in main_menu:
        link = menu.get_by_role("link", name=text, exact=True)
        assert link.is_visible(), text
        assert link.get_attribute("href") == url
        assert box(link)["height"] >= 44
    assert menu.get_by_role("link", name="Home", exact=True).get_attribute("aria-current") == "page"
    summary.click()
    assert not menu.is_visible()

    summary.focus()
    page.keyboard.press("Enter")
    assert page.locator("details.site-menu").evaluate("(el) => el.open")
    for text, _url in main_menu:
        assert menu.get_by_role("link", name=text, exact=True).is_visible(), text


def test_on_a_wide_screen_the_menu_is_inline_and_the_header_has_the_call_button(
    page, site, main_menu
):
    page.set_viewport_size(DESKTOP)
    page.goto(site + "/team/")
    nav = page.get_by_role("navigation", name="Main", exact=True)
    for text, _url in main_menu:
        assert nav.get_by_role("link", name=text, exact=True).is_visible(), text
    assert nav.get_by_role("link", name="Our team").get_attribute("aria-current") == "page"
    assert not page.locator("details.site-menu").is_visible()
    assert not page.locator(".action-bar").is_visible()
    call = page.locator("header.site-header").get_by_role("link", name="Call")
    assert call.is_visible() and call.get_attribute("href").startswith("tel:")


def test_no_public_page_loads_javascript(page, site):
    pages = page_urls()
    scripts = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    checked = 0
    for name, (method, url, _data, _status) in pages.items():
        if method != "get":
            continue
        page.goto(site + url)
        kinds = page.eval_on_selector_all("script", "(els) => els.map((e) => e.type)")
        assert set(kinds) <= {"application/ld+json"}, f"{name}: scripts {kinds}"
        checked += 1
    assert not scripts, scripts
    assert checked >= 10
