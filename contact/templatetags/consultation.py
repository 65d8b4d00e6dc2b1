"""What other apps use to offer the consultation form: a link, or the form itself."""

import hashlib

from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from pages.cache import cached_for_content

from ..forms import ConsultationRequestForm
from ..spam import sign_form_start

register = template.Library()


# Rendering the form through crispy-forms takes longer than the rest of a page, so its
# HTML is kept in the shared fragment cache (until the next content edit) with stand-ins
# for the two per-request values, which are filled in on every render.
_SOURCE = "CONSULTATIONFORMSOURCEVALUE"
_STARTED = "CONSULTATIONFORMSTARTEDVALUE"


@register.simple_tag(takes_context=True)
def consultation_form(context, office=None, heading="Ask for a free consultation"):
    """The whole form, posting to the consultation page, remembering where it was sent from."""
    request = context.get("request")
    office = office if getattr(office, "pk", None) else None

    def render():
        form = ConsultationRequestForm(office=office, source=_SOURCE)
        form.fields["started"].initial = _STARTED
        return render_to_string(
            "contact/includes/embedded_form.html", {"form": form, "heading": heading}
        )

    variant = hashlib.sha256(f"{office.pk if office else 0}:{heading}".encode()).hexdigest()
    html = cached_for_content(f"consultation-form:{variant[:32]}", render)
    html = html.replace(_SOURCE, escape(request.path if request else ""))
    return mark_safe(html.replace(_STARTED, sign_form_start()))  # noqa: S308 (our own HTML)


@register.simple_tag(takes_context=True)
def consultation_url(context, office=None):
    """The consultation page's address, with the office and the current page prefilled."""
    params = {}
    if getattr(office, "slug", None):
        params["office"] = office.slug
    request = context.get("request")
    if request is not None:
        params["from"] = request.path
    url = reverse("contact:request")
    return f"{url}?{urlencode(params)}" if params else url
