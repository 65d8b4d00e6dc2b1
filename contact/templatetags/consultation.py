"""What other apps use to offer the consultation form: a link, or the form itself."""

from django import template
from django.urls import reverse
from django.utils.http import urlencode

from ..forms import ConsultationRequestForm

register = template.Library()


@register.inclusion_tag("contact/includes/embedded_form.html", takes_context=True)
def consultation_form(context, office=None, heading="Ask for a free consultation"):
    """The whole form, posting to the consultation page, remembering where it was sent from."""
    request = context.get("request")
    source = request.path if request else ""
    if not getattr(office, "pk", None):
        office = None
    return {
        "form": ConsultationRequestForm(office=office, source=source),
        "heading": heading,
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }


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
