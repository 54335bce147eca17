"""The visit a sandbox order is "planned" for, chosen as a planner would choose it.

A test order is never on the planning board, but its ``scheduled`` callback
carries a visit, so the partner can test what its system does with one. That
visit follows the order's own installation preferences: the
first preferred date that is a working day, else the next working day after
it, in the preferred part of the day. Working days are the technicians'
default ones (Monday to Friday) less the business calendar's public holidays
and closed dates, the same days the planning board and its rules know.
Without a preferred date it is the first working day a week ahead.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from app.conversations.business_time.calendar import calendar_for, is_holiday, schedule_of
from app.conversations.message_templates.visit_moment import parse_time_window
from app.platform.models import Order
from app.platform.models.planning import DEFAULT_WORKING_HOURS, WEEKDAY_KEYS

# Without a preferred date: a week ahead, as before.
DAYS_AHEAD = 7
# A preferred date in the past, or today, is planned from tomorrow on.
EARLIEST_DAYS_AHEAD = 1
# The preference keys naming a date, and naming a part of the day, first found wins.
DATE_KEYS = ("preferred_date", "preferred_dates")
WINDOW_KEYS = ("time_window", "time_preference", "dagdeel", "time_of_day")
MORNING = ("08:00", "12:00")
AFTERNOON = ("12:00", "17:00")
ALL_DAY = ("08:00", "17:00")
# Words for a part of the day, Dutch and English, as partners and customers write them.
_PARTS = (
    (re.compile(r"\b(hele dag|heel de dag|all day|whole day|full day|any ?time)\b"), ALL_DAY),
    # Before "middag": a Dutch "voormiddag" is the morning.
    (re.compile(r"(ochtend|voormiddag|'s morgens|morning|\bam\b|\ba\.m\.)"), MORNING),
    (re.compile(r"(middag|afternoon|\bpm\b|\bp\.m\.)"), AFTERNOON),
)
# No more than this many days looked at for a working day (a run of holidays).
_SEARCH_DAYS = 31


def is_working_day(day: date) -> bool:
    """A day technicians work by default and the business calendar is not closed."""
    if not DEFAULT_WORKING_HOURS.get(WEEKDAY_KEYS[day.weekday()]):
        return False
    return not is_holiday(schedule_of(calendar_for(None)), day)


def next_working_day(day: date) -> date:
    """``day`` itself if it is a working day, else the first one after it."""
    for offset in range(_SEARCH_DAYS):
        if is_working_day(candidate := day + timedelta(days=offset)):
            return candidate
    return day


def preferred_dates(order: Order) -> list[date]:
    """The order's preferred dates, in the order given; what is no date is left out."""
    preferences = order.installation_preferences or {}
    found = []
    for key in DATE_KEYS:
        values = preferences.get(key)
        for value in values if isinstance(values, list) else [values]:
            try:
                found.append(date.fromisoformat(str(value)[:10]))
            except ValueError:
                continue
    return found


def visit_day(order: Order, today: date) -> date:
    """The first preferred working day; else the next working day after the first
    preferred date (a Saturday becomes the Monday); never before tomorrow."""
    earliest = today + timedelta(days=EARLIEST_DAYS_AHEAD)
    wished = preferred_dates(order)
    for day in wished:
        if day >= earliest and is_working_day(day):
            return day
    if wished:
        return next_working_day(max(wished[0], earliest))
    return next_working_day(today + timedelta(days=DAYS_AHEAD))


def visit_window(order: Order) -> tuple[str, str]:
    """The preferred part of the day as hours: the hours written, or the part named
    (morning 08:00–12:00, afternoon 12:00–17:00, all day 08:00–17:00); else morning."""
    preferences = order.installation_preferences or {}
    for key in WINDOW_KEYS:
        text = str(preferences.get(key) or "").strip()
        if not text:
            continue
        window = parse_time_window(text)
        if window is not None and window.start and window.end and not window.all_day:
            return window.start, window.end
        lowered = text.lower()
        for words, hours in _PARTS:
            if words.search(lowered):
                return hours
    return MORNING


def planned_visit(order: Order, today: date) -> dict:
    """The pretend visit, as a callback's ``visit`` block."""
    start, end = visit_window(order)
    return {
        "number": 1,
        "purpose": None,
        "date": visit_day(order, today).isoformat(),
        "window_start": start,
        "window_end": end,
    }
