"""Processing a stored WhatsApp webhook event: customer messages and our ticks.

Runs in the webhook job (:mod:`app.webhooks.processing`), which commits when
this returns and rolls everything back when it raises. Jobs that must only
start once the messages are committed (media downloads, the auto-reply's send)
are registered with ``after_commit``.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from app.channels.whatsapp.autoreply import answer_order_status_question
from app.channels.whatsapp.out_of_hours import answer_out_of_hours
from app.channels.whatsapp.payloads import change_values, parse_message, profile_names
from app.contacts.phones import normalise_phone
from app.contacts.services import contact_for_phone
from app.database import utcnow
from app.jobs.queues import enqueue
from app.models import CommunicationChannel, CommunicationMessage, InboundWebhookEvent
from app.models.enums import ChannelType, DeliveryStatus
from app.threads.inbound import InboundMessage, apply_delivery_report, channel_of_type, receive
from app.transactions import after_commit

log = logging.getLogger(__name__)

DELIVERY_STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}


def process_event(event: InboundWebhookEvent) -> None:
    """Store every message of the event and apply every status; raise to fail it."""
    payload = json.loads(event.raw_body)
    channel = channel_of_type(ChannelType.WHATSAPP_BUSINESS)
    for value in change_values(payload):
        names = profile_names(value)
        phone_number_id = (value.get("metadata") or {}).get("phone_number_id")
        for message in value.get("messages") or []:
            receive_message(channel, message, names.get(message["from"]), phone_number_id)
        for status in value.get("statuses") or []:
            apply_status(status)
        for error in value.get("errors") or []:
            # Account-level trouble Meta reports outside any message.
            log.warning("WhatsApp reported an error in event %s: %s", event.id, error)


def receive_message(
    channel: CommunicationChannel,
    message: dict,
    profile_name: str | None,
    phone_number_id: str | None = None,
) -> CommunicationMessage | None:
    """Store one customer message; None when the same wamid was stored before.

    WhatsApp is one conversation per customer: the message joins the contact's
    open WhatsApp thread, even when it quotes (``context``) an older message of
    a thread since closed; the quoted id is kept in the metadata.
    """
    wa_id = message["from"]
    contact = contact_for_phone(wa_id, profile_name)
    parsed = parse_message(message)
    stored = receive(
        channel,
        contact,
        InboundMessage(
            external_message_id=message["id"],
            content=parsed.content,
            received_at=_sent_at(message.get("timestamp")),
            attachments=parsed.attachments,
            sender_external={
                "phone": normalise_phone(wa_id),
                "wa_id": wa_id,
                "name": profile_name,
            },
            metadata={**parsed.metadata, "phone_number_id": phone_number_id},
        ),
    )
    if stored is None:
        return None
    for attachment in parsed.attachments:
        _fetch_after_commit(str(stored.id), attachment["media_id"])
    if message.get("type") == "text":
        answer_order_status_question(stored, contact)
    answer_out_of_hours(stored, contact)
    return stored


def _fetch_after_commit(message_id: str, media_id: str) -> None:
    after_commit(lambda: enqueue("app.channels.whatsapp.media.fetch_media", message_id, media_id))


def apply_status(status: dict) -> bool:
    """Move one of our messages' ticks on; False for statuses we do not track."""
    delivery = DELIVERY_STATUSES.get(status["status"])
    if delivery is None:
        log.info("ignoring WhatsApp status %r for %s", status["status"], status["id"])
        return False
    error = failure_reason(status) if delivery == DeliveryStatus.FAILED else None
    known = apply_delivery_report(
        ChannelType.WHATSAPP_BUSINESS, status["id"], delivery, error=error
    )
    if not known:
        log.info("WhatsApp status %s for unknown message %s", status["status"], status["id"])
    return known


def failure_reason(status: dict) -> str:
    """The reason of a failed status, e.g. "131047: Re-engagement message — <details>"."""
    errors = status.get("errors") or []
    error = errors[0] if errors and isinstance(errors[0], dict) else {}
    code, title = error.get("code"), error.get("title") or error.get("message")
    if code is None and not title:
        return "WhatsApp could not deliver the message."
    reason = f"{code}: {title}" if code is not None else str(title)
    details = (error.get("error_data") or {}).get("details")
    return f"{reason} — {details}" if details else reason


def _sent_at(timestamp: object) -> datetime:
    try:
        return datetime.fromtimestamp(int(str(timestamp)), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError):
        return utcnow()
