"""Merging two conversations of one customer, and moving conversations to another contact.

**Conversations.** :func:`merge_threads` moves every message (files live
beside their message, so they come along), note, status line and task of the
merged conversation into the kept one, where the timeline orders them by time
with the rest. The kept thread takes the merged one's tags, its order when it
has none, the higher priority, the newer preview and last customer message,
and the SLA clock of whichever customer waits longest for an answer. The
merged thread is closed and a ``conversation_merges`` row points it at the
kept one; both timelines say what happened.

Replies to the merged conversation find the kept one: a provider's
conversation key (an Outlook ``conversationId``) or an In-Reply-To still
leads to the merged thread, and :func:`kept_thread_of` follows its pointer
(``app.conversations.core.inbound``); a WhatsApp message, which carries no key,
finds the kept thread as the customer's open thread on the channel, or, when
the kept thread is on another channel, through the pointer of the customer's
latest thread there.

Unread marks stay true: an agent who had read both conversations has read the
merged one; anyone else sees it as unread as it was.

**Two people at once.** Both threads are locked (``SELECT … FOR UPDATE``, in
id order, so A-into-B and B-into-A cannot deadlock) and checked again under
the locks: the second merge of the same conversation, or of the kept one into
the merged one, is refused. The unique key on ``merged_thread_id`` backs that.

**Contacts.** :func:`move_conversations` gives a customer's conversations and
messages to another contact (a contact merge, ``app.conversations.merges``) and back (its
undo), keeping the search documents right.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.conversations.business_time import clock as sla_clock
from app.conversations.core.events import ThreadChanged
from app.conversations.core.messages import record_status_line
from app.conversations.core.reads import mark_read_by
from app.conversations.inbox.search import rebuild_search_documents
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    CommunicationMessage,
    CommunicationThread,
    ConversationMerge,
    CustomerFeedback,
    InternalTask,
    ThreadRead,
    User,
)
from app.platform.models.enums import Priority, ThreadStatus
from app.platform.system_texts import text
from app.platform.transactions import publish

FINISHED = (ThreadStatus.RESOLVED, ThreadStatus.CLOSED)
PRIORITY_ORDER = list(Priority)
# The SLA fields of one cycle: taken over together, never mixed.
CLOCK_FIELDS = (
    "sla_started_at",
    "sla_target_seconds",
    "sla_paused_at",
    "sla_paused_seconds",
    "sla_stage",
    "response_due_at",
    "sla_next_check_at",
)


class MergeRefused(ValueError):
    """A merge that cannot be made; ``reason`` says why, for the caller to put in words.

    Reasons: ``same_thread``, ``not_found``, ``no_customer``,
    ``different_customers``, ``already_merged`` (the merged thread was merged
    before), ``kept_merged`` (the kept thread was merged into another),
    ``kept_closed``.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def merge_threads(
    kept_id: uuid.UUID, merged_id: uuid.UUID, *, actor: User, at: datetime | None = None
) -> ConversationMerge:
    """Merge conversation ``merged_id`` into ``kept_id`` (no commit; events after it).

    Raises :class:`MergeRefused`. Whether ``actor`` may open both is the
    caller's to check (``app.conversations.inbox.access``).
    """
    if kept_id == merged_id:
        raise MergeRefused("same_thread")
    now = at or utcnow()
    kept, merged = _locked_pair(kept_id, merged_id)
    _refuse_unless_mergeable(kept, merged)
    pointer = _point(kept, merged, actor, now)
    was_read_through = _read_through(kept, merged)
    moved = _move_contents(kept, merged)
    _combine(kept, merged)
    for user_id, up_to in was_read_through.items():
        mark_read_by(kept.id, user_id, up_to=up_to)
    previous, merged.status = merged.status, ThreadStatus.CLOSED
    sla_clock.status_changed(merged, previous, now)
    for thread in (kept, merged):
        # A form opened before the merge is refused, not applied.
        thread.lock_version = (thread.lock_version or 0) + 1
    record_status_line(
        merged,
        text("merge.merged_into", actor=actor.name, subject=kept.thread_subject),
        author_id=actor.id,
        at=now,
        preview=True,
    )
    record_status_line(
        kept,
        text("merge.merged_here", actor=actor.name, subject=merged.thread_subject),
        author_id=actor.id,
        at=now,
    )
    pointer.moved = moved
    db.session.flush()
    rebuild_search_documents([kept.id, merged.id])
    publish(ThreadChanged(kept.id, "merged", {"merged_thread_id": str(merged.id)}), kept)
    publish(ThreadChanged(merged.id, "merged", {"kept_thread_id": str(kept.id)}), merged)
    return pointer


