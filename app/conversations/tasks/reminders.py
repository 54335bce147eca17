"""When tasks are due and when their reminders fire.

Due dates and times are Amsterdam wall-clock values (``due_date`` plus an
``HH:MM`` ``due_time``); a task with a date and no time is due at the end of that
day. Everything stored as a moment (``next_reminder_at``) is UTC.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.platform.database import utcnow
from app.platform.models import InternalTask
from app.platform.models.enums import TaskStatus

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
CLOSED_STATUSES = (TaskStatus.COMPLETED, TaskStatus.CANCELLED)
# Older rows (the demo data) spell "minutes before" this way.
LEGACY_MINUTES_KEY = "remind_before_minutes"
# Keys the reminder job writes into reminder_settings; kept when a person edits the rest.
REMINDER_BOOKKEEPING = ("reminder_sent_at", "reminder_sent_for", "reminder_sent_to")


def due_moment(task: InternalTask) -> datetime | None:
    """When ``task`` is due, in UTC; a date without a time means the end of that day."""
    if task.due_date is None:
        return None
    if task.due_time:
        hour, minute = (int(part) for part in task.due_time.split(":"))
        local = datetime.combine(task.due_date, time(hour, minute), AMSTERDAM)
    else:
        local = datetime.combine(task.due_date + timedelta(days=1), time(0, 0), AMSTERDAM)
    return local.astimezone(timezone.utc)


def is_overdue(task: InternalTask, now: datetime | None = None) -> bool:
    due = due_moment(task)
    return due is not None and task.status not in CLOSED_STATUSES and due <= (now or utcnow())


def overdue_clause(now: datetime) -> sa.ColumnElement[bool]:
    """SQL twin of :func:`is_overdue`; ``HH:MM`` strings sort like the times they name."""
    local = now.astimezone(AMSTERDAM)
    today, clock = local.date(), local.strftime("%H:%M")
    return sa.and_(
        InternalTask.status.not_in(CLOSED_STATUSES),
        InternalTask.due_date.is_not(None),
        sa.or_(
            InternalTask.due_date < today,
            sa.and_(
                InternalTask.due_date == today,
                InternalTask.due_time.is_not(None),
                InternalTask.due_time <= clock,
            ),
        ),
    )


def _as_utc_moment(value: datetime | str) -> datetime:
    """A moment from a datetime or ISO string; without an offset it is Amsterdam time."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=AMSTERDAM)
    return moment.astimezone(timezone.utc)


def reminder_moment(task: InternalTask) -> datetime | None:
    """When the reminder configured in ``reminder_settings`` is due (UTC), if any."""
    settings = task.reminder_settings or {}
    if settings.get("remind_at"):
        return _as_utc_moment(settings["remind_at"])
    minutes = settings.get("minutes_before", settings.get(LEGACY_MINUTES_KEY))
    if minutes is None or task.due_date is None or not task.due_time:
        return None
    return due_moment(task) - timedelta(minutes=int(minutes))


def reminder_sent_at(task: InternalTask) -> datetime | None:
    """When the last reminder for ``task`` went out, if one did."""
    sent = (task.reminder_settings or {}).get("reminder_sent_at")
    return datetime.fromisoformat(sent) if sent else None


def schedule_reminder(task: InternalTask) -> None:
    """Set ``next_reminder_at``: the configured moment, unless closed or already sent."""
    moment = None if task.status in CLOSED_STATUSES else reminder_moment(task)
    sent_for = (task.reminder_settings or {}).get("reminder_sent_for")
    if moment is not None and sent_for == moment.isoformat():
        moment = None
    task.next_reminder_at = moment


def describe_due(task: InternalTask) -> str | None:
    """``21-11-2026 09:00`` (Amsterdam) or ``21-11-2026`` for a date-only task.

    Digits only: the text is stored in a notification and read later in the
    reader's language, where a month's English name ("Nov") would stay English.
    """
    if task.due_date is None:
        return None
    text = task.due_date.strftime("%d-%m-%Y")
    return f"{text} {task.due_time}" if task.due_time else text
