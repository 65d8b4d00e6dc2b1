"""Site search: what a patient finds, what stays hidden, hostile input, and no caching.

Runs on both passes: PostgreSQL's full-text search and the word-by-word fallback on
SQLite. Tests of what only PostgreSQL does (stemming, the websearch syntax) say so.
"""

import datetime
import html
import re
from http import HTTPStatus
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pages.models import Article, validate_page_slug
from pages.search import MAX_QUERY_LENGTH, MAX_RESULTS

from .conftest import on_postgresql
from .factories import (
    ArticleFactory,
    ClinicianFactory,
    ClinicSettingsFactory,
    OfficeFactory,
    PageFactory,
    PromotionFactory,
    ServiceFactory,
)

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    not on_postgresql(),
    reason="PostgreSQL pass only: stemming and the websearch syntax are PostgreSQL's "
    "full-text search; the SQLite fallback matches whole words as typed",
)


@pytest.fixture(autouse=True)
def clinic():
    return ClinicSettingsFactory()


def get(client, query=None, **params):
    if query is not None:
        params["q"] = query
    response = client.get("/search/", params)
    assert response.status_code == HTTPStatus.OK
    return response


def results(response) -> list[tuple[str, str]]:
    """(type label, title) of each result, in the order shown (a response or its HTML)."""
    page = response if isinstance(response, str) else response.content.decode()
    found = re.findall(
        r'<p class="search-result-type[^"]*">(.*?)</p>\s*<h2[^>]*><a href="[^"]*">(.*?)</a>',
        page,
    )
    return [(html.unescape(label), html.unescape(title)) for label, title in found]


def count_queries(client, query):
    get(client, query)  # the clinic settings are cached on a running site
    with CaptureQueriesContext(connection) as ctx:
        get(client, query)
    return len(ctx.captured_queries)


def titles(response) -> list[str]:
    return [title for _label, title in results(response)]


# What a patient finds.

FIELDS = {
    "article": (ArticleFactory, "Article", ("title", "summary", "body")),
    "service": (ServiceFactory, "Service", ("title", "summary", "body")),
    "page": (PageFactory, "Page", ("title", "summary", "body")),
    "team member": (ClinicianFactory, "Team member", ("name", "role", "bio")),
}
CASES = [(kind, field) for kind, (_f, _l, fields) in FIELDS.items() for field in fields]


@pytest.mark.parametrize(("kind", "field"), CASES)
def test_finds_published_content_by_a_word_in_its_title_summary_or_text(client, kind, field):
    factory, label, _fields = FIELDS[kind]
    value = "Proprioception" if field in ("title", "name", "summary", "role") else None
    row = factory(**{field: value or "<p>Balance and proprioception training.</p>"})
    factory()  # another of its kind, without the word
    response = get(client, "proprioception")
    assert results(response) == [(label, str(row))]
    assert f'href="{row.get_absolute_url()}"' in response.content.decode()


def test_a_result_shows_its_summary_and_a_page_without_one_its_text(client):
    ServiceFactory(title="Dry needling", summary="Thin needles ease tight muscles.")
    PageFactory(title="Needling FAQ", summary="", body="<p>Questions &amp; answers.</p>")
    ClinicianFactory(name="Sam Needling", role="Physical therapist", credentials="PT, DPT")
    page = get(client, "needling").content.decode()
    assert "Thin needles ease tight muscles." in page
    assert "Questions &amp; answers." in page  # the text without its markup, escaped once
    assert "&lt;p&gt;" not in page and "&amp;amp;" not in page
    assert "Sam Needling, PT, DPT" in page and "Physical therapist" in page


def test_every_word_must_match(client):
    ArticleFactory(title="Knee pain after running")
    ArticleFactory(title="Knee surgery recovery")
    assert titles(get(client, "knee running")) == ["Knee pain after running"]


def test_markup_in_the_text_is_not_searched(client):
    ArticleFactory(title="Posture", body='<p><strong>Sit</strong> <a href="/x/">well</a>.</p>')
    assert "<strong>" in Article.objects.get().body  # the markup is stored with the text
    assert results(get(client, "strong")) == [] and results(get(client, "href")) == []
    assert titles(get(client, "sit well")) == ["Posture"]


def test_a_title_match_ranks_above_a_text_only_match(client):
    ArticleFactory(title="Recovering at home", body="<p>Rest your shoulder after a session.</p>")
    ServiceFactory(title="Massage", summary="Loosens a stiff shoulder.")
    ArticleFactory(title="Shoulder pain: five exercises", body="<p>Gentle moves.</p>")
    assert titles(get(client, "shoulder")) == [
        "Shoulder pain: five exercises",  # title
        "Massage",  # summary
        "Recovering at home",  # text only
    ]


