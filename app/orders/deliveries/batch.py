"""The batch sender: due deliveries claimed K at a time and sent N at once.

One job per delivery cost an RQ job, a claim and two commits per callback, and
one blocking POST at a time per worker: about 50 callbacks a second. The job
:func:`deliver_due` instead

- claims up to ``DELIVERY_CLAIM_BATCH`` due deliveries in one statement
  (``FOR UPDATE SKIP LOCKED``, so two workers never take the same row) by
  the rule of one delivery's claim (:func:`app.orders.deliveries.jobs.claimable`:
  due or abandoned by a dead worker, and not behind an open earlier callback
  of the same order);
- hands them to this process's pool of ``DELIVERY_CONCURRENCY`` sending
  threads, each keeping its keep-alive connections (and their SSRF check at
  connect, :class:`app.platform.security.outbound.GuardedAdapter`) between jobs, with
  up to one claim more waiting in line so the threads never run dry;
- logs the successes of a round with one INSERT of attempts and one UPDATE of
  deliveries (the partner's success rate is recounted every few seconds, not
  every round); a failure goes
  through the one-delivery path (:func:`app.orders.deliveries.jobs._settle`): retry,
  410, alert;
- claims again as sending threads come free (a settled callback may let its
  order's next one go), until nothing is due, or for ``RUN_SECONDS`` after
  which it hands over to a fresh job.

Each claim is sent once. While a callback is in flight its claim is renewed
(:class:`app.orders.deliveries.claims.ClaimKeeper`), so a slow partner does not make a
live worker look dead. A worker killed mid-round leaves its claims in
progress: after ``DELIVERY_LEASE_SECONDS`` another worker takes them, logs
the lost attempt and sends again with the same ``webhook-id``, so only then
can a partner see a callback twice (at least once on a crash; receivers
drop repeats by ``webhook-id``).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from app.orders.deliveries.claims import ClaimKeeper
from app.orders.deliveries.health import success_rate
from app.orders.deliveries.jobs import (
    MAX_EARLY_WAIT_SECONDS,
    _cancel,
    _log_lost_attempt,
    _refuse,
    _release,
    _settle,
    abandoned,
    claim_values,
    not_behind_an_open_one,
)
from app.orders.deliveries.outbox import WAKE_FLAG, serialise, wake_batch_sender
from app.orders.deliveries.targets import target_for
from app.orders.deliveries.transport import Outcome, post
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.jobs.queues import broker
from app.platform.metrics import record_delivery
from app.platform.models import DeliveryAttempt, OutboundDelivery, PartnerIntegration
from app.platform.models.enums import OutboundState
from app.platform.security.outbound import UnsafeTarget, check_target
from app.platform.transports.ratelimit import RateLimited, acquire

log = logging.getLogger(__name__)

# A job stops claiming after this long and queues its successor, well inside
# the deliveries queue's 60 s job timeout (the last sends take at most 10 s).
RUN_SECONDS = 20.0
# A running job recounts its partners' success rate this often (see _HealthRefresh).
HEALTH_RECOUNT_SECONDS = 5.0
# Longest wait for a sending thread before looking again.
POLL_SECONDS = 1.0
# Once one answer is in, how long to wait for others to settle with it.
GATHER_SECONDS = 0.02

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


@dataclass(frozen=True)
class _Send:
    """One claimed delivery, ready to go: plain values, no ORM object across threads."""

    delivery_id: uuid.UUID
    attempt_number: int
    url: str
    body: bytes
    headers: dict[str, str]
    integration_id: uuid.UUID | None


def deliver_due(run_seconds: float = RUN_SECONDS) -> int:
    """Job: send every due delivery, many at once; returns how many attempts it settled."""
    # Dropped before the first claim: see wake_batch_sender.
    broker().connection.delete(WAKE_FLAG)
    config = current_app.config
    concurrency = max(1, int(config["DELIVERY_CONCURRENCY"]))
    batch_size = max(1, int(config["DELIVERY_CLAIM_BATCH"]))
    allow_private = bool(config["ALLOW_PRIVATE_WEBHOOK_URLS"])
    lease = timedelta(seconds=config["DELIVERY_LEASE_SECONDS"])
    pool = _sending_pool(concurrency)
    stop_claiming_at = time.monotonic() + run_seconds
    in_flight: dict[Future, _Send] = {}
    health = _HealthRefresh()
    settled = 0
    nothing_due = False
    with ClaimKeeper(lease.total_seconds()) as keeper:
        while True:
            finished = [(in_flight.pop(f), f) for f in list(in_flight) if f.done()]
            if finished:
                settled += _settle_round(finished, health)
                for send, _ in finished:
                    keeper.release(send.delivery_id)
                nothing_due = False  # a settled callback may let its order's next one go
            # One claim more than the threads can send waits in the pool's queue, so
            # the threads never run dry while this thread settles and claims.
            free = concurrency + batch_size - len(in_flight)
            claiming = not nothing_due and time.monotonic() < stop_claiming_at
            if claiming and (free >= max(1, batch_size // 2) or not in_flight):
                wanted = min(batch_size, free)
                sends, settled_now = _claim_round(wanted, lease)
                settled += settled_now
                nothing_due = len(sends) + settled_now < wanted
                for send in sends:
                    keeper.hold(send.delivery_id, send.attempt_number)
                    in_flight[pool.submit(_send, send, allow_private)] = send
                if sends or settled_now:
                    continue
            if not in_flight:
                if time.monotonic() < stop_claiming_at and _wait_for_next_due():
                    nothing_due = False
                    continue
                break
            done, _ = wait(in_flight, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            if done and len(done) < len(in_flight):
                # A moment more lets the round settle many answers in one commit
                # instead of one commit per answer.
                wait(in_flight, timeout=GATHER_SECONDS)
    health.refresh(final=True)
    if time.monotonic() >= stop_claiming_at:
        # Stopped for time, not for want of work: what is due now (or was let
        # go by the last answers, an order's next callback) goes to a fresh job.
        wake_batch_sender()
    return settled


class _HealthRefresh:
    """Partners' 24-hour success rate, recounted at most every few seconds while a job runs.

    The count reads a day of attempts; once per round it cost more than the
    round's own writes. ``last_sync_at`` is still written every round, and a
    failure recounts at once (:func:`app.orders.deliveries.jobs._settle`).
    """

    def __init__(self) -> None:
        self.stale: set[uuid.UUID] = set()
        self.counted_at = time.monotonic()

    def touched(self, partners: set[uuid.UUID]) -> None:
        self.stale |= partners

    def refresh(self, final: bool = False) -> None:
        if not self.stale or (
            not final and time.monotonic() - self.counted_at < HEALTH_RECOUNT_SECONDS
        ):
            return
        now = utcnow()
        for integration in _load_partners(self.stale):
            integration.success_rate = success_rate(integration, now)
        _commit_keeping_loaded()
        self.stale.clear()
        self.counted_at = time.monotonic()


def _wait_for_next_due() -> bool:
    """Sleep until the next pending delivery is due if that is soon; False if none is.

    A short retry (a 429's Retry-After, the first backoff steps) is then sent
    by this job on time, instead of by its own job queued behind this one.
    """
    now = utcnow()
    # Only ones not yet due: one already due but not claimed waits behind an
    # earlier callback of its order, and waiting for it here would spin.
    due = db.session.scalar(
        sa.select(sa.func.min(OutboundDelivery.next_attempt_at)).where(
            OutboundDelivery.state == OutboundState.PENDING,
            OutboundDelivery.next_attempt_at > now,
            OutboundDelivery.next_attempt_at <= now + timedelta(seconds=MAX_EARLY_WAIT_SECONDS),
        )
    )
    db.session.rollback()
    if due is None:
        return False
    time.sleep(max((due - utcnow()).total_seconds(), 0.0))
    return True


def _sending_pool(size: int) -> ThreadPoolExecutor:
    """This process's sending threads, kept between jobs with their connections."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="delivery-send")
        return _pool


def _claim_round(wanted: int, lease: timedelta) -> tuple[list[_Send], int]:
    """Claim up to ``wanted`` deliveries and commit; returns those to send and how many
    were settled without sending (cancelled, refused, lost on their last attempt)."""
    db.session.expunge_all()  # partners are read afresh: one may have been disabled since
    now = utcnow()
    claimed = db.session.scalars(
        _claim_statement(),
        {"now": now, "leased_before": now - lease, "wanted": wanted},
        execution_options={"synchronize_session": False, "populate_existing": True},
    ).all()
    if not claimed:
        db.session.rollback()
        return [], 0
    # RETURNING comes in no particular order: oldest first, as claimed (a send
    # budget, say, goes to the delivery that waited longest).
    claimed = sorted(claimed, key=lambda d: (d.created_at, str(d.id)))
    lost = _lost_attempts(claimed)
    _commit_keeping_loaded()
    # Held for the round, so each delivery's target finds its partner loaded
    # (the session only holds rows weakly): one query, not one per delivery.
    partners = _load_partners({d.partner_integration_id for d in claimed})  # noqa: F841
    sends: list[_Send] = []
    settled = 0
    for delivery in claimed:
        send = _prepare(delivery, delivery.id in lost)
        if send is None:
            settled += 1
        else:
            sends.append(send)
    _commit_keeping_loaded()  # a partner's moved URL, a lost attempt's log row
    return sends, settled


@functools.cache
def _claim_statement() -> sa.Update:
    """The claim, built once per process with its values as parameters.

    claimable()'s rule in two parts, each cheap whatever the backlog: the due
    ones in next_attempt_at order straight from its index (the scan stops after
    ``wanted``), and the few abandoned by a dead worker. Building this ORM
    statement (aliases, the EXISTS of the order rule) and its cache key cost
    more CPU than the rest of a round together; one built object memoises both.
    """
    now = sa.bindparam("now", type_=OutboundDelivery.claimed_at.type)
    wanted = sa.bindparam("wanted", type_=sa.Integer)
    pending = so.aliased(OutboundDelivery)
    due = (
        sa.select(pending.id)
        .where(
            pending.state == OutboundState.PENDING,
            pending.next_attempt_at <= now,
            not_behind_an_open_one(pending),
        )
        .order_by(pending.next_attempt_at)
        .limit(wanted)
        .with_for_update(skip_locked=True)
        .cte("due")
    )
    stuck = so.aliased(OutboundDelivery)
    lost_claims = (
        sa.select(stuck.id)
        .where(
            abandoned(sa.bindparam("leased_before", type_=stuck.claimed_at.type), stuck),
            not_behind_an_open_one(stuck),
        )
        .limit(wanted)
        .with_for_update(skip_locked=True)
        .cte("lost_claims")
    )
    return (
        sa.update(OutboundDelivery)
        .where(
            OutboundDelivery.id.in_(
                sa.union_all(sa.select(due.c.id), sa.select(lost_claims.c.id))
            )
        )
        .values(claim_values(now))
        .returning(OutboundDelivery)
    )


def _load_partners(keys: set[uuid.UUID | None]) -> list[PartnerIntegration]:
    keys = keys - {None}
    if not keys:
        return []
    return list(
        db.session.scalars(sa.select(PartnerIntegration).where(PartnerIntegration.id.in_(keys)))
    )


def _lost_attempts(claimed: list[OutboundDelivery]) -> set[uuid.UUID]:
    """Claimed deliveries whose previous attempt has no log row: its worker died mid-call."""
    retried = {d.id: d.attempt_count - 1 for d in claimed if d.attempt_count > 1}
    if not retried:
        return set()
    logged = set(
        db.session.execute(
            sa.select(DeliveryAttempt.delivery_id, DeliveryAttempt.attempt_number).where(
                DeliveryAttempt.delivery_id.in_(retried)
            )
        ).tuples()
    )
    return {key for key, number in retried.items() if (key, number) not in logged}


def _prepare(delivery: OutboundDelivery, lost: bool) -> _Send | None:
    """Check, sign and address one claimed delivery; None when it is settled unsent."""
    target = target_for(delivery)
    if target is None:
        _cancel(delivery, f"not sent: {delivery.kind.value} deliveries are not sent by this engine")
        return None
    if lost and _log_lost_attempt(delivery, target.integration):
        return None
    blocked = target.not_sendable(delivery)
    if blocked is not None:
        _cancel(delivery, blocked)
        return None
    if target.rate_limit:
        try:
            acquire(target.rate_limit)
        except RateLimited as exc:
            _release(delivery, exc.retry_after)
            return None
    body = (delivery.body or serialise(delivery.payload)).encode("utf-8")
    return _Send(
        delivery_id=delivery.id,
        attempt_number=delivery.attempt_count,
        url=delivery.target_url,
        body=body,
        headers=target.headers(delivery, body),
        integration_id=delivery.partner_integration_id,
    )


def _send(send: _Send, allow_private: bool) -> Outcome | UnsafeTarget:
    """In a sending thread: the address check, then one POST (no database here)."""
    try:
        check_target(send.url, allow_private=allow_private)
        return post(send.url, send.body, send.headers, allow_private=allow_private)
    except UnsafeTarget as exc:
        return exc


def _settle_round(finished: list[tuple[_Send, Future]], health: _HealthRefresh) -> int:
    """Log a round's attempts: successes together, anything else one by one."""
    delivered: list[tuple[_Send, Outcome]] = []
    for send, future in finished:
        try:
            result = future.result()
        except Exception as exc:  # a bug in sending: log it, retry like a network failure
            log.exception("delivery %s: sending failed unexpectedly", send.delivery_id)
            result = Outcome(None, 0.0, error=f"not sent ({type(exc).__name__})")
        if isinstance(result, Outcome) and result.delivered:
            delivered.append((send, result))
        else:
            _settle_one(send, result)
    if delivered:
        _settle_delivered(delivered, health)
        health.refresh()
    return len(finished)


def _settle_delivered(delivered: list[tuple[_Send, Outcome]], health: _HealthRefresh) -> None:
    """One INSERT of attempts, one UPDATE per status code, one of the partners' last sync."""
    now = utcnow()
    db.session.execute(
        sa.insert(DeliveryAttempt),
        [
            {
                "delivery_id": send.delivery_id,
                "attempt_number": send.attempt_number,
                "status_code": outcome.status_code,
                "latency_ms": outcome.latency_ms,
                "response_excerpt": outcome.response_excerpt,
                "created_at": now,
            }
            for send, outcome in delivered
        ],
    )
    by_status: dict[int, list[uuid.UUID]] = {}
    for send, outcome in delivered:
        by_status.setdefault(outcome.status_code, []).append(send.delivery_id)
    for status_code, keys in by_status.items():
        db.session.execute(
            sa.update(OutboundDelivery)
            .where(OutboundDelivery.id.in_(keys))
            .values(
                state=OutboundState.DELIVERED,
                delivered_at=now,
                next_attempt_at=None,
                claimed_at=None,
                last_status_code=status_code,
                last_error=None,
                updated_at=now,
            ),
            execution_options={"synchronize_session": False},
        )
    partners = {send.integration_id for send, _ in delivered} - {None}
    if partners:
        db.session.execute(
            sa.update(PartnerIntegration)
            .where(PartnerIntegration.id.in_(partners))
            .values(last_sync_at=now),
            execution_options={"synchronize_session": False},
        )
        health.touched(partners)
    _commit_keeping_loaded()
    record_delivery("delivered", len(delivered))
    log.info("delivered %d callbacks in one round", len(delivered))


def _settle_one(send: _Send, result: Outcome | UnsafeTarget) -> None:
    """A failed or refused attempt: the one-delivery path decides retry, 410 or alert."""
    delivery = db.session.get(OutboundDelivery, send.delivery_id, populate_existing=True)
    target = target_for(delivery) if delivery is not None else None
    if target is None:  # removed meanwhile; nothing left to log against
        return
    if isinstance(result, UnsafeTarget):
        _refuse(delivery, target, result, None)
    else:
        _settle(delivery, target, result, None)


def _commit_keeping_loaded() -> None:
    """Commit without expiring what is loaded: the round goes on using it."""
    session = db.session()
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire
