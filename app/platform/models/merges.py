"""Merges: two conversations of one customer made one, and two contacts made one.

A conversation merge is final (its messages now live in the kept thread); the
row is the pointer from the closed conversation to the one it went into. A
contact merge can be undone for a day: ``moved`` records exactly which rows
moved, so an undo moves those back and nothing else.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.database import Entity
from app.platform.extensions import db


class ConversationMerge(Entity, db.Model):
    """``merged_thread`` went into ``kept_thread``; one row per merged thread.

    The unique key on ``merged_thread_id`` is the last word when two people
    merge the same conversation at once: one row, one merge.
    """

    __tablename__ = "conversation_merges"

    kept_thread_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("communication_thread.id", ondelete="CASCADE"), index=True
    )
    merged_thread_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("communication_thread.id", ondelete="CASCADE"), unique=True
    )
    merged_by_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    merged_at: so.Mapped[datetime] = so.mapped_column()
    # How many messages and tasks moved (for the audit entry and the page).
    moved: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)

    kept_thread = so.relationship("CommunicationThread", foreign_keys=[kept_thread_id])
    merged_thread = so.relationship("CommunicationThread", foreign_keys=[merged_thread_id])


class ContactMerge(Entity, db.Model):
    """``merged_contact`` went into ``kept_contact``; undoable until a day has passed.

    ``moved`` is the snapshot an undo reads: the ids of every row that moved,
    per table and column, and the names of the kept contact's empty fields that
    the merged contact filled. Ids and field names only: no personal data.
    """

    __tablename__ = "contact_merges"
    __table_args__ = (sa.Index("ix_contact_merges_kept_merged_at", "kept_contact_id", "merged_at"),)

    kept_contact_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE")
    )
    merged_contact_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    merged_by_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    merged_at: so.Mapped[datetime] = so.mapped_column()
    undone_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    undone_by_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    moved: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)

    kept_contact = so.relationship("Contact", foreign_keys=[kept_contact_id])
    merged_contact = so.relationship("Contact", foreign_keys=[merged_contact_id])
    merged_by = so.relationship("User", foreign_keys=[merged_by_user_id])
