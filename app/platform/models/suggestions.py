"""Suggested replies: the team's harvested replies, the sets offered per
customer message, what became of them, and what the ranking learned from that.

Written only by :mod:`app.conversations.reply_suggestions`; the composer reads them through it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects.postgresql import TSVECTOR

from app.platform.database import Entity, utcnow
from app.platform.extensions import db


class HarvestedReply(Entity, db.Model):
    """One earlier reply of ours, from a conversation that ended well, made reusable.

    The reply's customer name, order number and dates are placeholders
    (``{{customer_name}}``, ``{{visit_moment}}`` …) and the sign-off is gone;
    a reply sent from a template keeps only ``template_id`` (the template is
    the suggestion). ``question`` is what the customer had written before it:
    ``document`` (full text, PostgreSQL) indexes both, so a new question finds
    the answers given to similar ones. One row per reply message (unique), so
    harvesting a conversation twice adds nothing.
    """

    __tablename__ = "harvested_replies"
    __table_args__ = (
        sa.Index("ix_harvested_replies_document", "document", postgresql_using="gin"),
        # "The 1,000 most recent matches": read newest first.
        sa.Index("ix_harvested_replies_replied_at", "replied_at"),
    )

    message_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("communication_message.id", ondelete="CASCADE"), unique=True
    )
    thread_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("communication_thread.id", ondelete="CASCADE"), index=True
    )
    template_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("communication_template.id", ondelete="CASCADE"), index=True
    )
    body: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    # The same text (or template) in many conversations: one candidate, counted.
    candidate_key: so.Mapped[str] = so.mapped_column(sa.String(40))
    title: so.Mapped[str] = so.mapped_column(sa.String(120))
    question: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    language: so.Mapped[str] = so.mapped_column(sa.String(8), default="nl")
    channel_type: so.Mapped[Optional[str]] = so.mapped_column(sa.String(32))
    order_status: so.Mapped[Optional[str]] = so.mapped_column(sa.String(32))
    replied_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    document: so.Mapped[Optional[str]] = so.mapped_column(
        sa.Text().with_variant(TSVECTOR(), "postgresql")
    )


class SuggestionSet(Entity, db.Model):
    """The suggestions computed for one customer message, for one situation.

    ``set_name`` ``open``: anything may be sent; ``approved``: WhatsApp's 24-hour
    window has closed and only approved templates go through. Unique per
    message and set: of two workers (or a job delivered twice) one writes it,
    the other finds it written and stores nothing.
    """

    __tablename__ = "suggestion_sets"
    __table_args__ = (
        sa.UniqueConstraint("message_id", "set_name"),
        # The thread's latest set, read when the thread opens.
        sa.Index("ix_suggestion_sets_thread_message_at", "thread_id", "message_at"),
    )

    message_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("communication_message.id", ondelete="CASCADE")
    )
    thread_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("communication_thread.id", ondelete="CASCADE")
    )
    set_name: so.Mapped[str] = so.mapped_column(sa.String(16))
    # When the customer's message arrived: a newer one makes this set stale.
    message_at: so.Mapped[datetime] = so.mapped_column()
    # The context it was ranked in (what the analytics and the benchmark read).
    language: so.Mapped[str] = so.mapped_column(sa.String(8), default="nl")
    channel_type: so.Mapped[Optional[str]] = so.mapped_column(sa.String(32))
    order_status: so.Mapped[Optional[str]] = so.mapped_column(sa.String(32))
    compute_ms: so.Mapped[Optional[float]] = so.mapped_column(sa.Float)

    suggestions: so.Mapped[list["ReplySuggestion"]] = so.relationship(
        order_by="ReplySuggestion.rank", cascade="all, delete-orphan", passive_deletes=True
    )


class ReplySuggestion(Entity, db.Model):
    """One of a set's (at most three) suggestions: a template or a harvested reply.

    The text is kept with its placeholders and filled in when the thread is
    shown, so a visit moved since then shows its new date. ``picked_at``: an
    agent put it into the reply box (it is never sent by itself).
    """

    __tablename__ = "reply_suggestions"
    __table_args__ = (sa.UniqueConstraint("set_id", "rank"),)

    set_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("suggestion_sets.id", ondelete="CASCADE")
    )
    rank: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))  # template | reply
    template_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("communication_template.id", ondelete="CASCADE"), index=True
    )
    candidate_key: so.Mapped[str] = so.mapped_column(sa.String(40))
    title: so.Mapped[str] = so.mapped_column(sa.String(120))
    body: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    language: so.Mapped[str] = so.mapped_column(sa.String(8), default="nl")
    score: so.Mapped[float] = so.mapped_column(sa.Float, default=0.0)
    picked_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    picked_by_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    template = so.relationship("CommunicationTemplate")


class SuggestionOutcome(Entity, db.Model):
    """What the agent's reply to one customer message did with its suggestions.

    ``used``: sent as suggested; ``edited``: started from a suggestion and
    changed; ``ignored``: written without one. One row per customer message
    (unique): the first reply to it decides. Withdrawing that reply (Undo send)
    deletes the row with it, so the next reply decides instead.
    """

    __tablename__ = "suggestion_outcomes"
    __table_args__ = (sa.Index("ix_suggestion_outcomes_decided_at", "decided_at"),)

    message_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("communication_message.id", ondelete="CASCADE"), unique=True
    )
    thread_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("communication_thread.id", ondelete="CASCADE"), index=True
    )
    reply_message_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("communication_message.id", ondelete="CASCADE"), index=True
    )
    suggestion_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("reply_suggestions.id", ondelete="SET NULL")
    )
    outcome: so.Mapped[str] = so.mapped_column(sa.String(16))
    user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    channel_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("communication_channel.id", ondelete="SET NULL")
    )
    decided_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class SuggestionFeedback(Entity, db.Model):
    """How often one candidate (a template, or one harvested text) was offered and taken.

    The ranking's learned prior: a candidate agents keep choosing rises, one
    they keep passing over sinks. Counted once per decided outcome.
    """

    __tablename__ = "suggestion_feedback"

    candidate_key: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    offered: so.Mapped[int] = so.mapped_column(default=0)
    used: so.Mapped[int] = so.mapped_column(default=0)
    edited: so.Mapped[int] = so.mapped_column(default=0)
