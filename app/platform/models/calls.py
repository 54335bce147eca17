"""Logged phone calls (channel type ``phone_call``).

A call is a message in its thread (channel ``phone_call``; its notes are the
message's content, so the timeline, search and the API see it like any other
message) plus one row here with what a message cannot say: direction,
duration and outcome. Analytics counts calls and talk time from this table.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.database import Entity, enum_column
from app.platform.extensions import db
from app.platform.models.enums import CallDirection, CallOutcome

# What the inbox preview of a call starts with; the inbox puts the words
# "Phone call" after it in the reader's language ("📞 Gesprek 4:12",
# app.platform.ui.message_preview).
CALL_PREVIEW_MARK = "\U0001f4de"
# Longer than any real customer call; a typo ("4512" for 45:12) is refused, not counted.
MAX_CALL_SECONDS = 3 * 60 * 60


class PhoneCall(Entity, db.Model):
    """The facts of one logged call; its notes are the message ``message_id``.

    The thread is the message's (no copy here: a merge moves messages between
    threads, and the call goes with its message).
    """

    __tablename__ = "phone_calls"
    __table_args__ = (
        sa.CheckConstraint(
            f"duration_seconds BETWEEN 0 AND {MAX_CALL_SECONDS}", name="duration_range"
        ),
        # Analytics reads calls by the moment they were made.
        sa.Index("ix_phone_calls_called_at", "called_at"),
    )

    message_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("communication_message.id", ondelete="CASCADE"), unique=True
    )
    # Who made or took the call (and logged it).
    agent_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    direction: so.Mapped[CallDirection] = so.mapped_column(enum_column(CallDirection))
    outcome: so.Mapped[CallOutcome] = so.mapped_column(enum_column(CallOutcome))
    duration_seconds: so.Mapped[int] = so.mapped_column(default=0)
    called_at: so.Mapped[datetime] = so.mapped_column()

    message = so.relationship(
        "CommunicationMessage",
        backref=so.backref("phone_call", uselist=False, passive_deletes=True),
    )
    agent = so.relationship("User")
