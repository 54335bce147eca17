"""Dates, dates with a time, and ISO weeks that people and partners type, read in one place.

Every form field, query argument and filter that takes a typed day, moment or
week is read here, so each is held to the same bounds. Python's own dates run
from year 1 to 9999, but a day near either end cannot be moved to another zone
or by a day without ``OverflowError`` (a 500). Nothing Switchboard keeps lies
before 2000, and nothing is planned, due or kept past 2100 (the analytics
filter held these bounds already), so a typed value outside those years is a
slip or a probe: it is refused with a message for the field, in the reader's
language.

The parsers raise :class:`DateRefused` (a ``ValueError``) whose text is that
message; an empty value is None, as a field left blank.

Not read here: the dates in the partner API's JSON bodies (an order's
``preferred_date``, a status update's ``timestamp``), which their schemas read
and the published API description states; they are kept as sent and never
moved, so they cannot overflow, and a bound the description cannot state would
refuse what it allows.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone, tzinfo

from flask_babel import gettext as _

FIRST_YEAR = 2000
LAST_YEAR = 2100
_WEEK = re.compile(r"(\d{4})-W(\d{2})")


class DateRefused(ValueError):
    """The typed value is not a date, moment or week we take; ``str()`` says why.

    ``reason`` is "unreadable", "no_zone" (a moment that had to carry its zone),
    "too_early" or "too_late": a caller with a message of its own for an unreadable
    value keeps it, and a filter may read "before 2000" as "from the start".
    """

    def __init__(self, message: str, reason: str = "unreadable"):
        super().__init__(message)
        self.reason = reason

    @property
    def out_of_range(self) -> bool:
        """A date, but outside the years we take."""
        return self.reason in ("too_early", "too_late")


def parse_day(text: str | None) -> date | None:
    """``2026-11-24`` (an ``<input type=date>``) as a date; None when blank."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise DateRefused(_("Enter a date as YYYY-MM-DD.")) from None
    return check_day(day)


def parse_moment(text: str | None, zone: tzinfo | None) -> datetime | None:
    """An ISO 8601 date and time as an aware UTC datetime; None when blank.

    A time without a zone (an ``<input type=datetime-local>``) is read in ``zone``,
    or refused when ``zone`` is None (an API that asks for the offset); a trailing
    ``Z`` is UTC. The year is checked before the zone is applied, which is where a
    moment at either end of the calendar overflows.
    """
    text = (text or "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise DateRefused(_("Enter a date and time such as 2026-11-24T09:30.")) from None
    check_day(moment.date())
    if moment.tzinfo is None:
        if zone is None:
            raise DateRefused(
                _("Enter a date and time with its time zone, such as 2026-11-24T09:30+01:00."),
                "no_zone",
            )
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(timezone.utc)


def parse_week(text: str | None) -> date | None:
    """The Monday of ISO week ``2026-W48`` (an ``<input type=week>``); None when blank."""
    text = (text or "").strip()
    if not text:
        return None
    match = _WEEK.fullmatch(text)
    try:
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1) if match else None
    except ValueError:  # a week 53 in a year of 52, or week 00
        monday = None
    if monday is None:
        raise DateRefused(_("Enter a week such as 2026-W48."))
    return check_day(monday)


def check_day(day: date) -> date:
    """``day`` if its year is within the bounds, else :class:`DateRefused`.

    For a day another parser read (a form library's date field).
    """
    if day.year < FIRST_YEAR or day.year > LAST_YEAR:
        raise DateRefused(
            _("Enter a date between %(first)s and %(last)s.", first=FIRST_YEAR, last=LAST_YEAR),
            "too_early" if day.year < FIRST_YEAR else "too_late",
        )
    return day


def cursor_moment(stamp: object) -> datetime:
    """The time in a paging cursor this server handed out; ValueError for any other.

    A cursor comes back from outside, so an edited one is read as typed input: a
    time without a zone is UTC (as every cursor's is), and the years are bounded.
    """
    moment = parse_moment(stamp, timezone.utc) if isinstance(stamp, str) else None
    if moment is None:
        raise DateRefused(_("Enter a date and time such as 2026-11-24T09:30."))
    return moment
