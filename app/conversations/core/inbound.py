"""A customer's message arriving, whatever the channel.

Channel processors (WhatsApp, Outlook, SMS) parse their provider's payload into
an :class:`InboundMessage` and a :class:`Sender` and call :func:`record_inbound`,
which does the rest the same way for all of them (steps 1–3 in
:mod:`app.conversations.core.senders`):

1. hold the sender's address for the transaction (a PostgreSQL advisory lock),
   so one customer's burst is taken one message at a time by however many
   workers, while other customers run in parallel;
2. find the contact behind the address, or make it (one per address, by a
   unique key);
3. skip a message already stored (providers deliver twice);
4. find the conversation, or open one (routed by the assignment rules once
   committed);
5. store the message at the provider's timestamp with the language it is
   written in, and keep the thread's preview, status, SLA clock, unread mark
   (at our ingest time) and search document, and the contact's language, right;
6. publish ``MessageCreated`` for the listeners (live updates, automations).

Nothing here commits: the webhook job does, once the whole event is processed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from app.conversations.business_time import clock as sla_clock
from app.conversations.contacts.identities import PHONE, made_in_this_transaction
from app.conversations.contacts.services import note_profile_name
from app.conversations.core.events import ThreadChanged
from app.conversations.core.languages import follow_newest_language
from app.conversations.core.merging import kept_thread_of
from app.conversations.core.messages import add_message, touch
from app.conversations.core.reads import note_customer_message
from app.conversations.core.senders import (
    Sender,
    held_address,
    hold_senders,
    known_sender,
    make_contact,
)
from app.conversations.core.snoozing import wake_for_reply
from app.conversations.core.threads import CLOSED, latest_open_thread, open_thread
from app.conversations.inbox.search import append_on_flush
from app.conversations.languages.detection import detect_language
from app.platform.extensions import db
from app.platform.models import (
    CommunicationChannel,
    CommunicationMessage,
    CommunicationThread,
)
from app.platform.models.enums import DeliveryStatus, MessageType, ThreadStatus
from app.platform.transactions import publish

REOPENABLE = (ThreadStatus.RESOLVED,)


@dataclass
class InboundMessage:
    """One customer message as a channel processor understood it."""

    external_message_id: str
    content: str
    received_at: datetime
    subject: str | None = None
    html: str | None = None
    attachments: list[dict] = field(default_factory=list)
    sender_external: dict = field(default_factory=dict)
    # A provider's conversation key (Graph conversationId); None: one thread per contact.
    conversation_key: str | None = None
    # Earlier provider ids this message answers (In-Reply-To, References).
    replies_to: list[str] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)


def _follows_open_thread(inbound: InboundMessage) -> bool:
    """A message that joins the sender's open conversation on its channel, if any
    (WhatsApp, SMS): no provider conversation, nothing it answers."""
    return not inbound.conversation_key and not inbound.replies_to


def record_inbound(
    channel: CommunicationChannel,
    sender: Sender,
    inbound: InboundMessage,
    *,
    team_id: uuid.UUID | None = None,
) -> CommunicationMessage | None:
    """Store a customer's message in the right thread; None if it was stored before.

    ``team_id``: the team a conversation it opens lands in (an Outlook mailbox's
    team); the channel's assignment rules may still pick a person or team.
    """
    address = held_address(sender)
    known = known_sender(
        channel,
        sender,
        address,
        inbound.external_message_id,
        with_open_thread=_follows_open_thread(inbound),
    )
    if known.duplicate:
        return None
    # Told here, not by a job after the commit: the out-of-hours answer and the
    # suggested replies of this very message read it.
    language = detect_language(inbound.content)
    if known.contact is None:
        # A new contact is made with it: no statement after to follow it.
        contact = make_contact(
            sender, address, unclaimed=True, unowned=not known.in_a_field, language=language
        )
        thread = _thread_for(
            channel, contact, inbound, team_id, contact_is_new=made_in_this_transaction(contact)
        )
    else:
        contact = known.contact
        if sender.kind == PHONE:
            note_profile_name(contact, sender.whatsapp_profile_name)
        thread = known.thread or _thread_for(
            channel, contact, inbound, team_id, open_looked_up=_follows_open_thread(inbound)
        )
    message = CommunicationMessage(
        thread_id=thread.id,
        channel_id=channel.id,
        message_type=MessageType.INCOMING,
        sender_contact_id=contact.id,
        sender_external=inbound.sender_external,
        subject=inbound.subject,
        message_content=inbound.content,
        message_html=inbound.html,
        attachments=inbound.attachments,
        external_message_id=inbound.external_message_id,
        delivery_status=DeliveryStatus.DELIVERED,
        delivered_at=inbound.received_at,
        # The provider's moment, so a burst shows in the order the customer
        # sent it, whichever worker stored which message first.
        created_at=inbound.received_at,
        extra=inbound.metadata,
        language=language,
    )
    message.channel = channel
    # Every change to the thread below goes out in one UPDATE, with add_message's
    # flush: the reads on the way (the desk's calendar, the SLA policies) do not
    # need them, and each autoflush before them was a statement of its own.
    with db.session.no_autoflush:
        touch(thread, inbound.received_at, inbound.content)
        # Our clock, not the provider's: a message delivered late must still come
        # after the read mark of an agent who looked before it arrived.
        note_customer_message(thread)
        if thread.status in REOPENABLE:
            sla_clock.reopen(thread)
        if thread.status in REOPENABLE or thread.status == ThreadStatus.WAITING_CUSTOMER:
            thread.status = ThreadStatus.OPEN
        # A snoozed conversation is back in the lists the moment the customer writes.
        wake_for_reply(thread)
        # Business-time deadline: resumes a paused clock, or starts a cycle if none runs.
        sla_clock.customer_wrote(thread, inbound.received_at)
        # In the thread's own UPDATE, which add_message's flush sends.
        append_on_flush(thread, " ".join(filter(None, [inbound.subject, inbound.content])))
    add_message(thread, message)
    if message.language is not None and message.language != contact.detected_language:
        follow_newest_language(contact.id)
    # The contact too stays loaded for the listeners (the automations read it).
    publish(ThreadChanged(thread.id, "message"), contact)
    return message


def record_sent_elsewhere(
    channel: CommunicationChannel,
    recipients: list[Sender],
    sent: InboundMessage,
    *,
    author_id: uuid.UUID | None = None,
) -> CommunicationMessage | None:
    """Record a reply our side sent outside Switchboard (a colleague in Outlook).

    It joins the conversation it answers, found by the provider's conversation
    key or by the messages it replies to, as an outbound message already sent,
    and counts as the answer to the customer (first response, SLA cycle ended)
    unless the customer wrote again after it. ``sent.external_message_id`` must
    identify the mail however it is reported (the Internet Message-ID): the
    unique key on it keeps a mail reported twice, or sent by us, single.
    Returns None when it answers no conversation of ours or is stored already.
    """
    hold_senders(recipients)
    duplicate = db.session.scalar(
        sa.select(CommunicationMessage.id).where(
            CommunicationMessage.channel_id == channel.id,
            CommunicationMessage.external_message_id == sent.external_message_id,
        )
    )
    if duplicate is not None:
        return None
    thread = _conversation_of(channel, sent.conversation_key)
    if thread is None and sent.replies_to:
        thread = _thread_replied_to(None, sent.replies_to) or _thread_quoting(
            channel, sent.replies_to
        )
    if thread is not None:
        thread = kept_thread_of(thread.id) or thread
    if thread is None or thread.status in CLOSED:
        return None
    at = sent.received_at
    first = recipients[0].address if recipients else None
    message = CommunicationMessage(
        thread_id=thread.id,
        channel_id=channel.id,
        message_type=MessageType.OUTGOING,
        sender_user_id=author_id,
        sender_external=sent.sender_external,
        recipient_external={
            "email": first,
            "to": [recipient.address for recipient in recipients],
        },
        subject=sent.subject,
        message_content=sent.content,
        message_html=sent.html,
        attachments=sent.attachments,
        external_message_id=sent.external_message_id,
        delivery_status=DeliveryStatus.SENT,
        sent_at=at,
        created_at=at,
        extra=sent.metadata,
    )
    message.channel = channel
    touch(thread, at, sent.content)
    append_on_flush(thread, " ".join(filter(None, [sent.subject, sent.content])))
    if thread.last_customer_message_at is None or at >= thread.last_customer_message_at:
        # The customer has their answer, as if it was written here.
        sla_clock.record_first_response(thread, at)
        if thread.status == ThreadStatus.OPEN:
            thread.status = ThreadStatus.IN_PROGRESS
    add_message(thread, message)
    publish(ThreadChanged(thread.id, "message"))
    return message


def _conversation_of(channel, conversation_key: str | None) -> CommunicationThread | None:
    if not conversation_key:
        return None
    return db.session.scalar(
        sa.select(CommunicationThread)
        .where(
            CommunicationThread.channel_id == channel.id,
            CommunicationThread.external_references["conversation_key"].as_string()
            == conversation_key,
        )
        # After a closed thread, the conversation continues in a newer one.
        .order_by(CommunicationThread.last_message_at.desc())
        .limit(1)
    )


def _thread_quoting(channel, replies_to: list[str]) -> CommunicationThread | None:
    """The thread on ``channel`` with a customer's mail whose Message-ID is answered."""
    return db.session.scalar(
        sa.select(CommunicationThread)
        .join(CommunicationMessage, CommunicationMessage.thread_id == CommunicationThread.id)
        .where(
            CommunicationMessage.channel_id == channel.id,
            CommunicationMessage.extra["internet_message_id"].as_string().in_(replies_to),
        )
        .order_by(CommunicationMessage.created_at.desc())
        .limit(1)
    )


