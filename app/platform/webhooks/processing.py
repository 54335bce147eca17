"""Processing stored webhook events, in a job, all-or-nothing.

Each source names one processor (declared by its feature, see
:mod:`app.platform.features`), a function taking the event and doing its work
in the session without committing. The job commits when the processor returns;
when it raises, everything it wrote is rolled back and the event is marked
failed with the error, to be re-run from the admin events page.

A job first *claims* its events (a batch's all at once) with one conditional
``UPDATE`` that sets a lease (``PROCESSING_LEASE_SECONDS``): two jobs for one
event never both work on it, and when a worker dies mid-way the lease runs out
and the sweeper (every 10 s) hands the events to another worker, so a crash
costs well under a minute.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import time
import uuid
from collections import Counter
from datetime import timedelta

import psycopg
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app.platform.database import DriverStatement, utcnow, without_waiting_for_disk
from app.platform.events import TRANSIENT_SQLSTATES
from app.platform.extensions import db
from app.platform.features import resolve
from app.platform.jobs.coalescing import flush_if_due, held
from app.platform.jobs.turns import let_waiting_jobs_in
from app.platform.models import InboundWebhookEvent
from app.platform.models.enums import ProcessingState
from app.platform.transactions import commit
from app.platform.webhooks.folding import fold, processed_values
from app.platform.webhooks.recording import enqueue_batch, enqueue_processing, in_batches

log = logging.getLogger(__name__)


class UnprocessableEvent(Exception):
    """The event is well-formed but cannot be handled (kept as failed, not retried)."""


def processor_for(source: str) -> str | None:
    """The ``"module:function"`` a feature declared for a webhook source."""
    return current_app.extensions["features"].webhook_processors.get(source)


# Finished: a job for such an event has nothing left to do.
DONE = (ProcessingState.PROCESSED, ProcessingState.IGNORED)
TRANSIENT_RETRIES = 3


def _claim_all(event_ids: list[uuid.UUID]) -> dict[uuid.UUID, InboundWebhookEvent]:
    """Take the events for this worker until the lease runs out; those not ours are left out.

    The claim's ``RETURNING`` loads the events, so processing reads no row back;
    the claim is committed on its own so that a worker dying mid-job leaves the
    events visibly ``processing`` with a lease the sweep can see run out. A
    batch's events are claimed in one statement, locked in id order, so two
    jobs claiming overlapping batches (a duplicate job, a sweep) wait for each
    other instead of deadlocking. The events come back detached, loaded, each
    to join the session that processes it.
    """
    rows = db.session.execute(
        _claim_statement(db.session.get_bind().dialect.name),
        {"ids": event_ids, **_claim_parameters()},
    ).all()
    claimed = _committed_events(rows)
    return {event.id: event for event in claimed}


# The job's statements are built once per process: a statement object remembers
# its cache key, which SQLAlchemy otherwise works out anew for every event.
#
# The claims are Core statements on the table, not ORM ones: an ORM UPDATE …
# RETURNING went through the ORM's bulk-update machinery and worked out its cache
# key anew on every call, most of a claim's CPU (py-spy, benchmarks/e2e.py at 50
# msg/s, where nearly every event is claimed on its own). The rows become events
# with :func:`_committed_events`.
EVENTS = InboundWebhookEvent.__table__


@functools.cache
def _claim_statement(dialect: str) -> sa.Update:
    now = sa.bindparam("now")
    lockable = (
        sa.select(EVENTS.c.id)
        .where(
            EVENTS.c.id.in_(sa.bindparam("ids", expanding=True)),
            # Not done, and not held by a worker whose lease still runs.
            EVENTS.c.processing_state.not_in(DONE),
            sa.or_(
                EVENTS.c.processing_state != ProcessingState.PROCESSING,
                EVENTS.c.lease_expires_at.is_(None),
                EVENTS.c.lease_expires_at < now,
            ),
        )
        .order_by(EVENTS.c.id)
        .with_for_update()
    )
    claim = _claim_of(lockable)
    return without_waiting_for_disk(claim, dialect)


def _claim_of(selected: sa.Select) -> sa.Update:
    """The claim of the events ``selected`` picks: this worker's, until the lease runs out."""
    return (
        sa.update(EVENTS)
        .where(EVENTS.c.id.in_(selected))
        .values(
            processing_state=ProcessingState.PROCESSING,
            lease_expires_at=sa.bindparam("lease_until"),
            attempts=EVENTS.c.attempts + 1,
            claimed_by=sa.bindparam("claimed_by"),
            updated_at=sa.bindparam("now"),
        )
        .returning(*EVENTS.c)
    )


