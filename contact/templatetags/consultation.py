"""What other apps use to offer the consultation form: a link, or the form itself."""

from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode

from ..forms import ConsultationRequestForm

register = template.Library()


@register.simple_tag(takes_context=True)
def consultation_form(context, office=None, service=None, heading="Ask for a free consultation"):
    """The whole form, posting to the consultation page, remembering where it was sent from;
    ``service=`` prefills the service (a staff preview of a hidden one is not offered)."""
    request = context.get("request")
    office = office if getattr(office, "pk", None) else None
    service = service if getattr(service, "pk", None) and service.is_published else None
    form = ConsultationRequestForm(
        office=office,
        service=service,
        source=request.path if request else "",
        offices=context.get("site_offices"),  # the footer's list (pages.context_processors)
    )
    return render_to_string(
        "contact/includes/embedded_form.html",
        {"form": form, "heading": heading, "clinic": context.get("clinic")},
    )


@register.simple_tag(takes_context=True)
def consultation_url(context, office=None, service=None):
    """The consultation page's address, with the office, the service and the current page
    prefilled."""
    params = {}
    if getattr(office, "slug", None):
        params["office"] = office.slug
    if getattr(service, "slug", None):
        params["service"] = service.slug
    request = context.get("request")
    if request is not None:
        params["from"] = request.path
    url = reverse("contact:request")
    return f"{url}?{urlencode(params)}" if params else url
