"""The "send test" button: one real (or sandbox) call to a provider, reported back.

Every provider goes through its transport (:mod:`app.platform.transports.registry`), so
the test takes the same path, real or sandbox, as the messages it vouches for.
"""

from __future__ import annotations

import logging
import uuid

from flask_babel import gettext as _

from app.conversations.contacts.phones import normalise_phone
from app.conversations.notifications.services import announce, create_notification
from app.platform.models.enums import Priority
from app.platform.system_texts import text, verbatim
from app.platform.transactions import commit
from app.platform.transports.base import OutboundMessage, TransportError
from app.platform.transports.registry import spec_for, specs, transport_for

log = logging.getLogger(__name__)

TEST_TEXT = "Testbericht van Switchboard: dit kanaal werkt."


class InvalidRecipient(ValueError):
    pass


def check_recipient(provider: str, recipient: str) -> str:
    """The recipient in the form the provider needs, or InvalidRecipient naming why."""
    if provider not in specs():
        raise InvalidRecipient(_("Unknown provider %(provider)s.", provider=repr(provider)))
    recipient = (recipient or "").strip()
    kind = spec_for(provider).recipient
    if kind == "phone":
        phone = normalise_phone(recipient)
        if phone is None:
            raise InvalidRecipient(_("Enter a phone number, e.g. 06 12345678."))
        return phone
    if kind == "email":
        if "@" not in recipient or " " in recipient:
            raise InvalidRecipient(_("Enter an e-mail address."))
        return recipient.lower()
    if not recipient:
        raise InvalidRecipient(_("Enter a team name: operations, management or tech."))
    return recipient


def send_test(provider: str, recipient: str, user_id: str) -> str:
    """Job: send one test message and tell the person who asked how it went."""
    try:
        outcome = _send(provider, recipient)
        title, priority = text("notification.channel_test_sent", provider=provider), Priority.NORMAL
    except (TransportError, RuntimeError, ValueError) as exc:
        outcome = str(exc)
        title = text("notification.channel_test_failed", provider=provider)
        priority = Priority.HIGH
        log.warning("test send via %s failed: %s", provider, exc)
    commit()  # what the transport recorded: the provider's health, a sandbox send
    notification = create_notification(
        uuid.UUID(user_id),
        "channel_test",
        title,
        verbatim(outcome),  # the provider's answer or error, as it gave it
        priority=priority,
        link="/admin/channels/",
    )
    commit()
    announce(notification)
    return outcome


def _send(provider: str, recipient: str) -> str:
    spec = spec_for(provider)
    result = transport_for(provider).send(
        OutboundMessage(
            message_id=None,
            channel_type=spec.channel_type or provider,
            recipient=recipient,
            body=TEST_TEXT,
            subject="Switchboard test",
        )
    )
    return f"Accepted by {spec.label} as {result.external_message_id}."
