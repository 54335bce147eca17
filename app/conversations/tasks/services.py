"""Internal tasks: loading, creating, updating and moving them, and telling people.

Form and API both hand raw values to :func:`create_task` / :func:`update_task`,
which check them (``TaskValidationError`` names each bad field), apply them, keep
``completed_at``, ``lock_version`` and ``next_reminder_at`` right, and queue a
notification for a new assignee. The caller commits, then calls
:func:`publish_task_outcome` so browsers never hear about uncommitted work.

Checking input lives in :mod:`app.conversations.tasks.validation`, due and reminder times in
:mod:`app.conversations.tasks.reminders`, the board and the task list in
:mod:`app.conversations.tasks.board`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Mapping

import sqlalchemy as sa
from flask_babel import gettext as _

from app.conversations.inbox.access import can_access_thread
from app.conversations.notifications.services import announce, create_notification
from app.conversations.tasks.access import can_access_task
from app.conversations.tasks.reminders import REMINDER_BOOKKEEPING, describe_due, schedule_reminder
from app.conversations.tasks.validation import clean_task_input
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationThread, InternalTask, Notification, Order, Team, User
from app.platform.models.enums import Priority, TaskStatus, TaskType
from app.platform.realtime import publish, user_room
from app.platform.system_texts import text


class StaleTaskError(Exception):
    """The task changed since the person loaded it; their change was not applied."""

    def __init__(self, current_version: int) -> None:
        super().__init__(
            _(
                "Someone else changed this task while you were editing it. Your changes were "
                "not saved: reload to see the latest version, then apply them again."
            )
        )
        self.current_version = current_version


class TaskNotFound(LookupError):
    pass


class TaskForbidden(PermissionError):
    pass


@dataclass
class TaskOutcome:
    """A saved task and what to tell people once the transaction commits."""

    task: InternalTask
    notifications: list[Notification] = field(default_factory=list)
    newly_assigned_to: User | None = None


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
        text("notification.task_assigned", task=task.task_title),
        (
            text("notification.task_from_due", actor=actor.name, due=due)
            if due
            else text("notification.task_from", actor=actor.name)
        ),
        priority=task.priority,
        source_table="internal_task",
        source_record_id=task.id,
        link="/tasks",
    )


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


def task_creator(task: InternalTask) -> User | None:
    """Who created the task, or None when no one is recorded."""
    if task.created_by_user_id is None:
        return None
    return db.session.get(User, task.created_by_user_id)


def order_number_for(order_id: uuid.UUID | None) -> str | None:
    if order_id is None:
        return None
    order = db.session.get(Order, order_id)
    return order.order_number if order else None
