import logging
import re
import time
from http import HTTPStatus

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.views.debug import SafeExceptionReporterFilter

from contact.forms import ConsultationRequestForm, normalise_phone
from contact.models import ConsultationRequest, MailStatus, PrivacyNotice
from contact.spam import TOKEN_OK, check_form_token, sign_form_start
from contact.views import ConsultationRequestView

from .factories import ArticleFactory, OfficeFactory, ServiceFactory

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
        ({"name": "\u200b\u200b\u200d"}, "name", "This field is required"),
        ({"name": "12345 !!"}, "name", "Please write your name in letters"),
        ({"name": "\u202e\u2066 \u00a0-"}, "name", "Please write your name in letters"),
        ({"email": "root@localhost"}, "email", "ordinary email address"),
    ],
)
def test_errors_are_shown_next_to_their_field(client, overrides, field, message):
    response = client.post(URL, form_data(**overrides))
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert message in html
    assert f'href="#id_{field}"' in html  # the summary links to the field
    assert not ConsultationRequest.objects.exists()


def test_no_contact_method_is_preselected_and_the_rule_for_none_is_explained(client):
    html = client.get(URL).content.decode()
    radios = re.findall(r'<input[^>]*name="contact_method"[^>]*>', html)
    assert len(radios) == 3
    assert not any("checked" in radio for radio in radios)
    assert (
        "If you leave this empty, we will call you when you gave a phone number, and email "
        "you when you gave only an email address." in html
    )


@pytest.mark.parametrize(
    ("phone", "email", "method"),
    [
        ("", "pat@example.com", ConsultationRequest.ContactMethod.EMAIL),
        ("860 555 0123", "", ConsultationRequest.ContactMethod.PHONE),
        ("860 555 0123", "pat@example.com", ConsultationRequest.ContactMethod.PHONE),
    ],
    ids=["email-only", "phone-only", "both"],
)
def test_a_method_left_empty_follows_what_the_patient_gave(client, phone, email, method):
    response = client.post(URL, form_data(phone=phone, email=email, contact_method=None))
    assert response.status_code == HTTPStatus.FOUND  # no error for leaving it empty
    assert ConsultationRequest.objects.get().contact_method == method


def test_a_chosen_method_is_kept(client):
    client.post(URL, form_data(contact_method="text", email=""))
    assert ConsultationRequest.objects.get().contact_method == "text"


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


def test_form_is_embedded_on_service_article_and_office_pages(client):
    office = OfficeFactory()
    article = ArticleFactory()
    service = ServiceFactory()
    for url in (service.get_absolute_url(), article.get_absolute_url(), office.get_absolute_url()):
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


def test_only_the_honeypot_files_a_request_as_spam_unseen(client):
    response = client.post(URL, form_data(website="http://spam.example"))
    assert response.status_code == HTTPStatus.FOUND  # a bot learns nothing
    assert response["Location"].startswith("/consultation/thanks/")
    row = ConsultationRequest.objects.get()
    assert row.status == ConsultationRequest.Status.SPAM
    assert row.flag_reason == "a field people cannot see was filled in"
    assert not ConsultationRequest.objects.due_for_mail().exists()


@pytest.mark.parametrize("seconds_open", [0, 0.5, 2.9, 3600, 23 * 3600])
def test_autofilled_and_slow_requests_are_new_and_notified(client, seconds_open):
    """A saved browser profile fills the form in under a second; a tab stays open
    overnight. Both are patients: stored as new and mailed to staff."""
    started = sign_form_start(time.time() - seconds_open)
    response = client.post(URL, form_data(started=started))
    assert response.status_code == HTTPStatus.FOUND
    row = ConsultationRequest.objects.get()
    assert row.status == ConsultationRequest.Status.NEW and row.flag_reason == ""
    assert list(ConsultationRequest.objects.due_for_mail()) == [row]


