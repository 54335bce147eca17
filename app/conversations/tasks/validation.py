"""Checking task input from the form and the API before anything is saved."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Any, Mapping, NamedTuple

import sqlalchemy as sa
from flask_babel import gettext as _

from app.conversations.inbox.access import can_access_thread
from app.conversations.tasks.reminders import AMSTERDAM, LEGACY_MINUTES_KEY, _as_utc_moment
from app.platform.extensions import db
from app.platform.models import CommunicationThread, InternalTask, Order, Team, User
from app.platform.models.enums import Priority, TaskStatus, TaskType
from app.platform.typed_dates import DateRefused, check_day, parse_day, parse_moment

TIME_PATTERN = re.compile(r"^(\d{1,2}):(\d{2})$")
MAX_MINUTES_BEFORE = 7 * 24 * 60
EDITABLE_FIELDS = (
    "task_title",
    "task_description",
    "task_type",
    "priority",
    "status",
    "assigned_to_user_id",
    "assigned_team_id",
    "thread_id",
    "order_id",
    "due_date",
    "due_time",
    "completion_notes",
    "reminder_settings",
)


class TaskValidationError(ValueError):
    """Input that cannot be saved; ``fields`` maps each field to what is wrong."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {problem}" for name, problem in fields.items()))
        self.fields = fields


def _text(value: Any, *, required: bool = False, max_length: int | None = None) -> str | None:
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise ValueError(_("must be text"))
    if not text:
        if required:
            raise ValueError(_("is required"))
        return None
    if max_length is not None and len(text) > max_length:
        raise ValueError(_("must be at most %(count)s characters", count=max_length))
    return text


def _choice(enum_cls, value: Any):
    try:
        return enum_cls(value)
    except ValueError as exc:
        known = ", ".join(enum_cls.values())
        raise ValueError(_("must be one of %(values)s", values=known)) from exc


