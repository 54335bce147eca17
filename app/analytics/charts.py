"""Chart geometry for server-rendered SVG: computed here, drawn by the template.

Charts are plain SVG with a ``viewBox``, so they scale to any width (a phone
included) without JavaScript. Each carries a title and a description for
screen readers, and every bar its value as text; the table under each chart
holds the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _

from app.analytics.tables import COUNT, DAY, PERCENT, Table, display
from app.ui import local_date, local_number

WIDTH = 400
LABEL_WIDTH = 128
VALUE_WIDTH = 92
ROW_HEIGHT = 26
BAR_HEIGHT = 16
TOP = 6
SERIES_COLOURS = 6  # CSS classes chart-series-0 … chart-series-5


@dataclass(frozen=True)
class Bar:
    label: str
    short_label: str
    value_text: str
    x: float
    y: float
    width: float
    height: float
    tone: str = ""


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars, one per row, optionally with a target line."""

    title: str
    desc: str
    width: int
    height: int
    plot_x: float
    plot_width: float
    bars: list[Bar]
    target_x: float | None = None
    target_text: str = ""
    kind: str = "bars"


@dataclass(frozen=True)
class DayColumn:
    day: date
    title: str
    segments: list[tuple[float, float, int]]  # (y, height, series index)
    x: float
    width: float


@dataclass(frozen=True)
class DayChart:
    """Stacked columns per day, one colour per series (channel)."""

    title: str
    desc: str
    width: int
    height: int
    plot_x: float
    plot_y: float
    plot_width: float
    plot_height: float
    columns: list[DayColumn]
    y_max_text: str
    first_day_text: str
    last_day_text: str
    legend: list[tuple[int, str]] = field(default_factory=list)
    kind: str = "days"


def _short(label: str, limit: int = 18) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_chart(
    table: Table,
    value_key: str,
    kind: str,
    title: str,
    *,
    target: float | None = None,
    higher_is_better: bool = True,
) -> BarChart | None:
    """Bars for ``table``'s rows (not the total); None when no row has a value."""
    rows = [row for row in table.rows if row.get(value_key) is not None]
    if not rows:
        return None
    values = [float(row[value_key]) for row in rows]
    scale_max = 100.0 if kind == PERCENT else max(values) or 1.0
    plot_x, plot_width = LABEL_WIDTH, WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = []
    for index, (row, value) in enumerate(zip(rows, values, strict=True)):
        tone = ""
        if target is not None:
            good = value >= target if higher_is_better else value <= target
            tone = "good" if good else "bad"
        bars.append(
            Bar(
                label=str(row["label"]),
                short_label=_short(str(row["label"])),
                value_text=display(value, kind),
                x=plot_x,
                y=TOP + index * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2,
                width=round(max(value / scale_max * plot_width, 1.0), 1),
                height=BAR_HEIGHT,
                tone=tone,
            )
        )
    height = TOP * 2 + len(rows) * ROW_HEIGHT + (16 if target is not None else 0)
    target_x = None if target is None else plot_x + target / scale_max * plot_width
    described = "; ".join(f"{bar.label}: {bar.value_text}" for bar in bars)
    target_text = "" if target is None else _("target %(value)s", value=display(target, kind))
    desc = described + (f" ({target_text})" if target_text else "")
    return BarChart(title, desc, WIDTH, height, plot_x, plot_width, bars, target_x, target_text)


def day_chart(table: Table, title: str) -> DayChart | None:
    """Stacked columns of the volume table; None when the range has no messages."""
    series = table.extra.get("series", [])
    rows = table.rows
    peak = max((row["total"] for row in rows), default=0)
    if not rows or not peak:
        return None
    plot_x, plot_y, plot_width, plot_height = 40.0, 8.0, WIDTH - 48.0, 150.0
    step = plot_width / len(rows)
    gap = step * 0.15 if step > 3 else 0.0
    columns = []
    for index, row in enumerate(rows):
        bottom = plot_y + plot_height
        segments = []
        for number, (key, _name) in enumerate(series):
            count = row.get(key, 0)
            if not count:
                continue
            height = count / peak * plot_height
            bottom -= height
            segments.append((round(bottom, 2), round(height, 2), number % SERIES_COLOURS))
        parts = ", ".join(f"{name} {row.get(key, 0)}" for key, name in series)
        columns.append(
            DayColumn(
                day=row["day"],
                title=f"{display(row['day'], 'day')}: {row['total']} ({parts})",
                segments=segments,
                x=round(plot_x + index * step + gap / 2, 2),
                width=round(max(step - gap, 0.5), 2),
            )
        )
    busiest = max(rows, key=lambda row: row["total"])
    total = sum(row["total"] for row in rows)
    desc = _(
        "%(total)s messages over %(days)s days; busiest day %(day)s with %(busiest)s.",
        total=display(total, COUNT),
        days=len(rows),
        day=display(busiest["day"], DAY),
        busiest=display(busiest["total"], COUNT),
    )
    return DayChart(
        title,
        desc,
        WIDTH,
        int(plot_y + plot_height + 22),
        plot_x,
        plot_y,
        plot_width,
        plot_height,
        columns,
        local_number(peak),
        local_date(rows[0]["day"], "%d %b"),
        local_date(rows[-1]["day"], "%d %b"),
        [(number % SERIES_COLOURS, name) for number, (_key, name) in enumerate(series)],
    )