def test_at_most_the_best_results_are_shown(client):
    ArticleFactory.create_batch(MAX_RESULTS, body="<p>About the hamstring.</p>")
    ServiceFactory(title="Hamstring rehab")
    response = get(client, "hamstring")
    shown = titles(response)
    assert len(shown) == MAX_RESULTS and shown[0] == "Hamstring rehab"
    assert f"The {MAX_RESULTS} best matches for “hamstring”" in response.content.decode()


# What stays hidden.


def test_never_finds_drafts_scheduled_or_hidden_content(client):
    later = timezone.now() + datetime.timedelta(days=2)
    ArticleFactory(title="Tendon draft", status=Article.Status.DRAFT)
    ArticleFactory(title="Tendon scheduled", published_at=later)
    ServiceFactory(title="Tendon service", is_published=False)
    PageFactory(title="Tendon page", is_published=False)
    ClinicianFactory(name="Tendon Person", is_shown=False)
    response = get(client, "tendon")
    assert results(response) == []
    assert "No results for “tendon”" in response.content.decode()
    ArticleFactory(title="Tendon live")
    assert titles(get(client, "tendon")) == ["Tendon live"]


def test_no_results_suggests_where_to_look(client):
    page = get(client, "xylophone").content.decode()
    assert "No results for “xylophone”" in page
    for url in ("/services/", "/articles/", "/team/"):
        assert f'href="{url}"' in page


# The page.


def test_the_search_box_keeps_the_query_and_the_page_is_not_indexed(client):
    page = get(client, "dry needling").content.decode()
    assert '<form role="search" method="get" action="/search/"' in page
    assert '<label for="search-q"' in page
    assert re.search(r'<input type="search" id="search-q" name="q" value="dry needling"', page)
    assert '<button type="submit"' in page
    assert '<meta name="robots" content="noindex">' in page
    assert "<title>Search results for “dry needling” · Test Motion Clinic</title>" in page
    assert '<li class="breadcrumb-item active" aria-current="page">Search</li>' in page


def test_the_query_is_escaped_everywhere(client):
    hostile = '"><script>alert(1)</script><b onmouseover="x">'
    page = get(client, hostile).content.decode()
    assert "<script>alert(1)" not in page and "<b onmouseover" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # in the box and the message
    assert 'value="&quot;&gt;&lt;script&gt;' in page


# Bad input.


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "   "}, {"q": "\x00\t\r\n"}])
def test_no_query_shows_the_search_box_and_nothing_else(client, params):
    page = get(client, **params).content.decode()
    assert 'name="q" value=""' in page
    assert "<title>Search · Test Motion Clinic</title>" in page
    assert "No results" not in page and "search-result" not in page and "alert" not in page


def test_a_query_over_the_limit_is_not_run(client):
    ArticleFactory(title="Needling")
    too_long = "needling " + "x" * MAX_QUERY_LENGTH
    assert count_queries(client, too_long) == count_queries(client, "")  # no search ran
    page = get(client, too_long).content.decode()
    assert f"Your search is {len(too_long)} characters long" in page
    assert f"at most {MAX_QUERY_LENGTH} characters" in page
    assert "No results" not in page and results(page) == []
    longest = "needling" + " " * (MAX_QUERY_LENGTH - len("needling") - 1) + "x"
    assert len(longest) == MAX_QUERY_LENGTH
    assert "characters long" not in get(client, longest).content.decode()


