"""The admin home as each person sees it (requests for the front desk, content for editors,
accounts and lockouts for superusers), every link on it opens, and the staff guide."""

import datetime
import re
from http import HTTPStatus
from urllib.parse import urlsplit

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from contact.models import ConsultationRequest
from guide.models import Topic
from pages.models import Article

from .factories import ArticleFactory, OfficeFactory, PromotionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher", "clinic")]

User = get_user_model()
HOME = "/admin/"
GUIDE = "/admin/guide/topic/read/"
Status = ConsultationRequest.Status


def member(client, group):
    user = User.objects.create_user(group.lower().replace(" ", ""), is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return client


@pytest.fixture
def front_desk(client):
    return member(client, "Front desk")


@pytest.fixture
def editor(client):
    return member(client, "Content editors")


def make_request(received_at, **fields):
    return ConsultationRequest.objects.create(
        **{
            "name": "Pat Patient",
            "phone": "(860) 555-0100",
            "email": "pat@example.com",
            "message": "My left knee hurts after surgery",
            "contact_method": ConsultationRequest.ContactMethod.PHONE,
            "best_time": ConsultationRequest.BestTime.MORNING,
            "consent_at": received_at,
            "received_at": received_at,
            **fields,
        }
    )


def section(html, element_id):
    match = re.search(
        rf'<div class="module" id="{element_id}">(.*?)</div>\s*(?=<div|<p|{{|$)', html, re.S
    )
    assert match, element_id
    return match.group(1)


def admin_links(html):
    return sorted({href for href in re.findall(r'href="([^"#]+)', html) if href.startswith(HOME)})


# --------------------------------------------------------------------------- sections


def test_front_desk_home_shows_requests_first_without_health_details(front_desk, clinic):
    clinic.time_zone = "America/Denver"  # not the server's zone (America/New_York)
    clinic.save()
    office = OfficeFactory(name="Newington")
    # Half past the hour: Django writes a time on the hour as "3 a.m.", without minutes.
    start = (timezone.now() - datetime.timedelta(hours=10)).replace(minute=30, second=0)
    rows = [make_request(start + datetime.timedelta(hours=n), office=office) for n in range(6)]
    make_request(start + datetime.timedelta(hours=7), status=Status.SPAM)  # never listed
    rows[5].status = Status.CONTACTED
    rows[5].save()

    html = front_desk.get(HOME).text
    assert html.index("consultation-request-counts") < html.index('class="app-')
    newest = section(html, "recent-requests")
    numbers = [int(n) for n in re.findall(r">#(\d+)</a>", newest)]
    assert numbers == [row.pk for row in reversed(rows[1:])]  # the five newest, spam left out
    clinic_time = timezone.localtime(rows[5].received_at, clinic.tzinfo)
    server_time = timezone.localtime(rows[5].received_at, timezone.get_default_timezone())
    assert f"{clinic_time:%-I:%M}" in newest  # in the clinic's zone
    assert f"{server_time:%-I:%M}" not in newest
    assert "<td>Newington</td>" in newest
    assert "<td>Contacted</td>" in newest and "<td>New</td>" in newest
    assert reverse("admin:contact_consultationrequest_change", args=[rows[5].pk]) in newest
    for detail in ("Pat Patient", "555-0100", "pat@example.com", "knee"):
        assert detail not in newest
    assert 'id="content-summary"' not in html
    assert 'id="account-summary"' not in html
    assert f'href="{GUIDE}"' in html


def test_editor_home_shows_content_with_counts_that_match_their_lists(editor):
    now = timezone.now()
    ArticleFactory(status=Article.Status.DRAFT)
    ArticleFactory(status=Article.Status.PUBLISHED, published_at=now + datetime.timedelta(days=3))
    ArticleFactory.create_batch(2, status=Article.Status.PUBLISHED, published_at=now)
    OfficeFactory()
    PromotionFactory()

    html = editor.get(HOME).text
    content = section(html, "content-summary")
    for heading in (
        "Articles",
        "Offices, hours and holidays",
        "Promotions",
        "Services",
        "Team members",
        "Pages",
        "Home page",
        "Menu and footer links",
        "Clinic details and look",
    ):
        assert f">{heading}</a>" in content, heading
    assert "Write an article" in content and "Add a holiday or half day" in content
    counts = dict(re.findall(r'<a href="([^"]+)">(\d+ (?:drafts|scheduled|live))</a>', content))
    assert sorted(counts.values()) == ["1 drafts", "1 scheduled", "2 live"]
    for url, text in counts.items():
        listed = editor.get(url.replace("&amp;", "&"))
        assert listed.status_code == HTTPStatus.OK
        assert listed.context["cl"].result_count == int(text.split()[0]), text
    assert "consultation-request-counts" not in html
    assert 'id="account-summary"' not in html
    assert html.index("content-summary") < html.index('class="app-')  # the app list below


def test_superuser_home_has_every_section_with_accounts_and_lockouts(admin_client):
    AccessAttempt.objects.create(
        username="dana",
        ip_address="10.0.0.1",
        failures_since_start=settings.AXES_FAILURE_LIMIT,
        attempt_time=timezone.now(),
        get_data="",
        post_data="",
        http_accept="",
        path_info="/admin/login/",
    )
    html = admin_client.get(HOME).text
    for part in ("consultation-request-counts", "recent-requests", "content-summary"):
        assert f'id="{part}"' in html
    accounts = section(html, "account-summary")
    assert (
        "Add a staff member" in accounts and ">Users</a>" in accounts and ">Groups</a>" in accounts
    )
    assert re.search(r'class="lockout-count">1<', accounts)
    lockouts = admin_client.get(reverse("admin:axes_accessattempt_changelist") + "?locked_out=yes")
    assert lockouts.context["cl"].result_count == 1


@pytest.mark.parametrize("who", ["Front desk", "Content editors"])
def test_lockouts_users_and_groups_are_hidden_from_staff(client, who):
    html = member(client, who).get(HOME).text
    for model in ("auth_user", "auth_group", "axes_accessattempt", "axes_accesslog"):
        url = reverse(f"admin:{model}_changelist")
        assert url not in html
        assert client.get(url).status_code == HTTPStatus.FORBIDDEN
    assert 'id="account-summary"' not in html


@pytest.mark.parametrize("who", ["Front desk", "Content editors", "superuser"])
def test_every_admin_link_on_the_home_page_opens(client, admin_user, who):
    if who == "superuser":
        client.force_login(admin_user)
    else:
        member(client, who)
    ArticleFactory()
    make_request(timezone.now())
    links = admin_links(client.get(HOME).text)
    assert len(links) > 8
    for url in links:
        response = client.get(url.replace("&amp;", "&"), follow=True)
        assert response.status_code == HTTPStatus.OK, (who, url, response.status_code)
        final = urlsplit(response.redirect_chain[-1][0]).path if response.redirect_chain else url
        assert not final.startswith(reverse("admin:login")), (who, url)


# --------------------------------------------------------------------------- the guide


def guide_titles(client):
    page = client.get(GUIDE)
    assert page.status_code == HTTPStatus.OK
    return re.findall(r"<h2>([^<]+)</h2>", page.text)[1:], page.text


def test_the_front_desk_reads_its_topics_and_cannot_edit_them(front_desk):
    titles, html = guide_titles(front_desk)
    assert "How do I handle a new consultation request?" in titles
    assert "How do I erase a patient&#x27;s data when they ask?" in titles
    assert "How do I change my password, or get in when I have forgotten it?" in titles
    assert "How do I publish an article?" not in titles
    assert "Edit this topic" not in html and "Add a topic" not in html
    assert "Delete selected requests for good" in html  # the steps name the real action
    topic = Topic.objects.first()
    for url in (
        reverse("admin:guide_topic_change", args=[topic.pk]),
        reverse("admin:guide_topic_add"),
    ):
        response = front_desk.post(
            url, {"title": "Changed", "body": "<p>x</p>", "audience": "everyone", "order": 1}
        )
        assert response.status_code == HTTPStatus.FORBIDDEN


def test_managers_read_the_front_desk_topics_and_how_to_read_the_insight(client):
    titles, html = guide_titles(member(client, "Managers"))
    insight = "How do I see which pages bring patients in, and how fast we answer?"
    assert insight in titles
    assert "How do I handle a new consultation request?" in titles
    assert "How do I publish an article?" not in titles
    assert "“Insight”" in html  # the steps name the link on the admin home
    editors_titles, _html = guide_titles(member(Client(), "Content editors"))
    assert insight not in editors_titles


def test_editors_read_and_edit_the_guide(editor):
    titles, html = guide_titles(editor)
    for title in (
        "How do I publish an article?",
        "How do I schedule an article to appear later?",
        "How do I add a holiday or a day we close early?",
        "How do I change an office&#x27;s opening hours?",
        "How do I change the offer (the first-responder discount)?",
    ):
        assert title in titles
    assert "How do I handle a new consultation request?" not in titles
    topic = Topic.objects.get(title="How do I publish an article?")
    response = editor.post(
        reverse("admin:guide_topic_change", args=[topic.pk]),
        {
            "title": "How do I publish a news item?",
            "audience": Topic.Audience.CONTENT_EDITORS,
            "order": 5,
            "body": '<ol><li><p>Click "Write an article".</p></li></ol><script>alert(1)</script>',
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    titles, html = guide_titles(editor)
    assert titles[0] == "How do I publish a news item?"
    assert "alert(1)" not in html  # the editor's sanitiser removed the script
    assert "Write an article" in html


def test_superusers_read_every_topic(admin_client):
    titles, _html = guide_titles(admin_client)
    assert len(titles) == Topic.objects.count() >= 9


def pages_naming():
    """label -> the admin page (as a superuser sees it) that must show it."""
    office = OfficeFactory()
    ArticleFactory(
        status=Article.Status.PUBLISHED, published_at=timezone.now() + datetime.timedelta(days=1)
    )
    request = make_request(timezone.now())
    user = User.objects.create_user(
        "dana", email="dana@example.com", password="x" * 12, is_staff=True
    )
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    offices = reverse("admin:pages_office_changelist")
    return {
        "Write an article": HOME,
        "Add article": reverse("admin:pages_article_changelist"),
        "Scheduled for": reverse("admin:pages_article_changelist"),
        "Add a holiday or half day": offices,
        "Closes early at": reverse("admin:pages_office_add_closure"),
        "Add the closure": reverse("admin:pages_office_add_closure"),
        "Add another Opening hours": reverse("admin:pages_office_change", args=[office.pk]),
        "Special closures": reverse("admin:pages_office_change", args=[office.pk]),
        "Show as site-wide banner": reverse("admin:pages_promotion_add"),
        "Delete selected requests for good": reverse(
            "admin:contact_consultationrequest_changelist"
        ),
        "Assigned to": reverse("admin:contact_consultationrequest_change", args=[request.pk]),
        "Staff notes": reverse("admin:contact_consultationrequest_change", args=[request.pk]),
        "Why is it being erased?": reverse(
            "admin:contact_consultationrequest_delete", args=[request.pk]
        ),
        "Yes, erase it": reverse("admin:contact_consultationrequest_delete", args=[request.pk]),
        "Erased requests": HOME,
        "Change password": HOME,
        "Change my password": reverse("admin:password_change"),
        "Save my password": reverse("password_reset_confirm", args=[uid, token]),
        "Reset my password": reverse("admin_password_reset"),
    }


def test_the_labels_the_first_topics_name_are_in_the_admin(admin_client, client):
    """Each “quoted” button or box the steps name is on the admin page it belongs to: a
    changed label must change its topic too."""
    bodies = " ".join(Topic.objects.values_list("body", flat=True))
    for label, url in pages_naming().items():
        assert f"“{label}" in bodies, label
        anonymous = url.startswith(("/admin/reset/", "/admin/password_reset/"))
        page = (client if anonymous else admin_client).get(url, follow=True)
        assert label in page.content.decode(), (label, url)
    login = client.get(reverse("admin:login")).text
    assert "Forgotten your login credentials?" in login
