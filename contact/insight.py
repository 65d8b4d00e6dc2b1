"""The insight dashboard in admin: which pages bring consultation requests, and how fast
staff answer them, for a chosen period (the last 12 weeks unless asked).

Every figure is computed here, in a handful of queries whatever the period (requests are
summed in Python: a clinic gets hundreds a year, not millions), shown as a server-drawn
SVG chart (clinic_site/charts.py) beside a table of the same numbers, and downloadable as
CSV. Spam is left out of every figure. Views come from clinic_site.models.PageViews,
counted without identifying anyone (clinic_site/visits.py).
"""

import csv
import datetime
import functools
import math
import statistics
from collections import Counter, defaultdict

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from clinic_site import visits
from clinic_site.charts import Bars, Columns, top_series
from clinic_site.models import ClinicSettings, PageViews
from pages.models import Article, Office, Promotion, Service

from .admin import csv_safe, user_name
from .models import ConsultationRequest, StatusChange

Status = ConsultationRequest.Status
DEFAULT_WEEKS = 12
LONGEST_PERIOD = datetime.timedelta(days=366 * 3)


class PeriodForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError("The start date is after the end date.")
            if end - start > LONGEST_PERIOD:
                raise forms.ValidationError("Choose a period of three years at most.")
        return data


def default_period(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The last 12 weeks: from the Monday 11 weeks before this week's, to today."""
    monday = today - datetime.timedelta(days=today.weekday())
    return monday - datetime.timedelta(weeks=DEFAULT_WEEKS - 1), today


def week_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: the smallest value with at least ``share`` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


class Insight:
    """Every figure of the dashboard for ``start`` to ``end`` (dates, both included)."""

    def __init__(self, start: datetime.date, end: datetime.date, zone):
        self.start, self.end, self.zone = start, end, zone
        self.weeks = []
        week = week_of(start)
        while week <= end:
            self.weeks.append(week)
            week += datetime.timedelta(weeks=1)
        since = datetime.datetime.combine(start, datetime.time(), zone)
        until = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time(), zone)
        self.requests = list(
            ConsultationRequest.objects.exclude(status=Status.SPAM)
            .filter(received_at__gte=since, received_at__lt=until)
            .values("pk", "received_at", "status", "source_path", "office__name", "service__title")
            .order_by("received_at")
        )

    # ------------------------------------------------------------------ requests per week

    def per_week(self, category) -> dict[str, list[int]]:
        """{category: [requests in each week]}, categories by total, then by name."""
        index = {week: position for position, week in enumerate(self.weeks)}
        series = defaultdict(lambda: [0] * len(self.weeks))
        for row in self.requests:
            day = timezone.localtime(row["received_at"], self.zone).date()
            series[category(row)][index[week_of(day)]] += 1
        return dict(sorted(series.items(), key=lambda item: (-sum(item[1]), item[0])))

    def by_office(self):
        return self.per_week(lambda row: row["office__name"] or "No preference")

    def by_service(self):
        return self.per_week(lambda row: row["service__title"] or "Not chosen")

    def by_source(self):
        titles = {row["path"]: f"{row['title']} ({row['kind'].lower()})" for row in self.pages}
        titles[reverse("pages:home")] = "Home page"
        titles[reverse("contact:request")] = "Consultation page"
        return self.per_week(
            lambda row: titles.get(row["source_path"], row["source_path"] or "Not recorded")
        )

    # ------------------------------------------------------------------ pages

    @functools.cached_property
    def pages(self) -> list[dict]:
        """Each article, service, office and offer page: views, requests sent from it, and
        requests per 100 views (None without views). Most viewed first."""
        views = dict(
            PageViews.objects.filter(day__gte=self.start, day__lte=self.end)
            .values_list("path")
            .annotate(Sum("views"))
        )
        sent = Counter(row["source_path"] for row in self.requests)
        pages = [
            *(("Article", item) for item in Article.objects.published().only("title", "slug")),
            *(("Service", item) for item in Service.objects.published().only("title", "slug")),
            *(("Office", item) for item in Office.objects.only("name", "slug")),
            *(("Offer", item) for item in Promotion.objects.active().only("title", "slug")),
        ]
        rows = []
        for kind, item in pages:
            path = item.get_absolute_url()
            seen, asked = views.get(path, 0), sent[path]
            rows.append(
                {
                    "kind": kind,
                    "title": str(item),
                    "path": path,
                    "views": seen,
                    "requests": asked,
                    "per_100": round(100 * asked / seen, 1) if seen else None,
                }
            )
        return sorted(rows, key=lambda row: (-row["views"], row["kind"], row["title"]))

    # ------------------------------------------------------------------ staff

    def scheduled(self) -> dict:
        """How many of the period's requests reached "Scheduled" (now, or at any time)."""
        ever = set(
            StatusChange.objects.filter(
                consultation__in=[row["pk"] for row in self.requests], status=Status.SCHEDULED
            ).values_list("consultation", flat=True)
        )
        reached = sum(
            1 for row in self.requests if row["status"] == Status.SCHEDULED or row["pk"] in ever
        )
        total = len(self.requests)
        return {
            "reached": reached,
            "total": total,
            "percent": round(100 * reached / total, 1) if total else None,
        }

    def first_contact(self) -> list[dict]:
        """Per person, hours from receipt to a request's first status change (who made that
        change): how many, median and 90th percentile; "Everyone" last."""
        received = {row["pk"]: row["received_at"] for row in self.requests}
        first = {}
        changes = (
            StatusChange.objects.filter(consultation__in=list(received))
            .select_related("changed_by")
            .order_by("changed_at", "pk")
        )
        for change in changes:
            first.setdefault(change.consultation_id, change)
        hours = defaultdict(list)
        for number, change in first.items():
            waited = (change.changed_at - received[number]).total_seconds() / 3600
            hours[user_name(change.changed_by) or "A removed account"].append(waited)
            hours[None].append(waited)
        rows = [
            {
                "person": person or "Everyone",
                "count": len(values),
                "median": round(statistics.median(values), 1),
                "p90": round(percentile(values, 0.9), 1),
            }
            for person, values in sorted(
                hours.items(), key=lambda item: (item[0] is None, item[0] or "")
            )
        ]
        return rows

    @staticmethod
    def waiting() -> list[dict]:
        """Right now, whatever the period: needs review, overdue, mail failed."""
        requests = ConsultationRequest.objects.all()
        return [
            {"label": "Needs review", "count": requests.needs_review().count()},
            {
                "label": "Overdue (waiting more than one business day)",
                "count": requests.overdue().count(),
            },
            {"label": "Email failed", "count": requests.mail_failed().count()},
        ]


