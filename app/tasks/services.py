"""Internal tasks: checking input, saving changes, the board, the list and reminders.

Form and API both hand raw values to :func:`create_task` / :func:`update_task`,
which check them (``TaskValidationError`` names each bad field), apply them, keep
``completed_at``, ``lock_version`` and ``next_reminder_at`` right, and queue a
notification for a new assignee. The caller commits, then calls
:func:`publish_task_outcome` so browsers never hear about uncommitted work.

Due dates and times are Amsterdam wall-clock values (``due_date`` plus an
``HH:MM`` ``due_time``); a task with a date and no time is due at the end of that
day. Everything stored as a moment (``next_reminder_at``) is UTC.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Mapping
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.database import utcnow
from app.extensions import db
from app.inbox.access import can_access_thread
from app.models import CommunicationThread, InternalTask, Notification, Order, Team, User
from app.models.enums import Priority, TaskStatus, TaskType
from app.notifications.services import announce, create_notification
from app.realtime import publish, user_room
from app.tasks.access import can_access_task, visible_tasks_clause

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
CLOSED_STATUSES = (TaskStatus.COMPLETED, TaskStatus.CANCELLED)
BOARD_STATUSES = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS, TaskStatus.WAITING, TaskStatus.COMPLETED)
BOARD_FILTERS = ("all", "mine", "team", "overdue")
# The completed column shows recent work only; older tasks stay in the API.
COMPLETED_SHOWN_FOR = timedelta(days=14)
COLUMN_LIMIT = 100
TIME_PATTERN = re.compile(r"^(\d{1,2}):(\d{2})$")
MAX_MINUTES_BEFORE = 7 * 24 * 60
# Older rows (the demo data) spell "minutes before" this way.
LEGACY_MINUTES_KEY = "remind_before_minutes"
# Keys the reminder job writes into reminder_settings; kept when a person edits the rest.
REMINDER_BOOKKEEPING = ("reminder_sent_at", "reminder_sent_for", "reminder_sent_to")
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


class StaleTaskError(Exception):
    """The task changed since the person loaded it; their change was not applied."""

    def __init__(self, current_version: int) -> None:
        super().__init__(
            "Someone else changed this task while you were editing it. Your changes were "
            "not saved: reload to see the latest version, then apply them again."
        )
        self.current_version = current_version


class TaskNotFound(LookupError):
    pass


class TaskForbidden(PermissionError):
    pass


class InvalidCursor(ValueError):
    pass


@dataclass
class TaskOutcome:
    """A saved task and what to tell people once the transaction commits."""

    task: InternalTask
    notifications: list[Notification] = field(default_factory=list)
    newly_assigned_to: User | None = None


# --- time -------------------------------------------------------------------


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


# --- checking input ----------------------------------------------------------


def _text(value: Any, *, required: bool = False, max_length: int | None = None) -> str | None:
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise ValueError("must be text")
    if not text:
        if required:
            raise ValueError("is required")
        return None
    if max_length is not None and len(text) > max_length:
        raise ValueError(f"must be at most {max_length} characters")
    return text


def _choice(enum_cls, value: Any):
    try:
        return enum_cls(value)
    except ValueError as exc:
        raise ValueError(f"must be one of {', '.join(enum_cls.values())}") from exc


def _uuid(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise ValueError("is not a valid id") from exc


def _due_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError("must be a date as YYYY-MM-DD") from exc


def _due_time(value: Any) -> str | None:
    if value in (None, ""):
        return None
    match = TIME_PATTERN.match(str(value).strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError("must be a time as HH:MM, from 00:00 to 23:59")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _reminder_settings(value: Any) -> dict[str, Any]:
    if value in (None, ""):
        return {}
    if not isinstance(value, Mapping):
        raise ValueError('must be an object such as {"minutes_before": 30}')
    minutes = value.get("minutes_before", value.get(LEGACY_MINUTES_KEY))
    remind_at = value.get("remind_at")
    if minutes not in (None, "") and remind_at not in (None, ""):
        raise ValueError("choose minutes before the due time or a reminder time, not both")
    if remind_at not in (None, ""):
        try:
            return {"remind_at": _as_utc_moment(remind_at).isoformat()}
        except (TypeError, ValueError) as exc:
            raise ValueError("remind_at must be a date and time such as 2026-11-21T09:00") from exc
    if minutes not in (None, ""):
        if isinstance(minutes, bool) or not str(minutes).strip().isdigit():
            raise ValueError("minutes_before must be a whole number of minutes")
        if int(minutes) > MAX_MINUTES_BEFORE:
            raise ValueError(f"minutes_before must be at most {MAX_MINUTES_BEFORE} (a week)")
        return {"minutes_before": int(minutes)}
    return {}


def _assignee(value: Any, current: uuid.UUID | None) -> uuid.UUID | None:
    user_id = _uuid(value)
    if user_id is None or user_id == current:
        return user_id
    user = db.session.get(User, user_id)
    if user is None or not user.is_active_account:
        raise ValueError("no active user has this id")
    return user_id


def _team(value: Any) -> uuid.UUID | None:
    team_id = _uuid(value)
    if team_id is not None and db.session.get(Team, team_id) is None:
        raise ValueError("no team has this id")
    return team_id


def _thread(value: Any, viewer: User, current: uuid.UUID | None) -> uuid.UUID | None:
    thread_id = _uuid(value)
    if thread_id is None or thread_id == current:
        return thread_id
    thread = db.session.get(CommunicationThread, thread_id)
    # The same answer for "no such thread" and "not yours", so ids cannot be probed.
    if thread is None or not can_access_thread(viewer, thread):
        raise ValueError("no conversation you can open has this id")
    return thread_id


def find_order(value: str) -> Order | None:
    """An order by id or by order number (``CC-2026-00001``)."""
    text = value.strip()
    try:
        return db.session.get(Order, uuid.UUID(text))
    except ValueError:
        return db.session.scalar(sa.select(Order).where(Order.order_number == text.upper()))


def _order(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    order = find_order(str(value))
    if order is None:
        raise ValueError("no order has this number")
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


# --- saving -----------------------------------------------------------------


def load_task(viewer: User, task_id: uuid.UUID) -> InternalTask:
    """The task, if it exists and ``viewer`` may see it."""
    task = db.session.get(InternalTask, task_id)
    if task is None:
        raise TaskNotFound(f"no task {task_id}")
    if not can_access_task(viewer, task):
        raise TaskForbidden("this task belongs to someone you cannot see the work of")
    return task


def create_task(actor: User, raw: Mapping[str, Any]) -> TaskOutcome:
    """Create a task from raw values (form or JSON) for ``actor``."""
    values = clean_task_input(raw, actor)
    task = InternalTask(
        task_title=values["task_title"],
        task_type=TaskType.OTHER,
        priority=Priority.NORMAL,
        status=TaskStatus.OPEN,
        reminder_settings={},
        created_by_user_id=actor.id,
        lock_version=1,
    )
    db.session.add(task)
    return _apply(task, values, actor, previous_assignee=None)


def update_task(
    actor: User,
    task: InternalTask,
    raw: Mapping[str, Any],
    *,
    expected_lock_version: int | None = None,
) -> TaskOutcome:
    """Change the fields present in ``raw``; refuse if the task moved past ``expected``.

    The version is bumped with a conditional UPDATE, so of two people saving the
    same version at once, exactly one wins and the other gets
    :class:`StaleTaskError`.
    """
    if expected_lock_version is not None and expected_lock_version != task.lock_version:
        raise StaleTaskError(task.lock_version)
    values = clean_task_input(raw, actor, task)
    expected = task.lock_version
    claimed = db.session.execute(
        sa.update(InternalTask)
        .where(InternalTask.id == task.id, InternalTask.lock_version == expected)
        .values(lock_version=expected + 1)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.refresh(task)
        raise StaleTaskError(task.lock_version)
    task.lock_version = expected + 1
    return _apply(task, values, actor, previous_assignee=task.assigned_to_user_id)


def move_task(
    actor: User,
    task: InternalTask,
    status: TaskStatus | str,
    *,
    completion_notes: str | None = None,
    expected_lock_version: int | None = None,
) -> TaskOutcome:
    """Move a task to another board column, with notes when completing it."""
    raw: dict[str, Any] = {"status": status}
    if completion_notes and completion_notes.strip():
        raw["completion_notes"] = completion_notes
    return update_task(actor, task, raw, expected_lock_version=expected_lock_version)


def _apply(
    task: InternalTask, values: dict[str, Any], actor: User, previous_assignee: uuid.UUID | None
) -> TaskOutcome:
    previous_status = task.status
    for name, value in values.items():
        if name == "reminder_settings":
            old = task.reminder_settings or {}
            value = {**value, **{k: old[k] for k in REMINDER_BOOKKEEPING if k in old}}
        setattr(task, name, value)
    if task.status == TaskStatus.COMPLETED and previous_status != TaskStatus.COMPLETED:
        task.completed_at = utcnow()
    elif task.status != TaskStatus.COMPLETED:
        task.completed_at = None
    schedule_reminder(task)
    db.session.flush()
    outcome = TaskOutcome(task)
    if task.assigned_to_user_id is not None and task.assigned_to_user_id != previous_assignee:
        assignee = db.session.get(User, task.assigned_to_user_id)
        outcome.newly_assigned_to = assignee
        # Assigning work to oneself needs no notice; the live event still updates the board.
        if assignee.id != actor.id:
            outcome.notifications.append(_assignment_notification(task, actor))
    return outcome


def _assignment_notification(task: InternalTask, actor: User) -> Notification:
    due = describe_due(task)
    return create_notification(
        task.assigned_to_user_id,
        "task_assigned",
        f"Task assigned to you: {task.task_title}"[:255],
        f"From {actor.name}." + (f" Due {due}." if due else ""),
        priority=task.priority,
        source_table="internal_task",
        source_record_id=task.id,
        link="/tasks",
    )


def describe_due(task: InternalTask) -> str | None:
    """``21 Nov 2026 09:00`` (Amsterdam) or ``21 Nov 2026`` for a date-only task."""
    if task.due_date is None:
        return None
    text = task.due_date.strftime("%d %b %Y")
    return f"{text} {task.due_time}" if task.due_time else text


def publish_task_outcome(outcome: TaskOutcome) -> None:
    """After commit: push notifications and ``task:assigned`` to the browsers concerned."""
    for notification in outcome.notifications:
        announce(notification)
    assignee = outcome.newly_assigned_to
    if assignee is not None:
        task = outcome.task
        publish(
            "task:assigned",
            {
                "task_id": str(task.id),
                "title": task.task_title,
                "due_date": task.due_date.isoformat() if task.due_date else None,
                "due_time": task.due_time,
                "assigned_to": {"id": str(assignee.id), "name": assignee.name},
            },
            rooms=[user_room(assignee.id)],
        )


# --- reading ----------------------------------------------------------------


def visible_tasks(viewer: User) -> sa.Select:
    query = sa.select(InternalTask)
    clause = visible_tasks_clause(viewer)
    return query if clause is None else query.where(clause)


def _team_clause(viewer: User) -> sa.ColumnElement[bool]:
    if viewer.team_id is None:
        return sa.false()
    members = sa.select(User.id).where(User.team_id == viewer.team_id)
    return sa.or_(
        InternalTask.assigned_team_id == viewer.team_id,
        InternalTask.assigned_to_user_id.in_(members),
    )


@dataclass
class TaskCard:
    task: InternalTask
    order_number: str | None
    due_at: datetime | None
    overdue: bool


@dataclass
class BoardColumn:
    status: TaskStatus
    cards: list[TaskCard]
    has_more: bool


def board_columns(viewer: User, filter_name: str = "all", now: datetime | None = None):
    """The board's four columns for ``viewer``, narrowed by a filter."""
    if filter_name not in BOARD_FILTERS:
        raise ValueError(f"filter: must be one of {', '.join(BOARD_FILTERS)}")
    now = now or utcnow()
    narrowing = {
        "all": sa.true(),
        "mine": InternalTask.assigned_to_user_id == viewer.id,
        "team": _team_clause(viewer),
        "overdue": overdue_clause(now),
    }[filter_name]
    columns = []
    for status in BOARD_STATUSES:
        query = (
            visible_tasks(viewer)
            .add_columns(Order.order_number)
            .outerjoin(Order, Order.id == InternalTask.order_id)
            .options(so.joinedload(InternalTask.assigned_to), so.joinedload(InternalTask.thread))
            .where(InternalTask.status == status, narrowing)
            .limit(COLUMN_LIMIT + 1)
        )
        if status == TaskStatus.COMPLETED:
            query = query.where(InternalTask.completed_at >= now - COMPLETED_SHOWN_FOR).order_by(
                InternalTask.completed_at.desc(), InternalTask.id
            )
        else:
            # Soonest due first; undated work last; then the oldest.
            query = query.order_by(
                InternalTask.due_date.is_(None),
                InternalTask.due_date,
                InternalTask.due_time.is_(None),
                InternalTask.due_time,
                InternalTask.created_at,
                InternalTask.id,
            )
        rows = db.session.execute(query).unique().all()
        cards = [
            TaskCard(task, number, due_moment(task), is_overdue(task, now))
            for task, number in rows[:COLUMN_LIMIT]
        ]
        columns.append(BoardColumn(status, cards, len(rows) > COLUMN_LIMIT))
    return columns