def _thread_for(
    channel,
    contact,
    inbound: InboundMessage,
    team_id: uuid.UUID | None = None,
    *,
    open_looked_up: bool = False,
    contact_is_new: bool = False,
) -> CommunicationThread:
    thread = _conversation_of(channel, inbound.conversation_key)
    if thread is None and inbound.replies_to:
        thread = _thread_replied_to(contact, inbound.replies_to)
        if thread is not None and thread.status not in CLOSED and inbound.conversation_key:
            # Found through In-Reply-To (e.g. the answer to a mail we started):
            # later mails of this conversation can then be matched by its key.
            references = thread.external_references or {}
            if not references.get("conversation_key"):
                thread.external_references = {
                    **references,
                    "conversation_key": inbound.conversation_key,
                }
    if thread is not None:
        # A reply to a conversation merged into another goes on in that one.
        thread = kept_thread_of(thread.id) or thread
    if thread is None and not inbound.conversation_key and not contact_is_new:
        # open_looked_up: the caller found no open thread in this transaction.
        thread = (None if open_looked_up else latest_open_thread(channel.id, contact.id)) or (
            _merged_on(channel, contact)
        )
    if thread is not None and thread.status not in CLOSED:
        return thread
    return open_thread(
        subject=(inbound.subject or "").strip() or subject_from(inbound.content),
        channel=channel,
        contact=contact,
        external_references=(
            {"conversation_key": inbound.conversation_key} if inbound.conversation_key else {}
        ),
        at=inbound.received_at,
        team_id=team_id,
        # A new conversation is routed by the channel's rules.
        needs_routing=True,
    )


