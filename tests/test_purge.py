"""``manage.py purge_consultation_requests``: old requests and their notes are erased."""

import datetime
import io
import zoneinfo

import pytest
import time_machine
from django.core.management import CommandError, call_command

from contact.models import ConsultationRequest, StaffNote

pytestmark = pytest.mark.django_db

Status = ConsultationRequest.Status
NOW = datetime.datetime(2025, 6, 2, 12, 0, tzinfo=zoneinfo.ZoneInfo("America/New_York"))


def make_request(days_ago, **kw):
    """A request received ``days_ago`` days before NOW, created with the clock at that time."""
    received = NOW - datetime.timedelta(days=days_ago)
    fields = {
        "name": f"Zelda Quill {days_ago}",
        "phone": "(860) 555-0142",
        "email": "zelda.quill@example.com",
        "contact_method": ConsultationRequest.ContactMethod.PHONE,
        "best_time": ConsultationRequest.BestTime.MORNING,
    }
    fields.update(kw)
    with time_machine.travel(received, tick=False):
        return ConsultationRequest.objects.create(consent_at=received, **fields)


def purge(*args):
    out = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("purge_consultation_requests", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def consultations():
    rows = {
        "old": make_request(400),
        "just_expired": make_request(366),
        "just_kept": make_request(364),
        "recent": make_request(10),
        "old_spam": make_request(40, status=Status.SPAM),
        "recent_spam": make_request(5, status=Status.SPAM),
        "old_contacted": make_request(40, status=Status.CONTACTED),
        # Flagged, never spam: kept as long as any request, not 30 days.
        "old_review": make_request(40, status=Status.NEEDS_REVIEW),
    }
    StaffNote.objects.create(consultation=rows["old"], text="Called, no answer")
    StaffNote.objects.create(consultation=rows["old_spam"], text="Obvious spam")
    StaffNote.objects.create(consultation=rows["recent"], text="Booked Tuesday")
    return rows


def remaining():
    return set(ConsultationRequest.objects.values_list("pk", flat=True))


def test_purge_deletes_old_requests_old_spam_and_their_notes(consultations):
    output = purge()

    kept = {"just_kept", "recent", "recent_spam", "old_contacted", "old_review"}
    assert remaining() == {consultations[key].pk for key in kept}
    assert list(StaffNote.objects.values_list("text", flat=True)) == ["Booked Tuesday"]
    assert (
        output.strip()
        == "Deleted 3 requests (1 spam) and 0 daily page-view counts older than 25 months."
    )


def test_purge_output_has_no_personal_data(consultations):
    output = purge() + purge("--dry-run")
    for secret in ["Zelda", "Quill", "555-0142", "zelda.quill@example.com", "Called"]:
        assert secret not in output


def test_dry_run_only_counts(consultations):
    before = remaining()
    output = purge("--dry-run")
    assert remaining() == before
    assert StaffNote.objects.count() == 3
    assert "3 requests (1 spam)" in output
    assert "Deleted" not in output


def test_purge_twice_deletes_nothing_more(consultations):
    purge()
    assert (
        purge().strip()
        == "Deleted 0 requests (0 spam) and 0 daily page-view counts older than 25 months."
    )


def test_retention_comes_from_settings(consultations, settings):
    settings.CONSULTATION_RETENTION_DAYS = 30
    settings.CONSULTATION_SPAM_RETENTION_DAYS = 3
    purge()
    assert remaining() == {consultations["recent"].pk}


def test_defaults_when_settings_are_missing(consultations, settings):
    del settings.CONSULTATION_RETENTION_DAYS
    del settings.CONSULTATION_SPAM_RETENTION_DAYS
    assert (
        purge().strip()
        == "Deleted 3 requests (1 spam) and 0 daily page-view counts older than 25 months."
    )


@pytest.mark.parametrize("days", [0, -5, "365"])
def test_refuses_a_nonsense_retention(consultations, settings, days):
    settings.CONSULTATION_RETENTION_DAYS = days
    with pytest.raises(CommandError, match="CONSULTATION_RETENTION_DAYS"):
        purge()
    assert len(remaining()) == len(consultations)