@functools.cache
def _attribute_of_column() -> tuple[tuple[str, str], ...]:
    """(attribute, column name) of every column of the events' table."""
    mapper = sa.inspect(InboundWebhookEvent)
    return tuple(
        (mapper.get_property_by_column(column).key, column.name) for column in EVENTS.columns
    )


def _committed_events(rows) -> list[InboundWebhookEvent]:
    """Commit the claim and make its ``RETURNING`` rows into events (:func:`_events_of`)."""
    commit()
    return _events_of(rows)


def _events_of(rows) -> list[InboundWebhookEvent]:
    """A claim's ``RETURNING`` rows as loaded, detached events, each to join the
    session that processes it (nothing is read back)."""
    session = db.session()
    events = []
    for row in rows:
        values = row if isinstance(row, dict) else row._mapping
        loaded = {attribute: values[column] for attribute, column in _attribute_of_column()}
        event = session.identity_map.get(session.identity_key(InboundWebhookEvent, loaded["id"]))
        if event is None:
            event = InboundWebhookEvent(**loaded)
            # As if loaded by a query: clean, with its identity, in no session yet.
            make_transient_to_detached(event)
        else:  # this session had it (a caller that stored it): brought up to date, let go
            for attribute, value in loaded.items():
                set_committed_value(event, attribute, value)
            session.expunge(event)
        events.append(event)
    return events


def _claim_parameters() -> dict:
    """What a claim writes: now, the lease's end and this worker's name."""
    now = utcnow()
    lease = timedelta(seconds=current_app.config["PROCESSING_LEASE_SECONDS"])
    return {"now": now, "lease_until": now + lease, "claimed_by": claimant()}


def claimant() -> str:
    """This process, as an event's ``claimed_by`` names it."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def claim_waiting(
    limit: int, *, orphans: bool = False, connection: psycopg.Connection | None = None
) -> list[InboundWebhookEvent]:
    """Claim up to ``limit`` events no worker holds, oldest first (PostgreSQL).

    What the inbox consumer of ``worker.py`` takes (:mod:`app.platform.jobs.consumer`):
    events just stored, and events whose worker's lease ran out (it died mid-way).
    ``SKIP LOCKED``: two workers claiming at once take different events instead
    of waiting for each other. Committed at once, as :func:`_claim_all`'s claim is.

    ``connection``: an autocommit psycopg connection to claim on (the consumer's
    own); without one, a pooled connection is taken for the claim.
    """
    if connection is None:
        with db.engine.connect() as pooled:
            pooled = pooled.execution_options(isolation_level="AUTOCOMMIT")
            return claim_waiting(
                limit, orphans=orphans, connection=pooled.connection.driver_connection
            )
    # A transaction of its own, outside the session and SQLAlchemy's execution: a
    # claim the consumer makes at every wake-up, by both workers (one finds
    # nothing), cost more in SQLAlchemy than in PostgreSQL (DriverStatement).
    statement = _claim_waiting_statement(orphans, db.engine.dialect)
    rows = statement.rows(connection, {"limit": limit, **_claim_parameters()})
    claimed = _events_of(rows)
    # In the order the webhooks stored them: a customer's burst keeps its order.
    return sorted(claimed, key=lambda event: (event.created_at, event.id))


def take_waiting(
    batch_size: int, *, orphans: bool = True, connection: psycopg.Connection | None = None
) -> int:
    """Claim and process the events waiting, a batch at a time; returns how many.

    The inbox consumer's round (:mod:`app.platform.jobs.consumer`), in an app context.
    Stops when a claim comes back short of a full batch: what arrives later wakes
    the consumer again. ``orphans``: first the events whose
    worker's lease ran out (the consumer asks once a second, not at every wake-up).
    ``connection``: the consumer's own autocommit connection, to claim on.
    Between two batches a job waiting in this process (the sends) goes first.
    """
    taken = 0
    while True:
        if taken:
            # The answers' sends the last batches queued go out before the next batch
            # (one job of them, in its slice), instead of after the whole burst.
            let_waiting_jobs_in()
        with held():
            try:
                events = claim_waiting(batch_size, orphans=orphans, connection=connection)
            finally:
                db.session.remove()
            # Past the batch's time budget the rest go back to the table (not to
            # RQ): claimed again below, or by another worker meanwhile.
            given_back = 0
            if events:
                outcomes = process_claimed(
                    [event.id for event in events], {e.id: e for e in events}, give_back=True
                )
                given_back = outcomes.get("given back", 0)
        taken += len(events) - given_back
        if len(events) < batch_size and not given_back:
            if not orphans:
                return taken
            orphans = False  # then the events just stored


@functools.cache
def _claim_waiting_statement(orphans: bool, dialect: sa.Dialect) -> DriverStatement:
    """Events just stored, or (``orphans``) those whose worker's lease ran out.

    Two statements, not one with ``OR``: the events just stored come from a
    partial index of only the waiting ones, read in order by an index scan, which
    also marks the entries of rows that have moved on as dead and skips them next
    time. With the ``OR`` PostgreSQL read the (state, created_at) index with a
    bitmap scan, which does not, and every claim visited every row claimed since
    the last vacuum (5.8 ms a claim after 800 events, most of PostgreSQL's work
    per message).
    """
    now = sa.bindparam("now")
    state = ProcessingState.PROCESSING if orphans else ProcessingState.RECEIVED
    waiting = sa.select(EVENTS.c.id).where(EVENTS.c.processing_state == state)
    if orphans:
        waiting = waiting.where(EVENTS.c.lease_expires_at < now)
    waiting = (
        waiting.order_by(EVENTS.c.created_at)
        .limit(sa.bindparam("limit"))
        .with_for_update(skip_locked=True)
    )
    claim = _claim_of(waiting)
    return DriverStatement(without_waiting_for_disk(claim, "postgresql"), dialect)


@functools.cache
def _processed_statement(dialect: str) -> sa.Update:
    # On the table, as the claims are: the mapped class's UPDATE took the ORM's
    # statement handling on every event (a few per cent of a worker's CPU).
    now = sa.bindparam("now")
    done = (
        sa.update(EVENTS)
        .where(EVENTS.c.id == sa.bindparam("event_id"))
        .values(processed_values(now))
    )
    return without_waiting_for_disk(done, dialect)


def _release(events: list[InboundWebhookEvent]) -> None:
    """Give back claimed events this job will not start (handed to another job)."""
    if not events:
        return
    db.session.execute(
        sa.update(InboundWebhookEvent)
        .where(
            InboundWebhookEvent.id.in_([event.id for event in events]),
            InboundWebhookEvent.processing_state == ProcessingState.PROCESSING,
        )
        .values(
            processing_state=ProcessingState.RECEIVED,
            lease_expires_at=None,
            # Not an attempt: the transient-error retries count real ones.
            attempts=InboundWebhookEvent.attempts - 1,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    commit()


def _not_claimed(event_id: uuid.UUID) -> str:
    """What a job that could not claim the event reports."""
    state = db.session.scalar(
        sa.select(InboundWebhookEvent.processing_state).where(InboundWebhookEvent.id == event_id)
    )
    if state is None:
        log.warning("webhook event %s vanished before processing", event_id)
        return "missing"
    # Done already, or another worker holds it (a duplicate job, a sweep).
    return "skipped" if state == ProcessingState.PROCESSING else state.value


def process_event(event_id: str) -> str:
    """Run the event's processor; returns the final processing state."""
    ident = uuid.UUID(event_id)
    # Its live updates go out together once it is done (app.platform.jobs.coalescing).
    with held():
        event = _claim_all([ident]).get(ident)
        if event is None:
            return _not_claimed(ident)
        return _process_claimed(event)


