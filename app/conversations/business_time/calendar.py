"""Business time: when the desk is open, and clock arithmetic that skips the rest.

Every function takes and returns timezone-aware UTC datetimes; the calendar's
own zone is used only inside, to turn "Monday 08:00–17:00" into instants. Each
local day's opening periods are converted to UTC separately, so a DST switch
(last Sunday of March and October in Europe/Amsterdam) simply makes that day's
periods an hour longer or shorter in real time, and the arithmetic never sees a
wall clock.

Public holidays come from the ``holidays`` package for the calendar's country
(``holidays.NL``: King's Day on 27 April, or 26 April when the 27th is a
Sunday; Christmas and Boxing Day; Easter and Whit Mondays; Ascension Day),
plus the calendar's own ``closed_dates``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import CommunicationChannel
from app.platform.models.sla import BusinessCalendar

log = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Stored and renamed at will: the Dutch desk's own words (see DEFAULT_POLICIES).
DEFAULT_CALENDAR_NAME = "Kantooruren (NL)"
DEFAULT_TIMEZONE = "Europe/Amsterdam"
DEFAULT_COUNTRY = "NL"
DEFAULT_WEEKLY_HOURS: dict[str, list[list[str]]] = {
    **{day: [["08:00", "17:00"]] for day in WEEKDAYS[:5]},
    "sat": [],
    "sun": [],
}

# How far ahead the arithmetic looks for an opening before giving up: a year of
# closed days means the calendar is broken, not that the answer is far away.
_MAX_DAYS_AHEAD = 400


def default_calendar() -> BusinessCalendar:
    """An unsaved Mon–Fri 08:00–17:00 Europe/Amsterdam calendar with NL holidays."""
    return BusinessCalendar(
        name=DEFAULT_CALENDAR_NAME,
        timezone=DEFAULT_TIMEZONE,
        weekly_hours={
            day: [list(p) for p in periods] for day, periods in DEFAULT_WEEKLY_HOURS.items()
        },
        holiday_country=DEFAULT_COUNTRY,
        closed_dates=[],
        is_default=True,
    )


def calendar_for(channel: CommunicationChannel | None) -> BusinessCalendar:
    """The channel's calendar, else the default one, else an unsaved default."""
    if channel is not None and channel.business_calendar_id is not None:
        calendar = db.session.get(BusinessCalendar, channel.business_calendar_id)
        if calendar is not None:
            return calendar
    calendar = db.session.scalars(
        sa.select(BusinessCalendar)
        .where(BusinessCalendar.is_default.is_(True))
        .order_by(BusinessCalendar.created_at)
        .limit(1)
    ).first()
    return calendar if calendar is not None else default_calendar()


# --- the schedule: a hashable snapshot of a calendar -------------------------


@dataclass(frozen=True)
class Schedule:
    """What the arithmetic needs from a calendar, immutable so days can be cached."""

    zone: str
    weekly: tuple[tuple[tuple[time, time | None], ...], ...]  # per weekday; None end = 24:00
    country: str | None
    closed: frozenset[date]


def parse_clock(value: str) -> time | None:
    """``"08:30"`` → 08:30; ``"24:00"`` → None (end of day). Raises ValueError."""
    text = str(value).strip()
    if text in ("24:00", "24:00:00"):
        return None
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(f"not a HH:MM time: {value!r}")
    return time(int(hours), int(minutes))


def schedule_of(calendar: BusinessCalendar) -> Schedule:
    weekly_hours = calendar.weekly_hours or DEFAULT_WEEKLY_HOURS
    weekly = []
    for day in WEEKDAYS:
        periods = []
        for period in weekly_hours.get(day) or []:
            start, end = parse_clock(period[0]), parse_clock(period[1])
            if start is None or (end is not None and end <= start):
                raise ValueError(f"{day}: period {period!r} does not run forwards")
            periods.append((start, end))
        weekly.append(tuple(sorted(periods)))
    closed = set()
    for value in calendar.closed_dates or []:
        try:
            closed.add(date.fromisoformat(str(value)))
        except ValueError:
            log.warning("calendar %s: ignoring closed date %r", calendar.name, value)
    return Schedule(
        zone=calendar.timezone or DEFAULT_TIMEZONE,
        weekly=tuple(weekly),
        country=(calendar.holiday_country or None),
        closed=frozenset(closed),
    )


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> frozenset[date]:
    try:
        return frozenset(holidays.country_holidays(country, years=year).keys())
    except NotImplementedError:
        log.error("unknown holiday country %r; no public holidays applied", country)
        return frozenset()


def is_holiday(schedule: Schedule, day: date) -> bool:
    if day in schedule.closed:
        return True
    return bool(schedule.country) and day in _holidays(schedule.country, day.year)


