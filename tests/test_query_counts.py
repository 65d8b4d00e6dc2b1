"""A page's query count must not grow with the number of articles, offices or hours."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .factories import (
    ArticleFactory,
    ClinicSettingsFactory,
    ClosureFactory,
    OfficeFactory,
    OpeningHoursFactory,
    PromotionFactory,
)

pytestmark = pytest.mark.django_db


def count_queries(client, url):
    client.get(url)  # warm the clinic-settings cache, as on a running site
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
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
    few = count_queries(client, "/articles/")
    ArticleFactory.create_batch(48)
    many = count_queries(client, "/articles/")
    assert few == many
    with django_assert_num_queries(few):
        client.get("/articles/")
    assert few <= 5


def test_office_list_query_count_is_constant_with_14_hour_rows_each(client):
    add_offices(3)
    few = count_queries(client, "/offices/")
    add_offices(27)
    many = count_queries(client, "/offices/")
    assert few == many <= 6


def test_home_query_count_is_constant(client):
    ArticleFactory.create_batch(2)
    add_offices(3)
    few = count_queries(client, "/")
    ArticleFactory.create_batch(20)
    add_offices(10)
    assert count_queries(client, "/") == few <= 7


def test_office_and_article_detail_query_counts(client):
    add_offices(1)
    office_url = OfficeFactory._meta.model.objects.first().get_absolute_url()
    article = ArticleFactory()
    ArticleFactory.create_batch(5)
    assert count_queries(client, office_url) <= 6
    assert count_queries(client, article.get_absolute_url()) <= 6