def test_a_token_from_the_future_is_kept_flagged_and_notified(client):
    """A server clock ahead of the others: the request is kept, marked for review and
    mailed to staff (never filed away unseen)."""
    response = client.post(URL, form_data(started=sign_form_start(time.time() + 3600)))
    assert response.status_code == HTTPStatus.FOUND
    row = ConsultationRequest.objects.get()
    assert row.status == ConsultationRequest.Status.NEEDS_REVIEW
    assert "clock" in row.flag_reason
    assert list(ConsultationRequest.objects.due_for_mail()) == [row]
    # A few seconds of difference between servers is normal, not odd.
    client.post(URL, form_data(started=sign_form_start(time.time() + 60)))
    assert ConsultationRequest.objects.latest("pk").status == ConsultationRequest.Status.NEW


@pytest.mark.parametrize(
    "started",
    [
        pytest.param(lambda: sign_form_start(time.time() - 25 * 3600), id="a day old"),
        pytest.param(lambda: "", id="missing"),
        pytest.param(lambda: "1700000000:forged", id="not ours"),
    ],
)
def test_a_form_too_old_to_trust_is_sent_back_with_everything_kept(client, started):
    data = form_data(started=started(), message="Left knee\nsince March", office="")
    response = client.post(URL, data)
    assert response.status_code == HTTPStatus.OK  # never the thank-you page
    assert not ConsultationRequest.objects.exists()
    html = response.content.decode()
    assert html.count("open too long for us to accept it") == 1  # in the summary at the top
    assert 'id="form-errors"' in html
    assert 'value="Pat Example"' in html and "Left knee\nsince March" in html
    assert re.search(r'<input[^>]*name="consent"[^>]*checked', html)
    # The page carries a fresh token: sending it again as it is goes through.
    fresh = re.search(r'name="started" value="([^"]+)"', html).group(1)
    assert check_form_token(fresh) == (TOKEN_OK, "")
    again = client.post(URL, {**data, "started": fresh})
    assert again.status_code == HTTPStatus.FOUND
    row = ConsultationRequest.objects.get()
    assert row.status == ConsultationRequest.Status.NEW and row.message == "Left knee\nsince March"


def test_an_autofilled_request_from_a_cached_page_reaches_staff(client):
    """Every visitor of a cached page gets the same token, made when the copy was cached:
    the first visitor fills the cache, the second sends the form at once."""
    article = ArticleFactory()
    client.get(article.get_absolute_url())
    page = client.get(article.get_absolute_url())
    assert page.page_cache == "hit"
    token = re.search(r'name="started" value="([^"]+)"', page.content.decode()).group(1)
    response = client.post(URL, form_data(started=token, source=article.get_absolute_url()))
    assert response.status_code == HTTPStatus.FOUND
    row = ConsultationRequest.objects.get()
    assert row.status == ConsultationRequest.Status.NEW
    assert list(ConsultationRequest.objects.due_for_mail()) == [row]


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


def test_privacy_notice_page_shows_the_newest_version(client):
    PrivacyNotice.objects.create(title="Privacy notice", body="<p>First text</p>")
    PrivacyNotice.objects.create(title="Privacy notice", body="<p>Second text</p>")
    html = client.get(reverse("contact:privacy")).content.decode()
    assert "Second text" in html and "Version 2" in html
    assert "First text" not in html


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


def test_embedded_form_names_its_own_page_and_carries_a_valid_token_even_when_cached(client):
    article = ArticleFactory()
    OfficeFactory()
    for url in (ServiceFactory().get_absolute_url(), article.get_absolute_url()):
        assert client.get(url).page_cache == "miss"
        cached = client.get(url)
        assert cached.page_cache == "hit"
        html = cached.content.decode()
        assert f'name="source" value="{url}"' in html
        # The token dates the cached copy (docs/architecture.md), and is accepted.
        token = re.search(r'name="started" value="([^"]+)"', html).group(1)
        assert check_form_token(token, now=time.time() + 5) == (TOKEN_OK, "")


