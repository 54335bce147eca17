"""Applying SendGrid events to the e-mails they are about (the ``"sendgrid"`` processor).

Each event names its mail by ``sg_message_id``, which starts with the
X-Message-Id we stored as the message's ``external_message_id``. Applied events
are kept on the message (``extra["sendgrid_events"]``, by ``sg_event_id``), so
an event SendGrid delivers twice, in the same batch or another, counts once.

delivered → delivered; open/click → read; bounce → bounced, a blocked bounce or
dropped → failed, with SendGrid's reason; processed → sent; deferred is SendGrid
still trying and changes nothing. Runs in the webhook job; never commits.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

import sqlalchemy as sa

from app.conversations.core import record_delivery
from app.platform.extensions import db
from app.platform.models import CommunicationChannel, CommunicationMessage, InboundWebhookEvent
from app.platform.models.enums import ChannelType, DeliveryStatus

log = logging.getLogger(__name__)

IGNORED_EVENTS = ("deferred",)
STATUS_BY_EVENT = {
    "processed": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "open": DeliveryStatus.READ,
    "click": DeliveryStatus.READ,  # a click means it was opened, images off or not
}
# Kept per message; opens repeat, so the history is capped.
MAX_HISTORY = 50


def process_event(event: InboundWebhookEvent) -> None:
    applied = sum(1 for item in json.loads(event.raw_body) if apply_event(item))
    log.info("SendGrid batch %s: %d event(s) applied", event.id, applied)


def apply_event(item: dict) -> bool:
    """Apply one SendGrid event; False when it is ignored, a repeat, or about no mail of ours."""
    kind = str(item.get("event") or "")
    sg_message_id = item.get("sg_message_id")
    if kind in IGNORED_EVENTS or not isinstance(sg_message_id, str) or not sg_message_id:
        return False
    message = _message_for(sg_message_id)
    if message is None:
        return False
    event_id = item.get("sg_event_id")
    history = list((message.extra or {}).get("sendgrid_events") or [])
    if event_id and any(entry.get("id") == event_id for entry in history):
        return False
    history.append({"id": event_id, "event": kind, "at": _when(item.get("timestamp"))})
    # A new dict, so the JSON column sees the change.
    message.extra = {**(message.extra or {}), "sendgrid_events": history[-MAX_HISTORY:]}
    status, error = _status_of(kind, item)
    if status is not None:
        record_delivery(message, status, error)
    return True


def _status_of(kind: str, item: dict) -> tuple[DeliveryStatus | None, str | None]:
    reason = " ".join(str(item.get("reason") or item.get("response") or "").split())[:500]
    if kind == "bounce":
        if item.get("type") == "blocked":
            return DeliveryStatus.FAILED, f"Blocked: {reason or 'no reason given'}"
        return DeliveryStatus.BOUNCED, f"Bounced: {reason or 'no reason given'}"
    if kind == "dropped":
        return DeliveryStatus.FAILED, f"Dropped: {reason or 'no reason given'}"
    return STATUS_BY_EVENT.get(kind), None


def _message_for(sg_message_id: str) -> CommunicationMessage | None:
    # "<X-Message-Id>.filterdrecv-…" today; older ids had dots of their own.
    candidates = {sg_message_id, sg_message_id.split(".filter")[0], sg_message_id.split(".")[0]}
    return db.session.scalar(
        sa.select(CommunicationMessage)
        .join(CommunicationChannel, CommunicationChannel.id == CommunicationMessage.channel_id)
        .where(
            CommunicationChannel.channel_type == ChannelType.EMAIL_OUTLOOK,
            CommunicationMessage.external_message_id.in_(candidates),
        )
        .limit(1)
        # Two batches about one mail may be processed at once; the row lock makes the
        # second wait and see the first one's history (a no-op on SQLite).
        .with_for_update()
    )


def _when(timestamp) -> str | None:
    try:
        return datetime.fromtimestamp(int(timestamp), tz=timezone.utc).isoformat()
    except (TypeError, ValueError, OverflowError):
        return None
