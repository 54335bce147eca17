"""What a figure is once computed: a titled table of raw values, plus formatting.

Rows keep raw values (seconds, percentages 0–100, counts, days) so the page,
the chart and the CSV export all show the same numbers, each in its own form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _

from app.platform.ui import local_date, local_number, local_percent

TEXT, COUNT, DURATION, PERCENT, DAY = "text", "count", "duration", "percent", "day"
# An average rating on a 1–5 scale (customer satisfaction), one decimal.
RATING = "rating"
# Seconds of working time (the desk's business calendar), shown as hours with one
# decimal: "2 d" would read as two calendar days, not 48 working hours.
WORKING_HOURS = "working_hours"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = TEXT
    # Its own one-line definition (a volume series); else app.analytics.definitions has it.
    definition: str = ""


@dataclass
class Table:
    """One figure: rows of raw values under labelled columns, and an optional total."""

    key: str
    title: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]
    total: dict[str, Any] | None = None
    note: str = ""
    chart: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def all_rows(self) -> list[dict[str, Any]]:
        return self.rows + ([self.total] if self.total else [])


def ratio(part: float, whole: float) -> float | None:
    """``part`` of ``whole`` in percent, or None when there is nothing to divide."""
    return None if not whole else 100.0 * part / whole


def average(total: float | None, count: int) -> float | None:
    return None if not count or total is None else total / count


def format_duration(seconds: float | None) -> str:
    """``4 h 05 min``, ``12 min``, ``40 s``; an em dash for no value.

    The hour's unit is the reader's ("4 u 05 min" in Dutch, as everywhere else in
    the interface); seconds, minutes and days are written alike in both languages.
    """
    if seconds is None:
        return "—"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(hours)s h %(minutes)s min", hours=hours, minutes=f"{minutes:02d}")
    days, hours = divmod(hours, 24)
    return _("%(days)s d %(hours)s h", days=days, hours=hours)


def display(value: Any, kind: str) -> str:
    """A cell as the page shows it."""
    if value is None:
        return "—"
    if kind == DURATION:
        return format_duration(value)
    # Separators, decimal sign and day names in the reader's language (app/platform/ui.py).
    if kind == PERCENT:
        return local_percent(value, 1)
    if kind == RATING:
        return local_number(value, 1)
    if kind == WORKING_HOURS:
        return local_number(value / 3600, 1)
    if kind == COUNT:
        return local_number(int(value))
    if kind == DAY and isinstance(value, date):
        return local_date(value, "%a %d %b %Y")
    return str(value)
