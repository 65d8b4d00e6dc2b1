import re
import time
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.views.debug import SafeExceptionReporterFilter

from contact.forms import normalise_phone
from contact.models import ConsultationRequest, PrivacyNotice
from contact.spam import sign_form_start, timestamp_problem
from contact.views import ConsultationRequestView

from .factories import ArticleFactory, OfficeFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clinic")]

URL = "/consultation/"


def form_data(**overrides):
    data = {
        "name": "Pat Example",
        "phone": "860.555.0123",
        "email": "pat@example.com",
        "office": "",
        "contact_method": "phone",
        "best_time": "morning",
        "message": "Sore shoulder after tennis",
        "consent": "on",
        "website": "",
        "started": sign_form_start(time.time() - 30),
        "source": "/articles/what-is-dry-needling/",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_form_page_renders_fields_consent_unticked_and_privacy_link(client):
    PrivacyNotice.objects.create(body="<p>Notice</p>")
    html = client.get(URL).content.decode()
    for name in ("name", "phone", "email", "office", "contact_method", "best_time", "message"):
        assert f'name="{name}"' in html, name
    consent = html[html.index('name="consent"') - 200 : html.index('name="consent"') + 100]
    assert "checked" not in consent
    assert 'href="/privacy/"' in html
    assert "detailed medical information" in html
    assert "No preference" in html


def test_valid_request_is_stored_and_redirects_to_thank_you(client):
    office = OfficeFactory(name="Avon Office", phone="(860) 555-0103")
    PrivacyNotice.objects.create(body="<p>v1</p>")
    response = client.post(URL, form_data(office=office.pk))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/consultation/thanks/?office={office.slug}"
    row = ConsultationRequest.objects.get()
    assert row.status == ConsultationRequest.Status.NEW
    assert row.phone == "(860) 555-0123"
    assert row.office == office
    assert row.source_path == "/articles/what-is-dry-needling/"
    assert row.consent_at is not None and row.privacy_notice_version == 1
    assert row.notified_at is None  # mail is the worker's job, never the request's
    thanks = client.get(response["Location"]).content.decode()
    assert "What happens next" in thanks
    assert 'href="tel:+18605550103"' in thanks and "Avon Office" in thanks


def test_thank_you_without_office_gives_main_phone(client):
    response = client.post(URL, form_data())
    thanks = client.get(response["Location"]).content.decode()
    assert 'href="tel:+18605550199"' in thanks


def test_needs_phone_or_email_and_keeps_what_was_typed(client):
    response = client.post(
        URL, form_data(phone="", email="", contact_method="email", message="Keep this text")
    )
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    # Once in the summary, once next to the phone field; never Django's constraint text.
    assert html.count("Please give a phone number or an email address") == 2
    assert "Constraint" not in html
    assert 'id="form-errors"' in html  # summary at the top
    assert 'value="Pat Example"' in html and "Keep this text" in html
    assert not ConsultationRequest.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"phone": "12345"}, "phone", "10-digit phone number"),
        ({"phone": "call me maybe"}, "phone", "Use only digits"),
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"consent": None}, "consent", "Please tick the box"),
        ({"message": "x" * 1001}, "message", "at most 1000 characters"),
        ({"name": ""}, "name", "This field is required"),
        ({"phone": "", "contact_method": "text"}, "phone", "please add your number"),
        ({"email": "", "contact_method": "email"}, "email", "please add your address"),
        ({"office": "999999"}, "office", "Select a valid choice"),
        ({"name": "Nul\x00byte"}, "name", "Null characters are not allowed"),
    ],
)
def test_errors_are_shown_next_to_their_field(client, overrides, field, message):
    response = client.post(URL, form_data(**overrides))
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert message in html
    assert f'href="#id_{field}"' in html  # the summary links to the field
    assert not ConsultationRequest.objects.exists()


def test_inactive_office_cannot_be_chosen(client):
    office = OfficeFactory(is_active=False)
    response = client.post(URL, form_data(office=office.pk))
    assert response.status_code == HTTPStatus.OK
    assert not ConsultationRequest.objects.exists()


def test_phone_normalisation():
    assert normalise_phone("+1 (860) 555-0123") == "(860) 555-0123"
    assert normalise_phone("8605550123") == "(860) 555-0123"
    assert normalise_phone("+44 20 7946 0958") == "+442079460958"
    assert normalise_phone("") == ""


def test_form_opened_from_office_page_is_prefilled(client):
    office = OfficeFactory()
    html = client.get(f"{URL}?office={office.slug}&from=/offices/{office.slug}/").content.decode()
    assert f'<option value="{office.pk}" selected>' in html
    assert f'value="/offices/{office.slug}/"' in html


def test_unknown_office_slug_and_odd_source_are_ignored(client):
    response = client.get(f"{URL}?office=nope&from=https://evil.example/")
    assert response.status_code == HTTPStatus.OK
    response = client.post(URL, form_data(source="https://evil.example/x"))
    assert response.status_code == HTTPStatus.FOUND
    assert ConsultationRequest.objects.get().source_path == ""


