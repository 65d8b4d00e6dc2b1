"""A page's query count must not grow with the number of articles, offices or hours.

Counted on pages the page cache does not answer (a visitor with a session cookie: what
building a page costs, at most 5 queries); a page it answers costs none
(test_page_cache.py).
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from .factories import (
    ArticleFactory,
    ClinicianFactory,
    ClinicSettingsFactory,
    ClosureFactory,
    OfficeFactory,
    OpeningHoursFactory,
    PageFactory,
    PromotionFactory,
    ServiceFactory,
)

pytestmark = pytest.mark.django_db

# A session cookie (not a valid session: the visitor is not staff) passes the page cache by.
SESSION_COOKIE = {"HTTP_COOKIE": f"sessionid={'a' * 32}"}


def count_queries(client, url):
    client.get(url, **SESSION_COOKIE)  # warm the clinic-settings cache, as on a running site
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **SESSION_COOKIE)
    assert response.status_code == 200 and response.page_cache is None
    return len(ctx.captured_queries)


def add_offices(n):
    for _ in range(n):
        office = OfficeFactory()
        for weekday in range(7):
            OpeningHoursFactory(office=office, weekday=weekday, opens="07:00", closes="12:00")
            OpeningHoursFactory(office=office, weekday=weekday, opens="13:00", closes="19:00")
        ClosureFactory(office=office)


@pytest.fixture(autouse=True)
def clinic():
    ClinicSettingsFactory()
    PromotionFactory(show_as_banner=True)


def test_article_list_query_count_is_constant(client, django_assert_num_queries):
    ArticleFactory.create_batch(2)
    add_offices(1)
    few = count_queries(client, "/articles/")
    ArticleFactory.create_batch(48)
    add_offices(9)
    many = count_queries(client, "/articles/")
    # The count, the page of articles, the banner, the footer's offices, the menus.
    assert few == many == 5
    with django_assert_num_queries(few):
        client.get("/articles/?page=3", **SESSION_COOKIE)


def test_office_list_query_count_is_constant_with_14_hour_rows_each(client):
    add_offices(3)
    few = count_queries(client, "/offices/")
    add_offices(27)
    many = count_queries(client, "/offices/")
    assert few == many == 5  # offices (the footer's too), hours, closures, banner, menus


def test_home_query_count_is_constant(client):
    ArticleFactory.create_batch(2)
    add_offices(3)
    few = count_queries(client, "/")
    ArticleFactory.create_batch(20)
    add_offices(10)
    PromotionFactory.create_batch(3)
    # Offices, hours, closures (list, JSON-LD, footer, form), offers (and banner), articles,
    # services, the home page's row, the menus.
    assert count_queries(client, "/") == few == 8


def test_office_detail_query_count_is_constant(client):
    add_offices(1)
    office = OfficeFactory._meta.model.objects.get()
    few = count_queries(client, office.get_absolute_url())
    add_offices(20)
    for days in range(10, 20):
        ClosureFactory(office=office, date=timezone.localdate() + datetime.timedelta(days=days))
    # The office, its hours, its closures, the banner, all offices (footer and form), menus.
    assert count_queries(client, office.get_absolute_url()) == few == 6


def test_article_detail_query_count_is_constant(client):
    article = ArticleFactory()
    ArticleFactory.create_batch(2)
    add_offices(1)
    few = count_queries(client, article.get_absolute_url())
    ArticleFactory.create_batch(30)
    add_offices(10)
    # The article, related articles, the banner, all offices (footer and form), menus.
    assert count_queries(client, article.get_absolute_url()) == few == 5


# Services, the team and pages: the same with 2 or 20 of every related row.


def add_content(n, service, person):
    """``n`` more offices, services, team members, articles and offers, each linked to
    ``service`` and ``person`` the way staff link them."""
    add_offices(n)
    offices = list(OfficeFactory._meta.model.objects.all())
    service.offices.set(offices)
    person.offices.set(offices)
    for _ in range(n):
        other = ServiceFactory()
        colleague = ClinicianFactory()
        colleague.services.add(service, other)
        colleague.offices.add(*offices[:3])
        person.services.add(other)
        by_person = ArticleFactory(author="", author_profile=person, reviewer=colleague)
        by_person.services.add(service, other)
        ArticleFactory(author="", author_profile=colleague).services.add(service)
        PromotionFactory(service=service)


# What each page reads besides the banner, the footer's offices and the menus (3 queries).
CONTENT_PAGES = {
    "services": 1,  # the published services
    "service": 5,  # the service, its articles (with authors), team, offices, offers
    "team": 3,  # the team, their services, their offices
    "profile": 4,  # the person, their articles, services, offices
    "page": 1,  # the page
    "article": 2,  # the article (author, reviewer), related articles (with authors)
}


@pytest.mark.parametrize("kind", list(CONTENT_PAGES))
def test_content_page_query_counts_are_constant(client, kind):
    service = ServiceFactory()
    person = ClinicianFactory()
    person.services.add(service)
    article = ArticleFactory(author="", author_profile=person, reviewer=person)
    url = {
        "services": "/services/",
        "service": service.get_absolute_url(),
        "team": "/team/",
        "profile": person.get_absolute_url(),
        "page": PageFactory().get_absolute_url(),
        "article": article.get_absolute_url(),
    }[kind]
    add_content(2, service, person)
    few = count_queries(client, url)
    add_content(20, service, person)
    assert count_queries(client, url) == few == CONTENT_PAGES[kind] + 3
