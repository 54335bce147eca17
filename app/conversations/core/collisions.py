"""Replies that would cross: what came in since the agent last saw the conversation.

The composer posts the id of the newest message its page showed (the last one
recorded, :func:`latest_message_id`). Before an agent's reply is written,
:func:`newer_than_seen` lists what was recorded after it
that the agent would be answering past: a colleague's reply to the customer
(sent or still held for Undo) and the customer's own new messages. Notes,
status lines, automations and the agent's own replies do not count.

Arrival is ``recorded_at`` (then the id, for messages recorded at one instant),
not ``created_at``: a customer's message carries the provider's time, which can
be earlier than messages the page already showed.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread
from app.platform.models.enums import MessageType

MAX_LISTED = 5


class UnknownSeenMessage(ValueError):
    """The id the composer sent is not a message of this conversation."""


class ReplyCollision(Exception):
    """Someone else wrote in the conversation since the agent last saw it."""

    def __init__(self, newer: list[CommunicationMessage]) -> None:
        super().__init__(f"{len(newer)} newer message(s)")
        self.newer = newer


def newer_than_seen(
    thread: CommunicationThread, seen_message_id: str, *, author_id: uuid.UUID
) -> list[CommunicationMessage]:
    """Others' replies and the customer's messages after ``seen_message_id``, oldest first.

    An empty ``seen_message_id`` means the page showed no message at all.
    Raises :class:`UnknownSeenMessage` for an id that is not this thread's.
    """
    M = CommunicationMessage
    query = (
        sa.select(M)
        .options(so.selectinload(M.sender_user), so.selectinload(M.sender_contact))
        .where(
            M.thread_id == thread.id,
            sa.or_(
                M.message_type == MessageType.INCOMING,
                sa.and_(
                    M.message_type == MessageType.OUTGOING,
                    sa.or_(M.sender_user_id.is_(None), M.sender_user_id != author_id),
                ),
            ),
        )
        .order_by(M.created_at, M.id)
    )
    if seen_message_id:
        seen = _seen(thread, seen_message_id)
        query = query.where(
            sa.or_(
                M.recorded_at > seen.recorded_at,
                sa.and_(M.recorded_at == seen.recorded_at, M.id > seen.id),
            )
        )
    newer = [m for m in db.session.scalars(query) if not (m.extra or {}).get("automation")]
    return newer[-MAX_LISTED:]


def _seen(thread: CommunicationThread, raw: str) -> CommunicationMessage:
    try:
        seen = db.session.get(CommunicationMessage, uuid.UUID(str(raw)))
    except ValueError:
        seen = None
    if seen is None or seen.thread_id != thread.id:
        raise UnknownSeenMessage(raw)
    return seen


def latest_message_id(thread: CommunicationThread) -> uuid.UUID | None:
    """The thread's last recorded message, as the composer's "seen up to"."""
    return db.session.scalar(
        sa.select(CommunicationMessage.id)
        .where(CommunicationMessage.thread_id == thread.id)
        .order_by(CommunicationMessage.recorded_at.desc(), CommunicationMessage.id.desc())
        .limit(1)
    )
