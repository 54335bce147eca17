"""Fitting the classifier with scikit-learn (imported here only, see :mod:`.training`).

TF-IDF over the stemmed words and word pairs of the customer's first message
(:func:`app.conversations.assignment.suggestions.text.analyse`) beside the channel and "had
an order" one-hot, into a multinomial logistic regression over the teams; a
one-vs-rest logistic regression per skill on the same features.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer, OneHotEncoder

from app.conversations.assignment.suggestions.classifier import TeamClassifier, rows
from app.conversations.assignment.suggestions.samples import Sample
from app.conversations.assignment.suggestions.text import analyse

# A skill is learnt once this many conversations carried it.
MIN_SKILL_SAMPLES = 5
# Inverse regularisation: of 1, 3, 10 and 30, 3 routed best in benchmarks/routing.py.
STRENGTH = 3.0
# The channel and "had an order" are hints beside what the customer wrote: at full
# weight each one-hot column counted as much as the whole (unit-length) text vector,
# and on a young history a channel most conversations of one team came in on
# outvoted "foutcode … verkeerd aangesloten". At 0.3 benchmarks/routing.py routes as
# well as at 1 (89.5 % against 89.3 %), and the demo's installation complaint goes
# to Techniek.
CONTEXT_WEIGHT = 0.3


def fit_classifier(samples: list[Sample]) -> TeamClassifier:
    """The classifier of ``samples`` (of two teams or more)."""
    features = ColumnTransformer(
        [
            (
                "text",
                TfidfVectorizer(
                    analyzer=analyse,
                    sublinear_tf=True,
                    min_df=2,
                    max_features=100_000,
                    dtype=np.float32,
                ),
                0,
            ),
            ("context", OneHotEncoder(handle_unknown="ignore"), [1, 2]),
        ],
        transformer_weights={"text": 1.0, "context": CONTEXT_WEIGHT},
    )
    matrix = features.fit_transform(rows([sample.question for sample in samples]))
    team_model = LogisticRegression(C=STRENGTH, max_iter=2000)
    team_model.fit(matrix, [sample.team_id for sample in samples])
    classifier = TeamClassifier(features=features, teams=team_model)
    skill_counts = Counter(skill for sample in samples for skill in sample.skills)
    learnt = sorted(s for s, n in skill_counts.items() if MIN_SKILL_SAMPLES <= n < len(samples))
    if learnt:
        binarizer = MultiLabelBinarizer(classes=learnt)
        labels = binarizer.fit_transform(
            [[s for s in sample.skills if s in learnt] for sample in samples]
        )
        classifier.skills = OneVsRestClassifier(LogisticRegression(C=STRENGTH, max_iter=2000))
        classifier.skills.fit(matrix, labels)
        classifier.skill_names = tuple(learnt)
    return classifier
