"""The insight dashboard passes axe-core at 360 and 1280 px, as a front-desk member sees it
with figures in every chart, and fits a phone without sideways scrolling (the charts and
wide tables scroll inside their own boxes)."""

import datetime

import pytest
from django.utils import timezone

from clinic_site.models import PageViews
from contact.models import ConsultationRequest, StatusChange

from .test_accessibility import PHONE, VIEWPORTS, describe, run_axe
from .test_staff_journeys import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("fast_password_hasher", "staff_groups"),
]


def test_the_dashboard_has_no_axe_violations_and_fits_a_phone(page, site):
    user = log_in(page, site, "Front desk", "desk", first_name="Dee", last_name="Sk")
    now = timezone.now()
    for days in range(0, 70, 3):
        received = now - datetime.timedelta(days=days, hours=2)
        row = ConsultationRequest.objects.create(
            name="Pat Patient",
            phone="(860) 555-0100",
            contact_method=ConsultationRequest.ContactMethod.PHONE,
            best_time=ConsultationRequest.BestTime.MORNING,
            consent_at=received,
            received_at=received,
            source_path="/services/dry-needling/",
        )
        StatusChange.objects.create(
            consultation=row,
            status=ConsultationRequest.Status.CONTACTED,
            changed_by=user,
            changed_at=received + datetime.timedelta(hours=days % 7 + 1),
        )
        PageViews.objects.create(
            day=timezone.localdate() - datetime.timedelta(days=days),
            path="/services/dry-needling/",
            views=20 + days,
        )
    problems = []
    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        response = page.goto(site + "/admin/insight/")
        assert response.status == 200
        assert page.locator("svg.chart").count() == 5
        violations = run_axe(page)
        if violations:
            problems.append(
                f"{len(violations)} axe violation(s) at {width} px:\n{describe(violations)}"
            )
        if width == PHONE:
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > PHONE:
                problems.append(f"scrolls sideways at {PHONE} px: {scroll_width} px wide")
    assert not problems, "\n".join(problems)