def _merged_on(channel, contact) -> CommunicationThread | None:
    """The conversation the customer's latest one on ``channel`` was merged into, if any.

    Their WhatsApp message finds no open thread on WhatsApp when the kept
    conversation is on another channel (e-mail, say); it belongs there.
    """
    latest = db.session.scalar(
        sa.select(CommunicationThread.id)
        .where(
            CommunicationThread.channel_id == channel.id,
            CommunicationThread.contact_id == contact.id,
        )
        .order_by(CommunicationThread.last_message_at.desc())
        .limit(1)
    )
    return kept_thread_of(latest) if latest is not None else None


def _thread_replied_to(contact, replies_to: list[str]) -> CommunicationThread | None:
    """The thread holding a message this one answers.

    ``replies_to`` holds provider ids (a WhatsApp context id, the Message-ID we
    gave an outgoing mail) or, for e-mail, the Message-IDs of the customer's own
    earlier mails, which are kept as ``internet_message_id`` in their metadata.
    """
    thread = db.session.scalar(
        sa.select(CommunicationThread)
        .join(CommunicationMessage, CommunicationMessage.thread_id == CommunicationThread.id)
        .where(CommunicationMessage.external_message_id.in_(replies_to))
        .limit(1)
    )
    if thread is None and contact is not None:
        # Narrowed to the sender's own messages, which the sender index finds.
        thread = db.session.scalar(
            sa.select(CommunicationThread)
            .join(CommunicationMessage, CommunicationMessage.thread_id == CommunicationThread.id)
            .where(
                CommunicationMessage.sender_contact_id == contact.id,
                CommunicationMessage.extra["internet_message_id"].as_string().in_(replies_to),
            )
            .limit(1)
        )
    return thread


def subject_from(content: str) -> str:
    words = " ".join(content.split())
    if not words:
        return "New conversation"
    return words if len(words) <= 80 else words[:77].rstrip() + "…"
