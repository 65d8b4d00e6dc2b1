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
from django.utils.safestring import SafeString, mark_safe

from clinic_site.site_url import absolute_url, site_url

SCHEMA = "https://schema.org"
CLINIC_TYPES = ["MedicalBusiness", "Physiotherapy"]
OFFICE_TYPE = "Physiotherapy"
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
LOGO_STATIC_PATH = "img/apple-touch-icon.png"

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
    # an article page's + "#webpage".
    return site_url() + "/#clinic"


def image_url(obj) -> str | None:
    """The absolute URL of a model's largest JPEG rendition, or None without a picture."""
    renditions = obj.image_renditions() if obj is not None else None
    return absolute_url(renditions.src) if renditions else None


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
    """Enough to name the clinic where another node points at it (publisher, branchOf)."""
    return {
        "@type": CLINIC_TYPES,
        "@id": clinic_id(),
        "name": clinic.name,
        "url": site_url() + "/",
        "logo": absolute_url(static(LOGO_STATIC_PATH)),
    }


def clinic_node(clinic, offices=(), promotions=()) -> dict:
    """The home page's node: the clinic as a medical business, with its current offers.

    Each office is a ``department`` (see ``office_node``): pass offices loaded with
    ``Office.objects.with_schedule()``, so their hours and closures need no query.
    """
    node = {
        "@context": SCHEMA,
        **clinic_reference(clinic),
        "image": absolute_url(static(LOGO_STATIC_PATH)),
    }
    if clinic.tagline:
        node["description"] = clinic.tagline
    if clinic.phone:
        node["telephone"] = clinic.phone
    if clinic.email:
        node["email"] = clinic.email
    if offices:
        node["department"] = [office_node(office, clinic, context=False) for office in offices]
    if promotions:
        node["makesOffer"] = [offer_node(p, clinic, context=False) for p in promotions]
    return node


def office_node(office, clinic, context=True) -> dict:
    """One office as a ``Physiotherapy`` business and a branch of the clinic.

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
        "address": {
            "@type": "PostalAddress",
            "streetAddress": office.street_line,
            "addressLocality": office.city,
            "addressRegion": office.state,
            "postalCode": office.zip_code,
            "addressCountry": "US",
        },
    }
    if office.latitude is not None and office.longitude is not None:
        node["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": float(office.latitude),
            "longitude": float(office.longitude),
        }
    if office.phone:
        node["telephone"] = office.phone
    if office.email:
        node["email"] = office.email
    image = image_url(office)
    if image:
        node["image"] = image
    hours = opening_hours_specification(office)
    if hours:
        node["openingHoursSpecification"] = hours
    node["branchOf"] = clinic_reference(clinic) if context else {"@id": clinic_id()}
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
        specs.append(
            {
                "@type": "OpeningHoursSpecification",
                "name": closure.reason,
                "validFrom": closure.date.isoformat(),
                "validThrough": closure.date.isoformat(),
                "opens": "00:00",
                "closes": "00:00",
            }
        )
    return specs


def offices_graph(offices, clinic) -> dict:
    """The office list page: every office, each pointing at the clinic."""
    return {
        "@context": SCHEMA,
        "@graph": [clinic_reference(clinic)]
        + [office_node(office, clinic, context=False) for office in offices],
    }


def article_node(article, clinic) -> dict:
    """An article page as a ``MedicalWebPage`` carrying the article's own properties.

    ``MedicalWebPage`` is a ``CreativeWork``, so headline, author, dates, image and
    publisher sit on it directly; ``lastReviewed``/``reviewedBy`` (``WebPage``
    properties) are added when a clinician reviewed the article.
    """
    url = absolute_url(article.get_absolute_url())
    node = {
        "@context": SCHEMA,
        "@type": "MedicalWebPage",
        "@id": url + "#webpage",
        "url": url,
        "name": article.title,
        "headline": article.title,
        "description": article.summary,
        "inLanguage": "en-US",
        "author": {"@type": "Person", "name": article.author},
        "datePublished": iso_datetime(article.published_at),
        "dateModified": iso_datetime(article.updated_at or article.published_at),
        "publisher": clinic_reference(clinic),
    }
    image = image_url(article)
    if image:
        node["image"] = image
    if article.reviewed_on:
        node["lastReviewed"] = article.reviewed_on.isoformat()
    if article.reviewed_by:
        node["reviewedBy"] = {"@type": "Person", "name": article.reviewed_by}
    return node


def offer_node(promotion, clinic, context=True) -> dict:
    """A promotion (e.g. the first-responder discount) as a schema.org ``Offer``.

    schema.org has no "discount" property, so the offer is described this way:

    - ``priceSpecification`` is a ``PriceSpecification`` whose ``price`` is the amount
      taken off the regular price (e.g. "50.00" USD), named "Discount" and described in
      words ("$50.00 off fitness memberships") so no reader takes it for the price paid;
    - ``itemOffered`` is the ``Service`` it applies to, its ``audience`` the people who
      qualify, also given as text in ``eligibleCustomerType``;
    - ``validFrom``/``validThrough`` are the first and last day, when set;
    - ``offeredBy`` points at the clinic's ``@id``.
    """
    url = absolute_url(promotion.get_absolute_url())
    summary = f"{promotion.amount_display} off {promotion.applies_to}"
    node = {"@context": SCHEMA} if context else {}
    node |= {
        "@type": "Offer",
        "@id": url + "#offer",
        "name": promotion.title,
        "description": " ".join(promotion.description.split())
        or f"{summary} for {promotion.eligibility}.",
        "url": url,
        "category": "Discount",
        "priceSpecification": {
            "@type": "PriceSpecification",
            "name": "Discount",
            "description": summary,
            "price": f"{promotion.amount:.2f}",
            "priceCurrency": promotion.currency,
        },
        "itemOffered": {
            "@type": "Service",
            "name": promotion.applies_to,
            "audience": {"@type": "Audience", "audienceType": promotion.eligibility},
            "provider": {"@id": clinic_id()},
        },
        "eligibleCustomerType": promotion.eligibility,
        "offeredBy": clinic_reference(clinic) if context else {"@id": clinic_id()},
    }
    if promotion.starts_on:
        node["validFrom"] = promotion.starts_on.isoformat()
    if promotion.ends_on:
        node["validThrough"] = promotion.ends_on.isoformat()
    if promotion.fine_print:
        node["disambiguatingDescription"] = promotion.fine_print
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
