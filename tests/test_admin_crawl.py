"""Every link on every admin page each person can reach opens: no 403, 404 or 500.

As a "Front desk", a "Content editors" and a "Managers" member and a superuser, a breadth-first walk
from the admin home over the demo content (plus a request with a note, an erasure record and
a closure). Each admin path is opened once, a list page once per kind of filter or sort
(not filters on filters); "View on site" is followed to the public page. No page it opens
may change anything.
"""

import datetime
from collections import deque
from html.parser import HTMLParser
from http import HTTPStatus
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from contact.demo_content import load_demo_content as load_contact_demo
from contact.models import ConsultationRequest, ErasureRecord, PrivacyNotice, StaffNote
from pages.demo_content import load_demo_content
from pages.models import Office

from .factories import ClosureFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

ROLES = ["Front desk", "Content editors", "Managers", "superuser"]
# Far more pages than any role reaches over the demo content: the walk must end on its own.
CAP = 400
HOST = "testserver"
REDIRECTS = (301, 302, 303, 307, 308)


class Links(HTMLParser):
    """Every address a page links to or loads (a and link href; script, img, iframe src)."""

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        url = dict(attrs).get("href" if tag in ("a", "link") else "src")
        if tag in ("a", "link", "script", "img", "iframe") and url:
            self.urls.append(url)


