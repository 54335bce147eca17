"""Merging a conversation into another of the same customer: the choice, the checks, the audit.

The writing is the conversation owner's (``app.conversations.core.merge_threads``);
this module offers the candidates an agent may pick, refuses what they may not
merge, and records the merge in the audit log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from app.conversations.core import MergeRefused, merge_refusal, merge_threads, merged_thread_ids
from app.conversations.inbox.access import can_access_thread, visible_threads_clause
from app.conversations.merges.refusals import RefusedMerge
from app.platform.audit.records import record_change
from app.platform.auth.decorators import STAFF_DESK_ROLES
from app.platform.extensions import db
from app.platform.models import (
    CommunicationMessage,
    CommunicationThread,
    ConversationMerge,
    CustomerFeedback,
    InternalTask,
    Order,
    User,
)
from app.platform.models.enums import MessageType, Priority, ThreadStatus

CANDIDATES = 20
AUDIT_TABLE = ConversationMerge.__tablename__
AUDIT_ACTION = "conversation_merge"

REFUSALS = {
    "same_thread": _l("A conversation cannot be merged into itself."),
    "not_found": _l("There is no such conversation."),
    "no_customer": _l("Only conversations with a customer can be merged."),
    "different_customers": _l(
        "These conversations are with different customers; only conversations of "
        "the same customer can be merged. Merge the two contacts first if they are "
        "one person."
    ),
    "already_merged": _l("This conversation was already merged into another one."),
    "kept_merged": _l("That conversation was merged into another one; merge into that one."),
    "kept_closed": _l(
        "That conversation is closed; reopen it first, or merge the other way round."
    ),
    "no_access": _l("You may not open that conversation, so you cannot merge into it."),
}


class ConversationMergeRefused(RefusedMerge):
    """Why a conversation cannot be merged, in the reader's language (``message``)."""

    refusals = REFUSALS


def find_thread(thread_id: uuid.UUID) -> CommunicationThread | None:
    return db.session.get(CommunicationThread, thread_id)


def merge_candidates(
    thread: CommunicationThread, viewer: User, query: str = ""
) -> list[CommunicationThread]:
    """The customer's other conversations ``viewer`` may merge ``thread`` into, newest first.

    ``query`` narrows them by subject or order number. Closed conversations and
    those merged away take nothing more, so they are not offered.
    """
    if thread.contact_id is None:
        return []
    statement = (
        sa.select(CommunicationThread)
        .options(
            so.joinedload(CommunicationThread.channel), so.joinedload(CommunicationThread.order)
        )
        .where(
            CommunicationThread.contact_id == thread.contact_id,
            CommunicationThread.id != thread.id,
            CommunicationThread.status != ThreadStatus.CLOSED,
        )
        .order_by(CommunicationThread.last_message_at.desc())
        .limit(CANDIDATES)
    )
    visible = visible_threads_clause(viewer)
    if visible is not None:
        statement = statement.where(visible)
    term = " ".join(query.split())
    if term:
        statement = statement.where(
            sa.or_(
                CommunicationThread.thread_subject.icontains(term, autoescape=True),
                CommunicationThread.order_id.in_(
                    sa.select(Order.id).where(Order.order_number.icontains(term, autoescape=True))
                ),
            )
        )
    candidates = list(db.session.scalars(statement))
    merged = merged_thread_ids([c.id for c in candidates])
    return [c for c in candidates if c.id not in merged]


def merge_conversation(
    thread: CommunicationThread, into_id: uuid.UUID, actor: User
) -> ConversationMerge:
    """Merge ``thread`` (which ``actor`` has open) into conversation ``into_id``; no commit.

    Raises :class:`ConversationMergeRefused`.
    """
    target = db.session.get(CommunicationThread, into_id)
    if target is None:
        raise ConversationMergeRefused("not_found")
    if not can_access_thread(actor, target) or not can_access_thread(actor, thread):
        raise ConversationMergeRefused("no_access")
    try:
        merge = merge_threads(target.id, thread.id, actor=actor)
    except MergeRefused as refused:
        raise ConversationMergeRefused(refused.reason) from refused
    record_change(
        AUDIT_TABLE,
        merge.id,
        AUDIT_ACTION,
        {
            "kept_thread_id": target.id,
            "merged_thread_id": thread.id,
            "contact_id": target.contact_id,
            "moved": merge.moved,
        },
        user_id=actor.id,
    )
    return merge


# --- before the merge: who may, and what it would do --------------------------------

NOT_DESK = _l(
    "Only customer service agents, team leads, managers and admins may merge conversations."
)
# The preview's confirm button posts this; a POST without it merges nothing.
CONFIRMED = "yes"
# Message types counted apart in the preview.
NOTES = (MessageType.INTERNAL_NOTE,)
STATUS_LINES = (MessageType.SYSTEM_NOTIFICATION,)
# Low to urgent, as the merge takes the higher (app.conversations.core.merging).
PRIORITIES = list(Priority)


def merge_not_allowed(user: User) -> str | None:
    """Why ``user`` may not merge conversations at all (shown beside the disabled control)."""
    return None if user.role in STAFF_DESK_ROLES else str(NOT_DESK)


@dataclass
class ConversationMergePreview:
    """What merging ``merged`` into ``kept`` would do, computed before anything changes.

    ``counts`` has exactly what :func:`app.conversations.core.merge_threads` moves:
    ``messages`` (customer's and ours), ``notes``, ``status_lines``, ``files``
    (attached to those messages, they move with them), ``tasks`` and ``feedback``.
    """

    kept: CommunicationThread
    merged: CommunicationThread
    counts: dict[str, int] = field(default_factory=dict)
    tags_added: list[str] = field(default_factory=list)
    order_taken: Order | None = None
    priority_raised: bool = False
    refusal: str | None = None


def conversation_merge_preview(
    merged: CommunicationThread, kept: CommunicationThread, viewer: User
) -> ConversationMergePreview:
    """Read only: what would move into ``kept``, what it takes over, and any refusal."""
    counts = {"messages": 0, "notes": 0, "status_lines": 0, "files": 0}
    for message_type, attachments in db.session.execute(
        sa.select(CommunicationMessage.message_type, CommunicationMessage.attachments).where(
            CommunicationMessage.thread_id == merged.id
        )
    ):
        if message_type in NOTES:
            counts["notes"] += 1
        elif message_type in STATUS_LINES:
            counts["status_lines"] += 1
        else:
            counts["messages"] += 1
        counts["files"] += len(attachments or [])
    for name, model in (("tasks", InternalTask), ("feedback", CustomerFeedback)):
        counts[name] = db.session.scalar(
            sa.select(sa.func.count()).select_from(model).where(model.thread_id == merged.id)
        )
    return ConversationMergePreview(
        kept,
        merged,
        counts,
        tags_added=sorted(set(merged.tags or []) - set(kept.tags or [])),
        order_taken=merged.order if kept.order_id is None else None,
        priority_raised=PRIORITIES.index(merged.priority) > PRIORITIES.index(kept.priority),
        refusal=_refusal(merged, kept, viewer),
    )


def _refusal(merged: CommunicationThread, kept: CommunicationThread, viewer: User) -> str | None:
    if (not_allowed := merge_not_allowed(viewer)) is not None:
        return not_allowed
    if not can_access_thread(viewer, kept) or not can_access_thread(viewer, merged):
        return ConversationMergeRefused("no_access").message
    reason = merge_refusal(kept, merged)
    return ConversationMergeRefused(reason).message if reason else None