def _uuid(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise ValueError(_("is not a valid id")) from exc


def _due_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    try:
        return check_day(value) if isinstance(value, date) else parse_day(str(value))
    except DateRefused as exc:
        if exc.out_of_range:
            raise
        raise ValueError(_("must be a date as YYYY-MM-DD")) from exc


def _due_time(value: Any) -> str | None:
    if value in (None, ""):
        return None
    match = TIME_PATTERN.match(str(value).strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(_("must be a time as HH:MM, from 00:00 to 23:59"))
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _reminder_settings(value: Any) -> dict[str, Any]:
    if value in (None, ""):
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(_('must be an object such as {"minutes_before": 30}'))
    minutes = value.get("minutes_before", value.get(LEGACY_MINUTES_KEY))
    remind_at = value.get("remind_at")
    if minutes not in (None, "") and remind_at not in (None, ""):
        raise ValueError(_("choose minutes before the due time or a reminder time, not both"))
    if remind_at not in (None, ""):
        try:
            if isinstance(remind_at, datetime):  # the form's field, read already
                check_day(remind_at.date())
                moment = _as_utc_moment(remind_at)
            else:
                moment = parse_moment(str(remind_at), AMSTERDAM)
        except DateRefused as exc:
            if exc.out_of_range:
                raise
            raise ValueError(
                _("remind_at must be a date and time such as 2026-11-21T09:00")
            ) from exc
        return {"remind_at": moment.isoformat()}
    if minutes not in (None, ""):
        if isinstance(minutes, bool) or not str(minutes).strip().isdigit():
            raise ValueError(_("minutes_before must be a whole number of minutes"))
        if int(minutes) > MAX_MINUTES_BEFORE:
            raise ValueError(
                _("minutes_before must be at most %(count)s (a week)", count=MAX_MINUTES_BEFORE)
            )
        return {"minutes_before": int(minutes)}
    return {}


def _assignee(value: Any, current: uuid.UUID | None) -> uuid.UUID | None:
    user_id = _uuid(value)
    if user_id is None or user_id == current:
        return user_id
    user = db.session.get(User, user_id)
    if user is None or not user.is_active_account:
        raise ValueError(_("no active user has this id"))
    return user_id


def _team(value: Any) -> uuid.UUID | None:
    team_id = _uuid(value)
    if team_id is not None and db.session.get(Team, team_id) is None:
        raise ValueError(_("no team has this id"))
    return team_id


def _thread(value: Any, viewer: User, current: uuid.UUID | None) -> uuid.UUID | None:
    thread_id = _uuid(value)
    if thread_id is None or thread_id == current:
        return thread_id
    thread = db.session.get(CommunicationThread, thread_id)
    # The same answer for "no such thread" and "not yours", so ids cannot be probed.
    if thread is None or not can_access_thread(viewer, thread):
        raise ValueError(_("no conversation you can open has this id"))
    return thread_id


def find_order(value: str) -> Order | None:
    """An order by id or by order number (``CC-2026-00001``)."""
    text = value.strip()
    try:
        order = db.session.get(Order, uuid.UUID(text))
    except ValueError:
        order = db.session.scalar(sa.select(Order).where(Order.order_number == text.upper()))
    # A partner's sandbox order is no work of ours: as if it did not exist.
    return None if order is None or order.is_test else order


def _order(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    order = find_order(str(value))
    if order is None:
        raise ValueError(_("no order has this number"))
    return order.id


def clean_task_input(
    raw: Mapping[str, Any], viewer: User, task: InternalTask | None = None
) -> dict[str, Any]:
    """Check the editable fields present in ``raw``; a new task needs a title.

    Returns the values to apply; raises :class:`TaskValidationError` naming every
    field that is wrong, including combinations (a reminder before an unset time).
    """
    parsers = {
        "task_title": lambda v: _text(v, required=True, max_length=255),
        "task_description": lambda v: _text(v, max_length=20000),
        "task_type": lambda v: _choice(TaskType, v),
        "priority": lambda v: _choice(Priority, v),
        "status": lambda v: _choice(TaskStatus, v),
        "assigned_to_user_id": lambda v: _assignee(v, task and task.assigned_to_user_id),
        "assigned_team_id": _team,
        "thread_id": lambda v: _thread(v, viewer, task and task.thread_id),
        "order_id": _order,
        "due_date": _due_date,
        "due_time": _due_time,
        "completion_notes": lambda v: _text(v, max_length=20000),
        "reminder_settings": _reminder_settings,
    }
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if task is None and "task_title" not in raw:
        errors["task_title"] = "is required"
    for name, parse in parsers.items():
        if name not in raw:
            continue
        try:
            cleaned[name] = parse(raw[name])
        except ValueError as exc:
            errors[name] = str(exc)
    settings = cleaned.get("reminder_settings")
    if settings and "minutes_before" in settings and "reminder_settings" not in errors:
        due_date = cleaned.get("due_date", task.due_date if task else None)
        due_time = cleaned.get("due_time", task.due_time if task else None)
        if due_date is None or due_time is None:
            errors["reminder_settings"] = "a reminder before the due time needs a due date and time"
    if errors:
        raise TaskValidationError(errors)
    return cleaned


class TaskListQuery(NamedTuple):
    """What the task list is asked for (``GET /api/tasks``)."""

    status: TaskStatus | None
    thread_id: uuid.UUID | None
    assigned_to_me: bool
    overdue: bool
    cursor: str | None
    limit: int


def parse_task_list_args(args: Mapping[str, str]) -> TaskListQuery:
    """The list's query string; :class:`TaskValidationError` names every wrong argument
    (English, as the JSON API answers)."""
    errors: dict[str, str] = {}
    status = thread_id = None
    if args.get("status"):
        try:
            status = TaskStatus(args["status"])
        except ValueError:
            errors["status"] = f"must be one of {', '.join(TaskStatus.values())}"
    if args.get("thread_id"):
        try:
            thread_id = uuid.UUID(args["thread_id"])
        except ValueError:
            errors["thread_id"] = "is not a valid id"
    if args.get("assigned") not in (None, "", "me"):
        errors["assigned"] = "only 'me' is supported"
    try:
        limit = min(max(int(args.get("limit", 50)), 1), 200)
    except ValueError:
        errors["limit"] = "must be a whole number from 1 to 200"
    if errors:
        raise TaskValidationError(errors)
    return TaskListQuery(
        status=status,
        thread_id=thread_id,
        assigned_to_me=args.get("assigned") == "me",
        overdue=args.get("overdue") in ("1", "true"),
        cursor=args.get("cursor") or None,
        limit=limit,
    )