def test_text_is_normalised_and_spoofing_characters_are_removed(client):
    """NFC; control and format characters (RTL overrides, zero-width ones) dropped, which
    would otherwise make admin and the CSV show something else than what was sent."""
    client.post(
        URL,
        form_data(
            name="Jose\u0301 \u202eZeta\u202c\u200b\tRu\u00edz",
            phone="\u200f(860) 555-0123\u200f",
            email="pat\u200b@example.com",
            message="Line one\r\nLine two\u2028Line three\x07\u2066!",
        ),
    )
    row = ConsultationRequest.objects.get()
    assert row.name == "Jos\u00e9 Zeta Ru\u00edz"  # composed é, no override, tab a space
    assert row.phone == "(860) 555-0123"
    assert row.email == "pat@example.com"
    assert row.message == "Line one\nLine two\nLine three!"


@pytest.mark.parametrize(
    ("source", "stored"),
    [
        ("/articles/what-is-dry-needling/", "/articles/what-is-dry-needling/"),
        ("/offices/?page=2", "/offices/"),
        ("/no-such-page/here/", ""),
        ("/\u202e/offices/", ""),
        ("//evil.example/offices/", ""),
        ("https://evil.example/", ""),
    ],
)
def test_source_is_kept_only_when_it_is_a_page_of_this_site(client, source, stored):
    assert client.post(URL, form_data(source=source)).status_code == HTTPStatus.FOUND
    assert ConsultationRequest.objects.get().source_path == stored


@pytest.mark.parametrize(
    "address",
    [
        "root@localhost",
        "postmaster@[127.0.0.1]",
        '"odd.person"@example.com',
        "pat@clinic.local",
        "pat@example.invalid",
        "pat@example.test",
        "pat@10.0.0.12",
    ],
)
def test_only_ordinary_public_addresses_are_taken(client, address):
    response = client.post(URL, form_data(email=address))
    assert response.status_code == HTTPStatus.OK
    # Django's own check refuses some of them first, with its own clear message.
    errors = response.context["form"].errors["email"]
    assert errors in (
        ["Enter a valid email address."],
        [
            "We can only write to an ordinary email address, like name@gmail.com. Please "
            "check it, or leave it empty and give a phone number."
        ],
    )
    assert not ConsultationRequest.objects.exists()


def test_confirmation_state_follows_the_address(client):
    client.post(URL, form_data(email=""))
    row = ConsultationRequest.objects.get()
    assert row.confirmation_status == MailStatus.NOT_SENT
    assert row.notification_status == MailStatus.WAITING


def test_thank_you_page_is_never_stored_anywhere(client):
    response = client.get("/consultation/thanks/")
    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_other_methods_are_refused_with_allow(client, method):
    response = getattr(client, method)(URL, "name=x", content_type="text/plain")
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "POST", "HEAD", "OPTIONS"}
    assert not ConsultationRequest.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param("name=" + "x" * 3_000_000, "application/x-www-form-urlencoded", id="huge"),
        pytest.param(
            "&".join(f"f{n}=1" for n in range(1500)),
            "application/x-www-form-urlencoded",
            id="too many fields",
        ),
        pytest.param("x", "multipart/form-data; boundary=\u00e9", id="bad boundary"),
        pytest.param("x", "multipart/form-data", id="multipart without boundary"),
    ],
)
def test_an_unreadable_post_is_a_clear_400_and_one_warning(client, caplog, body, content_type):
    caplog.set_level(logging.INFO)
    response = client.generic("POST", URL, body, content_type=content_type)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "We could not read what your browser sent" in response.content.decode()
    assert [(r.levelname, r.exc_info) for r in caplog.records] == [("WARNING", None)]
    assert not ConsultationRequest.objects.exists()


# --------------------------------------------------------------------------- services


