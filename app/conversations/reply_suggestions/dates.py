"""Finding every date and time a reply mentions, in the forms our team writes them.

A harvested reply is offered to other customers later, so a date in it is
either the visit's (and becomes a placeholder) or it must not be offered at
all: a wrong date must never reach a customer. :func:`find_moments` finds
them all (numeric ``09-12-2026``, ``2026-12-09``, Dutch and English long
forms such as ``donderdag 26 november`` and ``Thursday 26 November``, weekdays
alone, "morgen" and other relative days, time windows such as ``tussen 8:00 en
12:00`` and single times such as ``om 10:30``), each with what it says, so the
caller can map or refuse it. Whatever this finds nothing in has no date in
these forms; :func:`has_moment` is the last check on a finished text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

MONTHS = {
    "januari": 1, "january": 1, "jan": 1,
    "februari": 2, "february": 2, "feb": 2,
    "maart": 3, "march": 3, "mrt": 3, "mar": 3,
    "april": 4, "apr": 4,
    "mei": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6,
    "juli": 7, "july": 7, "jul": 7,
    "augustus": 8, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
WEEKDAYS = {
    "maandag": 0, "dinsdag": 1, "woensdag": 2, "donderdag": 3, "vrijdag": 4,
    "zaterdag": 5, "zondag": 6, "monday": 0, "tuesday": 1, "wednesday": 2,
    "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
}  # fmt: skip
# Short weekday names count only right before a day number ("do 26 nov", "Thu 26 Nov").
_SHORT_DAYS = "ma|di|wo|do|vr|za|zo|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun"
# Days relative to the day the reply was sent, in days from it.
RELATIVE = {
    "vandaag": 0, "today": 0, "vanmiddag": 0, "vanochtend": 0, "vanmorgen": 0,
    "vanavond": 0, "vannacht": 0, "tonight": 0, "morgen": 1, "tomorrow": 1,
    "overmorgen": 2, "gisteren": -1, "yesterday": -1,
}  # fmt: skip

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(WEEKDAYS)
_DAYNUM = r"(?P<day>\d{1,2})(?:st|nd|rd|th|ste|de|e)?"
_YEAR = r"(?:,?\s+(?P<year>\d{4}|'\d{2}))?"
_LEAD = rf"(?:(?P<weekday>{_WEEKDAY}|{_SHORT_DAYS})\.?,?\s+)?"
_TIME_A = r"(?P<h1>\d{1,2})(?:[:.](?P<m1>\d{2}))?"
_TIME_B = r"(?P<h2>\d{1,2})(?:[:.](?P<m2>\d{2}))?"
_HOUR_WORD = r"(?:\s*(?:uur|u\b|h\b|hrs\b|o'clock))"

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "window",
        re.compile(
            rf"(?P<prefix>(?:tussen|between|van|from)\s+)?{_TIME_A}(?P<unit1>{_HOUR_WORD})?\s*"
            rf"(?:-|–|tot|en|and|to|till|until)\s*{_TIME_B}(?P<unit2>{_HOUR_WORD})?",
            re.IGNORECASE,
        ),
    ),
    ("iso", re.compile(r"(?<![\d-])(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?!\d)")),
    (
        "long",
        re.compile(
            rf"{_LEAD}(?:the\s+)?{_DAYNUM}\s+(?:of\s+)?(?P<month_name>{_MONTH})\b{_YEAR}",
            re.IGNORECASE,
        ),
    ),
    (
        "long",
        re.compile(
            rf"{_LEAD}(?P<month_name>{_MONTH})\.?\s+{_DAYNUM}\b{_YEAR}",
            re.IGNORECASE,
        ),
    ),
    (
        "numeric",
        re.compile(
            rf"{_LEAD}(?<![\d/.,-])(?P<day>\d{{1,2}})(?P<sep>[-/.])(?P<month>\d{{1,2}})"
            r"(?:(?P=sep)(?P<year>\d{4}|\d{2}))?(?![\d/-]|[.,]\d)",
            re.IGNORECASE,
        ),
    ),
    (
        "time",
        re.compile(
            r"(?:(?:om|at|rond|around|vanaf|na|after|voor|before)\s+)?"
            # Not a price ("€ 12.50") or a measure ("11.50 kW").
            rf"(?<!€)(?<!€\s)(?P<h1>\d{{1,2}})[:.](?P<m1>\d{{2}})(?!\d|\s*(?:kw|%|m\b|euro))"
            rf"{_HOUR_WORD}?"
            rf"|(?:om|at|rond|around)\s+(?P<h2>\d{{1,2}}){_HOUR_WORD}",
            re.IGNORECASE,
        ),
    ),
    (
        "weekday",
        re.compile(rf"\b(?P<weekday>{_WEEKDAY})(?P<tail>\w*)", re.IGNORECASE),
    ),
    (
        "relative",
        re.compile(
            r"(?<!'s )(?<!’s )\b(?P<word>overmorgen|morgen|vandaag|gisteren|vanmiddag|vanochtend"
            r"|vanmorgen|vanavond|vannacht|today|tomorrow|tonight|yesterday)(?P<tail>\w*)",
            re.IGNORECASE,
        ),
    ),
    (
        "vague",
        re.compile(
            r"\b(?:volgende|komende|deze|vorige|afgelopen|next|this|last|coming)\s+"
            r"(?:week|weekend|maand|month)\b"
            rf"|\b(?:in|begin|eind|half|early|late|end of)\s+(?:{_MONTH})\b",
            re.IGNORECASE,
        ),
    ),
)


@dataclass(frozen=True)
class Moment:
    """One date or time in a text: where it is, what kind, and what it says.

    ``day``: the calendar day it names, if one can be told (None for a weekday
    alone, a relative day, a time, or a date that is no real day). ``offset``:
    days from the sending day for "morgen" and the like. ``weekday`` 0–6 when a
    weekday is named. ``start``/``end`` ``"HH:MM"`` for a window; ``time`` for
    a single time. ``year_given``: the text named the year.
    """

    kind: str
    start_at: int
    end_at: int
    day: date | None = None
    month: int | None = None
    day_of_month: int | None = None
    year_given: bool = False
    weekday: int | None = None
    offset: int | None = None
    start: str | None = None
    end: str | None = None
    time: str | None = None
    exact: bool = True  # False: a compound ("donderdagochtend") or a vague phrase


def _clock(hours: str | None, minutes: str | None) -> str | None:
    if hours is None:
        return None
    value = int(hours)
    mins = int(minutes) if minutes else 0
    if value > 24 or mins > 59:
        return None
    return f"{value:02d}:{mins:02d}"


def _weekday(name: str | None) -> int | None:
    if not name:
        return None
    lowered = name.lower().rstrip(".")
    if lowered in WEEKDAYS:
        return WEEKDAYS[lowered]
    short = {"ma": 0, "di": 1, "wo": 2, "do": 3, "vr": 4, "za": 5, "zo": 6, "mon": 0,
             "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4,
             "sat": 5, "sun": 6}  # fmt: skip
    return short.get(lowered)


def _calendar_moment(kind: str, match: re.Match[str], year_hint: int) -> Moment | None:
    groups = match.groupdict()
    month = MONTHS[groups["month_name"].lower()] if groups.get("month_name") else None
    if month is None:
        month = int(groups["month"])
    day_of_month = int(groups["day"])
    raw_year = groups.get("year")
    year = year_hint
    if raw_year:
        digits = raw_year.lstrip("'")
        year = int(digits) + (2000 if len(digits) == 2 else 0)
    if kind == "numeric" and groups.get("sep") == "." and not raw_year:
        # "8.30" is a time, not the 8th of March; the time pattern reads it.
        return None
    try:
        day = date(year, month, day_of_month)
    except ValueError:
        day = None
    return Moment(
        kind="date",
        start_at=match.start(),
        end_at=match.end(),
        day=day,
        month=month,
        day_of_month=day_of_month,
        year_given=bool(raw_year),
        weekday=_weekday(groups.get("weekday")),
    )


def _moment(kind: str, match: re.Match[str], year_hint: int) -> Moment | None:
    groups = match.groupdict()
    if kind in ("iso", "long", "numeric"):
        return _calendar_moment(kind, match, year_hint)
    if kind == "window":
        start, end = _clock(groups["h1"], groups["m1"]), _clock(groups["h2"], groups["m2"])
        clock_like = groups["m1"] or groups["m2"] or groups["unit1"] or groups["unit2"]
        if not clock_like or start is None or end is None:
            return None  # "2 en 3 fasen": numbers, not hours
        return Moment("window", match.start(), match.end(), start=start, end=end)
    if kind == "time":
        when = _clock(groups["h1"], groups["m1"]) or _clock(groups["h2"], None)
        return Moment("time", match.start(), match.end(), time=when)
    if kind == "weekday":
        return Moment(
            "weekday",
            match.start(),
            match.end(),
            weekday=_weekday(groups["weekday"]),
            exact=not groups["tail"],
        )
    if kind == "relative":
        return Moment(
            "relative",
            match.start(),
            match.end(),
            offset=RELATIVE[groups["word"].lower()],
            exact=not groups["tail"],
        )
    return Moment("vague", match.start(), match.end(), exact=False)


def find_moments(text: str, year_hint: int) -> list[Moment]:
    """Every date, day and time in ``text``, in order, none overlapping.

    Patterns are tried in order (windows before single times, long dates before
    weekdays), and a later match overlapping an earlier one is left out, so
    "donderdag 26 november" is one date, not a weekday and a date. ``year_hint``
    is the year a date without one is taken to be in.
    """
    found: list[Moment] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in PATTERNS:
        for match in pattern.finditer(text):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            moment = _moment(kind, match, year_hint)
            if moment is None:
                continue
            found.append(moment)
            taken.append((match.start(), match.end()))
    return sorted(found, key=lambda moment: moment.start_at)


_PLACEHOLDER = re.compile(r"\{\{\s*[a-z_][a-z0-9_]*\s*\}\}")


def has_moment(text: str) -> bool:
    """Whether ``text`` (placeholders aside) still names a date, day or time."""
    return bool(find_moments(_PLACEHOLDER.sub(" ", text), 2000))