def _process_claimed(event: InboundWebhookEvent) -> str:
    event_id = str(event.id)
    db.session.add(event)
    path = processor_for(event.source)
    if path is None:
        return _finish(
            event_id, ProcessingState.IGNORED, f"no processor for source {event.source!r}"
        )
    try:
        resolve(path)(event)
        db.session.execute(
            _processed_statement(db.session.get_bind().dialect.name),
            {"event_id": event.id, "now": utcnow()},
        )
        commit()
    except Exception as exc:  # any failure: undo the work, keep the event as failed
        db.session.rollback()
        if _is_transient(exc) and event.attempts <= TRANSIENT_RETRIES:
            log.warning("webhook event %s (%s) hit %s; trying again", event_id, event.source, exc)
            _finish(event_id, ProcessingState.RECEIVED, f"{type(exc).__name__}: {exc}")
            enqueue_processing(event_id)
            return ProcessingState.RECEIVED.value
        log.exception("processing webhook event %s (%s) failed", event_id, event.source)
        return _finish(event_id, ProcessingState.FAILED, f"{type(exc).__name__}: {exc}")
    return ProcessingState.PROCESSED.value


# A batch stops taking new events after this long and hands the rest to a job of
# their own, so every event still starts well inside the queue's 35-s timeout.
BATCH_SECONDS = 10.0


