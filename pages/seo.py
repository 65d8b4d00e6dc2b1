"""What search engines and link previews read: canonical URLs and JSON-LD.

Everything here builds plain data from objects it is given and runs no query of its own
(the template tags in ``pages/templatetags/seo_tags.py`` pass what the view loaded).
Absolute URLs are on ``SITE_URL`` (clinic_site/site_url.py); JSON-LD nodes point at each
other by stable ``@id`` URLs (see ``clinic_id``).
"""

import datetime
import html
import json

from django.templatetags.static import static
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from clinic_site.models import e164
from clinic_site.site_url import absolute_url, site_url

SCHEMA = "https://schema.org"
CLINIC_TYPES = ["MedicalBusiness", "Physiotherapy"]
OFFICE_TYPE = "Physiotherapy"
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
LOGO_STATIC_PATH = "img/apple-touch-icon.png"
# The link-preview picture of a page without one of its own (1200 x 630, as Open Graph wants).
DEFAULT_IMAGE = {"path": "img/og-default.png", "width": 1200, "height": 630, "type": "image/png"}

# As django.utils.html.json_script: inside <script>, "</script>" or "<!--" in a value
# must not end the element. JSON allows these escapes, so json.loads() reads them back.
_JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


# --- URLs ---------------------------------------------------------------------------


def canonical_url(request, page_number: int | None = None) -> str:
    """``SITE_URL`` + the path, without any query string except ``?page=N`` (N > 1)."""
    return site_url() + page_path(request, page_number)


def page_path(request, page_number: int | None = None) -> str:
    """The request's path, with ``?page=N`` only for page 2 and later of a list."""
    return request.path + (f"?page={page_number}" if page_number and page_number > 1 else "")


def clinic_id() -> str:
    # The other nodes' @ids: an office's page URL + "#office", a promotion's + "#offer",
    # an article page's + "#webpage", a clinician's + "#person", a service's + "#service".
    return site_url() + "/#clinic"


def image_url(obj) -> str | None:
    """The absolute URL of a model's largest JPEG rendition, or None without a picture."""
    renditions = obj.image_renditions() if obj is not None else None
    return absolute_url(renditions.src) if renditions else None


def default_image_url() -> str:
    return absolute_url(static(DEFAULT_IMAGE["path"]))


def telephone(number: str) -> str:
    """E.164 (+18605550100), as search engines want it; a number we cannot read, as typed."""
    number_e164 = e164(number)
    return number_e164 if number_e164.startswith("+") else number


def _related(obj, name) -> list:
    """A many-to-many's rows (prefetched by the view), or a plain list's items."""
    value = getattr(obj, name, None)
    if value is None:
        return []
    return list(value.all() if hasattr(value, "all") else value)


# --- Page text ------------------------------------------------------------------------


def plain_text(rendered) -> str:
    """Rendered (HTML-escaped) template output as one line of plain text."""
    return " ".join(html.unescape(str(rendered or "")).split())


# --- Breadcrumbs ----------------------------------------------------------------------


def breadcrumb_list(trail) -> dict | None:
    """A ``BreadcrumbList`` of the trail's crumbs (clinic_site/breadcrumbs.py)."""
    if not trail:
        return None
    return {
        "@context": SCHEMA,
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": i, "name": crumb.name, "item": crumb.url}
            for i, crumb in enumerate(trail, start=1)
        ],
    }


# --- JSON-LD --------------------------------------------------------------------------


def jsonld_script(data) -> SafeString:
    """``<script type="application/ld+json">`` holding ``data``, safe inside HTML.

    ``<``, ``>`` and ``&`` are written as ``\\u003C`` etc., so no value (an article title
    containing ``</script>``, say) can end the element early, and json.loads() still
    returns the exact text.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    text = text.translate(_JSON_SCRIPT_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{text}</script>')


def iso_datetime(value: datetime.datetime) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds")


def _hhmm(value: datetime.time) -> str:
    return value.strftime("%H:%M")


def clinic_reference(clinic) -> dict:
    """Enough to name the clinic where another node points at it (publisher, provider)."""
    return {
        "@type": CLINIC_TYPES,
        "@id": clinic_id(),
        "name": clinic.name,
        "url": site_url() + "/",
        "logo": absolute_url(static(LOGO_STATIC_PATH)),
    }


def postal_address(office) -> dict:
    return {
        "@type": "PostalAddress",
        "streetAddress": office.street_line,
        "addressLocality": office.city,
        "addressRegion": office.state,
        "postalCode": office.zip_code,
        "addressCountry": "US",
    }


def main_office(offices):
    """The office whose address is the clinic's: the first active one by display order."""
    return min(offices, key=lambda office: office.display_order, default=None)


