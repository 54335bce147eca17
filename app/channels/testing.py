"""The "send test" button: one real (or sandbox) call to a provider, reported back."""

from __future__ import annotations

import logging
import uuid

from app.channels.registry import transport_for
from app.channels.status import CHANNEL_TYPE_OF
from app.channels.transport import OutboundMessage, TransportError
from app.contacts.phones import normalise_phone
from app.models.enums import Priority
from app.notifications.services import announce, create_notification
from app.transactions import commit

log = logging.getLogger(__name__)

TEST_TEXT = "Testbericht van Switchboard: dit kanaal werkt."


class InvalidRecipient(ValueError):
    pass


def check_recipient(provider: str, recipient: str) -> str:
    """The recipient in the form the provider needs, or InvalidRecipient naming why."""
    recipient = (recipient or "").strip()
    if provider in ("whatsapp", "sms"):
        phone = normalise_phone(recipient)
        if phone is None:
            raise InvalidRecipient("Enter a phone number, e.g. 06 12345678.")
        return phone
    if provider in ("graph", "sendgrid"):
        if "@" not in recipient or " " in recipient:
            raise InvalidRecipient("Enter an e-mail address.")
        return recipient.lower()
    if provider == "teams":
        if not recipient:
            raise InvalidRecipient("Enter a team name: operations, management or tech.")
        return recipient
    raise InvalidRecipient(f"Unknown provider {provider!r}.")


def send_test(provider: str, recipient: str, user_id: str) -> str:
    """Job: send one test message and tell the person who asked how it went."""
    try:
        outcome = _send(provider, recipient)
        title, priority = f"Test via {provider} sent", Priority.NORMAL
    except (TransportError, RuntimeError, ValueError) as exc:
        outcome = str(exc)
        title, priority = f"Test via {provider} failed", Priority.HIGH
        log.warning("test send via %s failed: %s", provider, exc)
    notification = create_notification(
        uuid.UUID(user_id),
        "channel_test",
        title,
        outcome,
        priority=priority,
        link="/admin/channels/",
    )
    commit()
    announce(notification)
    return outcome


def _send(provider: str, recipient: str) -> str:
    if provider in CHANNEL_TYPE_OF:
        channel_type = CHANNEL_TYPE_OF[provider]
        result = transport_for(channel_type).send(
            OutboundMessage(
                message_id=None,
                channel_type=channel_type,
                recipient=recipient,
                body=TEST_TEXT,
                subject="Switchboard test",
            )
        )
        commit()
        return f"Accepted by {provider} as {result.external_message_id}."
    if provider == "teams":
        from app.channels.teams import sender

        sender.send_test_card(recipient)
        return f"Card posted to the {recipient} team."
    if provider == "sendgrid":
        from app.channels.email import sendgrid

        message_id = sendgrid.send_test_mail(recipient)
        return f"Accepted by SendGrid as {message_id}."
    raise ValueError(f"unknown provider {provider!r}")
