"""The brand colour: WCAG contrast checks and the shades derived from it (theme.css)."""

import functools
import hashlib
import re

from django.core.exceptions import ValidationError

HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
WHITE, BODY_TEXT = "#ffffff", "#212529"
AA = 4.5


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def _hex(rgb) -> str:
    return "#" + "".join(f"{round(max(0, min(255, c))):02x}" for c in rgb)


def luminance(colour: str) -> float:
    """Relative luminance, as WCAG 2 defines it."""
    channels = [c / 255 for c in _rgb(colour)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def mix(colour: str, towards: str, share: float) -> str:
    """``colour`` moved ``share`` (0..1) of the way towards ``towards``."""
    return _hex(a + (b - a) * share for a, b in zip(_rgb(colour), _rgb(towards), strict=True))


def darkest_needed(colour: str, background: str = WHITE, ratio: float = AA) -> str:
    """The lightest shade of ``colour`` (towards black) meeting ``ratio`` on ``background``."""
    for step in range(101):
        shade = mix(colour, "#000000", step / 100)
        if contrast(shade, background) >= ratio:
            return shade
    return "#000000"


def validate_brand_colour(value: str) -> None:
    if not HEX.match(value or ""):
        raise ValidationError("Write the colour as # and six hex digits, e.g. #0b5394.")
    ratio = contrast(value, WHITE)
    if ratio < AA:
        raise ValidationError(
            "%(value)s is too light: white text on it, and links in it, would be hard to read "
            "(contrast %(ratio).1f:1, at least 4.5:1 is needed). %(safe)s is the nearest "
            "darker shade that is readable.",
            params={"value": value, "ratio": ratio, "safe": darkest_needed(value)},
        )


def theme(colour: str) -> dict[str, str]:
    """The shades the stylesheet uses, each meeting AA where text sits on or in it."""
    if not HEX.match(colour or "") or contrast(colour, WHITE) < AA:
        colour = darkest_needed(colour) if HEX.match(colour or "") else "#0b5394"
    colour = colour.lower()
    tint = mix(colour, WHITE, 0.9)  # surfaces: body text and the brand colour stay readable
    return {
        "brand": colour,
        "brand_dark": mix(colour, "#000000", 0.25),  # hover and pressed
        "brand_rgb": ", ".join(str(c) for c in _rgb(colour)),
        "brand_tint": tint,
        "brand_on_tint": darkest_needed(colour, tint),
        "brand_border": mix(colour, WHITE, 0.7),
    }


@functools.lru_cache(maxsize=16)
def stylesheet(colour: str) -> str:
    """theme.css: the shades as custom properties (--clinic-brand, ...) that site.css uses."""
    shades = theme(colour).items()
    properties = "".join(f"--clinic-{key.replace('_', '-')}:{value};" for key, value in shades)
    return f":root{{{properties}}}\n"


def theme_version(colour: str) -> str:
    """Changes with theme.css (the colour, or how shades are derived): its link's ``?v=``."""
    return hashlib.sha256(stylesheet(colour).encode()).hexdigest()[:10]