def links_on(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.urls


def is_list_page(path: str) -> bool:
    try:
        return resolve(path).url_name.endswith("_changelist")
    except Resolver404:
        return False


def crawl_key(path: str, query: str):
    """What makes a page new: its path; for a list page also which filters or sort it has
    (not their values: one office filter stands for all, and one sort order for all)."""
    if not is_list_page(path):
        return path
    return path, frozenset(name for name, _ in parse_qsl(query, True))


class Crawl:
    def __init__(self, client: Client, admin_root: str):
        self.client, self.admin_root = client, admin_root
        self.statuses: dict[str, int] = {}
        self.linked_from: dict[str, str] = {admin_root: "(start)"}
        # Public pages the admin links to or redirects to ("View on site"): opened once.
        self.public: dict[str, int] = {}

    def run(self) -> bool:
        """Walks from the admin home; True if it ended on its own, before the cap."""
        queue, keys = deque([self.admin_root]), {crawl_key(self.admin_root, "")}
        while queue:
            if len(self.statuses) >= CAP:
                return False
            url = queue.popleft()
            response = self.open(url)
            self.statuses[url] = response.status_code
            if response.status_code != HTTPStatus.OK or "html" not in response["Content-Type"]:
                continue
            here = urlsplit(url)
            on_filtered_list = bool(here.query) and is_list_page(here.path)
            for target in self.admin_links(url, response.content.decode()):
                parts = urlsplit(target)
                if on_filtered_list and parts.query and is_list_page(parts.path):
                    continue  # filters on filters: their combinations never end
                key = crawl_key(parts.path, parts.query)
                if key not in keys:
                    keys.add(key)
                    self.linked_from[target] = url
                    queue.append(target)
        return True

    def open(self, url: str):
        """GET, following redirects within the admin and to a public page."""
        response = self.client.get(url)
        for _ in range(5):
            if response.status_code not in REDIRECTS:
                break
            target = urlsplit(urljoin(f"http://{HOST}{url}", response["Location"]))
            if target.netloc != HOST:
                break  # another site: not ours to check
            if target.path == reverse("admin:login"):
                response.status_code = HTTPStatus.FORBIDDEN  # sent back to log in: refused
                break
            if not target.path.startswith(self.admin_root):
                response.status_code = self.open_public(target.path, url)
                break
            url = target._replace(scheme="", netloc="").geturl()
            response = self.client.get(url)
        return response

    def open_public(self, path: str, linked_from: str) -> int:
        if path not in self.public:
            self.public[path] = self.client.get(path).status_code
            self.linked_from[path] = linked_from
        return self.public[path]

    def admin_links(self, url: str, html: str):
        """The admin pages ``html`` links to; public pages it links to are opened here."""
        for href in links_on(html):
            target = urlsplit(urljoin(f"http://{HOST}{url}", href))
            if target.scheme not in ("http", "https") or target.netloc != HOST:
                continue  # tel:, mailto:, other sites
            if target.path.startswith((settings.STATIC_URL, settings.MEDIA_URL)):
                continue  # files, which the test server does not serve
            if not target.path.startswith(self.admin_root):
                self.open_public(target.path, url)
                continue
            if target.path == reverse("admin:logout"):
                continue  # ends the session (a POST in Django 5, but never follow it)
            # The list a change page returns to is the same page as the change page.
            query = [(k, v) for k, v in parse_qsl(target.query, True) if k != "_changelist_filters"]
            yield target.path + ("?" + urlencode(query) if query else "")


@pytest.fixture
def content():
    """The demo content, and one of each thing the request pages show."""
    load_demo_content()
    load_contact_demo()
    colleague = User.objects.create_user(
        "colleague", first_name="Cole", last_name="League", is_staff=True
    )
    colleague.groups.add(Group.objects.get(name="Front desk"))
    notice = PrivacyNotice.objects.first()
    office = Office.objects.filter(is_active=True).first()
    now = timezone.now()
    request = ConsultationRequest.objects.create(
        name="Pat Patient",
        phone="(860) 555-0199",
        email="pat@example.com",
        message="My knee hurts after running.",
        contact_method=ConsultationRequest.ContactMethod.PHONE,
        best_time=ConsultationRequest.BestTime.MORNING,
        office=office,
        assigned_to=colleague,
        privacy_notice=notice,
        privacy_notice_version=notice.version,
        consent_at=now,
        received_at=now,
        next_attempt_at=now,
    )
    StaffNote.objects.create(consultation=request, author=colleague, text="Left a voicemail")
    ErasureRecord.objects.create(
        request_number=request.pk + 1,
        received_at=now - datetime.timedelta(days=3),
        office=office.name,
        erased_by=colleague,
        reason=ErasureRecord.Reason.PATIENT_ASKED,
    )
    ClosureFactory(office=office, date=timezone.localdate() + datetime.timedelta(days=40))
    return request


def person(role: str) -> User:
    if role == "superuser":
        return User.objects.create_superuser("boss", "boss@example.com", "x" * 12)
    user = User.objects.create_user(role.lower().replace(" ", ""), password="x" * 12, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.label != "sessions.Session"
    }


def test_every_admin_link_each_person_can_reach_opens(content):
    admin_root = reverse("admin:index")
    clients = {role: Client() for role in ROLES}
    for role, client in clients.items():
        client.force_login(person(role))
    before = row_counts()
    crawls = {}
    for role, client in clients.items():
        crawls[role] = crawl = Crawl(client, admin_root)
        ended = crawl.run()
        print(f"\n{role}: {len(crawl.statuses)} admin pages crawled, {len(crawl.public)} public")
        assert ended, f"{role}: the walk reached {CAP} pages; raise CAP or bound it better"

    broken = {
        f"{role}: {url}": f"{status}, linked from {crawl.linked_from[url]}"
        for role, crawl in crawls.items()
        for url, status in [*crawl.statuses.items(), *crawl.public.items()]
        if status >= HTTPStatus.BAD_REQUEST
    }
    assert broken == {}
    assert row_counts() == before  # opening a page changed nothing
    # Each walk went where that person works.
    erasures = reverse("admin:contact_erasurerecord_changelist")
    for role, url in [
        ("Front desk", content.get_admin_url()),
        ("Front desk", erasures),
        ("Front desk", reverse("admin:guide_topic_read")),
        ("Front desk", reverse("insight")),
        ("Managers", reverse("insight")),
        ("Managers", content.get_admin_url()),
        ("Content editors", reverse("admin:pages_article_changelist")),
        ("Content editors", reverse("admin:pages_office_changelist")),
        ("superuser", reverse("admin:auth_user_changelist")),
        ("superuser", content.get_admin_url()),
    ]:
        assert crawls[role].statuses.get(url) == HTTPStatus.OK, (role, url)
    assert content.get_admin_url() not in crawls["Content editors"].statuses
    assert reverse("insight") not in crawls["Content editors"].statuses
    # "View on site" (a redirect through the admin) was followed to the public page.
    assert any(url.startswith(admin_root + "r/") for url in crawls["Content editors"].statuses)
    assert "/" in crawls["Content editors"].public
