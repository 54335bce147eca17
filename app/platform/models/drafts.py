"""What an agent has typed in a conversation's reply or note box but not sent yet."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.database import Entity
from app.platform.extensions import db

DRAFT_KINDS = ("reply", "note")


class MessageDraft(Entity, db.Model):
    """One unsent text per person, conversation and box (reply or note).

    Not a conversation message: nobody else sees it, and it goes when its text
    is sent. The unique key lets a save be one ``INSERT … ON CONFLICT DO
    UPDATE``, so two tabs saving at once never make two drafts.
    """

    __tablename__ = "message_drafts"
    __table_args__ = (sa.UniqueConstraint("user_id", "thread_id", "kind"),)

    user_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    thread_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("communication_thread.id", ondelete="CASCADE"), index=True
    )
    kind: so.Mapped[str] = so.mapped_column(sa.String(8))
    content: so.Mapped[str] = so.mapped_column(sa.Text, default="")
