"""Drafts: what an agent typed in a conversation's reply or note box, kept on the server.

Saved as they type (the browser debounces), so the text is back when the
conversation is opened again, on any device; gone once it is sent. One row per
(user, thread, kind), written with a single upsert on that key, so two tabs or
two web processes saving at once never collide. Drafts are not messages of the
conversation, so they are kept here rather than by the conversation's owner.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask_babel import gettext as _

from app.conversations.workspace.services import MAX_MESSAGE_LENGTH, InvalidInput
from app.platform.database import upsert_insert, utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationThread, MessageDraft, User
from app.platform.models.drafts import DRAFT_KINDS


def parse_draft(data: dict) -> tuple[str, str]:
    """Validate a save request: ``kind`` (reply/note) and ``content`` (text)."""
    kind, content = data.get("kind"), data.get("content", "")
    if kind not in DRAFT_KINDS:
        raise InvalidInput({"kind": _("Must be reply or note.")})
    if not isinstance(content, str):
        raise InvalidInput({"content": _("Must be text.")})
    if len(content) > MAX_MESSAGE_LENGTH:
        raise InvalidInput(
            {"content": _("At most %(count)s characters.", count=MAX_MESSAGE_LENGTH)}
        )
    return kind, content


def save_draft(user: User, thread: CommunicationThread, kind: str, content: str) -> None:
    """Keep ``content`` as the draft; an empty box discards it. The caller commits."""
    if not content.strip():
        discard_draft(user, thread, kind)
        return
    now = utcnow()
    insert = upsert_insert(MessageDraft, db.session.get_bind().dialect.name)
    db.session.execute(
        insert.values(
            id=uuid.uuid4(),
            user_id=user.id,
            thread_id=thread.id,
            kind=kind,
            content=content,
            created_at=now,
            updated_at=now,
        ).on_conflict_do_update(
            index_elements=["user_id", "thread_id", "kind"],
            set_={"content": insert.excluded.content, "updated_at": insert.excluded.updated_at},
        )
    )


def discard_draft(user: User, thread: CommunicationThread, kind: str) -> None:
    """The text was sent (or emptied): forget the draft. The caller commits."""
    db.session.execute(
        sa.delete(MessageDraft).where(
            MessageDraft.user_id == user.id,
            MessageDraft.thread_id == thread.id,
            MessageDraft.kind == kind,
        )
    )


def drafts_for(user: User, thread: CommunicationThread) -> dict[str, str]:
    """The user's drafts in ``thread`` by kind: {"reply": "...", "note": "..."}."""
    rows = db.session.execute(
        sa.select(MessageDraft.kind, MessageDraft.content).where(
            MessageDraft.user_id == user.id, MessageDraft.thread_id == thread.id
        )
    ).all()
    return {kind: content for kind, content in rows}
