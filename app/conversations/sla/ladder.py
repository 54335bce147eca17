"""The escalation ladder and the scan that climbs it.

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

:func:`scan` runs every 15 seconds (``app.platform.jobs.periodic``), so an alert goes
out within about 15 s of its moment, well inside the 60 s promised.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from psycopg.types.json import Jsonb
from sqlalchemy.exc import IntegrityError

from app.conversations.business_time.clock import (
    CLOSED,
    LAST_STEP,
    STEP_ESCALATION,
    is_running,
    schedule_next_check,
    step_moment,
)
from app.conversations.sla.delivery import FiredAlert, RoundContext, deliver, escalate
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationThread
from app.platform.models.sla import SlaAlert
from app.platform.transactions import commit

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
            # Snoozing pauses the clock and empties the check; this also holds
            # for a check written by anything else while it sleeps.
            CommunicationThread.snoozed_at.is_(None),
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
    if db.engine.dialect.name == "postgresql":
        fired = _advance_all(threads, now, context)
    else:
        fired = []
        for thread in threads:
            fired += advance(thread, now, context)
    deliver(fired, context)
    commit()
    return len(threads)


@dataclass
class _DueStep:
    thread: CommunicationThread
    step: int
    due_at: datetime
    recipients: list


def _advance_all(threads, now: datetime, context: RoundContext) -> list[FiredAlert]:
    """:func:`advance` for a whole round, with one claiming INSERT for all its steps.

    A round of 200 threads is one statement instead of 200 round trips; the
    unique key still decides each step, and only the winners fire.
    """
    due: list[_DueStep] = []
    for thread in threads:
        due += _due_steps(thread, now, context)
    if not due:
        return []
    params = {
        "now": utcnow(),
        "ids": [uuid.uuid4() for _ in due],
        "threads": [item.thread.id for item in due],
        "cycles": [item.thread.sla_cycle for item in due],
        "steps": [item.step for item in due],
        "dues": [item.due_at for item in due],
        "recipients": [Jsonb([str(user.id) for user in item.recipients]) for item in due],
    }
    with db.session.no_autoflush:
        rows = db.session.connection().exec_driver_sql(_CLAIM_ROUND_SQL, params)
        won = {(row.thread_id, row.step): row.id for row in rows}
    fired = []
    for item in due:
        alert_id = won.get((item.thread.id, item.step))
        if alert_id is None:
            continue  # another worker fired this step of this cycle already
        if item.step == STEP_ESCALATION:
            escalate(item.thread, now, context)
        fired.append(FiredAlert(alert_id, item.thread, item.step, item.due_at, item.recipients))
    return fired


# One statement for a round's claims: arrays in, the winners out. Plain SQL, so
# nothing is compiled per round (a multi-row insert() construct is not cached).
_CLAIM_ROUND_SQL = (
    "INSERT INTO sla_alerts (id, created_at, updated_at, thread_id, sla_cycle, step, due_at, "
    "recipients, digest_id) "
    "SELECT u.id, %(now)s, %(now)s, u.thread_id, u.sla_cycle, u.step, u.due_at, u.recipients, NULL "
    "FROM unnest(%(ids)s::uuid[], %(threads)s::uuid[], %(cycles)s::int[], %(steps)s::int[], "
    "%(dues)s::timestamptz[], %(recipients)s::jsonb[]) "
    "AS u(id, thread_id, sla_cycle, step, due_at, recipients) "
    "ON CONFLICT (thread_id, sla_cycle, step) DO NOTHING RETURNING thread_id, step, id"
)


def _due_steps(thread: CommunicationThread, now: datetime, context: RoundContext) -> list[_DueStep]:
    """The thread's steps due at ``now``, moving its stage and next check past them."""
    schedule = context.schedule(thread)
    steps = []
    while thread.sla_next_check_at is not None and thread.sla_next_check_at <= now:
        step = (thread.sla_stage or 0) + 1
        if step > LAST_STEP or not is_running(thread) or thread.status in CLOSED:
            thread.sla_next_check_at = None
            break
        due_at = step_moment(schedule, thread, step) or thread.sla_next_check_at
        steps.append(_DueStep(thread, step, due_at, context.recipients(thread, step)))
        thread.sla_stage = step
        schedule_next_check(schedule, thread)
    return steps


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


@cache
def _claim_statement() -> sa.TextClause:
    """The claim as SQL text with typed binds.

    SQLAlchemy does not cache the compiled form of a dialect ``insert()`` with
    ON CONFLICT, and compiling it for every alert cost more than the insert.
    """
    columns = SlaAlert.__table__.c
    return (
        sa.text(
            "INSERT INTO sla_alerts (id, created_at, updated_at, thread_id, sla_cycle, step, "
            "due_at, recipients, digest_id) VALUES (:id, :now, :now, :thread_id, :sla_cycle, "
            ":step, :due_at, :recipients, NULL) "
            "ON CONFLICT (thread_id, sla_cycle, step) DO NOTHING RETURNING id"
        )
        .bindparams(
            sa.bindparam("id", type_=columns.id.type),
            sa.bindparam("now", type_=columns.created_at.type),
            sa.bindparam("thread_id", type_=columns.thread_id.type),
            sa.bindparam("due_at", type_=columns.due_at.type),
            sa.bindparam("recipients", type_=columns.recipients.type),
        )
        .columns(id=columns.id.type)
    )


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
        now = utcnow()
        with db.session.no_autoflush:
            # The thread's own changes are flushed once, at the round's commit.
            return db.session.execute(
                _claim_statement(), {**values, "id": uuid.uuid4(), "now": now}
            ).scalar()
    alert = SlaAlert(**values)
    try:
        with db.session.begin_nested():
            db.session.add(alert)
    except IntegrityError:
        return None
    return alert.id
