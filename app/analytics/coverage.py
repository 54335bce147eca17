"""Which days the page reads from the daily roll-ups, and reading them beside direct rows.

A day is read from the roll-ups (:mod:`app.analytics.rollups`) only while it
holds: computed, not marked dirty since, computed no later than ``now`` and
before the first response deadline still ahead at the time. Every other day,
today always, is computed directly; :func:`combined` sums both kinds of rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from app.analytics.filters import AnalyticsFilter, local_midnight, local_today
from app.platform.extensions import db
from app.platform.models import AnalyticsDay, AnalyticsDirtyDay

DayRuns = tuple[tuple[date, date], ...]


@dataclass(frozen=True)
class Coverage:
    """The filter's days split into runs read from roll-ups and runs computed directly."""

    rolled: DayRuns
    direct: DayRuns


def day_runs(days: Iterable[date]) -> DayRuns:
    """Consecutive days as (first, last) runs."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return tuple(runs)


def direct_coverage(f: AnalyticsFilter) -> Coverage:
    """Every day computed from the source rows: the reference the roll-ups must equal."""
    return Coverage((), ((f.first_day, f.last_day),))


def coverage(f: AnalyticsFilter, now: datetime, memo: dict) -> Coverage:
    """Which of the filter's days hold in the roll-ups at ``now`` (memoised for the page)."""
    if "coverage" not in memo:
        memo["coverage"] = _coverage(f, now)
    return memo["coverage"]


def _coverage(f: AnalyticsFilter, now: datetime) -> Coverage:
    last_past = min(f.last_day, local_today(now) - timedelta(days=1))
    held: set[date] = set()
    if f.first_day <= last_past:
        dirty = sa.select(AnalyticsDirtyDay.day).where(AnalyticsDirtyDay.day == AnalyticsDay.day)
        held = set(
            db.session.scalars(
                sa.select(AnalyticsDay.day).where(
                    AnalyticsDay.day.between(f.first_day, last_past),
                    AnalyticsDay.as_of <= now,
                    sa.or_(AnalyticsDay.valid_until.is_(None), AnalyticsDay.valid_until >= now),
                    ~dirty.exists(),
                )
            )
        )
    every_day = (f.first_day + timedelta(days=n) for n in range(f.days))
    return Coverage(day_runs(held), day_runs(d for d in every_day if d not in held))


def first_instant(runs: DayRuns) -> datetime | None:
    """The first moment of the runs' days (None without runs)."""
    return local_midnight(runs[0][0]) if runs else None


def single_day(runs: DayRuns) -> date | None:
    """The one day the runs cover, if they cover one (today, most often)."""
    return runs[0][0] if len(runs) == 1 and runs[0][0] == runs[0][1] else None


def in_days(column, runs: DayRuns) -> sa.ColumnElement[bool]:
    """A timestamp ``column`` falls on one of the runs' local days."""
    return sa.or_(
        *(
            sa.and_(column >= local_midnight(first), column < local_midnight(last + timedelta(1)))
            for first, last in runs
        )
    )


def on_days(day_column, runs: DayRuns) -> sa.ColumnElement[bool]:
    """A roll-up's ``day_column`` is one of the runs' days."""
    return sa.or_(*(day_column.between(first, last) for first, last in runs))


def combined(parts: list[sa.Select], keys: tuple[str, ...], sums: tuple[str, ...], present: str):
    """Sum ``sums`` per ``keys`` over the union of ``parts`` (direct and rolled-up rows).

    A group appears only if its ``present`` count is above 0, as a direct
    ``GROUP BY`` would (a roll-up row may hold zeros for one figure).
    """
    union = (sa.union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    # Every quantity is a whole number (counts, whole business seconds); PostgreSQL
    # sums bigints into numeric, which would reach Python as Decimal.
    totals = (sa.cast(sa.func.sum(union.c[s]), sa.BigInteger).label(s) for s in sums)
    return (
        sa.select(*(union.c[k] for k in keys), *totals)
        .group_by(*(union.c[k] for k in keys))
        .having(sa.func.sum(union.c[present]) > 0)
    )
