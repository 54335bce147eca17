"""Team suggestions for new conversations: the trained models, the admin's
settings and each conversation's suggestion with what became of it.

The classifier itself is :mod:`app.conversations.assignment.suggestions`; these are its rows.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.database import Entity, enum_column
from app.platform.extensions import db


class RoutingOutcome(StrEnum):
    """What became of a suggestion (``app.conversations.assignment.suggestions.outcomes``
    decides)."""

    PENDING = "pending"  # shown, nobody has acted on it yet
    ACCEPTED = "accepted"  # the conversation went to the suggested team and stayed
    CHANGED = "changed"  # a person moved it to another team than suggested
    IGNORED = "ignored"  # closed while the suggestion was still open
    AGREED_WITH_RULES = "agreed_with_rules"  # the rules had chosen the same team


class RoutingModel(Entity, db.Model):
    """One training run of the team classifier: the model (None: too few samples) and
    how it did on the conversations of the last weeks it never saw.

    Every process uses the newest row (``trained_at``); older rows are pruned.
    """

    __tablename__ = "routing_models"
    __table_args__ = (sa.Index("ix_routing_models_trained_at", "trained_at"),)

    trained_at: so.Mapped[datetime] = so.mapped_column()
    # The pickled classifier (zlib-compressed), written only by the training job into
    # this database; deferred so listing runs never reads megabytes.
    model: so.Mapped[Optional[bytes]] = so.mapped_column(sa.LargeBinary, deferred=True)
    # The feature code and scikit-learn release it was made with: another one is not loaded.
    feature_version: so.Mapped[int] = so.mapped_column(default=1)
    library_version: so.Mapped[str] = so.mapped_column(sa.String(32), default="")
    # Conversations started before this were trained on; from it on, measured only.
    holdout_from: so.Mapped[datetime] = so.mapped_column()
    training_samples: so.Mapped[int] = so.mapped_column(default=0)
    holdout_samples: so.Mapped[int] = so.mapped_column(default=0)
    holdout_correct: so.Mapped[int] = so.mapped_column(default=0)
    # [[confidence, 1 if right else 0], …] per held-out conversation: coverage and
    # accuracy at whatever threshold the admin sets, without retraining.
    holdout_scores: so.Mapped[list[Any]] = so.mapped_column(default=list)
    # [{"team_id", "name", "training", "holdout", "correct"}, …]
    per_team: so.Mapped[list[Any]] = so.mapped_column(default=list)
    skills: so.Mapped[list[Any]] = so.mapped_column(default=list)
    seconds: so.Mapped[float] = so.mapped_column(default=0.0)

    @property
    def holdout_accuracy(self) -> float | None:
        return self.holdout_correct / self.holdout_samples if self.holdout_samples else None


class RoutingSettings(Entity, db.Model):
    """The admin's switch and threshold; one row (``singleton``), absent until first saved."""

    __tablename__ = "routing_settings"
    __table_args__ = (sa.CheckConstraint("singleton", name="one_row"),)

    singleton: so.Mapped[bool] = so.mapped_column(default=True, unique=True)
    auto_routing: so.Mapped[bool] = so.mapped_column(default=False)
    # A suggestion at least this sure (0–1) routes the conversation by itself.
    confidence_threshold: so.Mapped[float] = so.mapped_column(default=0.7)
    updated_by_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )


class RoutingSuggestion(Entity, db.Model):
    """The team (and skills) suggested for one new conversation, once per conversation."""

    __tablename__ = "routing_suggestions"
    __table_args__ = (
        # Analytics counts suggestions by the day they were made.
        sa.Index("ix_routing_suggestions_created", "created_at"),
    )

    thread_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("communication_thread.id", ondelete="CASCADE"), unique=True
    )
    model_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("routing_models.id", ondelete="SET NULL")
    )
    team_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("teams.id", ondelete="SET NULL")
    )
    confidence: so.Mapped[float] = so.mapped_column()
    skills: so.Mapped[list[Any]] = so.mapped_column(default=list)
    # The team the channel's rules chose (or would have): "agreed with the rules" and
    # "stayed where the rules put it" are told apart from a real change by it.
    rules_team_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("teams.id", ondelete="SET NULL")
    )
    # Auto-routing sent the conversation to the suggested team by itself.
    auto_routed: so.Mapped[bool] = so.mapped_column(default=False)
    outcome: so.Mapped[RoutingOutcome] = so.mapped_column(
        enum_column(RoutingOutcome), default=RoutingOutcome.PENDING
    )
    decided_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    decided_by_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    team = so.relationship("Team", foreign_keys=[team_id])
