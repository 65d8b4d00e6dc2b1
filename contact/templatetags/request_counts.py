"""Numbers for the admin index: what the front desk should look at first."""

from django import template
from django.urls import reverse

from ..models import ConsultationRequest

register = template.Library()


@register.simple_tag
def consultation_request_counts():
    """New, needs review, overdue and mail-failed requests, each with its filtered list's
    address. One COUNT query each, using the same queryset method as the list filter."""
    consultations = ConsultationRequest.objects.all()
    changelist = reverse("admin:contact_consultationrequest_changelist")
    return [
        {
            "label": "New",
            "count": consultations.filter(status=ConsultationRequest.Status.NEW).count(),
            "url": f"{changelist}?status__exact={ConsultationRequest.Status.NEW}",
            "key": "new",
        },
        {
            "label": "Needs review (kept and notified, but something looked odd)",
            "count": consultations.needs_review().count(),
            "url": f"{changelist}?status__exact={ConsultationRequest.Status.NEEDS_REVIEW}",
            "key": "needs-review",
        },
        {
            "label": "Overdue (waiting for more than one business day)",
            "count": consultations.overdue().count(),
            "url": f"{changelist}?overdue=yes",
            "key": "overdue",
        },
        {
            "label": "Email failed (to staff, or the patient's confirmation)",
            "count": consultations.mail_failed().count(),
            "url": f"{changelist}?mail_failed=yes",
            "key": "mail-failed",
        },
    ]
