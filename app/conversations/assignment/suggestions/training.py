"""Training the team classifier on our own closed conversations, and measuring it.

The conversations that started in the last ``HOLDOUT_DAYS`` are held out: a
model trained without them is measured on them, and that accuracy is what the
admin page shows (with the share it would route by itself at the threshold).
The model put to use is then trained again on all closed conversations, the
held-out ones too: what customers wrote in the last two weeks (a new product, a
new fault) is what the next conversations are most like, and a model that
never saw it would route them by older words. The model is
TF-IDF over the stemmed words and word pairs (:mod:`.text`) plus the channel
and "had an order", into a multinomial logistic regression; a one-vs-rest
logistic regression per skill beside it. Everything runs in this process,
on this database: nothing leaves the machine.

The periodic job (every 6 h) and the admin's "Train now" both run
:func:`retrain_routing_model`, under a PostgreSQL advisory lock, so two workers
never train at once; a periodic run that finds a model trained moments ago
(the other worker's) leaves it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.conversations.assignment.suggestions.classifier import (
    Prediction,
    TeamClassifier,
    dump,
    forget_loaded,
    library_version,
)
from app.conversations.assignment.suggestions.samples import (
    HOLDOUT_DAYS,
    MIN_TRAINING_SAMPLES,
    Sample,
    closed_conversations,
)
from app.conversations.assignment.suggestions.text import FEATURE_VERSION
from app.platform.database import hold_advisory_lock, utcnow
from app.platform.extensions import db
from app.platform.models import RoutingModel, Team
from app.platform.transactions import commit

log = logging.getLogger(__name__)

# A periodic run this soon after another leaves that one's model.
FRESH_FOR = timedelta(minutes=30)
KEEP_RUNS = 5
TRAINING_LOCK = "routing-model-training"
# Per held-out conversation kept for the threshold figures; more adds nothing.
MAX_HOLDOUT_SCORES = 5000


@dataclass
class Evaluation:
    """How a classifier did on conversations it never saw."""

    scores: list[tuple[float, bool]] = field(default_factory=list)
    per_team: dict[str, Counter] = field(default_factory=dict)

    @property
    def correct(self) -> int:
        return sum(1 for _confidence, right in self.scores if right)

    @property
    def accuracy(self) -> float | None:
        return self.correct / len(self.scores) if self.scores else None


def fit(samples: list[Sample]) -> TeamClassifier | None:
    """A classifier of ``samples``; None when they are too few or all of one team."""
    teams = Counter(sample.team_id for sample in samples)
    if len(samples) < MIN_TRAINING_SAMPLES or len(teams) < 2:
        return None
    # scikit-learn costs every process that imports it a second or two of start-up:
    # only a run with enough to learn from loads it (routing only unpickles).
    from app.conversations.assignment.suggestions.learning import fit_classifier

    return fit_classifier(samples)


def evaluate(classifier: TeamClassifier, samples: list[Sample]) -> Evaluation:
    """Predict each of ``samples`` and compare with the team it really ended with."""
    evaluation = Evaluation()
    if not samples:
        return evaluation
    predictions: list[Prediction] = classifier.predict([sample.question for sample in samples])
    for sample, prediction in zip(samples, predictions, strict=True):
        right = prediction.team_id == sample.team_id
        evaluation.scores.append((prediction.confidence, right))
        evaluation.per_team.setdefault(sample.team_id, Counter()).update(
            holdout=1, correct=int(right)
        )
    return evaluation


def split(samples: list[Sample], holdout_from: datetime) -> tuple[list[Sample], list[Sample]]:
    """Conversations started before ``holdout_from`` to learn from, and the rest to measure."""
    earlier = [sample for sample in samples if sample.started_at < holdout_from]
    later = [sample for sample in samples if sample.started_at >= holdout_from]
    return earlier, later


def train_routing_model(now: datetime | None = None) -> RoutingModel:
    """Measure a model of the closed conversations before the holdout weeks on those
    weeks, then train the model to use on all of them, and store the run (without a
    model when there were too few before the holdout weeks); the caller commits."""
    started = time.monotonic()
    now = now or utcnow()
    holdout_from = now - timedelta(days=HOLDOUT_DAYS)
    training, holdout = split(closed_conversations(), holdout_from)
    if db.session.get_bind().dialect.name == "sqlite":
        # SQLite (make run): the read's lock would keep every writer out for the
        # seconds the fitting takes; PostgreSQL readers block nobody.
        commit()
    measured = fit(training)
    evaluation = evaluate(measured, holdout) if measured is not None else Evaluation()
    # No model is used before one could be measured (a young installation waits).
    classifier = None
    if measured is not None:
        training = training + holdout
        classifier = fit(training) if holdout else measured
    run = RoutingModel(
        trained_at=now,
        model=dump(classifier) if classifier is not None else None,
        feature_version=FEATURE_VERSION,
        library_version=library_version(),
        holdout_from=holdout_from,
        training_samples=len(training),
        holdout_samples=len(evaluation.scores),
        holdout_correct=evaluation.correct,
        holdout_scores=[
            [round(confidence, 4), int(right)]
            for confidence, right in evaluation.scores[-MAX_HOLDOUT_SCORES:]
        ],
        per_team=_per_team(training, evaluation),
        skills=list(classifier.skill_names) if classifier is not None else [],
    )
    run.seconds = round(time.monotonic() - started, 2)
    db.session.add(run)
    db.session.flush()
    _prune_old_runs()
    forget_loaded()
    log.info(
        "routing model %s: %s trained, %s held out, accuracy %s, %.1f s",
        run.id,
        run.training_samples,
        run.holdout_samples,
        run.holdout_accuracy,
        run.seconds,
    )
    return run


def _per_team(training: list[Sample], evaluation: Evaluation) -> list[dict]:
    trained = Counter(sample.team_id for sample in training)
    team_ids = sorted(set(trained) | set(evaluation.per_team))
    names = dict(
        db.session.execute(
            sa.select(Team.id, Team.name).where(Team.id.in_([uuid.UUID(t) for t in team_ids]))
        ).all()
    )
    return [
        {
            "team_id": team_id,
            "name": names.get(uuid.UUID(team_id), team_id),
            "training": trained.get(team_id, 0),
            "holdout": evaluation.per_team.get(team_id, Counter())["holdout"],
            "correct": evaluation.per_team.get(team_id, Counter())["correct"],
        }
        for team_id in team_ids
    ]


def _prune_old_runs() -> None:
    kept = (
        sa.select(RoutingModel.id).order_by(RoutingModel.trained_at.desc()).limit(KEEP_RUNS)
    ).scalar_subquery()
    db.session.execute(
        sa.delete(RoutingModel)
        .where(RoutingModel.id.not_in(kept))
        .execution_options(synchronize_session=False)
    )


def retrain_routing_model(force: bool = False) -> str:
    """The job: train a new model unless one was trained moments ago (``force``: anyway).

    Returns what it did: ``trained``, ``too few samples`` or ``fresh``.
    """
    hold_advisory_lock(db.session, TRAINING_LOCK)
    newest = db.session.scalar(sa.select(sa.func.max(RoutingModel.trained_at)))
    if not force and newest is not None and newest > utcnow() - FRESH_FOR:
        db.session.rollback()
        return "fresh"
    run = train_routing_model()
    trained = run.model is not None
    commit()
    return "trained" if trained else "too few samples"
