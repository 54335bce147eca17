"""Keeping the analytics roll-ups true: mark the past days a committed change touched.

The marks are all these listeners write (one upsert, none for a change to a
conversation of today, which the page reads directly anyway); the periodic
job recomputes the marked days (:func:`app.analytics.rollups.refresh`). A batch
job marks the days of its events together (:mod:`app.platform.jobs.coalescing`), at most
once a second: a steady customer's conversation was opened on an earlier day,
so each of their messages would otherwise cost an upsert and a commit of its
own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import sqlalchemy as sa

from app.analytics.rollups import dirty_days_upsert, mark_dirty, message_days, past_days
from app.conversations.core.events import MessageCreated, ThreadAssigned, ThreadChanged
from app.platform.database import utcnow
from app.platform.events import listens_to
from app.platform.extensions import db
from app.platform.jobs.coalescing import hold
from app.platform.models import CommunicationMessage, CommunicationThread, InternalTask
from app.platform.transactions import commit

# Changes that leave every message where it was (same thread, team and channel): only
# the thread's own days need recomputing. An escalation is one; the SLA scan sends
# thousands in a backlog, and reading each thread's message days cost it 40 %.
LEAVES_MESSAGES = frozenset(
    {"message", "attachment", "delivery", "snooze", "csat", "customer", "sla_escalated"}
)
# Changes no figure counts: a provider's delivery report (several per message we
# send) should not cost even the thread's lookup.
IGNORED = frozenset({"delivery"})


@listens_to(ThreadChanged, ThreadAssigned)
def thread_days_changed(event: ThreadChanged | ThreadAssigned) -> None:
    """The thread's created and resolved days (and its messages' days when they moved)."""
    if isinstance(event, ThreadChanged) and event.reason in IGNORED:
        return
    thread = db.session.get(CommunicationThread, event.thread_id)
    if thread is None:
        return
    moments = {thread.created_at, thread.resolved_at}
    if isinstance(event, ThreadAssigned) or event.reason not in LEAVES_MESSAGES:
        moments |= message_days(thread.id)
    if not _held(moments):
        _mark(moments)


@listens_to(MessageCreated)
def message_day_changed(event: MessageCreated) -> None:
    """A message recorded on an earlier day (imported history) changes that day's counts."""
    message = db.session.get(CommunicationMessage, event.message_id)
    if message is None or _held([message.created_at]):
        return
    if mark_dirty([message.created_at]):
        commit()


# What the tasks figure reads of a task. Tasks publish no domain events and are
# written from several places (the task pages and API, the SLA ladder, imports), so
# their days are marked from the ORM flush itself, in the task's own transaction.
TASK_FIGURE_FIELDS = (
    "status", "completed_at", "due_date", "due_time", "assigned_to_user_id", "assigned_team_id",
)  # fmt: skip


@sa.event.listens_for(InternalTask, "after_insert")
@sa.event.listens_for(InternalTask, "after_delete")
def task_added_or_deleted(_mapper, connection, task: InternalTask) -> None:
    """A task written or deleted whole (an import of completed work, a removal)."""
    _mark_task_days(connection, task)


@sa.event.listens_for(InternalTask, "after_update")
def task_changed(_mapper, connection, task: InternalTask) -> None:
    """A task changed in something the figure reads (not its title, notes or reminders)."""
    state = sa.inspect(task)
    if any(state.attrs[name].history.has_changes() for name in TASK_FIGURE_FIELDS):
        _mark_task_days(connection, task)


def _mark_task_days(connection, task: InternalTask) -> None:
    # history.sum(): the completion time before and after the flush, so a reopened
    # task's old day is marked too. Today's tasks are read directly: nothing to mark.
    now = utcnow()
    days = past_days(sa.inspect(task).attrs.completed_at.history.sum(), now)
    if days:
        connection.execute(dirty_days_upsert(days, now, connection.dialect.name))


Moments = Iterable[datetime | date | None]
# Nobody waits for a mark (the roll-up refresh reads them once a minute); a worker
# killed before its batch's marks are written loses at most this much of them.
MARKS_WITHIN_SECONDS = 1.0


def _held(moments: Moments) -> bool:
    return hold("analytics-dirty-days", _mark_held, moments, within=MARKS_WITHIN_SECONDS)


def _mark(moments: Moments) -> None:
    if mark_dirty(moments):
        commit()
    else:
        db.session.rollback()


def _mark_held(held: list[Moments]) -> None:
    _mark({moment for moments in held for moment in moments})
