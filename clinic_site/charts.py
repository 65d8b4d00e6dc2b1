"""The geometry of the admin's SVG charts, drawn by templates/admin/chart_*.html.

Server-drawn SVG: no JavaScript, nothing from another host, and colours from classes in
static/css/insight.css (the CSP allows no inline style). Each chart stands beside a table
of the same figures, which is what screen readers are pointed to.
"""

import math
from dataclasses import dataclass, field

WIDTH = 640
SERIES_SHOWN = 7  # more categories than this: the smallest are summed as "Other"


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^n at or above ``value`` (an axis' top)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover (the loop always returns)


def format_number(value: float) -> str:
    return f"{value:g}" if value < 1e6 else f"{value:,.0f}"


def top_series(series: dict[str, list[int]], shown: int = SERIES_SHOWN) -> dict[str, list[int]]:
    """The ``shown - 1`` largest series by total and one "Other" summing the rest (the
    series as they are when there are no more than ``shown``)."""
    if len(series) <= shown:
        return series
    ranked = sorted(series, key=lambda name: (-sum(series[name]), name))
    kept = {name: series[name] for name in ranked[: shown - 1]}
    rest = [series[name] for name in ranked[shown - 1 :]]
    kept["Other"] = [sum(values) for values in zip(*rest, strict=True)]
    return kept


@dataclass
class Columns:
    """Stacked columns: one per label (a week), one segment per series."""

    labels: list[str]
    series: dict[str, list[int]]
    height: int = 240
    left: int = 40
    bottom: int = 36
    top: int = 12
    columns: list = field(init=False)
    ticks: list = field(init=False)
    legend: list = field(init=False)

    def __post_init__(self):
        plot_height = self.height - self.top - self.bottom
        totals = [sum(values) for values in zip(*self.series.values(), strict=True)] or [0]
        ceiling = nice_ceiling(max(totals))
        slot = (WIDTH - self.left - 8) / max(len(self.labels), 1)
        every = math.ceil(len(self.labels) / 13)  # at most 13 labels under the axis
        self.legend = [(index, name) for index, name in enumerate(self.series)]
        self.ticks = [
            {
                "y": round(self.top + plot_height * (1 - share), 1),
                "text": format_number(ceiling * share),
            }
            for share in (0, 0.5, 1)
        ]
        self.columns = []
        for position, label in enumerate(self.labels):
            x = self.left + position * slot + slot * 0.15
            base = self.top + plot_height
            segments = []
            for index, values in enumerate(self.series.values()):
                size = plot_height * values[position] / ceiling
                if size:
                    base -= size
                    segments.append({"index": index, "y": round(base, 1), "height": round(size, 1)})
            self.columns.append(
                {
                    "x": round(x, 1),
                    "width": round(slot * 0.7, 1),
                    "centre": round(x + slot * 0.35, 1),
                    "label": label if position % every == 0 else "",
                    "segments": segments,
                }
            )
        self.axis_y = self.top + plot_height
        self.label_y = self.axis_y + 16
        self.width = WIDTH


@dataclass
class Bars:
    """Horizontal bars, one per row: ``(label, value)``."""

    rows: list[tuple[str, float]]
    row_height: int = 26
    label_width: int = 250
    width: int = WIDTH
    bars: list = field(init=False)

    def __post_init__(self):
        ceiling = nice_ceiling(max((value for _label, value in self.rows), default=0))
        room = self.width - self.label_width - 60
        self.height = self.row_height * len(self.rows) + 4
        self.bars = [
            {
                "label": label if len(label) <= 36 else label[:35] + "…",
                "y": position * self.row_height + 4,
                "text_y": position * self.row_height + 4 + self.row_height * 0.55,
                "width": round(room * value / ceiling, 1),
                "value": format_number(round(value, 1)),
                "value_x": round(self.label_width + room * value / ceiling + 6, 1),
            }
            for position, (label, value) in enumerate(self.rows)
        ]
        self.bar_x = self.label_width
        self.bar_height = self.row_height - 8