def service_select(html):
    """The service select's options as (value, label, selected)."""
    select = html[
        html.index('name="service"') : html.index("</select>", html.index('name="service"'))
    ]
    return [
        (value, label, bool(selected))
        for value, selected, label in re.findall(
            r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select
        )
    ]


def test_form_offers_published_services_and_not_hidden_ones(client):
    needling = ServiceFactory(title="Dry needling", display_order=1)
    ServiceFactory(title="Old programme", is_published=False)
    html = client.get(URL).content.decode()
    assert "What are you interested in?" in html
    assert service_select(html) == [
        ("", "Not sure yet", True),
        (str(needling.pk), "Dry needling", False),
    ]


def test_form_embedded_on_a_service_page_has_that_service_chosen(client):
    needling = ServiceFactory(title="Dry needling", display_order=1)
    other = ServiceFactory(title="Sports massage", display_order=2)
    html = client.get(needling.get_absolute_url()).content.decode()
    assert service_select(html) == [
        ("", "Not sure yet", False),
        (str(needling.pk), "Dry needling", True),
        (str(other.pk), "Sports massage", False),
    ]
    assert f'name="source" value="{needling.get_absolute_url()}"' in html


def test_a_staff_preview_of_a_hidden_service_does_not_offer_it(admin_client):
    hidden = ServiceFactory(title="Coming soon", is_published=False)
    response = admin_client.get(hidden.get_absolute_url())
    assert response.status_code == HTTPStatus.OK
    assert service_select(response.content.decode()) == [("", "Not sure yet", True)]


def test_a_link_with_the_service_opens_the_form_with_it_chosen(client, rf):
    needling = ServiceFactory(title="Dry needling", slug="dry-needling")
    request = rf.get(needling.get_absolute_url())
    link = Template("{% load consultation %}{% consultation_url service=service %}").render(
        Context({"request": request, "service": needling})
    )
    assert link == f"{URL}?service=dry-needling&amp;from=%2Fservices%2Fdry-needling%2F"
    html = client.get(link.replace("&amp;", "&")).content.decode()
    assert (str(needling.pk), "Dry needling", True) in service_select(html)


@pytest.mark.parametrize("slug", ["hidden-one", "no-such-service", "x" * 5000, "%00", "a%0Ab"])
def test_a_bad_or_hidden_service_slug_is_ignored(client, slug):
    ServiceFactory(slug="hidden-one", is_published=False)
    shown = ServiceFactory(title="Shown")
    response = client.get(f"{URL}?service={slug}")
    assert response.status_code == HTTPStatus.OK
    assert service_select(response.content.decode()) == [
        ("", "Not sure yet", True),
        (str(shown.pk), "Shown", False),
    ]


def test_the_chosen_service_is_stored(client):
    needling = ServiceFactory(title="Dry needling")
    assert client.post(URL, form_data(service=needling.pk)).status_code == HTTPStatus.FOUND
    assert ConsultationRequest.objects.get().service == needling
    client.post(URL, form_data(service=""), REMOTE_ADDR="192.0.2.8")
    assert ConsultationRequest.objects.latest("pk").service is None


def test_a_service_hidden_while_the_form_was_open_is_a_clear_error_and_nothing_is_lost(client):
    service = ServiceFactory(title="Dry needling")
    service.is_published = False
    service.save()
    data = form_data(service=service.pk, message="Tight calves since the marathon")
    response = client.post(URL, data)
    assert response.status_code == HTTPStatus.OK
    assert not ConsultationRequest.objects.exists()
    html = response.content.decode()
    assert "That service is no longer on our website" in html
    assert 'href="#id_service"' in html  # named in the summary, linked to the select
    assert 'value="Pat Example"' in html and "Tight calves since the marathon" in html
    assert re.search(r'<input[^>]*name="consent"[^>]*checked', html)
    # "Not sure yet" and the same details go through.
    assert client.post(URL, {**data, "service": ""}).status_code == HTTPStatus.FOUND
    assert ConsultationRequest.objects.get().service is None


