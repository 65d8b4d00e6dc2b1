"""The clinic's look: the brand colour's theme.css, its contrast, its versioned link, the logo.

The contrast check reads the real stylesheets: theme.css as the view serves it for a
colour, and static/css/site.css, whose rules pair text with the surface it sits on.
"""

import re
from http import HTTPStatus
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict
from django.urls import reverse

from clinic_site.colours import contrast, darkest_needed, theme
from clinic_site.models import ClinicSettings

from .factories import ClinicSettingsFactory, image_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

SITE_CSS = Path(settings.BASE_DIR) / "static" / "css" / "site.css"
# The lightest colour of each hue that is still accepted (4.5:1 on white), and some others.
BRAND_COLOURS = [
    "#0b5394",
    "#000000",
    "#7a1f5c",
    darkest_needed("#ffcc00"),
    darkest_needed("#00ffff"),
    darkest_needed("#ff69b4"),
    darkest_needed("#77dd77"),
    darkest_needed("#ff0000"),
]
# Text colour -> the background it is read on, when one rule sets both.
TEXT_ON = {
    "color": ("background-color", "background"),
    "--bs-btn-color": ("--bs-btn-bg",),
    "--bs-btn-hover-color": ("--bs-btn-hover-bg",),
    "--bs-btn-active-color": ("--bs-btn-active-bg",),
    "--bs-table-color": ("--bs-table-bg",),
    "--bs-body-color": ("--bs-body-bg",),
}
BACKGROUNDS = {"background", "background-color", "--bs-table-bg", "--bs-body-bg"}
HEX = re.compile(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?")
VAR = re.compile(r"^var\((--[\w-]+)\)$")
LINK = re.compile(r'<link rel="stylesheet" href="(/theme\.css\?v=\w+)">')


def declarations(css: str) -> list[tuple[str, dict[str, str]]]:
    """(selector, {property: value}) of every rule, innermost blocks of @media included."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    rules = []
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        props = {}
        for part in body.split(";"):
            name, sep, value = part.partition(":")
            if sep:
                props[name.strip()] = value.strip()
        rules.append((" ".join(selector.split()), props))
    return rules


def root_properties(css: str) -> dict[str, str]:
    found = {}
    for selector, props in declarations(css):
        if selector.endswith(":root"):
            found.update({k: v for k, v in props.items() if k.startswith("--")})
    return found


def resolve(value: str, props: dict[str, str]) -> str | None:
    """A colour value as #rrggbb, following var(); None for anything else (gradients...)."""
    for _ in range(10):
        match = VAR.match(value.strip())
        if not match:
            break
        value = props.get(match.group(1), "")
    value = value.strip()
    if not HEX.fullmatch(value):
        return None
    if len(value) == 4:
        value = "#" + "".join(ch * 2 for ch in value[1:])
    return value.lower()


def text_pairs(theme_css: str) -> list[tuple[str, str, str, float]]:
    """(where, text, background, ratio needed) for what site.css puts on what."""
    site_css = SITE_CSS.read_text()
    props = {**root_properties(site_css), **root_properties(theme_css)}
    page = resolve("var(--clinic-page)", props)
    link = resolve("var(--clinic-link)", props)
    muted = resolve("var(--clinic-muted)", props)
    body_text = resolve("var(--clinic-text)", props)
    focus = resolve("var(--clinic-focus)", props)
    pairs, surfaces, edges = [], {page}, []
    for selector, rule in declarations(site_css):
        colours = {name: resolve(value, props) for name, value in rule.items()}
        if ".form-control" in selector and colours.get("border-color"):
            edges.append(colours["border-color"])
        background = next((colours[b] for b in BACKGROUNDS if colours.get(b)), None)
        if ":checked" in selector and background:  # a ticked box: Bootstrap's white tick
            pairs.append((f"{selector} tick", "#ffffff", background, 3))
            continue
        for text_name, background_names in TEXT_ON.items():
            if not colours.get(text_name):
                continue
            behind = next((colours[b] for b in background_names if colours.get(b)), None)
            if behind is None and text_name == "color":
                behind = page  # text without a surface of its own: on the page
            if behind:
                pairs.append((f"{selector} {text_name}", colours[text_name], behind, 4.5))
        if background and "--bs-btn-bg" not in rule:
            surfaces.add(background)
            # Links on this surface, and text that inherits the body colour.
            own_link = colours.get("--clinic-link") or link
            pairs.append((f"{selector} links", own_link, background, 4.5))
            if not colours.get("color"):
                pairs.append((f"{selector} body text", body_text, background, 4.5))
    for surface in surfaces:
        pairs.append((f"muted text on {surface}", muted, surface, 4.5))
        pairs.append((f"focus ring on {surface}", focus, surface, 3))  # non-text: 3:1
        pairs += [(f"form field edge on {surface}", edge, surface, 3) for edge in edges]
    return pairs


def theme_css_for(client, colour: str) -> str:
    ClinicSettingsFactory(brand_colour=colour)
    html = client.get("/").content.decode()
    response = client.get(LINK.search(html).group(1))
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


def test_theme_css_carries_the_saved_colour_and_its_shades_and_is_kept_a_year(client):
    ClinicSettingsFactory(brand_colour="#7A1F5C")
    href = LINK.search(client.get("/").content.decode()).group(1)
    response = client.get(href)
    assert response["Content-Type"] == "text/css; charset=utf-8"
    css = response.content.decode()
    shades = theme("#7a1f5c")
    for name in ("brand", "brand_dark", "brand_tint", "brand_on_tint", "brand_border"):
        assert f"--clinic-{name.replace('_', '-')}:{shades[name]};" in css
    assert "--clinic-brand:#7a1f5c;" in css
    assert "immutable" in response["Cache-Control"]
    assert "max-age=31536000" in response["Cache-Control"]
    # Any other version (an old page's link) is not kept as this colour's.
    stale = client.get(reverse("theme_css") + "?v=0000000000")
    assert "--clinic-brand:#7a1f5c;" in stale.content.decode()
    assert "no-cache" in stale["Cache-Control"] and "immutable" not in stale["Cache-Control"]


def test_base_links_theme_css_after_site_css(client):
    ClinicSettingsFactory()
    html = client.get("/").content.decode()
    assert html.index("css/site.css") < html.index("/theme.css?v=")


@pytest.mark.parametrize("colour", BRAND_COLOURS)
def test_every_text_and_background_pair_meets_wcag_aa(client, colour):
    pairs = text_pairs(theme_css_for(client, colour))
    # Buttons (3 states x 2 kinds), surfaces, links on them, muted text, focus, field edges.
    assert len(pairs) > 30
    failing = [
        f"{where}: {text} on {background} is {contrast(text, background):.2f}:1"
        for where, text, background, needed in pairs
        if contrast(text, background) < needed
    ]
    assert not failing, "\n".join(failing)


def test_the_contrast_check_catches_a_pale_pair(client):
    """The check reads what site.css pairs: a too-light brand shade in theme.css fails it."""
    css = theme_css_for(client, "#0b5394").replace("#0b5394", "#8fb3d9")
    failing = [p for p in text_pairs(css) if contrast(p[1], p[2]) < p[3]]
    assert any(".btn-primary" in where for where, *_ in failing)


def admin_data(**overrides):
    """The settings form as saved: every editable field but the logo (a file)."""
    data = model_to_dict(ClinicSettings.objects.get(), exclude=["id", "logo"])
    return {**data, **overrides}


def test_admin_refuses_a_too_light_colour_and_suggests_a_darker_one(admin_client):
    ClinicSettingsFactory(brand_colour="#0b5394")
    url = reverse("admin:clinic_site_clinicsettings_change", args=[1])
    response = admin_client.post(url, admin_data(brand_colour="#ffcc00"))
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "#ffcc00 is too light" in html
    assert f"{darkest_needed('#ffcc00')} is the nearest darker shade that is readable" in html
    assert ClinicSettings.objects.get().brand_colour == "#0b5394"


def test_a_colour_change_gives_a_new_link_and_no_cached_page_keeps_the_old(
    admin_client, client, commit
):
    ClinicSettingsFactory(brand_colour="#0b5394")
    first = client.get("/")
    assert client.get("/").page_cache == "hit"
    old_href = LINK.search(first.content.decode()).group(1)
    url = reverse("admin:clinic_site_clinicsettings_change", args=[1])
    with commit():
        response = admin_client.post(url, admin_data(brand_colour="#7a1f5c"))
    assert response.status_code == HTTPStatus.FOUND
    after = client.get("/")
    assert after.page_cache == "miss"  # the edit retired the cached page
    new_href = LINK.search(after.content.decode()).group(1)
    assert new_href != old_href
    assert "--clinic-brand:#7a1f5c;" in client.get(new_href).content.decode()
    assert "immutable" in client.get(new_href)["Cache-Control"]


def logo_file(width, height):
    return SimpleUploadedFile(
        "logo.png", image_bytes(width, height, fmt="PNG"), content_type="image/png"
    )


@pytest.mark.parametrize(
    ("size", "shown"),
    [((400, 100), (192, 48)), ((120, 40), (120, 40))],  # at most 48 px tall, never enlarged
)
def test_the_logo_replaces_the_name_with_its_size_reserved(client, size, shown):
    clinic = ClinicSettingsFactory(name="Motion Clinic")
    clinic.logo = logo_file(*size)
    clinic.save()
    clinic.refresh_from_db()
    assert (clinic.logo_width, clinic.logo_height) == size
    html = client.get("/").content.decode()
    header = html[html.index("<header") : html.index("</header>")]
    assert (
        f'<img src="{clinic.logo.url}" width="{shown[0]}" height="{shown[1]}" '
        'alt="Motion Clinic">' in header
    )
    assert ">Motion Clinic</a>" not in header


def test_without_a_logo_the_header_shows_the_name(client):
    ClinicSettingsFactory(name="Motion Clinic")
    html = client.get("/").content.decode()
    header = html[html.index("<header") : html.index("</header>")]
    assert ">Motion Clinic</a>" in header
    assert "<img" not in header
