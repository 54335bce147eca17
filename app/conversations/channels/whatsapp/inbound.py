"""Processing a stored WhatsApp webhook event: customer messages and our ticks.

Runs in the webhook job (:mod:`app.platform.webhooks.processing`), which commits when
this returns and rolls everything back when it raises. The conversation's owner
stores each message; what follows a customer's message (media downloads, the
order-status and out-of-hours answers) are listeners of its ``MessageCreated``
(:mod:`app.conversations.channels.whatsapp.listeners`), run after the commit.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from app.conversations.channels.whatsapp.payloads import change_values, parse_message, profile_names
from app.conversations.channels.whatsapp.replies import InteractiveReply, take_reply
from app.conversations.contacts.identities import PHONE
from app.conversations.contacts.phones import normalise_phone
from app.conversations.core import (
    InboundMessage,
    Sender,
    apply_delivery_report,
    apply_delivery_reports,
    channel_of_type,
    hold_senders,
    record_inbound,
)
from app.platform.database import utcnow
from app.platform.models import CommunicationChannel, CommunicationMessage, InboundWebhookEvent
from app.platform.models.enums import ChannelType, DeliveryStatus

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
    channel = channel_of_type(ChannelType.WHATSAPP_BUSINESS, cached=True)
    # Every sender of the event held at once, in one order: two events naming
    # the same customers never wait on each other.
    hold_senders(
        [
            Sender(PHONE, message["from"])
            for value in change_values(payload)
            for message in value.get("messages") or []
        ]
    )
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
    """Store one customer message; None when the same wamid was stored before,
    or when it answers an interactive message a feature takes itself
    (:mod:`app.conversations.channels.whatsapp.replies`).

    WhatsApp is one conversation per customer: the message joins the contact's
    open WhatsApp thread, even when it quotes (``context``) an older message of
    a thread since closed; the quoted id is kept in the metadata.
    """
    wa_id = message["from"]
    parsed = parse_message(message)
    reply_id = parsed.metadata.get("reply_id")
    if reply_id and take_reply(
        InteractiveReply(str(reply_id), parsed.content, wa_id, message["id"])
    ):
        return None  # an answer another feature keeps (a satisfaction rating)
    return record_inbound(
        channel,
        Sender(PHONE, wa_id, whatsapp_profile_name=profile_name),
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


def apply_statuses(events: list[InboundWebhookEvent]) -> None:
    """Apply the statuses of many status-only events at once, in the order given.

    Meta reports every message we send two or three times (sent, delivered, read),
    each in an event of its own: as many events as the customers' messages when
    we answer each. A batch applies all of its statuses in one transaction
    (:func:`~app.conversations.core.apply_delivery_reports`) instead of one each.
    """
    reports = []
    for event in events:
        for value in change_values(json.loads(event.raw_body)):
            for status in value.get("statuses") or []:
                delivery = DELIVERY_STATUSES.get(status["status"])
                if delivery is None:
                    log.info("ignoring WhatsApp status %r for %s", status["status"], status["id"])
                    continue
                error = failure_reason(status) if delivery == DeliveryStatus.FAILED else None
                reports.append((status["id"], delivery, error))
    unknown = apply_delivery_reports(ChannelType.WHATSAPP_BUSINESS, reports)
    for external_id in unknown:
        log.info("WhatsApp status for unknown message %s", external_id)


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
