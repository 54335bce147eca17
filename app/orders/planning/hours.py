"""When technicians work: their weekly hours, their days off, and public holidays.

A technician without a schedule of their own works Mon–Fri 08:00–17:00
(``DEFAULT_WORKING_HOURS``). Public holidays come from the business calendar
(:mod:`app.conversations.business_time.calendar`: the default calendar's country and closed
dates), the same ones the desk's service levels skip.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time

import sqlalchemy as sa
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app.conversations.business_time.calendar import calendar_for, is_holiday, schedule_of
from app.platform.extensions import db
from app.platform.models import TechnicianAbsence, TechnicianSchedule, User
from app.platform.models.enums import Role
from app.platform.models.planning import DEFAULT_WORKING_HOURS, WEEKDAY_KEYS
from app.platform.typed_dates import DateRefused, parse_day

WEEKDAY_LABELS = {
    "mon": _l("Monday"),
    "tue": _l("Tuesday"),
    "wed": _l("Wednesday"),
    "thu": _l("Thursday"),
    "fri": _l("Friday"),
    "sat": _l("Saturday"),
    "sun": _l("Sunday"),
}


@dataclass(frozen=True)
class WorkingDay:
    """One technician's day: their hours (None: not a working day) and why not."""

    hours: tuple[time, time] | None
    absence: str | None = None
    holiday: bool = False

    @property
    def minutes(self) -> int:
        if self.hours is None or self.absence or self.holiday:
            return 0
        start, end = self.hours
        return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)

    @property
    def is_off(self) -> bool:
        return self.minutes == 0


def plannable_technicians() -> list[User]:
    """Who can be sent on a visit: active technicians, and anyone given working hours
    (a team lead who still installs), by name."""
    with_schedule = sa.select(TechnicianSchedule.user_id)
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.is_active_account.is_(True),
                sa.or_(User.role == Role.TECHNICIAN, User.id.in_(with_schedule)),
            )
            .order_by(User.name)
        )
    )


def weekly_hours(user_id: uuid.UUID) -> dict[str, list[str] | None]:
    """The technician's hours per weekday key ("mon" → ["08:00", "17:00"] or None)."""
    stored = db.session.scalar(
        sa.select(TechnicianSchedule.weekly_hours).where(TechnicianSchedule.user_id == user_id)
    )
    return {**DEFAULT_WORKING_HOURS, **(stored or {})}


def weekly_hours_of(user_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, list[str] | None]]:
    """:func:`weekly_hours` of several technicians, read at once."""
    if not user_ids:
        return {}
    stored = dict(
        db.session.execute(
            sa.select(TechnicianSchedule.user_id, TechnicianSchedule.weekly_hours).where(
                TechnicianSchedule.user_id.in_(user_ids)
            )
        ).all()
    )
    return {
        user_id: {**DEFAULT_WORKING_HOURS, **(stored.get(user_id) or {})} for user_id in user_ids
    }


def find_user(user_id: uuid.UUID) -> User | None:
    return db.session.get(User, user_id)


def absences_from(user_id: uuid.UUID, first: date) -> list[TechnicianAbsence]:
    """The technician's absences lasting until ``first`` or later, earliest first."""
    return list(
        db.session.scalars(
            sa.select(TechnicianAbsence)
            .where(TechnicianAbsence.user_id == user_id, TechnicianAbsence.ends_on >= first)
            .order_by(TechnicianAbsence.starts_on)
        )
    )


def set_weekly_hours(user: User, hours: dict[str, list[str] | None]) -> TechnicianSchedule:
    """Give the technician these weekly hours, their schedule made if they have none (no commit)."""
    schedule = db.session.scalar(
        sa.select(TechnicianSchedule).where(TechnicianSchedule.user_id == user.id)
    ) or TechnicianSchedule(user_id=user.id)
    schedule.weekly_hours = hours
    db.session.add(schedule)
    return schedule


def record_absence(user: User, starts: date, ends: date, reason: str) -> TechnicianAbsence:
    """A day (or days) off for the technician (no commit)."""
    absence = TechnicianAbsence(user_id=user.id, starts_on=starts, ends_on=ends, reason=reason)
    db.session.add(absence)
    return absence


def find_absence(absence_id: uuid.UUID) -> TechnicianAbsence | None:
    return db.session.get(TechnicianAbsence, absence_id)