def test_form_is_embedded_on_home_article_and_office_pages(client):
    office = OfficeFactory()
    article = ArticleFactory()
    for url in ("/", article.get_absolute_url(), office.get_absolute_url()):
        html = client.get(url).content.decode()
        assert f'action="{URL}"' in html, url
        # Cache-friendly: no per-visitor CSRF token, but our signed form token.
        assert 'name="csrfmiddlewaretoken"' not in html, url
        assert 'name="started"' in html, url
        assert f'name="source" value="{url}"' in html, url
    office_html = client.get(office.get_absolute_url()).content.decode()
    assert f'<option value="{office.pk}" selected>' in office_html


def test_embedded_form_submission_records_its_page(client):
    article = ArticleFactory()
    client.post(URL, form_data(source=article.get_absolute_url()))
    assert ConsultationRequest.objects.get().source_path == article.get_absolute_url()


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"website": "http://spam.example"}, "honeypot"),
        ({"started": 1}, "sent too fast"),
        ({"started": 2 * 86400}, "form page too old"),
    ],
)
def test_suspect_requests_are_stored_as_spam_and_see_the_normal_thank_you(
    client, overrides, reason
):
    if isinstance(overrides.get("started"), int):  # seconds since the form was opened
        overrides = {"started": sign_form_start(time.time() - overrides["started"])}
    response = client.post(URL, form_data(**overrides))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/consultation/thanks/")
    row = ConsultationRequest.objects.get()
    assert row.status == ConsultationRequest.Status.SPAM and row.spam_reason == reason
    assert not ConsultationRequest.objects.due_for_mail().exists()


def test_honeypot_is_hidden_from_sight_screen_readers_and_keyboard(client, settings):
    html = client.get(URL).content.decode()
    start = html.index('class="hp-field')
    box = html[html.rfind("<div", 0, start) : html.index("</div>", start)]
    assert 'aria-hidden="true"' in box and 'tabindex="-1"' in box
    css = (settings.BASE_DIR / "static" / "css" / "site.css").read_text()
    assert ".hp-field" in css and "left: -10000px" in css


def test_rate_limit_is_polite_and_keeps_the_form(client):
    for _ in range(5):
        assert client.post(URL, form_data()).status_code == HTTPStatus.FOUND
    response = client.post(URL, form_data(name="Sixth Person"))
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    html = response.content.decode()
    assert "try again in about ten minutes" in html
    assert 'value="Sixth Person"' in html
    assert ConsultationRequest.objects.count() == 5
    other = client.post(URL, form_data(), REMOTE_ADDR="192.0.2.7")
    assert other.status_code == HTTPStatus.FOUND


def test_form_pages_are_never_cached(client):
    response = client.get(URL)
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_privacy_notice_page_shows_current_version(client):
    notice = PrivacyNotice.objects.create(title="Privacy notice", body="<p>First text</p>")
    notice.body = "<p>Second text</p>"
    notice.save()
    html = client.get(reverse("contact:privacy")).content.decode()
    assert "Second text" in html and "Version 2" in html


def test_get_with_garbage_query_is_not_an_error(client):
    response = client.get(URL + "?office=" + "x" * 5000 + "&from=%00")
    assert response.status_code == HTTPStatus.OK


def test_posted_details_are_hidden_from_error_reports(rf):
    request = rf.post(URL, form_data(name="Secret Name", message="my knee"))
    request.user = None
    request.session = {}
    request._dont_enforce_csrf_checks = True
    ConsultationRequestView.as_view()(request)
    cleaned = SafeExceptionReporterFilter().get_post_parameters(request)
    assert "Secret Name" not in str(cleaned.values())
    assert "my knee" not in str(cleaned.values())
    assert set(cleaned.values()) == {SafeExceptionReporterFilter.cleansed_substitute}


def test_embedded_form_gets_a_fresh_token_and_its_own_page_even_when_cached(client):
    article = ArticleFactory()
    OfficeFactory()
    pages = [client.get(url).content.decode() for url in ("/", article.get_absolute_url())]
    for url, html in zip(("/", article.get_absolute_url()), pages, strict=True):
        assert f'name="source" value="{url}"' in html
        token = re.search(r'name="started" value="([^"]+)"', html).group(1)
        assert timestamp_problem(token, now=time.time() + 5) == ""  # signed just now


def test_behind_the_proxy_each_visitor_has_their_own_rate_limit(client, settings):
    """Behind nginx every request comes from nginx's address: the limit counts the address
    nginx appended to X-Forwarded-For, like the login lockout, never one a client sent."""
    settings.TRUST_PROXY_HEADERS = True
    via_nginx = {"REMOTE_ADDR": "127.0.0.1"}
    for n in range(5):
        # The visitor makes up a different left-hand entry each time: it does not count.
        forged = f"203.0.113.{n}, 198.51.100.20"
        response = client.post(URL, form_data(), HTTP_X_FORWARDED_FOR=forged, **via_nginx)
        assert response.status_code == HTTPStatus.FOUND
    sixth = client.post(
        URL, form_data(), HTTP_X_FORWARDED_FOR="203.0.113.99, 198.51.100.20", **via_nginx
    )
    assert sixth.status_code == HTTPStatus.TOO_MANY_REQUESTS
    # Another patient behind the same nginx is not held back by the first one.
    other = client.post(URL, form_data(), HTTP_X_FORWARDED_FOR="198.51.100.21", **via_nginx)
    assert other.status_code == HTTPStatus.FOUND
    assert ConsultationRequest.objects.count() == 6
