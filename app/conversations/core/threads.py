"""Opening conversations and finding the one a message belongs to."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from app.conversations.contacts.identities import known_contact, normalise_address
from app.conversations.core.events import ThreadAssigned, ThreadChanged, ThreadOpened
from app.conversations.inbox.search import rebuild_search_documents
from app.platform.database import hold_advisory_lock, utcnow
from app.platform.extensions import db
from app.platform.kept import attached_copy, row_values
from app.platform.models import CommunicationChannel, CommunicationThread, Contact
from app.platform.models.enums import ChannelType, Priority, ThreadStatus, ThreadType
from app.platform.rows import write_new
from app.platform.system_texts import Sentence, english, to_json
from app.platform.transactions import publish

# Threads in these states take no new messages; the conversation starts anew.
CLOSED = (ThreadStatus.CLOSED,)
DEFAULT_SLA_HOURS = {
    ChannelType.EMAIL_OUTLOOK: 4,
    ChannelType.WHATSAPP_BUSINESS: 1,
    ChannelType.SMS: 4,
}


def existing_channel(channel_type: ChannelType) -> CommunicationChannel | None:
    """The channel of a type that :func:`channel_of_type` uses, if there is one yet."""
    return db.session.scalar(
        sa.select(CommunicationChannel)
        .where(CommunicationChannel.channel_type == channel_type)
        .order_by(CommunicationChannel.is_active.desc(), CommunicationChannel.created_at)
        .limit(1)
    )


def channel_of_type(channel_type: ChannelType, *, cached: bool = False) -> CommunicationChannel:
    """The active channel of a type; created on first use so inbound never drops.

    ``cached``: for an inbound processor, which asks for its channel on every
    message while the row changes seldom. Each worker then keeps the row for
    ``CONFIGURATION_CACHE_SECONDS`` (a change to its settings is seen that much
    later, as the desk's opening hours are) and joins a copy to the session
    without reading it again.
    """
    keep = current_app.config.get("CONFIGURATION_CACHE_SECONDS", 0) if cached else 0
    if keep > 0:
        with _channels_lock:
            kept = _channels.get(channel_type)
        if kept is not None and kept[0] > time.monotonic():
            return attached_copy(CommunicationChannel, kept[1])
    channel = existing_channel(channel_type)
    if channel is None:
        return _first_channel(channel_type)  # not kept: this transaction may yet roll back
    if keep > 0:
        with _channels_lock:
            _channels[channel_type] = (time.monotonic() + keep, row_values(channel))
    return channel


def _first_channel(channel_type: ChannelType) -> CommunicationChannel:
    """The channel of a type made on first use, once, however many workers need it.

    The first messages of a fresh deployment reach two workers at once; each
    finding no channel and making one would split a customer's conversation
    over two channels. They take turns on a lock held to the end of the
    transaction, and the second sees the channel the first committed.
    """
    hold_advisory_lock(db.session, f"first-channel:{channel_type.value}")
    return existing_channel(channel_type) or new_channel(channel_type)


_channels: dict[ChannelType, tuple[float, dict]] = {}
_channels_lock = threading.Lock()


def forget_kept_channels() -> None:
    """Read every channel afresh next time (a test starting on an emptied database)."""
    with _channels_lock:
        _channels.clear()


def new_channel(
    channel_type: ChannelType, name: str | None = None, configuration: dict | None = None
) -> CommunicationChannel:
    """A further channel of a type (one per Outlook mailbox), with its default SLA."""
    channel = CommunicationChannel(
        channel_type=channel_type,
        channel_name=name or channel_type.value.replace("_", " ").title(),
        response_sla_hours=DEFAULT_SLA_HOURS.get(channel_type),
        configuration=dict(configuration or {}),
    )
    db.session.add(channel)
    db.session.flush()
    return channel


def latest_open_thread(
    channel_id: uuid.UUID, contact_id: uuid.UUID, order_id: uuid.UUID | None = None
) -> CommunicationThread | None:
    """The contact's most recent thread on a channel that is not closed (of an order)."""
    query = (
        sa.select(CommunicationThread)
        .where(
            CommunicationThread.channel_id == channel_id,
            CommunicationThread.contact_id == contact_id,
            CommunicationThread.status.not_in(CLOSED),
        )
        .order_by(CommunicationThread.last_message_at.desc())
        .limit(1)
    )
    if order_id is not None:
        query = query.where(CommunicationThread.order_id == order_id)
    return db.session.scalar(query)


def open_thread(
    *,
    subject: str,
    channel: CommunicationChannel | None = None,
    contact: Contact | None = None,
    order_id: uuid.UUID | None = None,
    thread_type: ThreadType | None = None,
    priority: Priority | None = None,
    status: ThreadStatus = ThreadStatus.OPEN,
    tags: Iterable[str] = (),
    created_by_user_id: uuid.UUID | None = None,
    customer_organization_id: uuid.UUID | None = None,
    partner_organization_id: uuid.UUID | None = None,
    external_references: dict | None = None,
    at: datetime | None = None,
    needs_routing: bool = False,
    team_id: uuid.UUID | None = None,
) -> CommunicationThread:
    """Start a conversation; the only place a ``CommunicationThread`` is made.

    A thread opened ``status=RESOLVED`` (for a mail we sent on our own, say) owes
    the customer nothing until they write. ``needs_routing`` hands it to the
    assignment rules once committed (a customer's first message does).
    ``team_id``: the team whose queue it starts in (the mailbox it came in on).
    """
    at = at or utcnow()
    thread = CommunicationThread(
        thread_subject=subject,
        channel_id=channel.id if channel else None,
        contact_id=contact.id if contact else None,
        order_id=order_id,
        status=status,
        resolved_at=at if status == ThreadStatus.RESOLVED else None,
        tags=sorted({t.strip().lower() for t in tags if t.strip()}),
        created_by_user_id=created_by_user_id,
        customer_organization_id=customer_organization_id
        or (contact.organization_id if contact else None),
        partner_organization_id=partner_organization_id,
        external_references=dict(external_references or {}),
        assigned_team_id=team_id,
        last_message_at=at,
        created_at=at,
    )
    if thread_type is not None:
        thread.thread_type = thread_type
    if priority is not None:
        thread.priority = priority
    write_new(thread)
    rebuild_search_documents([thread.id])
    publish(
        ThreadOpened(
            thread.id,
            channel.channel_type.value if channel else None,
            needs_routing=needs_routing,
        ),
        thread,
    )
    return thread


def thread_for_contact(
    contact: Contact,
    channel: CommunicationChannel,
    *,
    subject: str,
    order_id: uuid.UUID | None = None,
    thread_type: ThreadType | None = None,
) -> CommunicationThread:
    """The contact's open thread on ``channel`` (of the order), or a new, resolved one.

    For messages we start (a transactional mail, an API send, a visit notice):
    nothing is owed to the customer until they write, and their reply reopens it.
    """
    thread = latest_open_thread(channel.id, contact.id, order_id)
    if thread is not None:
        return thread
    return open_thread(
        subject=subject,
        channel=channel,
        contact=contact,
        order_id=order_id,
        thread_type=thread_type,
        status=ThreadStatus.RESOLVED,
    )


def thread_a_send_would_join(
    kind: str, address: str, channel_type: ChannelType
) -> CommunicationThread | None:
    """The open thread a send we start to ``address`` would be added to, found read only.

    The same choice as :func:`thread_for_contact` (no order) makes after the contact
    and channel are found or created; None when the send would open a new thread.
    For checking who may send before anything is written.
    """
    normalised = normalise_address(kind, address)
    contact = known_contact(kind, normalised) if normalised else None
    channel = existing_channel(channel_type)
    if contact is None or channel is None:
        return None
    return latest_open_thread(channel.id, contact.id)


def unsaved_thread(
    *, subject: str, channel_id: uuid.UUID | None, contact: Contact | None, order
) -> CommunicationThread:
    """A thread as :func:`open_thread` would make it, never added to the session.

    For rendering a template before any conversation exists (a page view must
    not write one).
    """
    thread = CommunicationThread(thread_subject=subject, channel_id=channel_id)
    thread.contact = contact
    thread.order = order
    return thread


def announce_change(thread: CommunicationThread, reason: str, **details) -> None:
    """Tell the thread's viewers, after the commit, that ``reason`` changed."""
    publish(ThreadChanged(thread.id, reason, details))


def refresh_customer_search(contact_id: uuid.UUID) -> None:
    """Rebuild the search documents of a customer's threads after their details changed."""
    thread_ids = list(
        db.session.scalars(
            sa.select(CommunicationThread.id).where(CommunicationThread.contact_id == contact_id)
        )
    )
    rebuild_search_documents(thread_ids)


def note_routing(thread: CommunicationThread, reason: Sentence) -> None:
    """Say why the thread sits where it is ("Why here"), without moving it."""
    thread.assignment_reason = english(reason)
    thread.assignment_reason_text = to_json(reason)


def assign(
    thread: CommunicationThread,
    *,
    team,
    user,
    reason: Sentence,
    announce: str | None = "assignment",
    by_user_id: uuid.UUID | None = None,
) -> bool:
    """Give the thread to ``user`` (and ``team``), saying why; True if the assignee changed.

    ``reason`` is a catalogue sentence (:mod:`app.platform.system_texts`): kept as keys for
    the thread page and in English for search and the API. ``by_user_id`` is the
    person who assigned it (None: a rule or an escalation), so the assignee is not
    told about what they did themselves. ``announce`` is the reason browsers
    hear, or None when the caller announces the change itself (an inline edit
    says "edit").
    """
    previous_user_id = thread.assigned_to_user_id
    thread.assigned_team_id = team.id if team else None
    thread.assigned_team = team
    thread.assigned_to_user_id = user.id if user else None
    thread.assigned_to = user
    note_routing(thread, reason)
    db.session.flush()
    changed = thread.assigned_to_user_id != previous_user_id
    if changed:
        publish(
            ThreadAssigned(
                thread.id,
                thread.assigned_to_user_id,
                thread.assigned_team_id,
                previous_user_id,
                thread.assignment_reason,
                by_user_id,
            )
        )
    if announce:
        publish(ThreadChanged(thread.id, announce))
    return changed
