"""The delivery job: claim, check, sign, POST once, log, and decide what comes next.

One run of :func:`deliver` makes at most one attempt:

- it first *claims* the delivery with one conditional UPDATE (pending and due,
  or in progress under a claim older than ``DELIVERY_LEASE_SECONDS``, which
  means the worker holding it died mid-call) and commits, so two workers never
  send one delivery at once;
- it refuses URLs that are not https or resolve to internal addresses
  (:mod:`app.deliveries.safety`), and callbacks to a disabled endpoint;
- it POSTs with a 10 s timeout and no redirects, then writes a
  :class:`DeliveryAttempt` and the outcome in one commit: 2xx delivered; 410
  disables the partner endpoint; 429/503 with ``Retry-After`` waits that long;
  anything else retries after ``DELIVERY_RETRY_BASE_SECONDS`` × 2^(n-1)
  (at most an hour) until ``max_attempts``, then alerts people
  (:mod:`app.deliveries.alerts`).

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
from flask import current_app

from app.channels.ratelimit import RateLimited, acquire
from app.database import utcnow
from app.deliveries.alerts import alert_final_failure
from app.deliveries.health import record_attempt_health
from app.deliveries.outbox import DELIVER_JOB, QUEUE, disabled_note, serialise
from app.deliveries.payloads import iso
from app.deliveries.safety import UnsafeTarget, check_target
from app.deliveries.signing import (
    endpoint_headers,
    make_scenario_headers,
    partner_callback_headers,
)
from app.deliveries.transport import MAX_DELAY_SECONDS, Outcome, post
from app.extensions import db
from app.jobs.queues import QUEUES, enqueue, get_queue
from app.models import DeliveryAttempt, OutboundDelivery, PartnerIntegration, WebhookEndpoint
from app.models.enums import DeliveryKind, OutboundState
from app.transactions import after_commit, commit

log = logging.getLogger(__name__)

# RQ schedules in whole seconds. A retry's job is handed to RQ this much early
# and waits out the rest itself, so short retry delays land on time.
EARLY_HANDOVER_SECONDS = 1.0
MAX_EARLY_WAIT_SECONDS = 2.0
# A pending delivery this far past due has lost its job: queue it again.
STALLED_PENDING_AFTER = timedelta(seconds=30)
TEST_EVENT = "test"
MAKE_PROVIDER = "make"
SENT_KINDS = (
    DeliveryKind.PARTNER_CALLBACK,
    DeliveryKind.MAKE_SCENARIO,
    DeliveryKind.WEBHOOK_ENDPOINT,
)


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
    integration = (
        db.session.get(PartnerIntegration, delivery.partner_integration_id)
        if delivery.partner_integration_id
        else None
    )
    if reclaimed and _log_lost_attempt(delivery, integration):
        return "failed"
    blocked = _not_sendable(delivery, integration)
    if blocked is not None:
        return _cancel(delivery, blocked)
    allow_private = current_app.config["ALLOW_PRIVATE_WEBHOOK_URLS"]
    try:
        check_target(delivery.target_url, allow_private=allow_private)
    except UnsafeTarget as exc:
        return _refuse(delivery, integration, exc, user_id)
    if delivery.kind == DeliveryKind.MAKE_SCENARIO:
        try:
            acquire(MAKE_PROVIDER)
        except RateLimited as exc:
            # Over Make.com's budget is not an attempt: hand the claim back for later.
            return _release(delivery, exc.retry_after)
    body = (delivery.body or serialise(delivery.payload)).encode("utf-8")
    headers = _headers(delivery, integration, body)
    try:
        outcome = post(delivery.target_url, body, headers, allow_private=allow_private)
    except UnsafeTarget as exc:  # the name now points inside: refused at connect
        return _refuse(delivery, integration, exc, user_id)
    return _settle(delivery, integration, outcome, user_id)


def _refuse(delivery, integration, reason: UnsafeTarget, user_id) -> str:
    """An unsafe target is final: retrying would only knock on the same door."""
    refused = Outcome(None, 0.0, error=str(reason))
    return _settle(delivery, integration, refused, user_id, final=True)


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
        .where(
            OutboundDelivery.id == key,
            sa.or_(
                sa.and_(
                    OutboundDelivery.state == OutboundState.PENDING,
                    sa.or_(
                        OutboundDelivery.next_attempt_at.is_(None),
                        OutboundDelivery.next_attempt_at <= now,
                    ),
                ),
                sa.and_(
                    OutboundDelivery.state == OutboundState.IN_PROGRESS,
                    OutboundDelivery.claimed_at < now - lease,
                ),
            ),
        )
        .values(
            state=OutboundState.IN_PROGRESS,
            claimed_at=now,
            attempt_count=OutboundDelivery.attempt_count + 1,
            updated_at=now,
        )
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
    db.session.commit()
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


def _not_sendable(delivery: OutboundDelivery, integration: PartnerIntegration | None) -> str | None:
    """Why a delivery must not go out now, or None."""
    if delivery.kind not in SENT_KINDS:
        return f"not sent: {delivery.kind.value} deliveries are not sent by this engine"
    if delivery.kind == DeliveryKind.WEBHOOK_ENDPOINT:
        return _endpoint_not_sendable(delivery)
    if delivery.kind != DeliveryKind.PARTNER_CALLBACK:
        return None
    if integration is None:
        return "not sent: the partner integration was removed"
    if integration.webhook_disabled_at is not None:
        return disabled_note(integration)
    if not integration.webhook_url:
        return "not sent: the partner has no webhook URL"
    if not integration.webhook_secret:
        return "not sent: the partner has no webhook secret to sign with"
    # The partner may have moved its endpoint since: a retry goes where it is now.
    delivery.target_url = integration.webhook_url
    return None


def _endpoint(delivery: OutboundDelivery) -> WebhookEndpoint | None:
    if delivery.kind != DeliveryKind.WEBHOOK_ENDPOINT or delivery.webhook_endpoint_id is None:
        return None
    return db.session.get(WebhookEndpoint, delivery.webhook_endpoint_id)


def _endpoint_not_sendable(delivery: OutboundDelivery) -> str | None:
    endpoint = _endpoint(delivery)
    if endpoint is None:
        return "not sent: the webhook endpoint was removed"
    if endpoint.disabled_at is not None:
        return f"not sent: the endpoint is disabled ({endpoint.disabled_reason or 'no reason'})"
    if not endpoint.is_active:
        return "not sent: the endpoint is switched off"
    if not endpoint.secret:
        return "not sent: the endpoint has no secret to sign with"
    delivery.target_url = endpoint.url  # an edited URL applies to retries too
    return None


def _headers(
    delivery: OutboundDelivery, integration: PartnerIntegration | None, body: bytes
) -> dict[str, str]:
    if delivery.kind == DeliveryKind.WEBHOOK_ENDPOINT:
        endpoint = _endpoint(delivery)
        return endpoint_headers(
            event=delivery.event_type,
            msg_id=delivery.webhook_id,
            body=body,
            secret=endpoint.secret,
            custom_headers=endpoint.custom_headers,
        )
    if delivery.kind == DeliveryKind.PARTNER_CALLBACK:
        return partner_callback_headers(
            event=delivery.event_type,
            msg_id=delivery.webhook_id,
            body=body,
            secret=integration.webhook_secret,
        )
    return make_scenario_headers(
        scenario=delivery.event_type,
        msg_id=delivery.webhook_id,
        body=body,
        secret=current_app.config.get("MAKE_WEBHOOK_SECRET"),
    )


def _settle(
    delivery: OutboundDelivery,
    integration: PartnerIntegration | None,
    outcome: Outcome,
    user_id: uuid.UUID | None,
    *,
    final: bool = False,
) -> str:
    """Log the attempt and decide: delivered, retry later, or give up. Commits."""
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
    elif outcome.gone and (integration is not None or _endpoint(delivery) is not None):
        gone_since = f"{delivery.target_url} answered 410 Gone on {iso(now)}"
        if integration is not None:
            integration.webhook_disabled_at = now
            integration.webhook_disabled_reason = gone_since
        else:
            endpoint = _endpoint(delivery)
            endpoint.disabled_at = now
            endpoint.disabled_reason = gone_since
        _fail(delivery, integration, "the endpoint answered 410 Gone and is now disabled", alert)
        result = "disabled"
    elif final or delivery.attempt_count >= delivery.max_attempts:
        _fail(delivery, integration, outcome.summary(), alert)
        result = "failed"
    else:
        endpoint = _endpoint(delivery)
        base = endpoint.retry_base_seconds if endpoint is not None else None
        delay = (
            outcome.retry_after
            if outcome.retry_after is not None
            else backoff_seconds(delivery.attempt_count, base)
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