def clinic_node(clinic, offices=(), promotions=()) -> dict:
    """The home page's node: the clinic as a medical business, with its current offers.

    Each office is a ``department`` (see ``office_node``): pass offices loaded with
    ``Office.objects.with_schedule()``, so their hours and closures need no query. A
    LocalBusiness needs an address: the main office's (``main_office``).
    """
    node = {
        "@context": SCHEMA,
        **clinic_reference(clinic),
        "image": absolute_url(static(LOGO_STATIC_PATH)),
    }
    main = main_office(offices)
    if main is not None:
        node["address"] = postal_address(main)
    if clinic.tagline:
        node["description"] = clinic.tagline
    if clinic.phone:
        node["telephone"] = telephone(clinic.phone)
    if clinic.email:
        node["email"] = clinic.email
    if offices:
        node["department"] = [office_node(office, clinic, context=False) for office in offices]
    if promotions:
        node["makesOffer"] = [offer_node(p, clinic, context=False) for p in promotions]
    return node


def office_node(office, clinic, context=True) -> dict:
    """One office as a ``Physiotherapy`` business, part of the clinic (``parentOrganization``:
    schema.org has superseded ``branchOf`` by it).

    Regular hours become one ``OpeningHoursSpecification`` per ``OpeningHours`` row. A
    special closure becomes an entry valid from and through that day that opens and
    closes at 00:00, schema.org's way to say "closed all day". Closures are included when
    the view prefetched them (``Office.objects.with_schedule()``); none is fetched here.
    """
    url = absolute_url(office.get_absolute_url())
    node = {"@context": SCHEMA} if context else {}
    node |= {
        "@type": OFFICE_TYPE,
        "@id": url + "#office",
        "name": office.name,
        "url": url,
        "address": postal_address(office),
    }
    if office.latitude is not None and office.longitude is not None:
        # Text with all six stored decimals: a JSON number drops trailing zeros, and Google
        # asks for at least five.
        node["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": f"{office.latitude:.6f}",
            "longitude": f"{office.longitude:.6f}",
        }
    if office.phone:
        node["telephone"] = telephone(office.phone)
    if office.email:
        node["email"] = office.email
    image = image_url(office)
    if image:
        node["image"] = image
    hours = opening_hours_specification(office)
    if hours:
        node["openingHoursSpecification"] = hours
    node["parentOrganization"] = clinic_reference(clinic) if context else {"@id": clinic_id()}
    return node


def opening_hours_specification(office) -> list[dict]:
    today = timezone.localdate()
    specs = [
        {
            "@type": "OpeningHoursSpecification",
            "dayOfWeek": f"{SCHEMA}/{WEEKDAYS[row.weekday]}",
            "opens": _hhmm(row.opens),
            "closes": _hhmm(row.closes),
        }
        for row in sorted(office.hours.all(), key=lambda r: (r.weekday, r.opens))
    ]
    for closure in getattr(office, "upcoming_closure_list", None) or ():
        if closure.date < today:
            continue
        opens = closes = "00:00"
        if closure.closes_at:  # a half day: open as usual that morning, until closes_at
            day = [r.opens for r in office.hours.all() if r.weekday == closure.date.weekday()]
            if day and min(day) < closure.closes_at:
                opens, closes = _hhmm(min(day)), _hhmm(closure.closes_at)
        specs.append(
            {
                "@type": "OpeningHoursSpecification",
                "name": closure.reason,
                "validFrom": closure.date.isoformat(),
                "validThrough": closure.date.isoformat(),
                "opens": opens,
                "closes": closes,
            }
        )
    return specs


def offices_graph(offices, clinic) -> dict:
    """The office list page: every office, each pointing at the clinic (with its address)."""
    clinic_ref = clinic_reference(clinic)
    main = main_office(offices)
    if main is not None:
        clinic_ref["address"] = postal_address(main)
    return {
        "@context": SCHEMA,
        "@graph": [clinic_ref] + [office_node(office, clinic, context=False) for office in offices],
    }


def person_reference(clinician=None, name="") -> dict:
    """A team member (named, with their profile's URL) or a guest (``name`` only)."""
    if clinician is None:
        return {"@type": "Person", "name": name}
    url = absolute_url(clinician.get_absolute_url())
    return {"@type": "Person", "@id": url + "#person", "name": clinician.name, "url": url}


def article_node(article, clinic) -> dict:
    """An article page: a ``MedicalWebPage`` whose main entity is an ``Article``.

    Two nodes, as Google reads only Article, NewsArticle or BlogPosting as an article
    (headline, image, dates, author); who reviewed the page medically and when
    (``reviewedBy``, ``lastReviewed``) are ``WebPage`` properties.
    """
    url = absolute_url(article.get_absolute_url())
    page = {
        "@type": "MedicalWebPage",
        "@id": url + "#webpage",
        "url": url,
        "name": article.title,
        "description": article.summary,
        "inLanguage": "en-US",
        "mainEntity": {"@id": url + "#article"},
    }
    if article.reviewed_on:
        page["lastReviewed"] = article.reviewed_on.isoformat()
    reviewer = getattr(article, "reviewer", None)  # getattr: before and after the FK
    if reviewer is not None or article.reviewed_by:
        page["reviewedBy"] = person_reference(reviewer, article.reviewed_by)
    entity = {
        "@type": "Article",
        "@id": url + "#article",
        "mainEntityOfPage": {"@id": url + "#webpage"},
        "headline": article.title,
        "description": article.summary,
        "inLanguage": "en-US",
        "author": person_reference(getattr(article, "author_profile", None), article.author),
        "datePublished": iso_datetime(article.published_at),
        "dateModified": iso_datetime(article.updated_at or article.published_at),
        "publisher": clinic_reference(clinic),
        # Google's Article wants an image: the site's default one when it has none.
        "image": image_url(article) or default_image_url(),
    }
    return {"@context": SCHEMA, "@graph": [page, entity]}


