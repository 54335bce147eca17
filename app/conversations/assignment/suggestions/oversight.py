"""The "Team suggestions" section of the assignment admin page: the switch, the
threshold, and how the newest model did on the weeks it never saw."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from app.conversations.assignment.suggestions.samples import HOLDOUT_DAYS, MIN_TRAINING_SAMPLES
from app.conversations.assignment.suggestions.settings import Settings, routing_settings
from app.platform.extensions import db
from app.platform.models import RoutingModel


@dataclass(frozen=True)
class TeamFigure:
    name: str
    training: int
    holdout: int
    accuracy: float | None  # percent


@dataclass
class SuggestionsSection:
    settings: Settings
    trained_at: datetime | None = None
    has_model: bool = False
    training_samples: int = 0
    holdout_samples: int = 0
    accuracy: float | None = None  # percent of the held-out conversations right
    # At the threshold: the share the model would route by itself, and how many of those are right.
    covered: float | None = None
    covered_accuracy: float | None = None
    teams: list[TeamFigure] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)
    seconds: float = 0.0
    errors: dict[str, str] = field(default_factory=dict)
    # What the admin typed in a refused submission, shown again as typed.
    typed_threshold: str | None = None
    min_samples: int = MIN_TRAINING_SAMPLES
    holdout_days: int = HOLDOUT_DAYS


def _percent(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def suggestions_section(
    settings: Settings | None = None,
    errors: dict[str, str] | None = None,
    typed_threshold: str | None = None,
) -> SuggestionsSection:
    """The section as saved, or with a refused submission's ``settings`` and ``errors``."""
    settings = settings or routing_settings()
    section = SuggestionsSection(
        settings, errors=dict(errors or {}), typed_threshold=typed_threshold
    )
    run = db.session.scalar(
        sa.select(RoutingModel).order_by(RoutingModel.trained_at.desc()).limit(1)
    )
    if run is None:
        return section
    section.trained_at = run.trained_at
    section.has_model = db.session.scalar(
        sa.select(RoutingModel.model.is_not(None)).where(RoutingModel.id == run.id)
    )
    section.training_samples = run.training_samples
    section.holdout_samples = run.holdout_samples
    section.accuracy = _percent(run.holdout_correct, run.holdout_samples)
    scores = run.holdout_scores or []
    sure = [right for confidence, right in scores if confidence >= settings.threshold]
    section.covered = _percent(len(sure), len(scores))
    section.covered_accuracy = _percent(sum(sure), len(sure))
    section.teams = [
        TeamFigure(
            row["name"], row["training"], row["holdout"], _percent(row["correct"], row["holdout"])
        )
        for row in sorted(run.per_team or [], key=lambda row: row["name"])
    ]
    section.skills = list(run.skills or [])
    section.seconds = run.seconds
    return section
