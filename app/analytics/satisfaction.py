"""Customer satisfaction figures: the ratings customers gave after a resolution.

Counts answered surveys (``csat_responses`` with a rating) whose first answer
falls in the range, grouped by the agent and team the conversation had when it
was resolved, by its channel, and by week. The score is the share of 4 and 5
ratings (the usual CSAT measure); the average rating and the number of answers
stand beside it. The team filter keeps the chosen team's surveys.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.analytics.definitions import DEFINITIONS, NO_CHANNEL, NO_TEAM
from app.analytics.filters import AnalyticsFilter
from app.analytics.grouping import between, count_if, group_name, named
from app.analytics.sql import local_date
from app.analytics.tables import COUNT, DAY, PERCENT, RATING, TEXT, Column, Table, average, ratio
from app.platform.extensions import db
from app.platform.models import CommunicationChannel, CsatResponse, Team, User

Survey = CsatResponse
# A rating of 4 or 5 counts as satisfied.
SATISFIED = 4
# The score the desk aims for, drawn as the chart's target line.
CSAT_TARGET = 80.0


def _answered(f: AnalyticsFilter) -> list:
    where = [Survey.rating.is_not(None), between(Survey.answered_at, f)]
    if f.team_id is not None:
        where.append(Survey.team_id == f.team_id)
    return where


def _aggregates() -> list:
    return [
        sa.func.count().label("n"),
        count_if(Survey.rating >= SATISFIED).label("satisfied"),
        sa.func.sum(Survey.rating).label("points"),
    ]


def _row(label: str, n, satisfied, points) -> dict:
    n, satisfied, points = int(n or 0), int(satisfied or 0), int(points or 0)
    return {
        "label": label,
        "n": n,
        "satisfied": satisfied,
        "points": points,
        "score": ratio(satisfied, n),
        "average": average(points, n),
    }


def _columns(first: str, first_kind: str = TEXT) -> tuple[Column, ...]:
    return (
        Column("label", str(first), first_kind),
        Column("n", str(_l("Ratings")), COUNT),
        Column("average", str(_l("Average (1–5)")), RATING),
        Column("score", str(_l("CSAT (4–5)")), PERCENT),
    )


def _total(rows: list[dict]) -> dict | None:
    if not rows:
        return None
    return _row(
        str(_l("All")),
        sum(r["n"] for r in rows),
        sum(r["satisfied"] for r in rows),
        sum(r["points"] for r in rows),
    )


def _grouped(key_column, model, name_column, empty, f: AnalyticsFilter) -> list[dict]:
    grouped = (
        sa.select(key_column.label("key"), *_aggregates())
        .where(*_answered(f))
        .group_by(key_column)
    )
    query = named(grouped, model, name_column)
    return [
        _row(group_name(name, str(empty)), n, satisfied, points)
        for name, n, satisfied, points in db.session.execute(query)
    ]


def csat_by_agent(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    rows = _grouped(Survey.agent_id, User, User.name, _l("Unassigned"), f)
    return Table(
        "csat_agent", str(_l("Customer satisfaction per agent")), _columns(_l("Agent")),
        rows, _total(rows), str(DEFINITIONS["csat_agent"]),
    )


def csat_by_team(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    rows = _grouped(Survey.team_id, Team, Team.name, NO_TEAM, f)
    return Table(
        "csat_team", str(_l("Customer satisfaction per team")), _columns(_l("Team")),
        rows, _total(rows), str(DEFINITIONS["csat_team"]),
    )


def csat_by_channel(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    rows = _grouped(
        Survey.channel_id, CommunicationChannel, CommunicationChannel.channel_name,
        NO_CHANNEL, f,
    )
    return Table(
        "csat_channel", str(_l("Customer satisfaction per channel")), _columns(_l("Channel")),
        rows, _total(rows), str(DEFINITIONS["csat_channel"]),
    )


def csat_by_week(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    """Per ISO week (Monday), from one grouped-by-day statement."""
    day = local_date(Survey.answered_at)
    query = sa.select(day, *_aggregates()).where(*_answered(f)).group_by(day).order_by(day)
    weeks: dict = {}
    for answered_on, n, satisfied, points in db.session.execute(query):
        if isinstance(answered_on, str):  # SQLite hands the date back as text
            answered_on = datetime.fromisoformat(answered_on).date()
        monday = answered_on - timedelta(days=answered_on.weekday())
        week = weeks.setdefault(monday, [0, 0, 0])
        week[0] += int(n)
        week[1] += int(satisfied or 0)
        week[2] += int(points or 0)
    rows = [_row(monday, *values) for monday, values in sorted(weeks.items())]
    return Table(
        "csat_week", str(_l("Customer satisfaction per week")), _columns(_l("Week of"), DAY),
        rows, _total(rows), str(DEFINITIONS["csat_week"]),
    )
