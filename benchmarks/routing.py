"""Routing accuracy of the team suggestions against the current rules, replayed in time order.

    .venv/bin/python benchmarks/routing.py [--weeks 26 --per-week 120 --seed 33
                                            --first-week 4 --thresholds 0.6,0.7,0.8]

The history is generated, not real: ``tests/support/routing_history.py`` (its module
docstring has every detail). In short: ``--weeks`` weeks of ``--per-week``
customer conversations of the four demo teams (customer service 45 %,
technical 30 %, sales 17 %, management 8 %), each first message built from
that team's Dutch or English (20 %) sentence templates with slots filled at
random, closed one to five days after it started; 12 % of first messages are
too vague to tell ("Could you call me back?"), 8 % carry another team's words,
and halfway through sales starts selling home batteries, words nobody used
before. It runs in this process on that list: no database, nothing leaves it.

The replay, no look-ahead: for each week from ``--first-week`` on, a model is
trained as the 6-hourly job would have trained it at that week's first moment
T, with the app's own code (``app.conversations.assignment.suggestions.training``): on all
the conversations that had been *closed* before T (the job measures a model
without those of the 14 days before T for the admin page, then puts one to use
that learnt from them too; none is used before 40 closed before those 14 days
make one that can be measured). It then routes that
week's new conversations, each compared with the team it really ended with.
Nothing of week T or later, and no conversation still open at T, is seen.

The rules, as the demo has them: a new customer conversation comes in as
"customer support" (nobody has typed it when the first message arrives), and
customer support goes to Klantenservice, so the rules are right exactly for
the conversations that end with Klantenservice. "Auto-routing at t" is what
the app does with the switch on: the suggestion where it is at least t sure,
else the rules.

It prints the accuracy of the rules, of the classifier's first choice, and of
auto-routing at each threshold (with the share the suggestion routed), the
same per team, the weekly accuracy, and the time to train and to suggest.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.conversations.assignment.suggestions.samples import (  # noqa: E402
    HOLDOUT_DAYS,
    MIN_TRAINING_SAMPLES,
    Sample,
)
from app.conversations.assignment.suggestions.text import Question  # noqa: E402
from app.conversations.assignment.suggestions.training import fit, split  # noqa: E402
from tests.support.routing_history import TEAMS, generate_history  # noqa: E402

RULES_TEAM = "customer-service"


def _percent(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:5.1f} %" if whole else "    —  "


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--per-week", type=int, default=120)
    parser.add_argument("--seed", type=int, default=33)
    parser.add_argument("--first-week", type=int, default=4, help="the first week routed")
    parser.add_argument("--thresholds", default="0.6,0.7,0.8")
    args = parser.parse_args()
    thresholds = [float(t) for t in args.thresholds.split(",")]

    history = generate_history(weeks=args.weeks, per_week=args.per_week, seed=args.seed)
    start = history[0].started_at.replace(hour=0, minute=0, second=0, microsecond=0)
    start -= timedelta(days=start.weekday())
    print(
        f"history: {len(history)} conversations over {args.weeks} weeks "
        f"(seed {args.seed}); {Counter(c.team for c in history)}"
    )

    routed = []  # (week, true team, predicted team, confidence)
    fit_seconds, fit_sizes, predict_seconds = [], [], []
    weekly = []
    for week in range(args.first_week, args.weeks + 1):
        moment = start + timedelta(weeks=week)
        closed = [
            Sample(c.started_at, Question(c.text, c.channel, c.has_order), c.team, c.skills)
            for c in history
            if c.closed_at < moment
        ]
        learn_from, _held_out = split(closed, moment - timedelta(days=HOLDOUT_DAYS))
        arriving = [c for c in history if moment <= c.started_at < moment + timedelta(weeks=1)]
        if not arriving:
            continue
        # As the job does: no model before one could be measured (enough closed before
        # the hold-out days), then the one put to use learns from everything closed.
        if len(learn_from) < MIN_TRAINING_SAMPLES:
            print(f"week {week}: too few closed conversations ({len(learn_from)}) to train")
            continue
        began = time.perf_counter()
        classifier = fit(closed)
        fit_seconds.append(time.perf_counter() - began)
        fit_sizes.append(len(closed))
        if classifier is None:
            print(f"week {week}: too few closed conversations ({len(closed)}) to train")
            continue
        began = time.perf_counter()
        predictions = classifier.predict(
            [Question(c.text, c.channel, c.has_order) for c in arriving]
        )
        predict_seconds.append((time.perf_counter() - began) / len(arriving))
        right = 0
        for conversation, prediction in zip(arriving, predictions, strict=True):
            routed.append((week, conversation.team, prediction.team_id, prediction.confidence))
            right += prediction.team_id == conversation.team
        weekly.append((week, len(closed), len(arriving), right))

    total = len(routed)
    rules_right = sum(1 for _w, team, _p, _c in routed if team == RULES_TEAM)
    model_right = sum(1 for _w, team, predicted, _c in routed if team == predicted)
    print(
        f"\nrouted: {total} new conversations in weeks {args.first_week}–{args.weeks}, each by a "
        f"model trained only on what had closed before its week"
    )
    print(f"{'rules (every new conversation → Klantenservice)':<52} {_percent(rules_right, total)}")
    print(f"{'classifier, its first choice always':<52} {_percent(model_right, total)}")
    for threshold in thresholds:
        by_model = [(t, p) for _w, t, p, c in routed if c >= threshold]
        by_rules = [t for _w, t, p, c in routed if c < threshold]
        right = sum(1 for t, p in by_model if t == p) + sum(1 for t in by_rules if t == RULES_TEAM)
        label = f"auto-routing at {threshold:.0%}: suggestion if that sure, else rules"
        share = _percent(len(by_model), total)
        sure_right = _percent(sum(1 for t, p in by_model if t == p), len(by_model))
        print(
            f"{label:<52} {_percent(right, total)}   "
            f"(suggestion routed {share}, {sure_right} of those right)"
        )

    print("\nper team (share of its conversations sent to it):")
    print(f"  {'team':<18} {'conversations':>13} {'rules':>9} {'classifier':>11}")
    for team in TEAMS:
        mine = [(t, p) for _w, t, p, _c in routed if t == team]
        rules = len(mine) if team == RULES_TEAM else 0
        print(
            f"  {team:<18} {len(mine):>13} {_percent(rules, len(mine)):>9} "
            f"{_percent(sum(1 for t, p in mine if t == p), len(mine)):>11}"
        )

    half = args.weeks // 2
    print(f"\nweekly, classifier first choice (home batteries on sale from week {half}):")
    print(
        "  "
        + "  ".join(
            f"w{week}:{100.0 * right / n:.0f}%({trained})" for week, trained, n, right in weekly
        )
    )
    print("  (in brackets: conversations the model of that week was trained on)")
    if fit_seconds:
        print(
            f"\ntraining: {fit_seconds[-1]:.2f} s on {fit_sizes[-1]} conversations (last week); "
            f"suggesting: {1000 * statistics.median(predict_seconds):.2f} ms a conversation "
            "(median over weeks, in batches of a week)"
        )


if __name__ == "__main__":
    main()
