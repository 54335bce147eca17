"""Suggested replies in use: how many replies started from a suggestion.

Counts the outcomes decided in the range (``suggestion_outcomes``, one per
customer message that had suggestions and got an agent's reply), per agent:
*used* (sent as suggested), *edited* (put into the reply box from a
suggestion, then changed) and the rest (written without one). A reply to a
message without suggestions is not counted. The team filter keeps the
conversations of the chosen team.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from app.analytics.filters import AnalyticsFilter
from app.analytics.grouping import between, count_if, group_name, named
from app.analytics.tables import COUNT, PERCENT, Column, Table, ratio
from app.platform.extensions import db
from app.platform.models import CommunicationThread, SuggestionOutcome, User

Outcome = SuggestionOutcome


def _row(label: str, n, used, edited) -> dict:
    n, used, edited = int(n or 0), int(used or 0), int(edited or 0)
    return {
        "label": label,
        "n": n,
        "started": used + edited,
        "used": used,
        "edited": edited,
        "share": ratio(used + edited, n),
    }


def suggestion_use(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    """Replies started from a suggestion, per agent, decided in the range."""
    grouped = (
        sa.select(
            Outcome.user_id.label("key"),
            sa.func.count().label("n"),
            count_if(Outcome.outcome == "used").label("used"),
            count_if(Outcome.outcome == "edited").label("edited"),
        )
        .where(between(Outcome.decided_at, f))
        .group_by(Outcome.user_id)
    )
    if f.team_id is not None:
        grouped = grouped.join(
            CommunicationThread, CommunicationThread.id == Outcome.thread_id
        ).where(CommunicationThread.assigned_team_id == f.team_id)
    rows = [
        _row(group_name(name, _("Unknown")), n, used, edited)
        for name, n, used, edited in db.session.execute(named(grouped, User, User.name))
    ]
    total = _row(
        _("All"),
        sum(r["n"] for r in rows),
        sum(r["used"] for r in rows),
        sum(r["edited"] for r in rows),
    )
    # Narrow headings: the card is a third of the page wide (the share says the rest).
    columns = (
        Column("label", _("Agent")),
        Column("n", _("Replies"), COUNT),
        Column("used", _("As suggested"), COUNT),
        Column("edited", _("Edited"), COUNT),
        Column("share", _("From a suggestion"), PERCENT),
    )
    note = _(
        "Agents' replies to a customer message that had suggested replies, in the range: "
        "the share put into the reply box from a suggestion (sent as suggested, or edited "
        "first); the others were written without one."
    )
    return Table(
        "suggestions",
        _("Replies started from a suggestion"),
        columns,
        rows,
        total if rows else None,
        note,
    )
