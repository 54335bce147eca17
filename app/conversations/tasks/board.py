"""Reading tasks: the board's columns and the API's pages of tasks."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.conversations.tasks.access import visible_tasks_clause
from app.conversations.tasks.reminders import due_moment, is_overdue, overdue_clause
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import InternalTask, Order, User
from app.platform.models.enums import TaskStatus
from app.platform.typed_dates import cursor_moment

BOARD_STATUSES = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS, TaskStatus.WAITING, TaskStatus.COMPLETED)
BOARD_FILTERS = ("all", "mine", "team", "overdue")
# The completed column shows recent work only; older tasks stay in the API.
COMPLETED_SHOWN_FOR = timedelta(days=14)
COLUMN_LIMIT = 100


class InvalidCursor(ValueError):
    pass


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
        return cursor_moment(stamp), uuid.UUID(ident)
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
