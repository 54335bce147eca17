"""Chart geometry for server-rendered charts: computed here, drawn by the template.

Text never scales with the card: labels and values are HTML (or SVG without a
``viewBox``, positioned in percent), at the page's font size, and only the
shapes (bars, columns, grid lines) sit in SVGs that stretch to their box. So a
chart reads the same in a half-width card, a full-width one and on a phone.
Axes get ticks at 1-2-5 steps (minutes and hours for durations), and each
chart carries a title and description for screen readers; the table under
each chart holds the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from flask_babel import gettext as _

from app.analytics.tables import COUNT, DAY, DURATION, PERCENT, Table, display
from app.platform.ui import local_date, local_number

SERIES_COLOURS = 8  # CSS classes chart-series-0 … 7: --series-0 … 7 in static/css/theme.css
MAX_TICKS = 5  # steps on a value axis, so at most six labels
# Duration steps in seconds: minutes, then hours, then days, each 1-2-5 like.
DURATION_STEPS = (
    60, 120, 300, 600, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 12 * 3600,
    86400, 2 * 86400, 5 * 86400, 10 * 86400,
)  # fmt: skip


@dataclass(frozen=True)
class Tick:
    """One axis label at ``at`` percent along its axis; ``minor`` ones hide on narrow cards."""

    at: float
    text: str
    minor: bool = False


@dataclass(frozen=True)
class Bar:
    label: str
    value_text: str
    percent: float  # length of the bar, 0–100 % of the axis
    tone: str = ""


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars, one per row, on a value axis, optionally with a target line."""

    title: str
    desc: str
    bars: list[Bar]
    ticks: list[Tick]
    target_percent: float | None = None
    target_text: str = ""
    kind: str = "bars"


@dataclass(frozen=True)
class DayColumn:
    title: str
    segments: list[tuple[float, float, int]]  # (y, height, series index) in 0–100 units
    x: float  # in days from the left; each day is one unit wide
    width: float


@dataclass(frozen=True)
class DayChart:
    """Stacked columns per day, one colour per series (channel)."""

    title: str
    desc: str
    columns: list[DayColumn]
    y_ticks: list[Tick]  # ``at`` is percent from the top
    x_ticks: list[Tick]  # ``at`` is percent from the left (a column's centre)
    axis_label: str
    # (colour number, series name, what the series counts)
    legend: list[tuple[int, str, str]] = field(default_factory=list)
    kind: str = "days"

    @property
    def day_count(self) -> int:
        return len(self.columns)


def nice_step(peak: float, kind: str) -> float:
    """The smallest 1-2-5 step (time units for durations) that covers ``peak`` in MAX_TICKS."""
    if kind == PERCENT:
        return 25.0  # 0, 25, 50, 75, 100: quarters read at a glance
    if kind == DURATION:
        wanted = peak / MAX_TICKS
        return next((s for s in DURATION_STEPS if s >= wanted), DURATION_STEPS[-1])
    magnitude = 10 ** math.floor(math.log10(peak / MAX_TICKS)) if peak > MAX_TICKS else 1
    for factor in (1, 2, 5, 10):
        if factor * magnitude * MAX_TICKS >= peak:
            return float(factor * magnitude)
    return 10.0 * magnitude


