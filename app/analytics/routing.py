"""Routing suggestions accepted: what became of the team suggestions.

Counts the suggestions made for conversations that started in the range (by the
day they were made, which is the day the conversation started), grouped by the
suggested team; with a team chosen, that team's suggestions. The accepted share
is accepted ÷ (accepted + changed + ignored): suggestions the rules agreed with
needed nobody's decision and are left out, and open ones are not settled yet.
What each outcome means is :mod:`app.conversations.assignment.suggestions.outcomes`.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.analytics.filters import AnalyticsFilter
from app.analytics.grouping import between, count_if, group_name, named
from app.analytics.tables import COUNT, PERCENT, TEXT, Column, Table, ratio
from app.platform.extensions import db
from app.platform.models import RoutingOutcome, RoutingSuggestion, Team

Suggestion = RoutingSuggestion
OUTCOME_COLUMNS = ("accepted", "changed", "ignored", "agreed", "pending")
_OUTCOMES = {
    "accepted": RoutingOutcome.ACCEPTED,
    "changed": RoutingOutcome.CHANGED,
    "ignored": RoutingOutcome.IGNORED,
    "agreed": RoutingOutcome.AGREED_WITH_RULES,
    "pending": RoutingOutcome.PENDING,
}

NOTE = _l(
    "Accepted ÷ (accepted + changed + ignored), over the team suggestions made for "
    "conversations started in the range: accepted = the conversation went to the suggested "
    "team (auto-routing, one click, or someone of that team assigned) and stayed there; "
    "suggestions the rules agreed with and open ones are not counted."
)


def _row(label: str, counts: dict) -> dict:
    decided = counts["accepted"] + counts["changed"] + counts["ignored"]
    return {"label": label, **counts, "share": ratio(counts["accepted"], decided)}


def routing_suggestions(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    where = [between(Suggestion.created_at, f)]
    if f.team_id is not None:
        where.append(Suggestion.team_id == f.team_id)
    grouped = (
        sa.select(
            Suggestion.team_id.label("key"),
            sa.func.count().label("n"),
            *(count_if(Suggestion.outcome == _OUTCOMES[key]).label(key) for key in OUTCOME_COLUMNS),
        )
        .where(*where)
        .group_by(Suggestion.team_id)
    )
    rows = []
    for name, n, *counts in db.session.execute(named(grouped, Team, Team.name)):
        values = {
            "n": int(n),
            **{k: int(v or 0) for k, v in zip(OUTCOME_COLUMNS, counts, strict=True)},
        }
        rows.append(_row(group_name(name, str(_l("No team"))), values))
    total = None
    if rows:
        sums = {key: sum(row[key] for row in rows) for key in ("n", *OUTCOME_COLUMNS)}
        total = _row(str(_l("All")), sums)
    columns = (
        Column("label", str(_l("Suggested team")), TEXT),
        Column("n", str(_l("Suggestions")), COUNT),
        Column("accepted", str(_l("Accepted")), COUNT),
        Column("changed", str(_l("Changed")), COUNT),
        Column("ignored", str(_l("Ignored")), COUNT),
        Column("agreed", str(_l("Agreed with the rules")), COUNT),
        Column("share", str(_l("Accepted share")), PERCENT),
    )
    table = Table(
        "routing",
        str(_l("Routing suggestions accepted")),
        columns,
        rows,
        total,
        str(NOTE),
    )
    # Seven columns: the full width of the page, so the table never scrolls in its card.
    table.extra["wide"] = True
    return table