@lru_cache(maxsize=4096)
def _day_periods(schedule: Schedule, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """The local day's opening periods as UTC instants (empty on closed days)."""
    if is_holiday(schedule, day):
        return ()
    zone = ZoneInfo(schedule.zone)
    periods = []
    for start, end in schedule.weekly[day.weekday()]:
        local_start = datetime.combine(day, start, tzinfo=zone)
        if end is None:
            local_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        else:
            local_end = datetime.combine(day, end, tzinfo=zone)
        utc_start = local_start.astimezone(timezone.utc)
        utc_end = local_end.astimezone(timezone.utc)
        if utc_end > utc_start:
            periods.append((utc_start, utc_end))
    return tuple(periods)


def _periods_from(schedule: Schedule, at: datetime):
    """Opening periods ending after ``at``, in order, starting with ``at``'s local day."""
    day = at.astimezone(ZoneInfo(schedule.zone)).date()
    for offset in range(_MAX_DAYS_AHEAD):
        for start, end in _day_periods(schedule, day + timedelta(days=offset)):
            if end > at:
                yield start, end
    raise ValueError("calendar has no opening hours in the coming year")


def _periods_until(schedule: Schedule, at: datetime):
    """Opening periods starting before ``at``, newest first, from ``at``'s local day back."""
    day = at.astimezone(ZoneInfo(schedule.zone)).date()
    for offset in range(_MAX_DAYS_AHEAD):
        for start, end in reversed(_day_periods(schedule, day - timedelta(days=offset))):
            if start < at:
                yield start, end
    raise ValueError("calendar has no opening hours in the past year")


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to business-time arithmetic")
    return value.astimezone(timezone.utc)


# --- the public arithmetic ----------------------------------------------------


def is_open(calendar: BusinessCalendar | Schedule, at: datetime) -> bool:
    """Whether the desk is open at the instant ``at``."""
    schedule = calendar if isinstance(calendar, Schedule) else schedule_of(calendar)
    at = _utc(at)
    day = at.astimezone(ZoneInfo(schedule.zone)).date()
    return any(start <= at < end for start, end in _day_periods(schedule, day))


def next_opening(calendar: BusinessCalendar | Schedule, at: datetime) -> datetime:
    """``at`` itself when open, else the start of the next opening period."""
    schedule = calendar if isinstance(calendar, Schedule) else schedule_of(calendar)
    at = _utc(at)
    for start, _end in _periods_from(schedule, at):
        return max(start, at)
    raise AssertionError("unreachable")  # _periods_from raises when it runs dry


def add_business_seconds(
    calendar: BusinessCalendar | Schedule, start: datetime, seconds: int
) -> datetime:
    """The instant ``seconds`` of opening time after ``start``.

    Friday 16:30 plus four business hours (Mon–Fri 08:00–17:00) is Monday 11:30.
    Zero seconds returns ``start`` unchanged; a deadline landing exactly on
    closing time stays on that closing time rather than jumping to the next day.
    """
    schedule = calendar if isinstance(calendar, Schedule) else schedule_of(calendar)
    cursor = _utc(start)
    remaining = int(seconds)
    if remaining <= 0:
        return cursor
    for period_start, period_end in _periods_from(schedule, cursor):
        begin = max(period_start, cursor)
        available = (period_end - begin).total_seconds()
        if remaining <= available:
            return begin + timedelta(seconds=remaining)
        remaining -= int(available)
    raise AssertionError("unreachable")


def subtract_business_seconds(
    calendar: BusinessCalendar | Schedule, end: datetime, seconds: int
) -> datetime:
    """The instant ``seconds`` of opening time before ``end``: :func:`add_business_seconds`
    run backwards (Monday 11:30 less four business hours is Friday 16:30)."""
    schedule = calendar if isinstance(calendar, Schedule) else schedule_of(calendar)
    cursor = _utc(end)
    remaining = int(seconds)
    if remaining <= 0:
        return cursor
    for period_start, period_end in _periods_until(schedule, cursor):
        finish = min(period_end, cursor)
        available = (finish - period_start).total_seconds()
        if remaining <= available:
            return finish - timedelta(seconds=remaining)
        remaining -= int(available)
    raise AssertionError("unreachable")


def opening_periods(
    calendar: BusinessCalendar | Schedule, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The opening periods between two instants, cut to them, in order (UTC).

    For figures that measure many waits at once in SQL (app.analytics.order_sla):
    the calendar's periods over a range, handed to the database as rows.
    """
    schedule = calendar if isinstance(calendar, Schedule) else schedule_of(calendar)
    start, end = _utc(start), _utc(end)
    zone = ZoneInfo(schedule.zone)
    day = start.astimezone(zone).date()
    last_day = end.astimezone(zone).date()
    periods = []
    while day <= last_day:
        for period_start, period_end in _day_periods(schedule, day):
            begin, finish = max(period_start, start), min(period_end, end)
            if finish > begin:
                periods.append((begin, finish))
        day += timedelta(days=1)
    return periods


def business_seconds_between(
    calendar: BusinessCalendar | Schedule, start: datetime, end: datetime
) -> int:
    """Opening seconds between two instants (negative when ``end`` is earlier)."""
    schedule = calendar if isinstance(calendar, Schedule) else schedule_of(calendar)
    start, end = _utc(start), _utc(end)
    if end < start:
        return -business_seconds_between(schedule, end, start)
    total = sum(
        (finish - begin).total_seconds() for begin, finish in opening_periods(schedule, start, end)
    )
    return int(total)