@dataclass
class TaskPage:
    tasks: list[InternalTask]
    next_cursor: str | None


def encode_cursor(task: InternalTask) -> str:
    raw = f"{task.created_at.isoformat()}|{task.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, _, ident = base64.urlsafe_b64decode(padded.encode()).decode().partition("|")
        return datetime.fromisoformat(stamp), uuid.UUID(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor("cursor: not a cursor this server handed out") from exc


def list_tasks(
    viewer: User,
    *,
    status: TaskStatus | None = None,
    assigned_to_me: bool = False,
    overdue: bool = False,
    thread_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: int = 50,
    now: datetime | None = None,
) -> TaskPage:
    """One page of the tasks ``viewer`` may see, newest first (keyset on created_at, id)."""
    query = (
        visible_tasks(viewer)
        .options(so.joinedload(InternalTask.assigned_to))
        .order_by(InternalTask.created_at.desc(), InternalTask.id.desc())
        .limit(limit + 1)
    )
    if status is not None:
        query = query.where(InternalTask.status == status)
    if assigned_to_me:
        query = query.where(InternalTask.assigned_to_user_id == viewer.id)
    if overdue:
        query = query.where(overdue_clause(now or utcnow()))
    if thread_id is not None:
        query = query.where(InternalTask.thread_id == thread_id)
    if cursor:
        stamp, ident = decode_cursor(cursor)
        query = query.where(
            sa.tuple_(InternalTask.created_at, InternalTask.id) < sa.tuple_(stamp, ident)
        )
    rows = list(db.session.scalars(query).unique())
    has_more = len(rows) > limit
    rows = rows[:limit]
    return TaskPage(rows, encode_cursor(rows[-1]) if has_more and rows else None)


def assignable_users(current: uuid.UUID | None = None) -> list[User]:
    """Active staff, by name, plus the current assignee even if since deactivated."""
    condition = User.is_active_account.is_(True)
    if current is not None:
        condition = sa.or_(condition, User.id == current)
    return list(db.session.scalars(sa.select(User).where(condition).order_by(User.name)))


def all_teams() -> list[Team]:
    return list(db.session.scalars(sa.select(Team).order_by(Team.name)))


def linked_thread(viewer: User, thread_id: uuid.UUID | None) -> CommunicationThread | None:
    """The conversation a task links to, if ``viewer`` may open it."""
    if thread_id is None:
        return None
    thread = db.session.get(CommunicationThread, thread_id)
    return thread if thread is not None and can_access_thread(viewer, thread) else None


def order_number_for(order_id: uuid.UUID | None) -> str | None:
    if order_id is None:
        return None
    order = db.session.get(Order, order_id)
    return order.order_number if order else None