def offer_node(promotion, clinic, context=True) -> dict:
    """A promotion (e.g. the first-responder discount) as a schema.org ``Offer``.

    The amount off and who qualifies are in ``description`` (and ``name``); ``itemOffered``
    is the ``Service`` it applies to; ``validFrom``/``validThrough`` the first and last day.
    """
    url = absolute_url(promotion.get_absolute_url())
    summary = f"{promotion.amount_display} off {promotion.applies_to}"
    node = {"@context": SCHEMA} if context else {}
    # No price: schema.org has no discount for an Offer (``discount`` is Order's, no
    # PriceComponentType means one) and the regular price is not ours to state.
    node |= {
        "@type": "Offer",
        "@id": url + "#offer",
        "name": promotion.title,
        "description": " ".join(
            f"{summary} for {promotion.eligibility}. {promotion.description}".split()
        ),
        "url": url,
        "category": "Discount",
        "itemOffered": offered_service(promotion),
        "offeredBy": clinic_reference(clinic) if context else {"@id": clinic_id()},
    }
    if promotion.starts_on:
        node["validFrom"] = promotion.starts_on.isoformat()
    if promotion.ends_on:
        node["validThrough"] = promotion.ends_on.isoformat()
    if promotion.fine_print:
        node["disambiguatingDescription"] = promotion.fine_print
    return node


def offered_service(promotion) -> dict:
    """The service a promotion applies to: its page's node when it names one."""
    service = getattr(promotion, "service", None)
    if service is None:
        return {"@type": "Service", "name": promotion.applies_to, "provider": {"@id": clinic_id()}}
    url = absolute_url(service.get_absolute_url())
    return {"@type": "Service", "@id": url + "#service", "name": service.title, "url": url}


def office_place(office) -> dict:
    """An office where another page mentions it: the same @id as its own page's node."""
    return {
        "@type": "Place",
        "@id": absolute_url(office.get_absolute_url()) + "#office",
        "name": office.name,
        "address": postal_address(office),
    }


def _summary(rich_text: str, limit: int = 300) -> str:
    return Truncator(plain_text(strip_tags(rich_text or ""))).chars(limit)


def person_node(clinician, clinic) -> dict:
    """A clinician's profile page: a ``Person`` who works for the clinic at its offices."""
    node = {
        "@context": SCHEMA,
        **person_reference(clinician),
        "jobTitle": clinician.role,
        "worksFor": clinic_reference(clinic),
    }
    if clinician.credentials:
        node["honorificSuffix"] = clinician.credentials
    description = _summary(clinician.bio)
    if description:
        node["description"] = description
    image = image_url(clinician)
    if image:
        node["image"] = image
    offices = _related(clinician, "offices")
    if offices:
        node["workLocation"] = [office_place(office) for office in offices]
    services = _related(clinician, "services")
    if services:
        node["knowsAbout"] = [service.title for service in services]
    languages = [part.strip() for part in (clinician.languages or "").split(",") if part.strip()]
    if languages:
        node["knowsLanguage"] = languages
    return node


def service_node(service, clinic) -> dict:
    """A service page: a ``Service`` the clinic provides, at the offices that offer it."""
    url = absolute_url(service.get_absolute_url())
    node = {
        "@context": SCHEMA,
        "@type": "Service",
        "@id": url + "#service",
        "name": service.title,
        "url": url,
        "provider": clinic_reference(clinic),
    }
    if service.summary:
        node["description"] = service.summary
    image = image_url(service)
    if image:
        node["image"] = image
    offices = _related(service, "offices")
    if offices:
        # schema.org's way to say where a service is given: a channel at each place.
        node["availableChannel"] = [
            {"@type": "ServiceChannel", "serviceLocation": office_place(office)}
            for office in offices
        ]
    return node


def article_list_node(request, clinic, articles, page_obj, title, description) -> dict:
    """The article list: a ``CollectionPage`` listing this page's articles."""
    url = canonical_url(request, getattr(page_obj, "number", None))
    first = page_obj.start_index() if page_obj is not None else 1
    return {
        "@context": SCHEMA,
        "@type": "CollectionPage",
        "@id": url + "#webpage",
        "url": url,
        "name": title,
        "description": description,
        "publisher": clinic_reference(clinic),
        "mainEntity": {
            "@type": "ItemList",
            "itemListElement": [
                {
                    "@type": "ListItem",
                    "position": i,
                    "url": absolute_url(article.get_absolute_url()),
                    "name": article.title,
                }
                for i, article in enumerate(articles, start=first)
            ],
        },
    }
