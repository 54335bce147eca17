"""Background jobs of the tasks feature. They take ids or nothing, never objects."""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa

from app.conversations.notifications.services import announce, create_notification
from app.conversations.tasks.reminders import (
    CLOSED_STATUSES,
    describe_due,
    is_overdue,
    reminder_moment,
)
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import InternalTask, Notification
from app.platform.models.enums import Priority
from app.platform.system_texts import text
from app.platform.transactions import commit

log = logging.getLogger(__name__)

BATCH_SIZE = 50
# One run handles at most this many batches; the next run (30 s later) takes the rest.
MAX_BATCHES = 20


def send_due_reminders(now: datetime | None = None) -> int:
    """Send every task reminder that is due; returns how many notifications went out.

    Runs every 30 seconds (``app.platform.jobs.periodic``). Each batch is claimed with
    ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two workers never
    take the same task, and a sent reminder clears ``next_reminder_at`` in the
    same transaction as its notification, so running twice sends nothing twice.
    SQLite has one writer at a time and needs no row locks.
    """
    now = now or utcnow()
    lock_rows = db.engine.dialect.name == "postgresql"
    sent = 0
    for _ in range(MAX_BATCHES):
        query = _due_reminders(now, BATCH_SIZE)
        if lock_rows:
            query = query.with_for_update(skip_locked=True)
        tasks = list(db.session.scalars(query))
        if not tasks:
            break
        notifications = [n for n in (fire_reminder(task, now) for task in tasks) if n]
        commit()
        for notification in notifications:
            announce(notification)
        sent += len(notifications)
        if len(tasks) > len(notifications):
            log.info("%d due task reminders had no assignee", len(tasks) - len(notifications))
        if len(tasks) < BATCH_SIZE:
            break
    if sent:
        log.info("sent %d task reminders", sent)
    return sent


def _due_reminders(now: datetime, limit: int) -> sa.Select:
    return (
        sa.select(InternalTask)
        .where(
            InternalTask.next_reminder_at <= now,
            InternalTask.status.not_in(CLOSED_STATUSES),
        )
        .order_by(InternalTask.next_reminder_at, InternalTask.id)
        .limit(limit)
    )


def fire_reminder(task: InternalTask, now: datetime) -> Notification | None:
    """Notify ``task``'s assignee that it is due and mark the reminder sent.

    The caller commits. A task with nobody assigned is marked sent without a
    notification: a reminder fires once for its moment, never later by surprise.
    """
    moment = reminder_moment(task) or task.next_reminder_at
    task.reminder_settings = {
        **(task.reminder_settings or {}),
        "reminder_sent_at": now.isoformat(),
        "reminder_sent_for": moment.isoformat(),
        "reminder_sent_to": str(task.assigned_to_user_id) if task.assigned_to_user_id else None,
    }
    task.next_reminder_at = None
    if task.assigned_to_user_id is None:
        return None
    overdue = is_overdue(task, now)
    if task.priority in (Priority.URGENT, Priority.CRITICAL):
        priority = task.priority
    else:
        priority = Priority.HIGH if overdue else Priority.NORMAL
    due = describe_due(task)
    if overdue:
        message = text("notification.task_overdue", due=due)
    else:
        message = text("notification.task_due", due=due) if due else None
    return create_notification(
        task.assigned_to_user_id,
        "task_reminder",
        text("notification.task_reminder", task=task.task_title),
        message,
        priority=priority,
        source_table="internal_task",
        source_record_id=task.id,
        link="/tasks",
    )
