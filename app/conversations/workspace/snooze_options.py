"""When a snooze ends: the choices offered in the header and the bulk bar.

- ``tomorrow_morning``: tomorrow at the opening time of the thread's business
  calendar for that weekday (08:00 when the calendar has no hours that day);
- ``next_working_day``: the first opening of the next day the desk is open,
  skipping weekends, public holidays and the calendar's closed dates;
- ``until_reply``: no time; the customer's next message wakes it;
- ``custom``: a local date and time the person picked (the calendar's zone).

Times are computed in the calendar's own zone and returned in UTC.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.conversations.business_time.calendar import Schedule, next_opening
from app.conversations.business_time.clock import schedule_for
from app.conversations.core import CannotSnooze, snooze
from app.conversations.workspace.services import InvalidInput
from app.platform.database import utcnow
from app.platform.models import CommunicationThread, User
from app.platform.models.enums import ThreadStatus
from app.platform.typed_dates import DateRefused, parse_moment

CHOICES = {
    "tomorrow_morning": _l("Tomorrow morning"),
    "next_working_day": _l("Next working day"),
    "until_reply": _l("Until the customer replies"),
    "custom": _l("Until a date and time"),
}
CLOSED_STATUSES = (ThreadStatus.RESOLVED, ThreadStatus.CLOSED)
MORNING_FALLBACK = time(8, 0)
# Farther than this is a typo, or a conversation to close instead.
LONGEST_SNOOZE = timedelta(days=366)


def wake_time(
    thread: CommunicationThread, choice: str | None, custom: str | None, now: datetime
) -> datetime | None:
    """The UTC moment ``choice`` means for ``thread`` (None: until the customer replies).

    Raises :class:`InvalidInput` naming ``snooze`` or ``snooze_until``.
    """
    if choice not in CHOICES:
        raise InvalidInput({"snooze": _("choose one of %(choices)s", choices=", ".join(CHOICES))})
    if choice == "until_reply":
        return None
    schedule = schedule_for(thread)
    if choice == "tomorrow_morning":
        return tomorrow_morning(schedule, now)
    if choice == "next_working_day":
        return next_working_day(schedule, now)
    until = parse_local(schedule, custom)
    if until <= now:
        raise InvalidInput({"snooze_until": _("must be in the future")})
    if until > now + LONGEST_SNOOZE:
        raise InvalidInput({"snooze_until": _("must be within a year")})
    return until


def tomorrow_morning(schedule: Schedule, now: datetime) -> datetime:
    """Tomorrow (the calendar's local day) at its first opening time, else 08:00."""
    zone = ZoneInfo(schedule.zone)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    periods = schedule.weekly[tomorrow.weekday()]
    opening = periods[0][0] if periods else MORNING_FALLBACK
    return datetime.combine(tomorrow, opening, tzinfo=zone).astimezone(timezone.utc)


def next_working_day(schedule: Schedule, now: datetime) -> datetime:
    """The first opening on a later local day than today's on which the desk opens."""
    zone = ZoneInfo(schedule.zone)
    tomorrow: date = now.astimezone(zone).date() + timedelta(days=1)
    midnight = datetime.combine(tomorrow, time(0), tzinfo=zone).astimezone(timezone.utc)
    return next_opening(schedule, midnight)


def parse_local(schedule: Schedule, raw: str | None) -> datetime:
    """``2026-11-23T09:30`` (an ``<input type=datetime-local>``) in the calendar's zone."""
    try:
        parsed = parse_moment(raw, ZoneInfo(schedule.zone))
    except DateRefused as exc:
        message = str(exc) if exc.out_of_range else _("give a date and time")
        raise InvalidInput({"snooze_until": message}) from exc
    if parsed is None:
        raise InvalidInput({"snooze_until": _("give a date and time")})
    return parsed


def snooze_thread(
    thread: CommunicationThread,
    actor: User,
    choice: str | None,
    custom: str | None = None,
    now: datetime | None = None,
):
    """Snooze ``thread`` as ``choice`` says; :class:`InvalidInput` naming the field if not."""
    now = now or utcnow()
    if thread.status in CLOSED_STATUSES:
        raise InvalidInput({"snooze": _("a resolved or closed conversation cannot be snoozed")})
    until = wake_time(thread, choice, custom, now)
    try:
        return snooze(thread, actor, until=until, at=now)
    except CannotSnooze as exc:  # a guard: the checks above refuse these first
        raise InvalidInput({"snooze": str(exc)}) from exc
