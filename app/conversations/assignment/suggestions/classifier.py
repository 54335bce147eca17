"""The trained team classifier, and the one copy each process keeps of the newest.

The classifier is made by :mod:`app.conversations.assignment.suggestions.training` and stored
pickled in ``routing_models``; every web and worker process loads the newest
row once and again only when a newer one exists (one indexed look-up per new
conversation tells). Nothing here imports scikit-learn: unpickling brings in
what the model needs, so a process that never routes with a model never pays
for loading it.
"""

from __future__ import annotations

import logging
import pickle  # noqa: S403  (our own models, written by our training job into our database)
import threading
import uuid
import zlib
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from app.conversations.assignment.suggestions.text import FEATURE_VERSION, Question
from app.platform.extensions import db
from app.platform.kept import Kept
from app.platform.models import RoutingModel

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

# A skill is suggested when the classifier gives it at least this chance.
SKILL_CHANCE = 0.5


def library_version() -> str:
    """The installed scikit-learn release, read without importing it."""
    return metadata.version("scikit-learn")


@dataclass(frozen=True)
class Prediction:
    """The most likely team (an id) for one question, how sure, and the likely skills."""

    team_id: str
    confidence: float
    skills: tuple[str, ...] = ()


@dataclass
class TeamClassifier:
    """Fitted parts: features (text, channel, order), the team model, the skill model."""

    features: Any
    teams: Any
    skills: Any = None
    skill_names: tuple[str, ...] = ()

    def predict(self, questions: list[Question]) -> list[Prediction]:
        matrix = self.features.transform(rows(questions))
        chances = self.teams.predict_proba(matrix)
        best = chances.argmax(axis=1)
        skill_chances = self.skills.predict_proba(matrix) if self.skills is not None else None
        if skill_chances is not None and len(self.skill_names) == 1:
            # One skill is a yes/no question: scikit-learn answers both columns.
            skill_chances = skill_chances[:, -1:]
        predictions = []
        for index, column in enumerate(best):
            skills: tuple[str, ...] = ()
            if skill_chances is not None:
                skills = tuple(
                    name
                    for name, chance in zip(self.skill_names, skill_chances[index], strict=True)
                    if chance >= SKILL_CHANCE
                )
            predictions.append(
                Prediction(str(self.teams.classes_[column]), float(chances[index, column]), skills)
            )
        return predictions


def rows(questions: list[Question]) -> np.ndarray:
    """The questions as the 2-D array of (text, channel, order) the features expect."""
    # Imported here: a process that never ranks teams starts without numpy.
    import numpy as np

    table = np.empty((len(questions), 3), dtype=object)
    for index, question in enumerate(questions):
        table[index] = question.row()
    return table


def dump(classifier: TeamClassifier) -> bytes:
    return zlib.compress(pickle.dumps(classifier, protocol=5), 6)


def load(data: bytes) -> TeamClassifier:
    return pickle.loads(zlib.decompress(data))  # noqa: S301  (see the import)


# (model id, classifier or None) of the newest run this process has seen.
_newest: tuple[uuid.UUID, TeamClassifier | None] | None = None
_loading = threading.Lock()


# Every new conversation asks for the newest run, a training comes once a night.
_newest_runs: Kept[sa.Row | None] = Kept()


def _newest_run() -> sa.Row | None:
    return _newest_runs.get(None, _read_newest_run)


def _read_newest_run() -> sa.Row | None:
    return db.session.execute(
        sa.select(RoutingModel.id, RoutingModel.feature_version, RoutingModel.library_version)
        .order_by(RoutingModel.trained_at.desc())
        .limit(1)
    ).first()


def trained() -> bool:
    """Whether any run was trained (a run made by other code counts: it may fail to load)."""
    return _newest_run() is not None


def current_classifier() -> tuple[uuid.UUID, TeamClassifier] | None:
    """The newest trained classifier and its row id; None while there is none to use
    (never trained, too few samples, or made by other code than this)."""
    global _newest
    newest = _newest_run()
    if newest is None:
        return None
    with _loading:
        if _newest is None or _newest[0] != newest.id:
            _newest = (newest.id, _load_row(newest))
        model_id, classifier = _newest
    return (model_id, classifier) if classifier is not None else None


def _load_row(newest) -> TeamClassifier | None:
    if newest.feature_version != FEATURE_VERSION or newest.library_version != library_version():
        log.warning(
            "routing model %s was made by other code (features %s, scikit-learn %s); "
            "no suggestions until the next training",
            newest.id,
            newest.feature_version,
            newest.library_version,
        )
        return None
    data = db.session.scalar(sa.select(RoutingModel.model).where(RoutingModel.id == newest.id))
    if data is None:
        return None  # too few samples that run
    try:
        return load(data)
    except (zlib.error, pickle.UnpicklingError, AttributeError, ImportError, EOFError):
        # Remembered as unusable, so each new conversation does not try again.
        log.exception(
            "routing model %s cannot be loaded; no suggestions until the next training", newest.id
        )
        return None


def forget_loaded() -> None:
    """Drop this process's copy (after training here, and between tests)."""
    global _newest
    with _loading:
        _newest = None
