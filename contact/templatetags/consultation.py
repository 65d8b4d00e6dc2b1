"""What other apps use to offer the consultation form: a link, or the form itself."""

from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode

from ..forms import ConsultationRequestForm

register = template.Library()


@register.simple_tag(takes_context=True)
def consultation_form(context, office=None, heading="Ask for a free consultation"):
    """The whole form, posting to the consultation page, remembering where it was sent from."""
    request = context.get("request")
    office = office if getattr(office, "pk", None) else None
    form = ConsultationRequestForm(
        office=office,
        source=request.path if request else "",
        offices=context.get("site_offices"),  # the footer's list (pages.context_processors)
    )
    return render_to_string(
        "contact/includes/embedded_form.html", {"form": form, "heading": heading}
    )


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