def remove_absence(absence: TechnicianAbsence) -> None:
    """Take the day off away again (no commit)."""
    db.session.delete(absence)


def _clock(value: str) -> time:
    hours, _, minutes = value.partition(":")
    return time(int(hours), int(minutes))


def hours_on(schedule: dict[str, list[str] | None], day: date) -> tuple[time, time] | None:
    period = schedule.get(WEEKDAY_KEYS[day.weekday()])
    if not period:
        return None
    return _clock(period[0]), _clock(period[1])


def public_holiday(day: date) -> bool:
    """Whether the business calendar is closed for a public holiday (or closed date)."""
    return is_holiday(schedule_of(calendar_for(None)), day)


def public_holidays(days: Iterable[date]) -> set[date]:
    """Which of ``days`` are public holidays (or closed dates), the calendar read once."""
    schedule = schedule_of(calendar_for(None))
    return {day for day in days if is_holiday(schedule, day)}


def absences(user_ids: list[uuid.UUID], first: date, last: date) -> list[TechnicianAbsence]:
    """Absences of these technicians that touch the days ``first``..``last``."""
    if not user_ids:
        return []
    return list(
        db.session.scalars(
            sa.select(TechnicianAbsence)
            .where(
                TechnicianAbsence.user_id.in_(user_ids),
                TechnicianAbsence.starts_on <= last,
                TechnicianAbsence.ends_on >= first,
            )
            .order_by(TechnicianAbsence.starts_on)
        )
    )


def working_day(user_id: uuid.UUID, day: date) -> WorkingDay:
    """The technician's hours on ``day``, their absence that day, and the holiday."""
    off = absences([user_id], day, day)
    return WorkingDay(
        hours=hours_on(weekly_hours(user_id), day),
        absence=off[0].reason if off else None,
        holiday=public_holiday(day),
    )


def parse_weekly_hours(form: dict) -> tuple[dict[str, list[str] | None], dict[str, str]]:
    """Weekly hours from a form (``<day>_start``/``<day>_end``, empty: not working)."""
    hours: dict[str, list[str] | None] = {}
    errors: dict[str, str] = {}
    for key in WEEKDAY_KEYS:
        start = (form.get(f"{key}_start") or "").strip()
        end = (form.get(f"{key}_end") or "").strip()
        if not start and not end:
            hours[key] = None
            continue
        try:
            begins, ends = _clock(start), _clock(end)
        except ValueError:
            errors[key] = str(_l("%(day)s: give a start and an end as HH:MM", day=_day_name(key)))
            continue
        if ends <= begins:
            errors[key] = str(_l("%(day)s: the end must be after the start", day=_day_name(key)))
            continue
        hours[key] = [f"{begins:%H:%M}", f"{ends:%H:%M}"]
    return hours, errors


def _day_name(key: str) -> str:
    # Dutch writes weekdays in lower case; at the start of a message it takes a capital.
    return str(WEEKDAY_LABELS[key]).capitalize()


MAX_ABSENCE_REASON = 200


def parse_absence(form) -> tuple[tuple[date | None, date | None, str], dict[str, str]]:
    """A day off from a form (``starts_on``, ``ends_on``, ``reason``) and what is wrong
    with it, field -> message; with no errors the three values are there."""
    errors: dict[str, str] = {}
    starts = _typed_day(form, "starts_on", gettext("From"), errors)
    ends = _typed_day(form, "ends_on", gettext("Until"), errors)
    reason = (form.get("reason") or "").strip()
    if starts is None and "starts_on" not in errors:
        errors["starts_on"] = gettext("From: choose a day")
    if ends is None and "ends_on" not in errors:
        errors["ends_on"] = gettext("Until: choose a day")
    elif starts is not None and ends is not None and ends < starts:
        errors["ends_on"] = gettext("Until: on or after the first day")
    if not reason or len(reason) > MAX_ABSENCE_REASON:
        errors["reason"] = gettext("Reason: between 1 and 200 characters")
    return (starts, ends, reason), errors


def _typed_day(form, name: str, label: str, errors: dict[str, str]) -> date | None:
    """The form's day ``name``; a day out of range is named in ``errors`` (a day that is
    not one, or none, is None: the caller says to choose one)."""
    try:
        return parse_day(form.get(name))
    except DateRefused as exc:
        if exc.out_of_range:
            errors[name] = f"{label}: {exc}"
        return None
