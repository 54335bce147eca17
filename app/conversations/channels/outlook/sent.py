"""Replies colleagues write in Outlook itself, found in a mailbox's Sent Items.

A mail sent as the mailbox that answers one of its conversations (same Graph
``conversationId``, or In-Reply-To/References naming a mail of it) is recorded
in that conversation as our answer, through
:func:`app.conversations.core.record_sent_elsewhere`. Its key is the Internet
Message-ID, which is the same whether the Sent Items notification, the delta
walk or a copy in the Inbox reports it, so it is stored once. Switchboard's own
replies also land in Sent Items: they carry a Message-ID Switchboard chose
(``<switchboard.{message id}@…>``, see :mod:`app.conversations.channels.outlook.transport`)
and are left alone, whether or not the send job has committed yet.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import uuid

import sqlalchemy as sa

from app.conversations.channels.outlook.mail import addresses_of, sender_of, to_inbound
from app.conversations.channels.outlook.state import normalise_mailbox
from app.conversations.contacts.identities import EMAIL
from app.conversations.core import Sender, record_sent_elsewhere
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, OutlookMailbox, User

log = logging.getLogger(__name__)

OUR_MESSAGE_ID = re.compile(r"^<switchboard\.[0-9a-f]{32}@", re.IGNORECASE)


def is_from_mailbox(message: dict, mailbox: OutlookMailbox) -> bool:
    """Whether Graph's ``from`` is the mailbox itself (sent as, or on behalf of, it)."""
    address, _name = sender_of(message)
    return normalise_mailbox(address or "") == mailbox.address


def sent_by_switchboard(internet_message_id: str) -> bool:
    """A Message-ID Switchboard gave one of its own mails."""
    return bool(OUR_MESSAGE_ID.match(internet_message_id))


def record_sent_mail(
    mailbox: OutlookMailbox, message: dict, attachments: list[dict]
) -> CommunicationMessage | None:
    """Record a mail sent from ``mailbox`` outside Switchboard; None when it is not
    one (ours, a copy to ourselves already stored, or answering no conversation)."""
    internet_message_id = message.get("internetMessageId") or ""
    if not internet_message_id:
        log.info("sent Graph message %s has no Message-ID; not recorded", message.get("id"))
        return None
    if sent_by_switchboard(internet_message_id):
        return None
    recipients = [
        Sender(EMAIL, address)
        for address in addresses_of(message, "toRecipients") + addresses_of(message, "ccRecipients")
        if normalise_mailbox(address) != mailbox.address
    ]
    if not recipients:
        return None
    inbound = to_inbound(message, attachments)
    sent = dataclasses.replace(
        inbound,
        external_message_id=internet_message_id,
        metadata={
            **inbound.metadata,
            "graph_message_id": message.get("id"),
            "sent_from_outlook": True,
        },
    )
    return record_sent_elsewhere(
        mailbox.channel, recipients, sent, author_id=_colleague_id(message)
    )


def _colleague_id(message: dict) -> uuid.UUID | None:
    """The Switchboard user who sent it on the mailbox's behalf, when Graph names one."""
    address = (((message.get("sender") or {}).get("emailAddress")) or {}).get("address")
    if not address:
        return None
    return db.session.scalar(
        sa.select(User.id).where(sa.func.lower(User.email) == address.strip().lower())
    )
