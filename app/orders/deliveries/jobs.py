"""The delivery job: claim, check, sign, POST once, log, and decide what comes next.

One run of :func:`deliver` makes at most one attempt:

- it first *claims* the delivery with one conditional UPDATE (pending and due,
  or in progress under a claim older than ``DELIVERY_LEASE_SECONDS``, which
  means the worker holding it died mid-call: a live one renews its claim while
  the call lasts, :mod:`app.orders.deliveries.claims`) and commits, so two workers
  never send one delivery at once;
- it refuses URLs that are not https or resolve to internal addresses
  (:mod:`app.platform.security.outbound`), and callbacks to a disabled endpoint;
- it POSTs with a 10 s timeout and no redirects, then writes a
  :class:`DeliveryAttempt` and the outcome in one commit: 2xx delivered; 410
  disables the partner endpoint; 429/503 with ``Retry-After`` waits that long;
  anything else retries after ``DELIVERY_RETRY_BASE_SECONDS`` × 2^(n-1)
  (at most an hour) until ``max_attempts``, then alerts people
  (:mod:`app.orders.deliveries.alerts`).

Retries are RQ scheduled jobs, and ``next_attempt_at`` says when each is due, so
:func:`requeue_stalled_deliveries` finds any whose job was lost (a worker killed
mid-delivery, Redis flushed) and queues it again.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from app.orders.deliveries.alerts import alert_final_failure
from app.orders.deliveries.claims import ClaimKeeper
from app.orders.deliveries.health import record_attempt_health
from app.orders.deliveries.outbox import DELIVER_JOB, QUEUE, serialise, wake_batch_sender
from app.orders.deliveries.payloads import iso
from app.orders.deliveries.targets import DeliveryTarget, target_for
from app.orders.deliveries.transport import MAX_DELAY_SECONDS, Outcome, post
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.jobs.queues import QUEUES, enqueue, get_queue
from app.platform.metrics import record_delivery
from app.platform.models import DeliveryAttempt, OutboundDelivery, PartnerIntegration
from app.platform.models.enums import OutboundState
from app.platform.security.outbound import UnsafeTarget, check_target
from app.platform.transactions import after_commit, commit
from app.platform.transports.ratelimit import RateLimited, acquire

log = logging.getLogger(__name__)

# RQ schedules in whole seconds. A retry's job is handed to RQ this much early
# and waits out the rest itself, so short retry delays land on time.
EARLY_HANDOVER_SECONDS = 1.0
MAX_EARLY_WAIT_SECONDS = 2.0
# A pending delivery this far past due has lost its job: queue it again.
STALLED_PENDING_AFTER = timedelta(seconds=30)
TEST_EVENT = "test"


def deliver(delivery_id: str, triggered_by_user_id: str | None = None) -> str:
    """Job: make the next attempt at one delivery; returns what happened."""
    key = uuid.UUID(delivery_id)
    user_id = uuid.UUID(triggered_by_user_id) if triggered_by_user_id else None
    _wait_until_due(key)
    claimed = _claim(key)
    if claimed is None:
        log.info("delivery %s is not due or is taken; nothing to do", delivery_id)
        return "skipped"
    delivery, reclaimed = claimed
    order_id = delivery.order_id
    result = _attempt(delivery, reclaimed, user_id)
    if order_id is not None and result not in ("retrying", "rate_limited"):
        # The order's next callback may have waited for this one (see claimable).
        after_commit(wake_batch_sender)
        commit()
    return result


def _attempt(delivery: OutboundDelivery, reclaimed: bool, user_id: uuid.UUID | None) -> str:
    target = target_for(delivery)
    if target is None:
        return _cancel(
            delivery, f"not sent: {delivery.kind.value} deliveries are not sent by this engine"
        )
    if reclaimed and _log_lost_attempt(delivery, target.integration):
        return "failed"
    blocked = target.not_sendable(delivery)
    if blocked is not None:
        return _cancel(delivery, blocked)
    allow_private = current_app.config["ALLOW_PRIVATE_WEBHOOK_URLS"]
    try:
        check_target(delivery.target_url, allow_private=allow_private)
    except UnsafeTarget as exc:
        return _refuse(delivery, target, exc, user_id)
    if target.rate_limit:
        try:
            acquire(target.rate_limit)
        except RateLimited as exc:
            # Over the receiver's budget is not an attempt: hand the claim back for later.
            return _release(delivery, exc.retry_after)
    body = (delivery.body or serialise(delivery.payload)).encode("utf-8")
    headers = target.headers(delivery, body)
    lease = current_app.config["DELIVERY_LEASE_SECONDS"]
    try:
        with ClaimKeeper(lease) as keeper:  # a slow partner is not a dead worker
            keeper.hold(delivery.id, delivery.attempt_count)
            outcome = post(delivery.target_url, body, headers, allow_private=allow_private)
    except UnsafeTarget as exc:  # the name now points inside: refused at connect
        return _refuse(delivery, target, exc, user_id)
    return _settle(delivery, target, outcome, user_id)


def _refuse(delivery, target: DeliveryTarget, reason: UnsafeTarget, user_id) -> str:
    """An unsafe target is final: retrying would only knock on the same door."""
    refused = Outcome(None, 0.0, error=str(reason))
    return _settle(delivery, target, refused, user_id, final=True)


def requeue_stalled_deliveries() -> int:
    """Periodic job: queue again deliveries whose job was lost.

    Pending ones well past ``next_attempt_at`` (their scheduled job vanished),
    and in-progress ones whose claim is older than the lease (their worker died
    during the call). The claim in :func:`deliver` makes a duplicate job harmless.
    """
    now = utcnow()
    lease = timedelta(seconds=current_app.config["DELIVERY_LEASE_SECONDS"])
    stalled = db.session.scalars(
        sa.select(OutboundDelivery.id)
        .where(
            sa.or_(
                sa.and_(
                    OutboundDelivery.state == OutboundState.PENDING,
                    sa.func.coalesce(OutboundDelivery.next_attempt_at, OutboundDelivery.created_at)
                    < now - STALLED_PENDING_AFTER,
                ),
                sa.and_(
                    OutboundDelivery.state == OutboundState.IN_PROGRESS,
                    OutboundDelivery.claimed_at < now - lease,
                ),
            )
        )
        .order_by(OutboundDelivery.next_attempt_at)
        .limit(1000)
    ).all()
    for delivery_id in stalled:
        enqueue(DELIVER_JOB, str(delivery_id), queue=QUEUE)
    if stalled:
        # The batch sender too: what waited behind a stalled callback of its order.
        wake_batch_sender()
        log.warning("re-queued %d stalled deliveries", len(stalled))
    return len(stalled)


def schedule_attempt(delivery_id: uuid.UUID, due: datetime) -> None:
    """Queue the job for ``due`` (a little early; :func:`deliver` waits out the rest)."""
    handover = due - timedelta(seconds=EARLY_HANDOVER_SECONDS)
    if handover <= utcnow():
        enqueue(DELIVER_JOB, str(delivery_id), queue=QUEUE)
        return
    spec = QUEUES[QUEUE]
    get_queue(QUEUE).enqueue_at(
        handover,
        DELIVER_JOB,
        str(delivery_id),
        job_timeout=spec.timeout,
        failure_ttl=7 * 24 * 3600,
    )


def backoff_seconds(attempt_number: int, base: float | None = None) -> float:
    """Delay after failed attempt ``n``: base × 2^(n-1), at most an hour."""
    if base is None:
        base = float(current_app.config["DELIVERY_RETRY_BASE_SECONDS"])
    return min(base * 2 ** (attempt_number - 1), MAX_DELAY_SECONDS)


def _wait_until_due(key: uuid.UUID) -> None:
    due = db.session.scalar(
        sa.select(OutboundDelivery.next_attempt_at).where(
            OutboundDelivery.id == key, OutboundDelivery.state == OutboundState.PENDING
        )
    )
    db.session.rollback()  # hold no transaction open while waiting
    if due is not None:
        wait = (due - utcnow()).total_seconds()
        if 0 < wait <= MAX_EARLY_WAIT_SECONDS:
            time.sleep(wait)


def claimable(
    now: datetime, lease: timedelta, delivery: type[OutboundDelivery] = OutboundDelivery
) -> sa.ColumnElement[bool]:
    """Which deliveries a worker may take now.

    Due ones, and ones still in progress under a claim older than the lease
    (their worker died mid-call) -- but not while an earlier delivery of the
    same kind about the same order is still pending or in progress: one order's
    callbacks go out in the order of its status changes, each one only after
    the one before it was delivered or given up (failed, cancelled).
    """
    return sa.and_(
        sa.or_(
            sa.and_(
                delivery.state == OutboundState.PENDING,
                sa.or_(delivery.next_attempt_at.is_(None), delivery.next_attempt_at <= now),
            ),
            abandoned(now - lease, delivery),
        ),
        not_behind_an_open_one(delivery),
    )


def abandoned(leased_before, delivery) -> sa.ColumnElement[bool]:
    """In progress under a claim taken before ``leased_before`` (now minus the lease):
    its worker died mid-call."""
    return sa.and_(
        delivery.state == OutboundState.IN_PROGRESS, delivery.claimed_at < leased_before
    )


def not_behind_an_open_one(delivery) -> sa.ColumnElement[bool]:
    """No earlier delivery of the same kind about the same order is pending or in progress."""
    earlier = so.aliased(OutboundDelivery)
    return ~sa.exists().where(
        earlier.order_id == delivery.order_id,
        earlier.kind == delivery.kind,
        earlier.state.in_((OutboundState.PENDING, OutboundState.IN_PROGRESS)),
        sa.tuple_(earlier.created_at, earlier.id) < sa.tuple_(delivery.created_at, delivery.id),
    )


def claim_values(now: datetime) -> dict:
    """What taking a delivery writes: in progress since now, one attempt more."""
    return {
        "state": OutboundState.IN_PROGRESS,
        "claimed_at": now,
        "attempt_count": OutboundDelivery.attempt_count + 1,
        "updated_at": now,
    }


def _claim(key: uuid.UUID) -> tuple[OutboundDelivery, bool] | None:
    """Take the delivery for this worker and commit; None if not due or taken.

    Returns the delivery and whether an earlier attempt was left without an
    outcome (its worker died): every attempt that ends writes its log row in
    the same commit that releases the claim, so a missing row means a lost one.
    """
    now = utcnow()
    lease = timedelta(seconds=current_app.config["DELIVERY_LEASE_SECONDS"])
    claimed = db.session.scalar(
        sa.update(OutboundDelivery)
        .where(OutboundDelivery.id == key, claimable(now, lease))
        .values(claim_values(now))
        .returning(OutboundDelivery.attempt_count)
    )
    if claimed is None:
        db.session.rollback()
        return None
    lost = claimed > 1 and not db.session.scalar(
        sa.select(sa.func.count(DeliveryAttempt.id)).where(
            DeliveryAttempt.delivery_id == key, DeliveryAttempt.attempt_number == claimed - 1
        )
    )
    commit()
    return db.session.get(OutboundDelivery, key, populate_existing=True), lost


def _log_lost_attempt(delivery: OutboundDelivery, integration: PartnerIntegration | None) -> bool:
    """Log the attempt a dead worker left without outcome; True if that was the last one."""
    lost_number = delivery.attempt_count - 1
    now = utcnow()
    db.session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            attempt_number=lost_number,
            error="no outcome: the worker stopped during this attempt (claim lease expired)",
            created_at=now,
        )
    )
    log.warning("delivery %s: attempt %d was lost with its worker", delivery.id, lost_number)
    if lost_number < delivery.max_attempts:
        db.session.flush()
        return False
    delivery.attempt_count = lost_number
    reason = "the last attempt's outcome is unknown: its worker stopped during the call"
    _fail(delivery, integration, reason, alert=True)
    commit()
    return True


def _settle(
    delivery: OutboundDelivery,
    target: DeliveryTarget,
    outcome: Outcome,
    user_id: uuid.UUID | None,
    *,
    final: bool = False,
) -> str:
    """Log the attempt and decide: delivered, retry later, or give up. Commits."""
    integration = target.integration
    now = utcnow()
    db.session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            attempt_number=delivery.attempt_count,
            status_code=outcome.status_code,
            latency_ms=outcome.latency_ms,
            response_excerpt=outcome.response_excerpt,
            error=outcome.error,
            triggered_by_user_id=user_id,
            created_at=now,
        )
    )
    delivery.last_status_code = outcome.status_code
    delivery.last_error = outcome.error
    delivery.claimed_at = None
    # People watching (a manual retry, a test event) see the outcome in the log.
    alert = user_id is None and delivery.event_type != TEST_EVENT
    if outcome.delivered:
        delivery.state = OutboundState.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        result = "delivered"
    elif outcome.gone and target.disable(
        now, f"{delivery.target_url} answered 410 Gone on {iso(now)}"
    ):
        _fail(delivery, integration, "the endpoint answered 410 Gone and is now disabled", alert)
        result = "disabled"
    elif final or delivery.attempt_count >= delivery.max_attempts:
        _fail(delivery, integration, outcome.summary(), alert)
        result = "failed"
    else:
        delay = (
            outcome.retry_after
            if outcome.retry_after is not None
            else backoff_seconds(delivery.attempt_count, target.retry_base_seconds())
        )
        due = now + timedelta(seconds=delay)
        delivery.state = OutboundState.PENDING
        delivery.next_attempt_at = due
        delivery_key = delivery.id
        after_commit(lambda: schedule_attempt(delivery_key, due))
        result = "retrying"
    if integration is not None:
        record_attempt_health(
            integration, delivered=outcome.delivered, at=now, error=_health_error(delivery, outcome)
        )
    commit()
    record_delivery(result)
    log.info(
        "delivery %s attempt %d: %s (%s)",
        delivery.id,
        delivery.attempt_count,
        result,
        outcome.summary() if not outcome.delivered else outcome.status_code,
    )
    return result


def _fail(
    delivery: OutboundDelivery,
    integration: PartnerIntegration | None,
    reason: str,
    alert: bool,
) -> None:
    delivery.state = OutboundState.FAILED
    delivery.next_attempt_at = None
    delivery.claimed_at = None
    delivery.last_error = reason
    if alert:
        alert_final_failure(delivery, integration, reason)


def _cancel(delivery: OutboundDelivery, reason: str) -> str:
    delivery.attempt_count -= 1  # claimed, but nothing was sent
    delivery.state = OutboundState.CANCELLED
    delivery.next_attempt_at = None
    delivery.claimed_at = None
    delivery.last_error = reason
    commit()
    log.info("delivery %s cancelled: %s", delivery.id, reason)
    return "cancelled"


def _release(delivery: OutboundDelivery, wait_seconds: float) -> str:
    delivery.attempt_count -= 1
    delivery.state = OutboundState.PENDING
    delivery.claimed_at = None
    due = utcnow() + timedelta(seconds=min(max(wait_seconds, 0.05), MAX_DELAY_SECONDS))
    delivery.next_attempt_at = due
    delivery_key = delivery.id
    after_commit(lambda: schedule_attempt(delivery_key, due))
    commit()
    return "rate_limited"


def _health_error(delivery: OutboundDelivery, outcome: Outcome) -> str:
    order = (delivery.payload or {}).get("chargecars_order_id")
    where = f" for {order}" if order else ""
    return f"{delivery.event_type}{where}: {outcome.summary()}"