HOSTILE = [
    "needling\x00",
    "a\x00b",
    '"unbalanced',
    "'unbalanced",
    '"dry needling',
    "&|!:*",
    "needling & | ! : * ( ) < > <-> <2>",
    "!!needling",
    "needling:*",
    "-",
    "- -needling",
    "or",
    "needling or",
    "' OR 1=1 --",
    "%",
    "_",
    "\\",
    "%_\\%",
    "\u202eelpmaxe\u202c",
    "\ufeffneedling",
    "needle\u200bling",
    "界 ش é",
    "🦵 knee",
    "\x1b[31mred",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_fail(client, query):
    ArticleFactory(title="Dry needling", body="<p>Needles &amp; more.</p>")
    page = get(client, query).content.decode()
    assert "No results for" in page or results(page)


@pytest.mark.parametrize(
    "query_string", ["q=%00", "q=%ff%fe", "q=%ed%a0%80", "q=a&q=b", "q", "q=%", "q=%zz"]
)
def test_undecodable_or_odd_query_strings_never_fail(client, query_string):
    assert client.get(f"/search/?{query_string}").status_code == HTTPStatus.OK


@pytest.fixture
def needling_article():
    return ArticleFactory(title="Dry needling", body="<p>Needles &amp; more.</p>")


@given(
    query=st.one_of(
        st.text(max_size=MAX_QUERY_LENGTH + 20),
        st.text(alphabet=st.sampled_from("\"'&|!:*()<>-\\%_ \x00\tor"), max_size=40),
    )
)
# Each example renders a whole page: 200 keep the CI run short and still cover the odd input.
@settings(max_examples=200)
@example(query="\x00" * 200)
@example(query='"' * 3 + "needling")
def test_any_text_gets_a_page_never_an_error(client, needling_article, query):
    response = client.get("/search/?" + urlencode({"q": query}))
    assert response.status_code == HTTPStatus.OK
    assert b'role="search"' in response.content


def test_only_get_and_head(client):
    assert client.head("/search/?q=needling").status_code == HTTPStatus.OK
    for method in (client.post, client.put, client.delete):
        assert method("/search/", {"q": "x"}).status_code == HTTPStatus.METHOD_NOT_ALLOWED


# Cost and caching.


def add_rows(n):
    for i in range(n):
        ArticleFactory(body=f"<p>Ankle tip {i}.</p>")
        ServiceFactory(summary=f"Ankle help {i}.")
        PageFactory(body=f"<p>Ankle page {i}.</p>")
        ClinicianFactory(bio=f"<p>Treats ankles and ankle {i}.</p>")
    OfficeFactory()
    PromotionFactory(show_as_banner=True)


def test_one_query_per_content_type_whatever_the_number_of_rows(client):
    add_rows(2)
    without = count_queries(client, "")
    few = count_queries(client, "ankle")
    add_rows(30)
    many = count_queries(client, "ankle")
    assert few == many == without + 4  # articles, services, pages, team
    assert len(results(get(client, "ankle"))) == MAX_RESULTS


@pytest.mark.locmem_cache  # reads the local-memory cache's keys
def test_results_are_never_stored_in_the_page_cache(client, settings):
    settings.PROXY_CACHE_SECONDS = 10  # nginx would be told to keep a public page
    ArticleFactory(title="Needling")
    client.get("/articles/")
    before = {key for key in cache._cache if "pagecache:page:" in key}
    assert before  # the page cache is on: the article list was stored
    for n in range(50):
        response = get(client, f"needling {n}")
        assert response.page_cache is None
        assert "X-Accel-Expires" not in response  # nginx keeps only what carries it
        control = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"private", "no-cache"} <= control and "public" not in control
        assert response["X-Robots-Tag"] == "noindex"
    assert {key for key in cache._cache if "pagecache:page:" in key} == before
    assert get(client, "needling 0").page_cache is None  # not a hit either


def test_search_is_not_in_the_sitemap(client):
    sitemap = client.get("/sitemap.xml").content.decode()
    assert "/articles/" in sitemap and "/search/" not in sitemap


def test_no_page_can_take_the_search_address():
    with pytest.raises(ValidationError, match="already uses /search/"):
        validate_page_slug("search")
    validate_page_slug("insurance")  # a free address is fine


# PostgreSQL's full-text search.


@postgresql_only
def test_stemming_finds_other_forms_of_a_word(client):
    ArticleFactory(title="What to expect", body="<p>Dry needling releases trigger points.</p>")
    ServiceFactory(title="Running clinic")
    for query in ("needles", "needle", "NEEDLING"):  # english stems all three to "needl"
        assert titles(get(client, query)) == ["What to expect"], query
    assert titles(get(client, "runs")) == ["Running clinic"]


@postgresql_only
def test_the_websearch_syntax_is_understood(client):
    ArticleFactory(title="Dry needling or cupping?", body="<p>Both help.</p>")
    ArticleFactory(title="Needling that is dry", body="<p>Another piece.</p>")
    ServiceFactory(title="Massage")
    assert titles(get(client, '"dry needling"')) == ["Dry needling or cupping?"]
    assert titles(get(client, "needling -cupping")) == ["Needling that is dry"]
    assert set(titles(get(client, "cupping or massage"))) == {
        "Dry needling or cupping?",
        "Massage",
    }


@postgresql_only
def test_stop_words_alone_find_nothing(client):
    ArticleFactory(title="The way to the clinic")
    page = get(client, "the to").content.decode()
    assert "No results for “the to”" in page
