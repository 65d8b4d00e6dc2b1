"""Opening hours worked out in the clinic's time zone: the week, today, and 'open now'.

A closure with ``closes_at`` is a half day: that day's periods end at that time."""

import datetime
from dataclasses import dataclass, field

from .models import OpeningHours


@dataclass(frozen=True)
class Period:
    """Part of a day the office is open, cut short by an early closing."""

    opens: datetime.time
    closes: datetime.time


@dataclass
class Day:
    weekday: int
    name: str
    date: datetime.date
    periods: list = field(default_factory=list)
    closure: object = None
    is_today: bool = False

    @property
    def closes_early(self):
        return self.closure is not None and not self.closure.is_whole_day

    @property
    def is_closed(self):
        return (self.closure is not None and not self.closes_early) or not self.periods


@dataclass
class Schedule:
    days: list
    is_open_now: bool
    status_text: str
    upcoming_closures: list
    next_change: datetime.datetime | None = None  # when the "open now" line changes next
    today: datetime.date | None = None


def _fmt(t: datetime.time) -> str:
    text = t.strftime("%I:%M %p").lstrip("0")
    return text.replace(":00 ", " ")


def _cut(periods, closes_at: datetime.time) -> list:
    """The periods of a day that closes early at ``closes_at``."""
    return [Period(p.opens, min(p.closes, closes_at)) for p in periods if p.opens < closes_at]


def office_schedule(office, now: datetime.datetime) -> Schedule:
    """The week from today, with ``now`` already in the clinic's time zone.

    Uses ``office.hours.all()`` and ``office.upcoming_closure_list`` as prefetched by
    ``Office.objects.with_schedule()``, so it runs no query of its own.
    """
    today = now.date()
    closures = {c.date: c for c in getattr(office, "upcoming_closure_list", [])}
    by_weekday: dict[int, list] = {}
    for row in office.hours.all():
        by_weekday.setdefault(row.weekday, []).append(row)
    monday = today - datetime.timedelta(days=today.weekday())
    days = []
    for weekday, name in OpeningHours.Weekday.choices:
        date = monday + datetime.timedelta(days=weekday)
        if date < today:  # show the coming occurrence, so closures line up with real dates
            date += datetime.timedelta(days=7)
        periods = sorted(by_weekday.get(weekday, []), key=lambda r: r.opens)
        closure = closures.get(date)
        if closure is not None and closure.closes_at is not None:
            periods = _cut(periods, closure.closes_at)
        days.append(Day(weekday, name, date, periods, closure, is_today=date == today))

    current = now.time()
    todays = days[today.weekday()]
    early = todays.closes_early
    open_period = None
    if not todays.is_closed:
        open_period = next((p for p in todays.periods if p.opens <= current < p.closes), None)
    later = (
        None if todays.is_closed else next((p for p in todays.periods if p.opens > current), None)
    )
    if open_period and early and open_period.closes == todays.closure.closes_at:
        status = f"Open now · closes early at {_fmt(open_period.closes)} · {todays.closure.reason}"
    elif open_period:
        status = f"Open now · until {_fmt(open_period.closes)}"
    elif todays.closure and todays.is_closed and not (early and todays.periods):
        status = f"Closed today · {todays.closure.reason}"
    elif early and later:
        status = (
            f"Closed now · opens at {_fmt(later.opens)}, closes early at "
            f"{_fmt(todays.closure.closes_at)} · {todays.closure.reason}"
        )
    elif early:
        status = f"Closed now · closed early today · {todays.closure.reason}"
    else:
        status = f"Closed now · opens at {_fmt(later.opens)}" if later else "Closed now"
    upcoming = sorted((c for c in closures.values() if c.date >= today), key=lambda c: c.date)
    changes = [] if todays.is_closed else [t for p in todays.periods for t in (p.opens, p.closes)]
    next_time = min((t for t in changes if t > current), default=None)
    next_change = (
        now.replace(hour=next_time.hour, minute=next_time.minute, second=0, microsecond=0)
        if next_time is not None
        else None
    )
    return Schedule(days, open_period is not None, status, upcoming, next_change, today)
