"""Sending replies in the background, and the sandbox's simulated delivery.

Jobs take message ids. A send is at-least-once: if the worker dies after the
provider accepted the message but before the commit, the retry sends again;
the message row only ever moves forward (see ``advance_delivery``).
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import sqlalchemy.orm as so
from flask import current_app
from rq import Retry

from app.channels.registry import is_sandboxed, transport_for
from app.channels.sandbox import SandboxTransport
from app.channels.transport import OutboundMessage, TransportError
from app.extensions import db
from app.jobs.queues import QUEUES, get_queue
from app.models import CommunicationMessage, CommunicationTemplate
from app.models.enums import DeliveryStatus
from app.threads.presenters import announce_thread
from app.threads.services import advance_delivery
from app.transactions import commit

log = logging.getLogger(__name__)

SEND_RETRY = Retry(max=3, interval=[5, 30, 120])


def enqueue_send(message_id: uuid.UUID) -> None:
    get_queue("deliveries").enqueue(
        "app.threads.jobs.send_message",
        str(message_id),
        job_timeout=QUEUES["deliveries"].timeout,
        retry=SEND_RETRY,
        failure_ttl=7 * 24 * 3600,
    )


def _load(message_id: str) -> CommunicationMessage | None:
    return db.session.get(
        CommunicationMessage,
        uuid.UUID(message_id),
        options=[
            so.joinedload(CommunicationMessage.thread),
            so.joinedload(CommunicationMessage.channel),
        ],
    )


def send_message(message_id: str) -> str | None:
    """Hand a pending outbound message to its channel's transport."""
    message = _load(message_id)
    if message is None or message.delivery_status != DeliveryStatus.PENDING:
        log.info("message %s is not pending; nothing to send", message_id)
        return None
    channel_type = message.channel.channel_type.value
    recipient = message.recipient_external.get("phone") or message.recipient_external.get("email")
    extra = message.extra or {}
    template = (
        db.session.get(CommunicationTemplate, message.template_id) if message.template_id else None
    )
    # A message goes out as an approved WhatsApp template when whoever wrote it
    # stored the template's parameters (compose_reply past the 24-hour window,
    # the order-status auto-reply, the external send API, which may also name
    # the approved template itself); otherwise its text is sent as written.
    template_name = extra.get("template_name") or (
        template.whatsapp_template_name if template else None
    )
    as_template = bool(template_name) and "template_parameters" in extra
    outbound = OutboundMessage(
        message_id=message.id,
        channel_type=channel_type,
        recipient=recipient,
        body=message.message_content,
        subject=message.subject,
        html=message.message_html,
        reply_to_external_id=extra.get("reply_to"),
        template_name=template_name if as_template else None,
        template_parameters=list(extra.get("template_parameters") or []) if as_template else [],
        template_language=extra.get("template_language") if as_template else None,
    )
    transport = transport_for(channel_type)
    try:
        result = transport.send(outbound)
    except TransportError as exc:
        if exc.retryable:
            log.warning("send of message %s failed, will retry: %s", message_id, exc)
            # Keep what the transport noted about the provider's health; the
            # message itself stays pending for the retry.
            commit()
            raise
        advance_delivery(message, DeliveryStatus.FAILED, str(exc))
        # commit() runs what the transport queued for after the commit (admin alerts).
        commit()
        announce_thread(message.thread, "delivery", message_id=message.id, delivery_status="failed")
        return None
    message.external_message_id = result.external_message_id
    advance_delivery(message, DeliveryStatus(result.status))
    commit()
    announce_thread(
        message.thread, "delivery", message_id=message.id, delivery_status=result.status
    )
    if is_sandboxed(channel_type):
        _schedule_simulated_progress(message.id, channel_type)
    return result.external_message_id


def _schedule_simulated_progress(message_id: uuid.UUID, channel_type: str) -> None:
    queue = get_queue("deliveries")
    step_seconds = current_app.config["SANDBOX_DELIVERY_STEP_SECONDS"]
    for step, status in enumerate(SandboxTransport.simulated_progress(channel_type), start=1):
        queue.enqueue_in(
            timedelta(seconds=step_seconds * step),
            "app.threads.jobs.record_delivery_status",
            str(message_id),
            status,
        )


def record_delivery_status(message_id: str, status: str, error: str | None = None) -> bool:
    """Apply a delivery status report (sandbox simulation; provider webhooks later)."""
    message = _load(message_id)
    if message is None:
        return False
    changed = advance_delivery(message, DeliveryStatus(status), error)
    if not changed:
        return False
    db.session.commit()
    announce_thread(message.thread, "delivery", message_id=message.id, delivery_status=status)
    return True