def test_the_service_choices_cost_one_query_whatever_their_number(django_assert_num_queries):
    ServiceFactory.create_batch(12)
    form = ConsultationRequestForm()
    with django_assert_num_queries(1):
        html = str(form["service"])
    assert html.count("<option") == 13


# --------------------------------------------------------------------------- texts from settings


def test_the_reply_promise_and_thank_you_text_come_from_clinic_settings(client, clinic, commit):
    with commit():
        clinic.reply_promise = "We call back within 4 hours <on weekdays>."
        clinic.thank_you_text = "Thanks a lot!\nWe will phone you."
        clinic.save()
    article = ArticleFactory()
    promise = "We call back within 4 hours &lt;on weekdays&gt;."
    for url in (URL, article.get_absolute_url()):
        html = client.get(url).content.decode()
        assert html.count(promise) == 1, url  # beside the button
        assert "business day" not in html, url
    response = client.post(URL, form_data())
    thanks = client.get(response["Location"]).content.decode()
    assert promise in thanks and "business day" not in thanks
    assert "<p>Thanks a lot!<br>We will phone you.</p>" in thanks


def test_a_reply_promise_that_looks_like_template_code_is_shown_as_text(client, clinic, commit):
    with commit():
        clinic.reply_promise = "{% now 'Y' %} {{ form }}"
        clinic.save()
    response = client.get(URL)
    assert response.status_code == HTTPStatus.OK
    assert "{% now &#x27;Y&#x27; %} {{ form }}" in response.content.decode()


def test_no_reply_promise_is_written_into_the_form_or_its_templates(settings):
    """The promise is one clinic setting: none may be left hard-coded beside it."""
    places = [settings.BASE_DIR / "contact" / "forms.py"]
    places += sorted((settings.BASE_DIR / "templates" / "contact").rglob("*.*"))
    assert len(places) > 5
    for place in places:
        assert "business day" not in place.read_text().lower(), place


# --------------------------------------------------------------------------- privacy notice


def posted_version(html):
    return re.search(r'name="privacy_version" value="([^"]*)"', html).group(1)


def test_a_request_links_to_the_notice_version_its_form_showed(client, commit):
    first = PrivacyNotice.objects.create(body="<p>First text</p>")
    shown = posted_version(client.get(URL).content.decode())
    assert shown == "1"
    with commit():
        second = PrivacyNotice.objects.create(body="<p>Second text</p>")
    # Sent from the page opened before the change: the patient agreed to what they saw.
    client.post(URL, form_data(privacy_version=shown))
    row = ConsultationRequest.objects.get()
    assert (row.privacy_notice, row.privacy_notice_version) == (first, 1)
    # A form opened now shows (and links) the new version.
    assert posted_version(client.get(URL).content.decode()) == "2"
    client.post(URL, form_data(privacy_version="2"), REMOTE_ADDR="192.0.2.8")
    assert ConsultationRequest.objects.latest("pk").privacy_notice == second


@pytest.mark.parametrize("posted", [None, "", "7", "abc", "1" * 40, "-1", "\x00", "\u0661", "0"])
def test_a_missing_or_unknown_notice_version_means_the_newest(client, posted):
    PrivacyNotice.objects.create(body="<p>First</p>")
    newest = PrivacyNotice.objects.create(body="<p>Second</p>")
    assert client.post(URL, form_data(privacy_version=posted)).status_code == HTTPStatus.FOUND
    row = ConsultationRequest.objects.get()
    assert (row.privacy_notice, row.privacy_notice_version) == (newest, 2)


def test_without_any_notice_a_request_is_still_taken(client):
    assert client.post(URL, form_data(privacy_version="1")).status_code == HTTPStatus.FOUND
    row = ConsultationRequest.objects.get()
    assert (row.privacy_notice, row.privacy_notice_version) == (None, None)
