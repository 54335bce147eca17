"""The escalation ladder (seed 003) and the scan that climbs it.

Steps of one SLA cycle:

1. at 75 % of the target, a reminder to the assignee (the team lead when
   nobody is assigned);
2. at 90 %, an alert to the team's lead;
3. at 100 %, escalation to the managers: the thread goes to status escalated
   and an ``escalate`` task is created for a manager, linked to the thread;
4. 24 hours after the deadline, an executive alert to managers and admins.

Each step fires exactly once per (thread, cycle): firing inserts an
``SlaAlert`` row, and only the insert that wins the unique key
``(thread_id, sla_cycle, step)`` sends anything. The scan also takes the rows
it works on with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two workers
scanning at once split the due threads instead of queueing behind each other.

:func:`scan` runs every 15 seconds (``app.jobs.periodic``), so an alert goes
out within about 15 s of its moment, well inside the 60 s promised.
"""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from app.database import utcnow
from app.extensions import db
from app.models import CommunicationThread
from app.models.sla import SlaAlert
from app.sla.clock import (
    CLOSED,
    LAST_STEP,
    STEP_ESCALATION,
    is_running,
    schedule_next_check,
    step_moment,
)
from app.sla.delivery import FiredAlert, RoundContext, deliver, escalate
from app.transactions import commit

log = logging.getLogger(__name__)

# Threads taken per round (one transaction); a scan runs rounds until a short one.
BATCH_SIZE = 200
MAX_ROUNDS = 25


def due_threads_query(now: datetime, limit: int = BATCH_SIZE) -> sa.Select:
    """Threads whose next ladder moment has come, by ``ix_communication_thread_sla_next_check``."""
    return (
        sa.select(CommunicationThread)
        .where(
            CommunicationThread.sla_next_check_at.is_not(None),
            CommunicationThread.sla_next_check_at <= now,
        )
        .order_by(CommunicationThread.sla_next_check_at)
        .limit(limit)
    )


def scan(now: datetime | None = None) -> int:
    """Fire every ladder step that is due at ``now``; returns the threads handled.

    Cost: one indexed range read of ``sla_next_check_at <= now`` (ordered by it,
    ``BATCH_SIZE`` rows per round), so with nothing due it is a single index
    probe however many threads exist. Per round with due threads: a few
    queries for people and channels, one ``INSERT … ON CONFLICT DO NOTHING``
    per step fired, one notification per recipient (or one digest each), and
    one commit. Open threads whose moment has not come are never read.

    Periodic job (every 15 s); tests and the benchmark pass ``now``.
    """
    now = now or utcnow()
    handled = 0
    for _ in range(MAX_ROUNDS):
        taken = _scan_round(now)
        handled += taken
        if taken < BATCH_SIZE:
            break
    if handled:
        log.info("SLA scan handled %d threads", handled)
    return handled


def _scan_round(now: datetime) -> int:
    query = due_threads_query(now)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=CommunicationThread)
    threads = list(db.session.scalars(query))
    if not threads:
        return 0
    context = RoundContext.for_threads(threads, now)
    fired: list[FiredAlert] = []
    for thread in threads:
        fired += advance(thread, now, context)
    deliver(fired, context)
    commit()
    return len(threads)


def advance(thread: CommunicationThread, now: datetime, context: RoundContext) -> list[FiredAlert]:
    """Fire the thread's due steps (catching up on any missed), then schedule the next.

    Every step whose moment has passed fires, in order: a thread found late
    (workers down for an hour) still gives each person in the chain their alert.
    """
    schedule = context.schedule(thread)
    fired = []
    while thread.sla_next_check_at is not None and thread.sla_next_check_at <= now:
        step = (thread.sla_stage or 0) + 1
        if step > LAST_STEP or not is_running(thread) or thread.status in CLOSED:
            # A stale check (the cycle ended without clearing it): drop it.
            thread.sla_next_check_at = None
            break
        due_at = step_moment(schedule, thread, step) or thread.sla_next_check_at
        recipients = context.recipients(thread, step)
        alert_id = claim(thread, step, due_at, [str(user.id) for user in recipients])
        thread.sla_stage = step
        schedule_next_check(schedule, thread)
        if alert_id is None:
            continue  # another worker fired this step of this cycle already
        if step == STEP_ESCALATION:
            escalate(thread, now, context)
        fired.append(FiredAlert(alert_id, thread, step, due_at, recipients))
    return fired


def claim(thread: CommunicationThread, step: int, due_at: datetime, recipients: list[str]):
    """Insert the step's ``SlaAlert``; its id if this call won, None if it already existed."""
    values = {
        "thread_id": thread.id,
        "sla_cycle": thread.sla_cycle,
        "step": step,
        "due_at": due_at,
        "recipients": recipients,
    }
    if db.engine.dialect.name == "postgresql":
        statement = (
            pg_insert(SlaAlert)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["thread_id", "sla_cycle", "step"])
            .returning(SlaAlert.id)
        )
        return db.session.execute(statement).scalar()
    alert = SlaAlert(**values)
    try:
        with db.session.begin_nested():
            db.session.add(alert)
    except IntegrityError:
        return None
    return alert.id
