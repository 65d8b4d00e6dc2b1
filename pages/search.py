"""Site search over published articles, services and pages and the shown team profiles.

PostgreSQL: ranked full-text search ("english": stemmed, stop words dropped; title A,
summary B, text C; the websearch syntax: "a phrase", -word, or). Any other database
(SQLite in development): every word must be in the title, summary or text, title matches
first. One query per content type, merged by rank. Never cached: a query is whatever a
visitor types (SearchView).
"""

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connections
from django.db.models import Case, FloatField, Q, QuerySet, Value, When
from django.utils.html import strip_tags
from django.utils.text import Truncator

from .models import Article, Clinician, Page, Service

MAX_QUERY_LENGTH = 100
MAX_RESULTS = 20
CONFIG = "english"
# The fallback's weights for a word found in the title, else the summary, else the text:
# PostgreSQL's defaults for weights A, B and C.
TITLE_SCORE, SUMMARY_SCORE, TEXT_SCORE = 1.0, 0.4, 0.2


@dataclass(frozen=True)
class Kind:
    label: str  # what a visitor sees beside each result
    public: Callable[[], QuerySet]
    title: str
    summary: tuple[str, ...]
    text: tuple[str, ...]  # rich text (HTML) first: the snippet when there is no summary


# On equal rank, results keep this order: a patient searching a treatment wants its page.
KINDS = (
    Kind(
        "Service",
        Service.objects.published,
        "title",
        ("summary",),
        ("body", "who_it_helps"),
    ),
    Kind("Article", Article.objects.published, "title", ("summary",), ("body",)),
    Kind("Page", Page.objects.published, "title", ("summary",), ("body",)),
    Kind(
        "Team member",
        Clinician.objects.published,
        "name",
        ("role", "credentials"),
        ("bio",),
    ),
)


@dataclass(frozen=True)
class Result:
    label: str
    title: str
    url: str
    snippet: str
    rank: float


def clean_query(raw: str) -> str:
    """What a visitor typed, with control and invisible format characters (NUL, tabs,
    zero-width spaces) as spaces and each run of spaces as one: PostgreSQL refuses NUL."""
    text = "".join(" " if unicodedata.category(char)[0] == "C" else char for char in raw)
    return " ".join(text.split())


def search(query: str) -> list[Result]:
    """The best ``MAX_RESULTS`` matches for a cleaned, non-empty query, best first."""
    results = []
    for kind in KINDS:
        queryset = kind.public()
        if connections[queryset.db].vendor == "postgresql":
            rows = _full_text(kind, queryset, query)
        else:
            rows = _every_word(kind, queryset, query)
        results += [_result(kind, row) for row in rows]
    results.sort(key=lambda result: -result.rank)  # stable: equal ranks keep KINDS' order
    return results[:MAX_RESULTS]


def _full_text(kind: Kind, queryset: QuerySet, query: str):
    vector = (
        SearchVector(kind.title, weight="A", config=CONFIG)
        + SearchVector(*kind.summary, weight="B", config=CONFIG)
        + SearchVector(*kind.text, weight="C", config=CONFIG)
    )
    # websearch_to_tsquery takes any text: unbalanced quotes and & | ! : * are words or nothing.
    wanted = SearchQuery(query, search_type="websearch", config=CONFIG)
    # The text is loaded only where it may be the snippet (a page without a summary).
    snippet_text = kind.text[:1] if queryset.model._meta.get_field(kind.summary[0]).blank else ()
    fields = ["slug", kind.title, *kind.summary, *snippet_text]
    return (
        queryset.annotate(document=vector, rank=SearchRank(vector, wanted))
        .filter(document=wanted)
        .only(*fields)
        .order_by("-rank", kind.title)[:MAX_RESULTS]
    )


def _words(query: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"\w+", query)))


def _any_field(fields, word) -> Q:
    return reduce(or_, (Q(**{f"{field}__icontains": word}) for field in fields))


def _every_word(kind: Kind, queryset: QuerySet, query: str) -> list:
    words = _words(query)
    if not words:  # only punctuation: nothing to look for, as on PostgreSQL
        return []
    fields = (kind.title, *kind.summary, *kind.text)
    score = Value(0.0)
    for word in words:
        score += Case(
            When(Q(**{f"{kind.title}__icontains": word}), then=Value(TITLE_SCORE)),
            When(_any_field(kind.summary, word), then=Value(SUMMARY_SCORE)),
            default=Value(TEXT_SCORE),
            output_field=FloatField(),
        )
    rows = (
        queryset.filter(*(_any_field(fields, word) for word in words))
        .annotate(rank=score / len(words))
        .only("slug", *fields)
        .order_by("-rank", kind.title)[:MAX_RESULTS]
    )
    # LIKE also matches the HTML's markup ("strong", "href"): keep what a reader sees.
    return [row for row in rows if _has_every_word(kind, row, words)]


def _has_every_word(kind: Kind, row, words) -> bool:
    text = " ".join(
        _plain(getattr(row, field)) for field in (kind.title, *kind.summary, *kind.text)
    )
    text = text.casefold()
    return all(word.casefold() in text for word in words)


def _plain(value) -> str:
    return html.unescape(strip_tags(value or ""))


def _result(kind: Kind, row) -> Result:
    snippet = getattr(row, kind.summary[0]) or Truncator(_plain(getattr(row, kind.text[0]))).words(
        30
    )
    return Result(kind.label, str(row), row.get_absolute_url(), snippet, row.rank)
