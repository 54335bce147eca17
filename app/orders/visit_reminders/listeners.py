"""A customer's WhatsApp message that answers a reminder: applied after its commit."""

from __future__ import annotations

from app.conversations.core.events import MessageCreated
from app.orders.visit_reminders.answers import take_answer
from app.platform.events import listens_to
from app.platform.models.enums import ChannelType


@listens_to(MessageCreated)
def answer_reminder(event: MessageCreated) -> None:
    """A tap on "Bevestigen" or "Verzetten" confirms the visit or asks to move it."""
    if event.direction != "inbound" or event.channel_type != ChannelType.WHATSAPP_BUSINESS.value:
        return
    take_answer(event.message_id)
