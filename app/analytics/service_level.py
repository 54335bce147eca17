"""Service-level figures: first response, resolution, SLA compliance and escalation.

Which rows each counts, for a range of local days and an optional team (the
conditions themselves live in :mod:`app.analytics.definitions`, one sentence
each on the page):

- only customer conversations: internal notes, tasks and tickets never count;
- first response: conversations *created* in the range whose customer got an
  answer; the time is ``first_response_seconds``, the business seconds the SLA
  clock measured (opening hours only, pauses left out);
- SLA compliance: conversations created in the range whose SLA clock started;
  missed = escalated (see below), met = answered and not escalated, the rest
  (unanswered, deadline still ahead) are not counted yet;
- resolution: conversations *resolved* in the range, ``resolution_seconds``
  (business seconds from creation to resolution);
- escalation: conversations created in the range that were escalated by a
  person or the ladder, or are past their deadline: exactly the missed ones.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from app.analytics.definitions import DEFINITIONS, customer_thread, escalated, has_sla_clock
from app.analytics.filters import AnalyticsFilter
from app.analytics.grouping import (
    BY_CHANNEL,
    BY_TEAM,
    Dimension,
    between,
    count_if,
    group_name,
    named,
    thread_team,
)
from app.analytics.tables import COUNT, DURATION, PERCENT, Column, Table, average, ratio
from app.extensions import db
from app.models import CommunicationChannel, CommunicationThread, Team
from app.models.enums import ThreadStatus

Thread, Channel = CommunicationThread, CommunicationChannel
SLA_TARGET = 95.0
CLOSED = (ThreadStatus.RESOLVED, ThreadStatus.CLOSED)


# --- response and resolution times -------------------------------------------


def _duration_table(
    key: str, title: str, dim: Dimension, seconds, where: list, count_label: str
) -> Table:
    grouped = (
        sa.select(
            dim.key.label("key"),
            sa.func.count().label("n"),
            sa.func.sum(seconds).label("seconds"),
        )
        .where(seconds.is_not(None), customer_thread(), *where)
        .group_by(dim.key)
    )
    query = named(grouped, dim.model, dim.name_column)
    rows = []
    for name, n, seconds_sum in db.session.execute(query):
        rows.append(_duration_row(group_name(name, dim.empty), n, seconds_sum))
    total = _duration_row(_("All"), sum(r["n"] for r in rows), sum(r["seconds"] for r in rows))
    columns = (
        Column("label", dim.label),
        Column("n", count_label, COUNT),
        Column("average", _("Average (business time)"), DURATION),
    )
    return Table(key, title, columns, rows, total if rows else None, str(DEFINITIONS[key]))


def _duration_row(label: str, n: int, seconds_sum) -> dict:
    seconds_sum = float(seconds_sum or 0)
    return {
        "label": label,
        "n": int(n),
        "seconds": seconds_sum,
        "average": average(seconds_sum, n),
    }


def _first_response(key: str, title: str, dim: Dimension, f: AnalyticsFilter) -> Table:
    where = [between(Thread.created_at, f), *thread_team(f)]
    return _duration_table(key, title, dim, Thread.first_response_seconds, where, _("Answered"))


def first_response_by_channel(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    return _first_response(
        "first_response_channel", _("Average first response by channel"), BY_CHANNEL, f
    )


def first_response_by_team(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    return _first_response("first_response_team", _("Average first response by team"), BY_TEAM, f)


def resolution_by_channel(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    where = [between(Thread.resolved_at, f), *thread_team(f)]
    return _duration_table(
        "resolution",
        _("Average resolution time by channel"),
        BY_CHANNEL,
        Thread.resolution_seconds,
        where,
        _("Resolved"),
    )


# --- SLA compliance ------------------------------------------------------------


def sla_compliance(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    missed = escalated(now)
    answered = Thread.first_response_at.is_not(None)
    met = sa.and_(answered, sa.not_(missed))
    # Unanswered and in time; one closed unanswered (spam, a duplicate) owes nothing.
    running = sa.and_(sa.not_(answered), sa.not_(missed), Thread.status.not_in(CLOSED))
    grouped = (
        sa.select(
            Thread.channel_id.label("key"),
            count_if(met).label("met"),
            count_if(missed).label("missed"),
            count_if(running).label("running"),
        )
        .where(has_sla_clock(), customer_thread(), between(Thread.created_at, f), *thread_team(f))
        .group_by(Thread.channel_id)
    )
    query = named(grouped, Channel, Channel.channel_name)
    rows = [
        _compliance_row(group_name(name, BY_CHANNEL.empty), met, miss, waiting)
        for name, met, miss, waiting in db.session.execute(query)
    ]
    total = _compliance_row(
        _("All"),
        sum(r["met"] for r in rows),
        sum(r["missed"] for r in rows),
        sum(r["running"] for r in rows),
    )
    columns = (
        Column("label", _("Channel")),
        Column("met", _("Met"), COUNT),
        Column("missed", _("Missed"), COUNT),
        Column("running", _("Waiting, in time"), COUNT),
        Column("compliance", _("Compliance"), PERCENT),
    )
    table = Table(
        "sla", _("SLA compliance"), columns, rows, total if rows else None, str(DEFINITIONS["sla"])
    )
    table.extra["target"] = SLA_TARGET
    return table


def _compliance_row(label: str, met, missed, running) -> dict:
    met, missed, running = int(met or 0), int(missed or 0), int(running or 0)
    return {
        "label": label,
        "met": met,
        "missed": missed,
        "running": running,
        "compliance": ratio(met, met + missed),
    }


# --- escalation rate -----------------------------------------------------------


def escalation_rate(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    grouped = (
        sa.select(
            Thread.assigned_team_id.label("key"),
            sa.func.count().label("n"),
            count_if(escalated(now)).label("escalated"),
        )
        .where(customer_thread(), between(Thread.created_at, f), *thread_team(f))
        .group_by(Thread.assigned_team_id)
    )
    query = named(grouped, Team, Team.name)
    rows = [
        _escalation_row(group_name(name, BY_TEAM.empty), n, esc)
        for name, n, esc in db.session.execute(query)
    ]
    total = _escalation_row(_("All"), sum(r["n"] for r in rows), sum(r["escalated"] for r in rows))
    columns = (
        Column("label", _("Team")),
        Column("n", _("Conversations"), COUNT),
        Column("escalated", _("Escalated"), COUNT),
        Column("rate", _("Escalation rate"), PERCENT),
    )
    return Table(
        "escalation",
        _("Escalation rate by team"),
        columns,
        rows,
        total if rows else None,
        str(DEFINITIONS["escalation"]),
    )


def _escalation_row(label: str, n, escalated) -> dict:
    n, escalated = int(n or 0), int(escalated or 0)
    return {"label": label, "n": n, "escalated": escalated, "rate": ratio(escalated, n)}
