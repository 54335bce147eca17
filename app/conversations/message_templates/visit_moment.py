"""When the technician comes, in words a customer reads naturally.

The intake writes a visit's time window as free text ("middag (12:00-17:00)",
"hele dag beschikbaar"). :func:`parse_time_window` reads it once for every
place that shows or sorts by it; :func:`visit_moment` words the visit relative
to the day the message is sent: "vandaag tussen 12:00 en 17:00",
"vandaag, de hele dag", "morgen (23-11-2026) tussen 08:00 en 12:00".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.platform.database import utcnow

DATE_FORMAT = "%d-%m-%Y"
# An English reader takes 02-12-2026 for the 12th of February: the month in words.
ENGLISH_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_HOURS = re.compile(r"(\d{1,2})[:.](\d{2})\s*(?:-|–|tot|en)\s*(\d{1,2})[:.](\d{2})")
_ALL_DAY = ("hele dag", "all day", "heel de dag")
_LETTERS = re.compile(r"[^\W\d_]")
# Customer-facing words per template language (templates carry their own language).
_WORDS = {
    "nl": {
        "today": "vandaag",
        "tomorrow": "morgen ({date})",
        "on": "op {date}",
        "between": "{day} tussen {start} en {end}",
        "all_day": "{day}, de hele dag",
        "window": "{day}, {window}",
        "hours": "tussen {start} en {end}",
        "whole_day": "de hele dag",
    },
    "en": {
        "today": "today",
        "tomorrow": "tomorrow ({date})",
        "on": "on {date}",
        "between": "{day} between {start} and {end}",
        "all_day": "{day}, all day",
        "window": "{day}, {window}",
        "hours": "between {start} and {end}",
        "whole_day": "all day",
    },
}


@dataclass(frozen=True)
class TimeWindow:
    """A visit's time window: its name ("middag"), hours, or all day."""

    raw: str
    name: str | None
    start: str | None
    end: str | None
    all_day: bool

    @property
    def sort_key(self) -> str:
        # All-day visits after the timed ones: they fit in anywhere.
        return self.start if self.start and not self.all_day else "99:99"


# The office's own word on a visit's plan, by the kind of change: sent by itself
# (app.orders.planning.notices) when a planner saves, moves or takes back a visit, never
# one tap away for a technician ("Installatie-afspraak vervallen" from the road).
# A later visit of an order (a second day, a return visit) has its own wording:
# "uw tweede bezoek", not "de installatie" again; without its template (an admin
# may add one) the notice writes its own Dutch text.
PLAN_NOTICE_TEMPLATES = {
    "planned": "visit_planned",
    "moved": "visit_moved",
    "cancelled": "visit_cancelled",
    "further_planned": "further_visit_planned",
    "further_moved": "further_visit_moved",
    "further_cancelled": "further_visit_cancelled",
}


# A later visit of an order (a second day, a return visit), as the customer reads it.
_FURTHER_VISITS = {
    "nl": {2: "tweede bezoek", 3: "derde bezoek", 4: "vierde bezoek", 5: "vijfde bezoek"},
    "en": {2: "second visit", 3: "third visit", 4: "fourth visit", 5: "fifth visit"},
}
_ANY_FURTHER_VISIT = {"nl": "vervolgbezoek", "en": "follow-up visit"}


def further_visit_name(number: int, language: str = "nl") -> str:
    """ "tweede bezoek" for visit 2 of an order, "vervolgbezoek" past the fifth."""
    language = language[:2] if language[:2] in _FURTHER_VISITS else "nl"
    return _FURTHER_VISITS[language].get(number, _ANY_FURTHER_VISIT[language])


def parse_time_window(raw: object) -> TimeWindow | None:
    """The window in ``raw`` (free text from the intake); None when there is none."""
    text = str(raw or "").strip()
    if not text:
        return None
    match = _HOURS.search(text)
    start = f"{int(match[1]):02d}:{match[2]}" if match else None
    end = f"{int(match[3]):02d}:{match[4]}" if match else None
    all_day = any(words in text.lower() for words in _ALL_DAY)
    name = text.split("(")[0].strip() if match else None
    if name is not None and not _LETTERS.search(name):
        name = None
    if not match and not all_day:
        name = text
    return TimeWindow(raw=text, name=name, start=start, end=end, all_day=all_day)


def window_text_of(order, visit=None) -> str | None:
    """The visit's window as text: the planned one (``Visit``; without one, the
    order's current visit), else the one the customer asked for in the intake's
    installation preferences."""
    if visit is None:
        visit = getattr(order, "visit", None)
    if visit is not None and visit.window_text:
        return visit.window_text
    preferences = order.installation_preferences or {}
    return preferences.get("time_window") or preferences.get("time_preference")


def written_date(day: date, language: str = "nl") -> str:
    """ "02-12-2026" for a Dutch reader, "2 December 2026" for an English one."""
    if language[:2].lower() == "en":
        return f"{day.day} {ENGLISH_MONTHS[day.month - 1]} {day.year}"
    return day.strftime(DATE_FORMAT)


def amsterdam_today(now: datetime | None = None) -> date:
    """Today where the customers and technicians are, not in UTC."""
    return (now or utcnow()).astimezone(AMSTERDAM).date()


def visit_moment(
    scheduled: date | None, window: TimeWindow | None, today: date | None, language: str = "nl"
) -> str | None:
    """The visit's day and window as one phrase; None without a planned date. ``today``
    None: no "vandaag" or "morgen", the date itself (a text read days later)."""
    if scheduled is None:
        return None
    words = _WORDS.get(language[:2], _WORDS["nl"])
    when = written_date(scheduled, language)
    if today is None:
        day = words["on"].format(date=when)
    elif scheduled == today:
        day = words["today"]
    elif scheduled == today + timedelta(days=1):
        day = words["tomorrow"].format(date=when)
    else:
        day = words["on"].format(date=when)
    if window is None:
        return day
    if window.start and window.end:
        return words["between"].format(day=day, start=window.start, end=window.end)
    if window.all_day:
        return words["all_day"].format(day=day)
    return words["window"].format(day=day, window=window.raw)


def window_words(window: TimeWindow | None, language: str = "nl") -> str | None:
    """The window alone, as a sentence carries it: "tussen 08:00 en 12:00", "de hele dag"."""
    if window is None:
        return None
    words = _WORDS.get(language[:2], _WORDS["nl"])
    if window.start and window.end:
        return words["hours"].format(start=window.start, end=window.end)
    if window.all_day:
        return words["whole_day"]
    return window.raw
