"""The superuser's part of the admin home: staff accounts, groups and login lockouts."""

from axes.models import AccessAttempt
from django import template
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def account_summary(context):
    """Links and counts for superusers only; anyone else gets None (and the home no links)."""
    if not context["request"].user.is_superuser:
        return None
    staff = get_user_model().objects.filter(is_staff=True, is_active=True).count()
    # As django-axes' own "Locked out: Yes" filter counts them (the list the link opens).
    locked = AccessAttempt.objects.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT
    ).count()
    return {
        "staff": staff,
        "users_url": reverse("admin:auth_user_changelist"),
        "new_staff_url": reverse("admin:auth_user_new_staff"),
        "groups_url": reverse("admin:auth_group_changelist"),
        "locked": locked,
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        "lockouts_url": reverse("admin:axes_accessattempt_changelist") + "?locked_out=yes",
    }
