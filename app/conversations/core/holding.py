"""Undo send: an agent's reply is held for a few seconds before it goes out.

:func:`app.conversations.core.messages.post_outbound` with ``hold_until`` stores the
reply at once (nothing is lost if the browser closes) and keeps the thread right
as for any reply, but first notes here what the thread looked like before it
(:func:`before_send`). The send job's claim takes a message only once its hold
has passed and clears ``send_held_until``; :func:`withdraw_outbound` deletes it
only while ``send_held_until`` is still set and in the future. Both are one
conditional statement on the row, so when Undo and the job meet exactly one of
them wins, however many workers run.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa

from app.conversations.attachments.storage import discard_message_files
from app.conversations.core.events import ThreadChanged
from app.conversations.inbox.search import rebuild_search_documents
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread
from app.platform.models.enums import DeliveryStatus, ThreadStatus
from app.platform.transactions import after_commit, publish

BEFORE_SEND = "before_send"
# What a reply changes on its thread, restored when the reply is withdrawn.
_PREVIEW_FIELDS = ("last_message_at", "last_message_preview")
_SLA_FIELDS = (
    "first_response_at",
    "first_response_seconds",
    "response_due_at",
    "sla_next_check_at",
    "sla_paused_at",
    "sla_cycle",
)


def before_send(thread: CommunicationThread) -> dict:
    """The thread's derived fields before a held reply changes them (JSON-ready)."""
    fields = {"status": thread.status.value}
    for name in _PREVIEW_FIELDS + _SLA_FIELDS:
        value = getattr(thread, name)
        fields[name] = value.isoformat() if isinstance(value, datetime) else value
    return fields


def withdraw_outbound(
    thread: CommunicationThread, message_id: uuid.UUID, *, author_id: uuid.UUID
) -> CommunicationMessage | None:
    """Withdraw ``author_id``'s held reply: it is never sent and leaves the thread as before.

    Returns the withdrawn message (detached, for its text), or None when it is
    not in ``thread``, not theirs, or its hold has passed (then it is being sent).
    """
    message = db.session.get(CommunicationMessage, message_id)
    if message is None or message.thread_id != thread.id or message.sender_user_id != author_id:
        return None
    deleted = db.session.execute(
        sa.delete(CommunicationMessage)
        .where(
            CommunicationMessage.id == message_id,
            CommunicationMessage.delivery_status == DeliveryStatus.PENDING,
            CommunicationMessage.send_held_until > utcnow(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if deleted != 1:
        return None
    # Forget it here too, so no loaded collection of the thread writes it back.
    db.session.expire(thread, ["messages"])
    db.session.expunge(message)
    _restore(thread, message, (message.extra or {}).get(BEFORE_SEND) or {})
    rebuild_search_documents([thread.id])
    if message.attachments:
        # Its files go too, once the withdrawal is committed (a browser cannot
        # be handed files back; the agent attaches them again).
        after_commit(lambda: discard_message_files(message_id))
    publish(ThreadChanged(thread.id, "withdrawn", {"message_id": str(message_id)}))
    return message


def _restore(thread: CommunicationThread, message: CommunicationMessage, before: dict) -> None:
    """Undo what the reply did to its thread, where nothing has happened since.

    If the customer (or anyone) wrote after it, that newer activity stands: the
    preview is theirs already, and their message started the SLA clock anew.
    """
    if not before or thread.last_message_at != message.created_at:
        return
    for name in _PREVIEW_FIELDS:
        setattr(thread, name, _value(name, before[name]))
    if thread.sla_cycle == before.get("sla_cycle"):
        for name in _SLA_FIELDS:
            setattr(thread, name, _value(name, before[name]))
    was_open = before.get("status") == ThreadStatus.OPEN.value
    if was_open and thread.status == ThreadStatus.IN_PROGRESS:
        thread.status = ThreadStatus.OPEN


def _value(name: str, raw):
    if name.endswith("_at") and raw is not None:
        return datetime.fromisoformat(raw)
    return raw
