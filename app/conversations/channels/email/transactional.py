"""Transactional e-mail: record the send, then deliver it through SendGrid in a job.

:func:`send_transactional` never waits on SendGrid: it records a pending
outbound message (see :mod:`app.conversations.channels.email.records`) and queues
:func:`deliver` for when the caller commits with :func:`app.platform.transactions.commit`.
The job makes the call, so a slow or failing SendGrid never holds up a request,
and a retry re-sends the same recorded mail instead of recording a second one.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta, timezone

import sqlalchemy.orm as so
from flask import current_app
from rq import get_current_job

from app.conversations.channels.email.records import record_mail
from app.conversations.channels.email.sendgrid import PROVIDER, build_mail
from app.conversations.channels.email.settings import template_id_for
from app.conversations.contacts.services import contact_for_email
from app.conversations.core import record_delivery
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.jobs.queues import QUEUES, get_queue
from app.platform.models import CommunicationMessage, Contact, Order
from app.platform.models.enums import DeliveryStatus
from app.platform.transactions import after_commit, commit
from app.platform.transports.base import RATE_LIMITED, OutboundMessage, TransportError
from app.platform.transports.registry import is_sandboxed, transport_for

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
MAX_DELAY_SECONDS = 3600
# SendGrid schedules at most 72 hours ahead; later mails wait in our queue until
# a day before their time, then go to SendGrid with send_at.
SENDGRID_SCHEDULE_LIMIT = timedelta(hours=72)
HAND_OVER_BEFORE = timedelta(hours=24)


def send_transactional(
    to: str,
    template_key: str,
    dynamic_data: dict,
    categories: list[str],
    send_at: datetime | int | None = None,
    *,
    name: str | None = None,
    contact: Contact | None = None,
    order: Order | None = None,
    subject: str | None = None,
    sender_user_id: uuid.UUID | None = None,
    extra: dict | None = None,
    queue: str = "deliveries",
) -> CommunicationMessage:
    """Record a templated e-mail to ``to`` and queue its delivery after the commit.

    Raises :class:`~app.conversations.channels.email.settings.UnknownTemplate` for an unknown
    template key and ValueError for an address that is not one. The caller
    commits with :func:`app.platform.transactions.commit` (a plain session commit would
    leave the mail pending, unsent).
    """
    template_id = template_id_for(template_key, current_app.config)
    contact = contact or contact_for_email(to, name)
    if not (contact.email or "").strip():
        raise ValueError(f"contact {contact.id} has no e-mail address")
    timestamp = _timestamp(send_at)
    message = record_mail(
        contact,
        subject=subject or f"E-mail: {template_key}",
        template_key=template_key,
        order=order,
        sender_user_id=sender_user_id,
        extra=extra,
        sendgrid={
            "template_id": template_id,
            "dynamic_template_data": dynamic_data or {},
            "categories": list(categories or []),
            "send_at": timestamp,
        },
    )
    message_id = str(message.id)
    after_commit(lambda: enqueue_delivery(message_id, queue=queue, send_at=timestamp))
    return message


def enqueue_delivery(
    message_id: str,
    *,
    queue: str = "deliveries",
    send_at: int | None = None,
    attempt: int = 1,
    delay: float | None = None,
) -> None:
    """Queue :func:`deliver` now, after ``delay`` seconds, or a day before a far ``send_at``."""
    target = get_queue(queue)
    options = {"job_timeout": QUEUES[queue].timeout, "failure_ttl": 7 * 24 * 3600}
    path = "app.conversations.channels.email.transactional.deliver"
    if send_at and _from_timestamp(send_at) - utcnow() > SENDGRID_SCHEDULE_LIMIT:
        target.enqueue_at(
            _from_timestamp(send_at) - HAND_OVER_BEFORE, path, message_id, attempt, **options
        )
    elif delay:
        delay = min(delay, MAX_DELAY_SECONDS)
        target.enqueue_in(timedelta(seconds=delay), path, message_id, attempt, **options)
    else:
        target.enqueue(path, message_id, attempt, **options)


def deliver(message_id: str, attempt: int = 1) -> str | None:
    """Job: hand a pending transactional e-mail to SendGrid (or the sandbox)."""
    message = db.session.get(
        CommunicationMessage,
        uuid.UUID(message_id),
        options=[so.joinedload(CommunicationMessage.thread)],
    )
    if message is None or message.delivery_status != DeliveryStatus.PENDING:
        log.info("e-mail %s is not pending; nothing to deliver", message_id)
        return None
    config = current_app.config
    spec = (message.extra or {}).get("sendgrid") or {}
    payload = build_mail(
        config,
        to_email=message.recipient_external["email"],
        to_name=message.recipient_external.get("name"),
        template_id=spec.get("template_id"),
        dynamic_data=spec.get("dynamic_template_data"),
        categories=spec.get("categories") or [],
        send_at=_still_ahead(spec.get("send_at")),
    )
    try:
        result = transport_for(PROVIDER).send(
            OutboundMessage(
                message.id,
                PROVIDER,
                message.recipient_external["email"],
                message.message_content,
                subject=message.subject,
                payload=payload,
            )
        )
    except TransportError as exc:
        if exc.code == RATE_LIMITED:
            # Over the shared 600/minute budget: wait for the next window, not an attempt.
            _requeue(message_id, attempt, exc.retry_after or 1)
            return "rate_limited"
        return _failed(message, attempt, exc)
    message.external_message_id = result.external_message_id
    record_delivery(message, DeliveryStatus.SENT)
    commit()
    if is_sandboxed(PROVIDER):
        # As for chat replies: a simulated "delivered" follows, so the UI shows real ticks.
        get_queue("deliveries").enqueue_in(
            timedelta(seconds=current_app.config["SANDBOX_DELIVERY_STEP_SECONDS"]),
            "app.conversations.core.sending.record_delivery_status",
            str(message.id),
            DeliveryStatus.DELIVERED.value,
        )
    return result.external_message_id


def _failed(message: CommunicationMessage, attempt: int, exc: TransportError) -> str:
    if exc.retryable and attempt < MAX_ATTEMPTS:
        commit()  # keeps the provider status the transport recorded
        delay = exc.retry_after or _backoff(attempt)
        log.warning("e-mail %s: %s; retry %d in %.0fs", message.id, exc, attempt + 1, delay)
        _requeue(str(message.id), attempt + 1, delay)
        return "retrying"
    record_delivery(message, DeliveryStatus.FAILED, str(exc))
    commit()
    log.error("e-mail %s failed after %d attempt(s): %s", message.id, attempt, exc)
    return "failed"


def _requeue(message_id: str, attempt: int, delay: float) -> None:
    job = get_current_job()
    queue = job.origin if job is not None and job.origin in QUEUES else "deliveries"
    enqueue_delivery(message_id, queue=queue, attempt=attempt, delay=max(delay, 0.05))


def _backoff(attempt: int) -> float:
    base = float(current_app.config["DELIVERY_RETRY_BASE_SECONDS"])
    return min(base * 2 ** (attempt - 1), MAX_DELAY_SECONDS)


def _timestamp(send_at: datetime | int | None) -> int | None:
    if send_at is None:
        return None
    if isinstance(send_at, datetime):
        if send_at.tzinfo is None:
            raise ValueError("send_at needs a time zone")
        return int(send_at.timestamp())
    return int(send_at)


def _from_timestamp(value: int) -> datetime:
    return datetime.fromtimestamp(value, tz=timezone.utc)


def _still_ahead(send_at: int | None) -> int | None:
    """``send_at`` if it is still in the future; a past time means "now" (after a retry)."""
    if send_at and _from_timestamp(send_at) > utcnow() + timedelta(seconds=60):
        return send_at
    return None
