"""Processing stored SMS webhook events (the ``"sms"`` processor).

Runs in the webhook job: it writes to the session and never commits (the job
does, or rolls everything back when this raises).
"""

from __future__ import annotations

import logging

from app.conversations.channels.sms.payloads import (
    is_status_callback,
    message_sid,
    message_status,
    parse_form,
)
from app.conversations.contacts.identities import PHONE
from app.conversations.contacts.phones import normalise_phone
from app.conversations.core import (
    InboundMessage,
    Sender,
    apply_delivery_report,
    channel_of_type,
    record_inbound,
)
from app.platform.models import InboundWebhookEvent
from app.platform.models.enums import ChannelType, DeliveryStatus

log = logging.getLogger(__name__)

# Twilio's MessageStatus → ours. queued/accepted/scheduled/sending say nothing
# our message does not already show once the send job has recorded "sent".
STATUS_MAP = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}
# The carrier errors agents meet most, so the thread says more than a number.
ERROR_DESCRIPTIONS = {
    "30003": "unreachable destination handset",
    "30004": "message blocked by the recipient or carrier",
    "30005": "unknown destination handset",
    "30006": "landline or unreachable carrier",
    "30007": "filtered by the carrier as spam",
    "30008": "unknown error from the carrier",
    "21610": "the recipient has unsubscribed (STOP)",
}


def process_event(event: InboundWebhookEvent) -> None:
    fields = dict(parse_form(event.raw_body))
    if is_status_callback(fields):
        _apply_status(fields)
    else:
        _receive(event, fields)


def _receive(event: InboundWebhookEvent, fields: dict[str, str]) -> None:
    sender = fields.get("From", "")
    inbound = InboundMessage(
        external_message_id=message_sid(fields),
        content=fields.get("Body", ""),
        # Twilio's form carries no timestamp; the moment it reached us is the best one.
        received_at=event.created_at,
        attachments=_media(fields),
        sender_external={"phone": normalise_phone(sender) or sender},
        metadata={
            "to": fields.get("To"),
            "num_segments": fields.get("NumSegments"),
            "provider": "sms",
        },
    )
    channel = channel_of_type(ChannelType.SMS, cached=True)
    # Raises ValueError for a sender that is no phone number (a short code name):
    # the event is kept as failed for a person to look at, never silently dropped.
    message = record_inbound(channel, Sender(PHONE, sender), inbound)
    if message is None:
        log.info("SMS %s was already stored", inbound.external_message_id)


def _media(fields: dict[str, str]) -> list[dict]:
    """MMS media as references; Twilio keeps the files at these URLs."""
    try:
        count = int(fields.get("NumMedia") or 0)
    except ValueError:
        count = 0
    media = []
    for index in range(min(count, 10)):  # Twilio allows at most 10 per message
        url = fields.get(f"MediaUrl{index}")
        if url:
            content_type = fields.get(f"MediaContentType{index}") or "application/octet-stream"
            media.append(
                {
                    "url": url,
                    "content_type": content_type,
                    "filename": f"media-{index + 1}.{content_type.rsplit('/', 1)[-1]}",
                }
            )
    return media


def _apply_status(fields: dict[str, str]) -> None:
    status = STATUS_MAP.get(message_status(fields))
    sid = message_sid(fields)
    if status is None:
        return
    error = _error_text(fields) if status == DeliveryStatus.FAILED else None
    # An unknown sid is a message sent outside Switchboard (the Twilio console, another
    # app on the same number): nothing of ours to update, so not a failure either.
    if not apply_delivery_report(ChannelType.SMS, sid, status, error=error):
        log.info("status %s for unknown SMS %s ignored", message_status(fields), sid)


def _error_text(fields: dict[str, str]) -> str:
    code = (fields.get("ErrorCode") or "").strip()
    if not code:
        return f"The carrier reported the message {message_status(fields)}."
    description = ERROR_DESCRIPTIONS.get(code)
    return f"ErrorCode {code}: {description}" if description else f"ErrorCode {code}"
