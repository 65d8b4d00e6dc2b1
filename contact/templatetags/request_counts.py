"""Numbers and the newest requests for the admin index: what the front desk looks at first."""

from django import template
from django.urls import reverse

from clinic_site.models import ClinicSettings

from ..models import ConsultationRequest, staff_time

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


@register.simple_tag
def recent_consultation_requests(count=5):
    """The newest requests (spam left out) for the admin home: number, when, office, status
    and link, and nothing the patient typed."""
    rows = (
        ConsultationRequest.objects.exclude(status=ConsultationRequest.Status.SPAM)
        .select_related("office")
        .only("pk", "received_at", "status", "office__name")[:count]
    )
    zone = ClinicSettings.load().tzinfo
    return [
        {
            "number": row.pk,
            "received": staff_time(row.received_at, zone),
            "office": row.office.name if row.office else "No preference",
            "status": row.get_status_display(),
            "url": row.get_admin_url(),
        }
        for row in rows
    ]
