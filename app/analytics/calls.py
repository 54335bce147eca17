"""Logged phone calls: calls per day, per agent and per outcome, and talk time.

Which rows count: every call logged in the range (by when it was made, in
Amsterdam days), in both directions and with every outcome; with a team
chosen, the calls on that team's conversations. Talk time is the sum of the
calls' logged durations; the average is over calls with a duration above 0,
so unanswered calls do not pull it down.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from app.analytics.filters import AnalyticsFilter
from app.analytics.grouping import between, count_if, scoped_messages
from app.analytics.sql import local_date, prepare_connection
from app.analytics.tables import COUNT, DAY, DURATION, TEXT, Column, Table, average
from app.platform.extensions import db
from app.platform.labels import label
from app.platform.models import CommunicationMessage, PhoneCall, User
from app.platform.models.enums import CallDirection, CallOutcome


@dataclass
class CallFigures:
    """The calls card: headline numbers and three small tables."""

    calls: int
    inbound: int
    outbound: int
    talk_seconds: int
    average_seconds: float | None
    by_day: Table
    by_agent: Table
    by_outcome: Table


def _calls(f: AnalyticsFilter, *columns, group_by=()) -> list[sa.Row]:
    """``columns`` per group of the range's calls (one statement; team via the thread)."""
    talked = PhoneCall.duration_seconds > 0
    query = (
        sa.select(
            *columns,
            sa.func.count().label("calls"),
            count_if(PhoneCall.direction == CallDirection.INBOUND).label("inbound"),
            count_if(PhoneCall.outcome == CallOutcome.REACHED).label("reached"),
            sa.func.coalesce(sa.func.sum(PhoneCall.duration_seconds), 0).label("talk"),
            count_if(talked).label("talked"),
        )
        .select_from(PhoneCall)
        .join(CommunicationMessage, CommunicationMessage.id == PhoneCall.message_id)
        .where(between(PhoneCall.called_at, f))
    )
    query = scoped_messages(query, f)
    if group_by:
        query = query.group_by(*group_by)
    return list(db.session.execute(query))


def call_figures(f: AnalyticsFilter) -> CallFigures:
    """Calls and talk time for the filter's range and team."""
    prepare_connection()  # SQLite's local-day function, when it is called on its own
    (total,) = _calls(f)
    days, agents, names, outcomes = [], [], {}, {}
    if total.calls:  # no calls in the range: the three groupings would be empty too
        day = local_date(PhoneCall.called_at)
        days = sorted(_calls(f, day.label("day"), group_by=(day,)), key=lambda r: r.day)
        agents = _calls(f, PhoneCall.agent_id.label("agent"), group_by=(PhoneCall.agent_id,))
        names = dict(
            db.session.execute(
                sa.select(User.id, User.name).where(
                    User.id.in_([r.agent for r in agents if r.agent])
                )
            ).all()
        )
        outcomes = {
            r.outcome: r for r in _calls(f, PhoneCall.outcome, group_by=(PhoneCall.outcome,))
        }
    talk_columns = (
        Column("calls", _("Calls"), COUNT),
        Column("reached", label(CallOutcome.REACHED, "call_outcome").capitalize(), COUNT),
        Column("talk", _("Talk time"), DURATION),
    )
    by_day = Table(
        "calls_by_day",
        _("Calls per day"),
        (Column("day", _("Day"), DAY), *talk_columns),
        [_row(r, day=r.day) for r in days],
    )
    agent_rows = [_row(r, agent=names.get(r.agent) or _("Unknown")) for r in agents]
    by_agent = Table(
        "calls_by_agent",
        _("Calls per agent"),
        (Column("agent", _("Agent"), TEXT), *talk_columns),
        sorted(agent_rows, key=lambda row: (-row["calls"], row["agent"])),
    )
    by_outcome = Table(
        "calls_by_outcome",
        _("Calls per outcome"),
        (
            Column("outcome", _("Outcome"), TEXT),
            Column("calls", _("Calls"), COUNT),
            Column("talk", _("Talk time"), DURATION),
        ),
        [
            _row(outcomes[outcome], outcome=label(outcome, "call_outcome").capitalize())
            for outcome in CallOutcome
            if outcome in outcomes
        ],
    )
    return CallFigures(
        calls=int(total.calls),
        inbound=int(total.inbound or 0),
        outbound=int(total.calls) - int(total.inbound or 0),
        talk_seconds=int(total.talk or 0),
        average_seconds=average(total.talk or 0, int(total.talked or 0)),
        by_day=by_day,
        by_agent=by_agent,
        by_outcome=by_outcome,
    )


def _row(result: sa.Row, **named) -> dict:
    return {
        **named,
        "calls": int(result.calls),
        "reached": int(result.reached or 0),
        "talk": int(result.talk or 0),
    }


# The call tables by their ``figure`` key of the CSV export (``/analytics.csv``).
CALL_TABLES = ("calls_by_agent", "calls_by_outcome", "calls_by_day")


def call_table(key: str, f: AnalyticsFilter) -> Table:
    """One of :data:`CALL_TABLES`, as the calls card shows it."""
    return getattr(call_figures(f), key.removeprefix("calls_"))
