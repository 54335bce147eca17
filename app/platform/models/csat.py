"""Customer satisfaction: one row per resolution a customer was (or was not) asked about."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.database import Entity
from app.platform.extensions import db


class CsatResponse(Entity, db.Model):
    """The rating question of one resolution of a conversation, and the customer's answer.

    Written before the question goes out, keyed by the thread and the moment it
    was resolved (a unique key): duplicate events, two
    workers and a retried job all meet that key, so each resolution is asked
    about at most once. ``state`` says what became of it: ``asked`` (the question
    is the outbound message ``message_id``, which the send job delivers),
    ``skipped`` (``skip_reason``: quiet period, no address, switched off).
    The agent and team are those the thread had when it was resolved.
    """

    __tablename__ = "csat_responses"
    __table_args__ = (
        sa.UniqueConstraint("thread_id", "resolved_at"),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        # The quiet period looks up a customer's latest question.
        sa.Index("ix_csat_responses_contact_asked", "contact_id", "asked_at"),
        # Analytics reads answered rows by the moment they were answered.
        sa.Index("ix_csat_responses_answered", "answered_at"),
    )

    thread_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("communication_thread.id", ondelete="CASCADE")
    )
    resolved_at: so.Mapped[datetime] = so.mapped_column()
    contact_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL")
    )
    agent_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    team_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    # The conversation's channel (what analytics groups by).
    channel_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("communication_channel.id", ondelete="SET NULL")
    )
    state: so.Mapped[str] = so.mapped_column(sa.String(16))
    skip_reason: so.Mapped[Optional[str]] = so.mapped_column(sa.String(32))
    # How the question went out: "whatsapp" (interactive list) or "email" (a link).
    ask_channel: so.Mapped[Optional[str]] = so.mapped_column(sa.String(16))
    # The outbound message carrying the question.
    message_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("communication_message.id", ondelete="SET NULL")
    )
    language: so.Mapped[str] = so.mapped_column(sa.String(10), default="nl")
    asked_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    rating: so.Mapped[Optional[int]] = so.mapped_column(sa.SmallInteger)
    comment: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    answered_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    # Where the answer came from: "whatsapp" or "web".
    answer_channel: so.Mapped[Optional[str]] = so.mapped_column(sa.String(16))
