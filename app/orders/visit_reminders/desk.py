"""What the desk is handed about a reminder: an unanswered one, or a customer who
wants another day. Each is one task on the customer's conversation, due now."""

from __future__ import annotations

import logging
from datetime import date
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from app.conversations.tasks.services import TaskOutcome, publish_task_outcome
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, InternalTask, Order, Visit, VisitReminder
from app.platform.models.enums import Priority, TaskStatus, TaskType
from app.platform.transactions import after_commit, commit

log = logging.getLogger(__name__)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# Task titles are read by the Dutch desk.
DESK_LANGUAGE = "nl"


def flag_unanswered(day: date) -> int:
    """One task per WhatsApp reminder of a visit on ``day`` that is still planned
    then and was not answered; returns how many were made (commits).

    Each reminder is taken with one conditional UPDATE of ``flagged_at``, so of
    two workers only one makes its task.
    """
    still_planned = (
        sa.select(Visit.id)
        .where(
            Visit.id == VisitReminder.visit_id,
            Visit.scheduled_date == VisitReminder.visit_date,
            Visit.started_at.is_(None),
        )
        .exists()
    )
    taken = (
        db.session.execute(
            sa.update(VisitReminder)
            .where(
                VisitReminder.visit_date == day,
                VisitReminder.message_id.is_not(None),
                VisitReminder.confirmed_at.is_(None),
                VisitReminder.move_requested_at.is_(None),
                VisitReminder.flagged_at.is_(None),
                still_planned,
            )
            .values(flagged_at=utcnow())
            .returning(VisitReminder.id)
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    for reminder_id in taken:
        reminder = db.session.get(VisitReminder, reminder_id)
        with force_locale(DESK_LANGUAGE):
            title = _("Reminder not answered: call the customer")
            description = _(
                "The customer did not confirm tomorrow's visit in answer to the reminder. "
                "Call them to check it still suits."
            )
        hand_to_desk(reminder, title, description, TaskType.CALLBACK)
    commit()
    if taken:
        log.info("%d unanswered visit reminder(s) for %s handed to the desk", len(taken), day)
    return len(taken)


def hand_to_desk(
    reminder: VisitReminder, title: str, description: str, task_type: TaskType
) -> InternalTask:
    """A task due now on the conversation the reminder went to. No commit."""
    order = db.session.get(Order, reminder.order_id)
    thread_id = db.session.scalar(
        sa.select(CommunicationMessage.thread_id).where(
            CommunicationMessage.id == reminder.message_id
        )
    )
    due = utcnow().astimezone(AMSTERDAM)
    task = InternalTask(
        task_title=f"{title} ({order.order_number})"[:255],
        task_description=description,
        task_type=task_type,
        priority=Priority.HIGH,
        status=TaskStatus.OPEN,
        reminder_settings={},
        thread_id=thread_id,
        order_id=order.id,
        due_date=due.date(),
        due_time=due.strftime("%H:%M"),
    )
    db.session.add(task)
    after_commit(lambda: publish_task_outcome(TaskOutcome(task)))
    return task
