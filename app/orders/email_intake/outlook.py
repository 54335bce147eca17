"""The Outlook channel's hand-off: a stored mail to an order mailbox becomes a job."""

from __future__ import annotations

from app.conversations.core.events import MessageCreated
from app.orders.email_intake.mailbox import partner_for_recipients
from app.platform.events import listens_to
from app.platform.extensions import db
from app.platform.jobs.queues import enqueue
from app.platform.models import CommunicationMessage
from app.platform.models.enums import ChannelType
from app.platform.transactions import commit


@listens_to(MessageCreated)
def hand_over_order_email(event: MessageCreated) -> bool:
    """Queue :func:`app.orders.email_intake.jobs.process_order_email` for a partner's order mail.

    The Outlook channel keeps the addresses a mail was sent to in its metadata;
    those naming a partner's order mailbox are copied where the job looks
    (``recipient_external``) and the job is queued. The mail stays in its
    thread either way: a person may still want to answer it.
    """
    if event.direction != "inbound" or event.channel_type != ChannelType.EMAIL_OUTLOOK:
        return False
    message = db.session.get(CommunicationMessage, event.message_id)
    recipients = list(((message.extra or {}) if message else {}).get("recipients") or [])
    if message is None or partner_for_recipients(recipients) is None:
        return False
    message.recipient_external = {**(message.recipient_external or {}), "addresses": recipients}
    commit()
    enqueue("app.orders.email_intake.jobs.process_order_email", str(message.id))
    return True
