"""Numbers for the admin index: what the front desk should look at first."""

from django import template
from django.urls import reverse

from ..models import ConsultationRequest

register = template.Library()


@register.simple_tag
def consultation_request_counts():
    """New, overdue and notification-failed requests, each with its filtered list's address.

    Three COUNT queries, each using the same queryset method as the list filter it links to.
    """
    requests = ConsultationRequest.objects.all()
    changelist = reverse("admin:contact_consultationrequest_changelist")
    return [
        {
            "label": "New",
            "count": requests.filter(status=ConsultationRequest.Status.NEW).count(),
            "url": f"{changelist}?status__exact={ConsultationRequest.Status.NEW}",
            "key": "new",
        },
        {
            "label": "Overdue (new for more than one business day)",
            "count": requests.overdue().count(),
            "url": f"{changelist}?overdue=yes",
            "key": "overdue",
        },
        {
            "label": "Notification email failed",
            "count": requests.notification_failed().count(),
            "url": f"{changelist}?notification_failed=yes",
            "key": "notification-failed",
        },
    ]
