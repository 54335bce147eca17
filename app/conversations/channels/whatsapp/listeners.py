"""What follows a customer's WhatsApp message, once it is committed.

Each reaction runs in a transaction of its own, so a template that cannot be
filled or a media id the provider forgot never costs the customer's message.
"""

from __future__ import annotations

from app.conversations.channels.whatsapp.autoreply import answer_order_status_question
from app.conversations.channels.whatsapp.out_of_hours import answer_out_of_hours
from app.conversations.core.events import MessageCreated
from app.platform.events import listens_to
from app.platform.extensions import db
from app.platform.jobs.queues import enqueue
from app.platform.models import CommunicationMessage
from app.platform.models.enums import ChannelType
from app.platform.transactions import commit


def _customer_message(event: MessageCreated) -> CommunicationMessage | None:
    if event.direction != "inbound" or event.channel_type != ChannelType.WHATSAPP_BUSINESS:
        return None
    # A plain get: the committed message is still loaded (app.platform.transactions).
    return db.session.get(CommunicationMessage, event.message_id)


@listens_to(MessageCreated)
def fetch_media(event: MessageCreated) -> None:
    """Download the photos, documents and voice notes the customer sent."""
    message = _customer_message(event)
    for attachment in (message.attachments if message else None) or []:
        if attachment.get("media_id"):
            enqueue(
                "app.conversations.channels.whatsapp.media.fetch_media",
                str(message.id),
                attachment["media_id"],
            )


@listens_to(MessageCreated)
def answer_status_question(event: MessageCreated) -> None:
    """A customer's "where is my order?" answered with the status template."""
    message = _customer_message(event)
    if message is None or (message.extra or {}).get("whatsapp_type") != "text":
        return
    if message.sender_contact is not None:
        answer_order_status_question(message, message.sender_contact)
        commit()


@listens_to(MessageCreated)
def answer_when_closed(event: MessageCreated) -> None:
    """Out of hours: tell the customer once when the desk opens again."""
    message = _customer_message(event)
    if message is not None and message.sender_contact is not None:
        answer_out_of_hours(message, message.sender_contact)
        commit()
