"""Background jobs of e-mail intake. They take ids, never objects."""

from __future__ import annotations

import logging
import uuid

from app.orders.email_intake.drafts import draft_from_email
from app.orders.email_intake.mailbox import partner_for_recipients
from app.platform.extensions import db
from app.platform.models import CommunicationMessage
from app.platform.models.enums import ChannelType, MessageType
from app.platform.transactions import commit

log = logging.getLogger(__name__)


def process_order_email(message_id: str) -> str | None:
    """Turn a stored inbound Outlook e-mail to a partner's order mailbox into a draft.

    The Outlook channel queues this once the message is stored (see
    :mod:`app.orders.email_intake.outlook`). Returns the draft's id; None when the
    message is not an order e-mail (any more). Running it twice for one mail
    makes one draft: drafts are unique per Message-ID.
    """
    message = db.session.get(CommunicationMessage, uuid.UUID(message_id))
    if message is None:
        log.warning("order e-mail %s is gone; no draft made", message_id)
        return None
    if message.message_type != MessageType.INCOMING or (
        message.channel is not None and message.channel.channel_type != ChannelType.EMAIL_OUTLOOK
    ):
        log.warning("message %s is not an inbound e-mail; no draft made", message_id)
        return None
    recipients = (message.recipient_external or {}).get("addresses") or []
    partner = partner_for_recipients(recipients)
    if partner is None:
        log.info("message %s is not addressed to a partner order mailbox", message_id)
        return None
    draft = draft_from_email(
        partner,
        subject=message.subject,
        text=message.message_content,
        html=message.message_html,
        sender=(message.sender_external or {}).get("email"),
        internet_message_id=(message.extra or {}).get("internet_message_id"),
        message_id=message.id,
        source="email",
    )
    draft_id = str(draft.id)
    commit()
    log.info("order e-mail %s from %s is draft %s", message_id, partner.name, draft_id)
    return draft_id