def _locked_pair(
    kept_id: uuid.UUID, merged_id: uuid.UUID
) -> tuple[CommunicationThread, CommunicationThread]:
    rows = db.session.scalars(
        sa.select(CommunicationThread)
        .where(CommunicationThread.id.in_([kept_id, merged_id]))
        .order_by(CommunicationThread.id)
        .with_for_update()
        # What another merge committed while this one waited for the lock.
        .execution_options(populate_existing=True)
    ).all()
    found = {thread.id: thread for thread in rows}
    if kept_id not in found or merged_id not in found:
        raise MergeRefused("not_found")
    return found[kept_id], found[merged_id]


def merge_refusal(kept: CommunicationThread, merged: CommunicationThread) -> str | None:
    """Why ``merged`` cannot be merged into ``kept`` now (a :class:`MergeRefused` reason), or None.

    Read only, for the preview before the merge; :func:`merge_threads` checks
    again under its locks.
    """
    if kept.id == merged.id:
        return "same_thread"
    try:
        _refuse_unless_mergeable(kept, merged)
    except MergeRefused as refused:
        return refused.reason
    return None


def _refuse_unless_mergeable(kept: CommunicationThread, merged: CommunicationThread) -> None:
    if kept.contact_id is None or merged.contact_id is None:
        raise MergeRefused("no_customer")
    if kept.contact_id != merged.contact_id:
        raise MergeRefused("different_customers")
    pointers = set(
        db.session.scalars(
            sa.select(ConversationMerge.merged_thread_id).where(
                ConversationMerge.merged_thread_id.in_([kept.id, merged.id])
            )
        )
    )
    if merged.id in pointers:
        raise MergeRefused("already_merged")
    if kept.id in pointers:
        raise MergeRefused("kept_merged")
    if kept.status == ThreadStatus.CLOSED:
        raise MergeRefused("kept_closed")


def _point(kept, merged, actor: User, now: datetime) -> ConversationMerge:
    pointer = ConversationMerge(
        kept_thread_id=kept.id,
        merged_thread_id=merged.id,
        merged_by_user_id=actor.id,
        merged_at=now,
    )
    savepoint = db.session.begin_nested()
    db.session.add(pointer)
    try:
        db.session.flush()
    except IntegrityError as exc:
        # Only without the row locks (SQLite) can another merge get here first.
        savepoint.rollback()
        raise MergeRefused("already_merged") from exc
    savepoint.commit()
    return pointer


def _move_contents(kept: CommunicationThread, merged: CommunicationThread) -> dict[str, int]:
    moved = {}
    for name, model in (
        ("messages", CommunicationMessage),
        ("tasks", InternalTask),
        ("feedback", CustomerFeedback),
    ):
        result = db.session.execute(
            sa.update(model).where(model.thread_id == merged.id).values(thread_id=kept.id)
        )
        moved[name] = result.rowcount
    db.session.expire(kept, ["messages"])
    db.session.expire(merged, ["messages"])
    return moved


def _combine(kept: CommunicationThread, merged: CommunicationThread) -> None:
    """The kept thread as if the two had been one conversation all along."""
    kept.tags = sorted({*(kept.tags or []), *(merged.tags or [])})
    if kept.order_id is None and merged.order_id is not None:
        kept.order_id = merged.order_id
    kept.priority = max(kept.priority, merged.priority, key=PRIORITY_ORDER.index)
    if merged.last_message_at > kept.last_message_at:
        kept.last_message_at = merged.last_message_at
        kept.last_message_preview = merged.last_message_preview
    if merged.last_customer_message_at is not None and (
        kept.last_customer_message_at is None
        or merged.last_customer_message_at > kept.last_customer_message_at
    ):
        kept.last_customer_message_at = merged.last_customer_message_at
    if kept.first_response_at is None and merged.first_response_at is not None:
        kept.first_response_at = merged.first_response_at
        kept.first_response_seconds = merged.first_response_seconds
    waiting = merged.status not in FINISHED
    if kept.status == ThreadStatus.RESOLVED and waiting:
        # The merged conversation was still going: so is the one it joins.
        kept.status = merged.status
        sla_clock.reopen(kept)
    if waiting and _waits_longer(merged, kept):
        _take_over_clock(kept, merged)


def _waits_longer(merged: CommunicationThread, kept: CommunicationThread) -> bool:
    """Whether the merged thread's customer is owed an answer sooner than the kept one's."""
    if not sla_clock.is_running(merged):
        return False
    if not sla_clock.is_running(kept):
        return True
    if merged.response_due_at is None:  # paused: waiting on the customer
        return False
    return kept.response_due_at is None or merged.response_due_at < kept.response_due_at


