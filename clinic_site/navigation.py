"""Built-in sections staff may put in the menu and footer, from what each app offers.

An app's ``navigation`` module has ``SECTIONS = {key: (label, url name)}``; a menu entry
stores only the key, so ``pages`` needs no knowledge of ``contact``'s URLs.
"""

import functools

from django.urls import reverse

from .apps import app_modules


@functools.cache
def sections() -> dict[str, tuple[str, str]]:
    table = {}
    for module in app_modules("navigation"):
        table.update(module.SECTIONS)
    return table


def section_choices():
    return [(key, label) for key, (label, _url_name) in sections().items()]


def section_url(key: str) -> str | None:
    found = sections().get(key)
    return reverse(found[1]) if found else None


def section_label(key: str) -> str:
    found = sections().get(key)
    return found[0] if found else key