# --------------------------------------------------------------------------- the view

WEEKLY = {
    "offices": ("Requests per week by office", Insight.by_office),
    "services": ("Requests per week by service", Insight.by_service),
    "sources": ("Requests per week by the page they were sent from", Insight.by_source),
}


def weekly_figure(insight, key):
    title, figure = WEEKLY[key]
    series = figure(insight)
    labels = [f"{week:%b} {week.day}" for week in insight.weeks]
    shown = top_series(series)
    return {
        "key": key,
        "title": title,
        "chart": Columns(labels, shown),
        "weeks": [
            {"week": week, "counts": [values[position] for values in shown.values()]}
            for position, week in enumerate(insight.weeks)
        ],
        "names": list(shown),
        "all": series,
        "total": sum(sum(values) for values in series.values()),
    }


def csv_response(name, header, rows, period):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{name}-{period[0]:%Y-%m-%d}-to-{period[1]:%Y-%m-%d}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_safe(cell) for cell in row])
    return response


def download(insight, key):
    period = (insight.start, insight.end)
    if key in WEEKLY:
        series = weekly_figure(insight, key)["all"]
        rows = [
            (f"{week:%Y-%m-%d}", name, values[position])
            for position, week in enumerate(insight.weeks)
            for name, values in series.items()
        ]
        return csv_response(
            f"requests-by-{key}", ["week starting", key[:-1], "requests"], rows, period
        )
    if key == "pages":
        rows = [
            (
                row["kind"],
                row["title"],
                row["path"],
                row["views"],
                row["requests"],
                row["per_100"] if row["per_100"] is not None else "",
            )
            for row in insight.pages
        ]
        header = ["type", "title", "path", "views", "requests", "requests per 100 views"]
        return csv_response("views-and-requests", header, rows, period)
    if key == "first-contact":
        rows = [
            (row["person"], row["count"], row["median"], row["p90"])
            for row in insight.first_contact()
        ]
        header = ["person", "requests", "median hours", "90th percentile hours"]
        return csv_response("time-to-first-contact", header, rows, period)
    if key == "scheduled":
        figure = insight.scheduled()
        rows = [
            (
                figure["total"],
                figure["reached"],
                figure["percent"] if figure["percent"] is not None else "",
            )
        ]
        return csv_response(
            "reached-scheduled", ["requests", "reached scheduled", "percent"], rows, period
        )
    if key == "waiting":
        return csv_response(
            "waiting-now",
            ["figure", "requests"],
            [(row["label"], row["count"]) for row in insight.waiting()],
            period,
        )
    return None


def dashboard(request):
    """Wrapped in admin.site.admin_view (clinic_site/urls.py): staff only, logged in."""
    if not request.user.has_perm("contact.view_insight"):
        raise PermissionDenied
    zone = ClinicSettings.load().tzinfo
    today = timezone.localdate(timezone=zone)
    start, end = default_period(today)
    form = PeriodForm(request.GET or None, initial={"start": start, "end": end})
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    elif not form.is_bound:
        form = PeriodForm({"start": start, "end": end})
        form.is_valid()
    visits.flush()  # the views counted since the worker's last pass
    insight = Insight(start, end, zone)
    key = request.GET.get("download")
    if key:
        response = download(insight, key)
        if response is not None:
            return response
    pages = insight.pages
    viewed = [row for row in pages if row["views"]][:10]
    contact = insight.first_contact()
    context = {
        **admin.site.each_context(request),
        "title": "Insight: what brings patients in",
        "form": form,
        "start": start,
        "end": end,
        "query": f"start={start:%Y-%m-%d}&end={end:%Y-%m-%d}",
        "weekly": [weekly_figure(insight, key) for key in WEEKLY],
        "pages": pages,
        "pages_chart": Bars([(row["title"], row["views"]) for row in viewed]),
        "scheduled": insight.scheduled(),
        "first_contact": contact,
        "first_contact_chart": Bars([(row["person"], row["median"]) for row in contact]),
        "waiting": insight.waiting(),
    }
    return TemplateResponse(request, "admin/insight.html", context)