def _take_over_clock(kept: CommunicationThread, merged: CommunicationThread) -> None:
    for name in CLOCK_FIELDS:
        setattr(kept, name, getattr(merged, name))
    # A fresh cycle number: the ladder steps fired on the merged thread stay
    # done (``sla_stage``), and none of the kept thread's own alerts repeat.
    kept.sla_cycle = (kept.sla_cycle or 0) + 1


def _read_through(kept: CommunicationThread, merged: CommunicationThread) -> dict:
    """Agents who had seen both conversations to the end: user id → the new read mark."""
    newest = max(
        (t.last_customer_message_at for t in (kept, merged) if t.last_customer_message_at),
        default=None,
    )
    if newest is None:
        return {}
    marks: dict[uuid.UUID, dict[uuid.UUID, datetime]] = {}
    for row in db.session.scalars(
        sa.select(ThreadRead).where(ThreadRead.thread_id.in_([kept.id, merged.id]))
    ):
        marks.setdefault(row.user_id, {})[row.thread_id] = row.last_read_at

    def seen(thread: CommunicationThread, user_marks: dict) -> bool:
        if thread.last_customer_message_at is None:
            return True
        mark = user_marks.get(thread.id)
        return mark is not None and mark >= thread.last_customer_message_at

    return {
        user_id: newest
        for user_id, user_marks in marks.items()
        if seen(kept, user_marks) and seen(merged, user_marks)
    }


def merge_pointer(thread_id: uuid.UUID) -> ConversationMerge | None:
    """The merge that closed this conversation, if it was merged into another."""
    return db.session.scalar(
        sa.select(ConversationMerge).where(ConversationMerge.merged_thread_id == thread_id)
    )


def kept_thread_of(thread_id: uuid.UUID) -> CommunicationThread | None:
    """Where a merged conversation lives on now (through later merges); None if not merged."""
    current, seen = thread_id, {thread_id}
    while True:
        following = db.session.scalar(
            sa.select(ConversationMerge.kept_thread_id).where(
                ConversationMerge.merged_thread_id == current
            )
        )
        if following is None or following in seen:
            break
        current = following
        seen.add(current)
    return db.session.get(CommunicationThread, current) if current != thread_id else None


def merged_thread_ids(thread_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Those of ``thread_ids`` that were merged into another conversation."""
    if not thread_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(ConversationMerge.merged_thread_id).where(
                ConversationMerge.merged_thread_id.in_(list(thread_ids))
            )
        )
    )


# --- conversations changing customer (contact merges) ---------------------------------


@dataclass
class MovedConversations:
    """The ids of the threads and customer messages that changed contact."""

    thread_ids: list[uuid.UUID] = field(default_factory=list)
    message_ids: list[uuid.UUID] = field(default_factory=list)


def move_conversations(
    from_contact_id: uuid.UUID,
    to_contact_id: uuid.UUID,
    *,
    thread_ids: Collection[uuid.UUID] | None = None,
    message_ids: Collection[uuid.UUID] | None = None,
) -> MovedConversations:
    """Give ``from_contact_id``'s conversations and messages to ``to_contact_id`` (no commit).

    Without ids, all of them; with ids (an undo), only those of them still
    ``from_contact_id``'s. Returns what moved.
    """
    thread = CommunicationThread
    message = CommunicationMessage
    threads = sa.select(thread.id).where(thread.contact_id == from_contact_id)
    messages = sa.select(message.id).where(message.sender_contact_id == from_contact_id)
    if thread_ids is not None:
        threads = threads.where(thread.id.in_(list(thread_ids)))
    if message_ids is not None:
        messages = messages.where(message.id.in_(list(message_ids)))
    moved = MovedConversations(
        sorted(db.session.scalars(threads.with_for_update())),
        sorted(db.session.scalars(messages)),
    )
    if moved.thread_ids:
        db.session.execute(
            sa.update(thread)
            .where(thread.id.in_(moved.thread_ids))
            .values(contact_id=to_contact_id, lock_version=thread.lock_version + 1)
            .execution_options(synchronize_session="fetch")
        )
    if moved.message_ids:
        db.session.execute(
            sa.update(message)
            .where(message.id.in_(moved.message_ids))
            .values(sender_contact_id=to_contact_id)
            .execution_options(synchronize_session="fetch")
        )
    db.session.flush()
    # The customer's name, e-mail and phone are part of each thread's search document.
    rebuild_search_documents(moved.thread_ids)
    for thread_id in moved.thread_ids:
        publish(ThreadChanged(thread_id, "customer"))
    return moved
