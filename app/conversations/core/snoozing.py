"""Snoozing a conversation: out of the open lists until a time or the customer's reply.

A snoozed thread (``snoozed_at`` set) sits in its own urgency bucket
(``app.platform.models.urgency.SNOOZED``), so every open list and tab count leaves it
out by index range, and the "Snoozed" list shows it by wake time.

Its SLA clock is paused the way waiting on the customer pauses it
(``app.conversations.business_time.clock.pause``): the deadline and the next ladder check are
emptied, so no escalation can fire, and on waking ``resume`` banks the snoozed
business seconds and moves the deadline by them. One pause arithmetic for both
reasons to wait, not a second one; a thread both waiting on the customer and
snoozed stays paused until the customer writes.

Waking happens exactly once, whoever wakes it (the periodic job in any number
of workers, the customer's message, a person): each claims the thread with one
conditional ``UPDATE … WHERE snoozed_at IS NOT NULL … RETURNING``; of two
racing claims only one gets the row back and writes the "Snooze ended" line.

An agent's reply, note or assignment leaves the snooze alone (as Chatwoot
does): the agent answered and is waiting. A customer's message wakes it at
once; a person changing its status ends it (``app.conversations.workspace.editing``).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.conversations.business_time import clock as sla_clock
from app.conversations.core.events import ThreadChanged
from app.conversations.core.messages import record_status_line
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationThread, User
from app.platform.models.enums import ThreadStatus
from app.platform.system_texts import SystemText, text
from app.platform.transactions import commit, publish

log = logging.getLogger(__name__)

CLOSED = (ThreadStatus.RESOLVED, ThreadStatus.CLOSED)
# Threads woken per transaction by the periodic job; the next round takes the rest.
WAKE_BATCH = 100
# The wake time in a timeline line: the desk's wall clock, as the header shows it.
WAKE_TIME_ZONE = ZoneInfo("Europe/Amsterdam")
WAKE_TIME_FORMAT = "%d-%m-%Y %H:%M"


class CannotSnooze(ValueError):
    """The thread cannot be snoozed (closed, or a wake time already past)."""


def snooze(
    thread: CommunicationThread,
    actor: User,
    *,
    until: datetime | None,
    at: datetime | None = None,
) -> SystemText:
    """Snooze ``thread`` until ``until`` (None: until the customer replies); the line written.

    Snoozing again replaces the wake time. The SLA clock pauses from ``at``.
    """
    at = at or utcnow()
    if thread.status in CLOSED:
        raise CannotSnooze("a resolved or closed conversation cannot be snoozed")
    if until is not None and until <= at:
        raise CannotSnooze("the wake time has passed")
    thread.snoozed_at = thread.snoozed_at or at
    thread.snoozed_until = until
    thread.snoozed_by_user_id = actor.id
    # A header open elsewhere shows the old state: its next save must reload.
    thread.lock_version = CommunicationThread.lock_version + 1
    sla_clock.pause(thread, at)
    if until is None:
        line = text("snooze.until_reply", actor=actor.name)
    else:
        line = text(
            "snooze.until",
            actor=actor.name,
            until=until.astimezone(WAKE_TIME_ZONE).strftime(WAKE_TIME_FORMAT),
        )
    record_status_line(thread, line, author_id=actor.id, at=at)
    # Browsers showing it refresh the header (its snooze badge) too (app.js).
    publish(ThreadChanged(thread.id, "snooze"))
    return line


def unsnooze(thread: CommunicationThread, actor: User, *, at: datetime | None = None) -> bool:
    """A person ends the snooze now; False if it was not snoozed (or woke meanwhile)."""
    if not _claim(CommunicationThread.id == thread.id):
        return False
    db.session.refresh(thread, ["lock_version"])  # bumped by the claim
    _woken(thread, text("snooze.cancelled", actor=actor.name), at or utcnow(), actor.id)
    return True


def wake_for_reply(thread: CommunicationThread, at: datetime | None = None) -> bool:
    """The customer wrote: a snoozed thread wakes at once (called by ``record_inbound``)."""
    if thread.snoozed_at is None or not _claim(CommunicationThread.id == thread.id):
        return False
    db.session.refresh(thread, ["lock_version"])  # bumped by the claim
    _woken(thread, text("snooze.ended_by_reply"), at or utcnow())
    return True


def wake_due_snoozes(now: datetime | None = None) -> int:
    """Periodic job: wake every thread whose snooze time has come; how many woke.

    Batches of ``WAKE_BATCH`` rows, each its own transaction. Rows another
    worker is waking are skipped (``SKIP LOCKED``) and, once it commits, no
    longer match, so each thread wakes in exactly one worker.
    """
    woken = 0
    while True:
        now = now or utcnow()
        thread = CommunicationThread
        due = (
            sa.select(thread.id)
            .where(thread.snoozed_until.is_not(None), thread.snoozed_until <= now)
            .order_by(thread.snoozed_until)
            .limit(WAKE_BATCH)
            .with_for_update(skip_locked=True)
        )
        ids = _claim(thread.id.in_(due.scalar_subquery()), thread.snoozed_until <= now)
        if not ids:
            db.session.rollback()
            return woken
        # As the claim left them: a copy this session held from before is stale.
        woken_rows = sa.select(thread).where(thread.id.in_(ids))
        for row in db.session.scalars(woken_rows.execution_options(populate_existing=True)):
            _woken(row, text("snooze.ended"), now)
        commit()
        woken += len(ids)
        log.info("woke %d snoozed conversations", len(ids))
        if len(ids) < WAKE_BATCH:
            return woken
        now = None


def end_for_status_change(thread: CommunicationThread, actor: User) -> bool:
    """A person set the status of a snoozed thread: they acted on it, the snooze ends."""
    return unsnooze(thread, actor)


def _claim(*conditions) -> list[uuid.UUID]:
    """Clear the snooze of the matching snoozed threads in one statement; their ids."""
    statement = (
        sa.update(CommunicationThread)
        .where(CommunicationThread.snoozed_at.is_not(None), *conditions)
        .values(
            snoozed_at=None,
            snoozed_until=None,
            snoozed_by_user_id=None,
            lock_version=CommunicationThread.lock_version + 1,
        )
        .returning(CommunicationThread.id)
        .execution_options(synchronize_session=False)
    )
    return list(db.session.scalars(statement))


def _woken(
    thread: CommunicationThread,
    line: SystemText,
    at: datetime,
    author_id: uuid.UUID | None = None,
) -> None:
    """What follows a claimed wake-up: the clock runs again, a line, the lists hear it."""
    # The row is already cleared; the object follows, and its urgency is
    # recomputed on flush (the before-update hook) now that it is not snoozed.
    thread.snoozed_at = None
    thread.snoozed_until = None
    thread.snoozed_by_user_id = None
    thread.refresh_urgency()
    if thread.status != ThreadStatus.WAITING_CUSTOMER:
        sla_clock.resume(thread, at)
    record_status_line(thread, line, author_id=author_id, at=at)
    publish(ThreadChanged(thread.id, "snooze"))