def process_events(event_ids: list[str]) -> dict[str, int]:
    """Events handed over together, each processed exactly as its own job would be.

    One RQ job per event costs about 18 Redis round trips of RQ's bookkeeping,
    more than the event itself under load; a batch pays that once,
    and claims all its events in one statement. Otherwise every event is
    processed and committed on its own, in the order the webhooks stored them, so
    a customer's messages keep their order and a failure touches one event only.
    What the listeners do once for many events (live updates, saved-view and
    analytics marks) is done together (:mod:`app.platform.jobs.coalescing`). Returns how many
    events ended in each state.
    """
    idents = [uuid.UUID(event_id) for event_id in event_ids]
    with held():
        try:
            claimed = _claim_all(idents)
        except Exception:  # the database is gone: each event on its own, with retries
            db.session.rollback()
            log.exception("webhook batch of %d events could not be claimed", len(event_ids))
            for event_id in event_ids:
                enqueue_processing(event_id)
            return {"requeued": len(event_ids)}
        finally:
            db.session.remove()
        return process_claimed(idents, claimed)


def process_claimed(
    idents: list[uuid.UUID],
    claimed: dict[uuid.UUID, InboundWebhookEvent],
    *,
    give_back: bool = False,
) -> dict[str, int]:
    """Process the ``claimed`` events in the order of ``idents`` (inside :func:`held`).

    Past the batch's time budget the rest go to a job of their own, or with
    ``give_back`` (the inbox consumer, which claims from the table) back to the
    table, where the next claim of any worker takes them.
    """
    outcomes: Counter[str] = Counter()
    started = time.monotonic()
    folded = fold(idents, claimed)
    if folded:
        outcomes[ProcessingState.PROCESSED.value] += len(folded)
        idents = [ident for ident in idents if ident not in folded]
    # Every event is claimed at the start: none may start after half its lease,
    # or the sweep could hand it to another worker while this one is on it.
    budget = min(BATCH_SECONDS, current_app.config["PROCESSING_LEASE_SECONDS"] / 2)
    for position, ident in enumerate(idents):
        if position and time.monotonic() - started > budget:
            unstarted = [claimed[i] for i in idents[position:] if i in claimed]
            if give_back:
                _give_back(unstarted)
                outcomes["given back"] += len(unstarted)
            else:
                _hand_on([str(i) for i in idents[position:]], unstarted)
                outcomes["handed on"] += len(idents) - position
            break
        try:
            # Popped: an id handed over twice in one batch is processed once.
            event = claimed.pop(ident, None)
            outcomes[_process_claimed(event) if event else _not_claimed(ident)] += 1
        except Exception:  # the bookkeeping itself failed (database gone)
            db.session.rollback()
            log.exception("webhook event %s could not be processed in its batch", ident)
            enqueue_processing(str(ident))  # alone, with the queue's retries
            outcomes["requeued"] += 1
        finally:
            # A fresh session per event, as a job of its own would have.
            db.session.remove()
            flush_if_due()
    return dict(outcomes)


def _give_back(claimed: list[InboundWebhookEvent]) -> None:
    try:
        _release(claimed)
    except Exception:  # still leased: a claim of orphans takes them once it runs out
        db.session.rollback()
        log.exception("could not give back %d webhook events", len(claimed))


def _hand_on(event_ids: list[str], claimed: list[InboundWebhookEvent]) -> None:
    _give_back(claimed)
    enqueue_batch(event_ids)


def _is_transient(exc: Exception) -> bool:
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return isinstance(exc, sa.exc.DBAPIError) and code in TRANSIENT_SQLSTATES


def _finish(event_id: str, state: ProcessingState, error: str) -> str:
    event = db.session.get(InboundWebhookEvent, uuid.UUID(event_id))
    event.processing_state = state
    event.lease_expires_at = None
    event.last_error = error[:2000]
    commit()
    return state.value


def requeue_stalled_events() -> int:
    """Periodic job (10 s): queue again events whose hand-off or worker was lost."""
    now = utcnow()
    # Received but not picked up after this long: no consumer took it (none runs,
    # or all were down) or its job was lost (Redis restarted; see events.py).
    handed_off_within = timedelta(seconds=current_app.config["STALLED_HANDOFF_SECONDS"])
    stalled = db.session.scalars(
        sa.select(InboundWebhookEvent.id)
        .where(
            sa.or_(
                sa.and_(
                    InboundWebhookEvent.processing_state == ProcessingState.RECEIVED,
                    InboundWebhookEvent.created_at < now - handed_off_within,
                ),
                sa.and_(
                    InboundWebhookEvent.processing_state == ProcessingState.PROCESSING,
                    sa.or_(
                        InboundWebhookEvent.lease_expires_at < now,
                        # Claimed before leases existed.
                        sa.and_(
                            InboundWebhookEvent.lease_expires_at.is_(None),
                            InboundWebhookEvent.updated_at < now - timedelta(minutes=15),
                        ),
                    ),
                ),
            )
        )
        .limit(1000)
    ).all()
    db.session.rollback()
    for batch in in_batches([str(event_id) for event_id in stalled]):
        enqueue_batch(batch)
    if stalled:
        log.warning("re-queued %d stalled webhook events", len(stalled))
    return len(stalled)