def tick_text(value: float, kind: str) -> str:
    """An axis label: ``30 min``, ``2 h`` (``2 u`` in Dutch), ``1 d``, ``40 %``, ``1.000``."""
    if kind == DURATION:
        seconds = round(value)
        if seconds and seconds % 86400 == 0:
            return f"{seconds // 86400} d"
        if seconds and seconds % 3600 == 0:
            return _("%(hours)s h", hours=seconds // 3600)
        return f"{seconds // 60} min"
    if kind == PERCENT:
        return f"{local_number(round(value))} %"
    return local_number(round(value))


def value_axis(peak: float, kind: str) -> tuple[float, list[Tick]]:
    """The axis end (a whole number of steps, at least ``peak``) and its ticks."""
    step = nice_step(peak or 1.0, kind)
    steps = 4 if kind == PERCENT else max(math.ceil((peak or 1.0) / step), 1)
    end = step * steps
    ticks = [
        Tick(100.0 * n / steps, tick_text(n * step, kind), minor=n % 2 == 1 and steps > 3)
        for n in range(steps + 1)
    ]
    return end, ticks


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
    end, ticks = value_axis(max(values), kind)
    bars = []
    for row, value in zip(rows, values, strict=True):
        tone = ""
        if target is not None:
            good = value >= target if higher_is_better else value <= target
            tone = "good" if good else "bad"
        percent = round(min(value / end * 100.0, 100.0), 2) if end else 0.0
        bars.append(Bar(str(row["label"]), display(value, kind), percent, tone))
    described = "; ".join(f"{bar.label}: {bar.value_text}" for bar in bars)
    target_text = "" if target is None else _("target %(value)s", value=display(target, kind))
    desc = described + (f" ({target_text})" if target_text else "")
    target_percent = None if target is None else round(target / end * 100.0, 2)
    return BarChart(title, desc, bars, ticks, target_percent, target_text)


def _day_step(days: int) -> int:
    """Days between date labels: every day in a week, weekly up to two months, then fortnightly."""
    if days <= 8:
        return 1
    if days <= 62:
        return 7
    if days <= 124:
        return 14
    return 28


def _first_monday(rows: list[dict]) -> int:
    return next((i for i, row in enumerate(rows) if row["day"].weekday() == 0), 0)


def day_chart(table: Table, title: str) -> DayChart | None:
    """Stacked columns of the volume table; None when the range has no messages."""
    series = table.extra.get("series", [])
    definitions = {column.key: column.definition for column in table.columns}
    rows = table.rows
    peak = max((row["total"] for row in rows), default=0)
    if not rows or not peak:
        return None
    end, value_ticks = value_axis(peak, COUNT)
    columns = []
    # A gap between columns while they are wide enough to show one.
    gap = 0.2 if len(rows) <= 120 else 0.0
    for index, row in enumerate(rows):
        bottom = 100.0
        segments = []
        for number, (key, _name) in enumerate(series):
            count = row.get(key, 0)
            if not count:
                continue
            height = count / end * 100.0
            bottom -= height
            segments.append((round(bottom, 3), round(height, 3), number % SERIES_COLOURS))
        parts = ", ".join(f"{name} {row.get(key, 0)}" for key, name in series)
        columns.append(
            DayColumn(
                f"{display(row['day'], 'day')}: {row['total']} ({parts})",
                segments,
                index + gap / 2,
                1 - gap,
            )
        )
    # The y axis runs top-down in the SVG: the highest tick at 0 %.
    y_ticks = [Tick(100.0 - tick.at, tick.text, tick.minor) for tick in value_ticks]
    weekly = bool(table.extra.get("per_week"))
    # Per week a label every 4 weeks for half a year, 8 beyond (every other one is
    # minor and hidden on a phone); per day, weekly labels fall on Mondays.
    step = (4 if len(rows) <= 27 else 8) if weekly else _day_step(len(rows))
    first = 0 if step == 1 else _first_monday(rows)
    x_ticks = [
        Tick(
            round((index + 0.5) / len(rows) * 100.0, 3),
            local_date(rows[index]["day"], "%d %b" if step > 1 else "%a %d"),
            minor=(index - first) // step % 2 == 1,
        )
        for index in range(first, len(rows), step)
    ]
    busiest = max(rows, key=lambda row: row["total"])
    total = sum(row["total"] for row in rows)
    if weekly:
        desc = _(
            "%(total)s messages over %(weeks)s weeks; busiest week from %(day)s "
            "with %(busiest)s.",
            total=display(total, COUNT),
            weeks=len(rows),
            day=display(busiest["day"], DAY),
            busiest=display(busiest["total"], COUNT),
        )
    else:
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
        columns,
        y_ticks,
        x_ticks,
        _("Messages"),
        [
            (number % SERIES_COLOURS, name, definitions.get(key, ""))
            for number, (key, name) in enumerate(series)
        ],
    )
