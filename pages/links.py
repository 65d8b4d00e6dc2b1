"""Links staff put in a rich-text body: fixed where the intent is plain, refused when dead.

``fix_links`` runs inside the body's sanitiser (every save); ``link_problems`` runs where
the body is validated (``RichTextField.clean``): a link to one of our own pages must lead
to a page that exists. Links to drafts are allowed; the admin warns about them.
"""

import re
from html import unescape
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.urls import Resolver404, resolve
from django.views.generic.detail import SingleObjectMixin

# "www.example.com", "example.com/path", "clinic.example:8000/x": a host without a scheme.
# Common file endings are not top-level domains people mean ("leaflet.pdf" is no site).
BARE_HOST = re.compile(
    r"^(?:www\.[a-z0-9-]+(?:\.[a-z0-9-]+)*"
    r"|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?!(?:html?|php|aspx?|pdf|docx?|jpe?g|png|gif|webp)\b)"
    r"[a-z]{2,63})(?::\d+)?(?:[/?#].*)?$",
    re.IGNORECASE,
)
EMAIL = re.compile(r"^[^@\s/:]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+$", re.IGNORECASE)
# In the sanitiser's output every attribute value is double-quoted.
HREF = re.compile(r'(<a\b[^>]*?\bhref=")([^"]*)(")', re.IGNORECASE)


def fixed_href(href: str) -> str:
    """``www.example.com`` -> ``https://www.example.com``; ``a@b.org`` -> ``mailto:a@b.org``."""
    text = href.strip()
    if EMAIL.match(unescape(text)):
        return "mailto:" + text
    if BARE_HOST.match(unescape(text)):
        return "https://" + text
    return href


def fix_links(html: str) -> str:
    """Every link in sanitised ``html`` whose address lacks its scheme, with it added."""
    return HREF.sub(lambda m: m.group(1) + fixed_href(m.group(2)) + m.group(3), html)


class _Hrefs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs += [value for name, value in attrs if name == "href" and value]


def hrefs(html: str) -> list[str]:
    parser = _Hrefs()
    parser.feed(html or "")
    parser.close()
    return parser.hrefs


def _own_path(href: str) -> str | None:
    """The path of a link to this site (``/team/`` or our SITE_URL), else None."""
    parts = urlsplit(href)
    if not parts.scheme and not parts.netloc:
        return parts.path if href.startswith("/") else None
    site = urlsplit(settings.SITE_URL)
    same_host = parts.hostname and parts.hostname.removeprefix("www.") == (
        (site.hostname or "").removeprefix("www.")
    )
    if parts.scheme in ("http", "https", "") and same_host:
        return parts.path or "/"
    return None


def _target(path: str):
    """(error, object) for one of our paths: why it leads nowhere, or what it shows."""
    admin = "/" + settings.ADMIN_URL
    if path.startswith(admin):
        return "leads to the staff admin, which patients cannot open", None
    if path.startswith((settings.STATIC_URL, settings.MEDIA_URL)):
        return None, None
    try:
        match = resolve(path)
    except Resolver404:
        try:
            match = resolve(path + "/")  # Django adds the missing slash itself
        except Resolver404:
            return "leads to no page on our site", None
    view = getattr(match.func, "view_class", None)
    if not (view and issubclass(view, SingleObjectMixin) and view.model):
        return None, None
    model, lookup = view.model, {}
    if view.slug_url_kwarg in match.kwargs:
        lookup[view.slug_field] = match.kwargs[view.slug_url_kwarg]
    if view.pk_url_kwarg in match.kwargs:
        lookup["pk"] = match.kwargs[view.pk_url_kwarg]
    obj = model._default_manager.filter(**lookup).first() if lookup else None
    if lookup and obj is None:
        what = model._meta.verbose_name
        article = "an" if what[0] in "aeiou" else "a"
        return f"leads to {article} {what} that does not exist (renamed or deleted?)", None
    return None, obj


def link_problems(html: str) -> tuple[list[str], list[str]]:
    """(errors, warnings) about the body's links, each a sentence staff can act on."""
    errors, warnings = [], []
    for href in hrefs(html):
        if href.startswith("#") or href.lower().startswith(("mailto:", "tel:")):
            continue
        path = _own_path(href)
        if path is None:
            if not urlsplit(href).scheme and not href.startswith("//"):
                errors.append(
                    f"The link “{href}” is not a full web address. For another website, "
                    "start it with https://; for a page of ours, copy its address from the "
                    "browser's address bar."
                )
            continue
        error, obj = _target(unquote(path))
        if error:
            errors.append(
                f"The link “{href}” {error}. Open the page you mean on the site and copy its "
                "address from the browser's address bar."
            )
        elif obj is not None and getattr(obj, "is_public", True) is False:
            warnings.append(
                f"The link “{href}” leads to “{obj}”, which patients cannot see yet (a draft, "
                "hidden or scheduled): the link will not work for them until it is published."
            )
    return errors, warnings
