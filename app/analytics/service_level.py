"""Service-level figures: first response, resolution, SLA compliance and escalation.

Which rows each counts, for a range of local days and an optional team:

- first response: threads *created* in the range that have been answered; the
  time is ``first_response_seconds`` (business seconds, filled by the SLA
  engine) where set, else the wall-clock time from creation to first answer;
- SLA compliance: threads created in the range with a ``response_due_at``;
  met = first answer at or before it, missed = answered later or still
  unanswered past it; threads still inside their deadline are not counted yet;
- resolution: threads *resolved* in the range (``resolution_seconds`` where set,
  else wall-clock creation to ``resolved_at``);
- escalation: threads created in the range that are escalated now or had a
  ladder step 3 (100 %) or higher fire.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

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
from app.analytics.sql import seconds_between
from app.analytics.tables import COUNT, DURATION, PERCENT, Column, Table, average, ratio
from app.extensions import db
from app.models import CommunicationChannel, CommunicationThread, SlaAlert, Team
from app.models.enums import ThreadStatus

Thread, Channel = CommunicationThread, CommunicationChannel
# The ladder step at which a thread counts as escalated (3 = SLA deadline passed).
ESCALATION_STEP = 3
SLA_TARGET = 95.0


# --- response and resolution times -------------------------------------------

FIRST_RESPONSE_SECONDS = sa.func.coalesce(
    Thread.first_response_seconds, seconds_between(Thread.first_response_at, Thread.created_at)
)
RESOLUTION_SECONDS = sa.func.coalesce(
    Thread.resolution_seconds, seconds_between(Thread.resolved_at, Thread.created_at)
)
DURATION_NOTE = _l(
    "Business time (opening hours only) where the SLA engine measured it; wall-clock "
    "time for older threads. The last two columns say how many of each."
)


def _duration_table(
    key: str, title: str, dim: Dimension, seconds, where: list, count_label: str, business
) -> Table:
    grouped = (
        sa.select(
            dim.key.label("key"),
            sa.func.count().label("n"),
            sa.func.sum(seconds).label("seconds"),
            sa.func.count(business).label("business"),
        )
        .where(*where)
        .group_by(dim.key)
    )
    query = named(grouped, dim.model, dim.name_column)
    rows = []
    for name, n, seconds_sum, measured in db.session.execute(query):
        rows.append(_duration_row(group_name(name, dim.empty), n, seconds_sum, measured))
    total = _duration_row(
        _("All"),
        sum(r["n"] for r in rows),
        sum(r["seconds"] for r in rows),
        sum(r["business"] for r in rows),
    )
    columns = (
        Column("label", dim.label),
        Column("n", count_label, COUNT),
        Column("average", _("Average"), DURATION),
        Column("business", _("In business time"), COUNT),
        Column("wall_clock", _("In wall-clock time"), COUNT),
    )
    return Table(key, title, columns, rows, total if rows else None, DURATION_NOTE)


def _duration_row(label: str, n: int, seconds_sum, measured: int) -> dict:
    seconds_sum = float(seconds_sum or 0)
    return {
        "label": label,
        "n": int(n),
        "seconds": seconds_sum,
        "average": average(seconds_sum, n),
        "business": int(measured or 0),
        "wall_clock": int(n) - int(measured or 0),
    }


def _first_response(key: str, title: str, dim: Dimension, f: AnalyticsFilter) -> Table:
    where = [
        Thread.first_response_at.is_not(None),
        between(Thread.created_at, f),
        *thread_team(f),
    ]
    return _duration_table(
        key, title, dim, FIRST_RESPONSE_SECONDS, where, _("Answered"), Thread.first_response_seconds
    )


def first_response_by_channel(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    return _first_response(
        "first_response_channel", _("Average first response by channel"), BY_CHANNEL, f
    )


def first_response_by_team(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    return _first_response("first_response_team", _("Average first response by team"), BY_TEAM, f)


def resolution_by_channel(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    where = [
        Thread.resolved_at.is_not(None),
        between(Thread.resolved_at, f),
        *thread_team(f),
    ]
    return _duration_table(
        "resolution",
        _("Average resolution time by channel"),
        BY_CHANNEL,
        RESOLUTION_SECONDS,
        where,
        _("Resolved"),
        Thread.resolution_seconds,
    )


# --- SLA compliance ------------------------------------------------------------


def sla_compliance(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    answered_in_time = sa.and_(
        Thread.first_response_at.is_not(None), Thread.first_response_at <= Thread.response_due_at
    )
    missed = sa.or_(
        Thread.first_response_at > Thread.response_due_at,
        sa.and_(Thread.first_response_at.is_(None), Thread.response_due_at < now),
    )
    grouped = (
        sa.select(
            Thread.channel_id.label("key"),
            count_if(answered_in_time).label("met"),
            count_if(missed).label("missed"),
            sa.func.count().label("n"),
        )
        .where(Thread.response_due_at.is_not(None), between(Thread.created_at, f), *thread_team(f))
        .group_by(Thread.channel_id)
    )
    query = named(grouped, Channel, Channel.channel_name)
    rows = [
        _compliance_row(group_name(name, BY_CHANNEL.empty), met, miss, n)
        for name, met, miss, n in db.session.execute(query)
    ]
    total = _compliance_row(
        _("All"),
        sum(r["met"] for r in rows),
        sum(r["missed"] for r in rows),
        sum(r["met"] + r["missed"] + r["running"] for r in rows),
    )
    columns = (
        Column("label", _("Channel")),
        Column("met", _("Met"), COUNT),
        Column("missed", _("Missed"), COUNT),
        Column("running", _("Still within deadline"), COUNT),
        Column("compliance", _("Compliance"), PERCENT),
    )
    note = _(
        "Share of conversations answered before their response deadline; target %(target)s %%. "
        "Unanswered conversations count as missed once their deadline has passed.",
        target=f"{SLA_TARGET:.0f}",
    )
    table = Table("sla", _("SLA compliance"), columns, rows, total if rows else None, note)
    table.extra["target"] = SLA_TARGET
    return table


def _compliance_row(label: str, met, missed, n) -> dict:
    met, missed, n = int(met or 0), int(missed or 0), int(n or 0)
    return {
        "label": label,
        "met": met,
        "missed": missed,
        "running": n - met - missed,
        "compliance": ratio(met, met + missed),
    }


# --- escalation rate -----------------------------------------------------------


def escalation_rate(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    # IN over the (small) alert table: PostgreSQL hashes it once instead of probing per thread.
    ladder_escalated = Thread.id.in_(
        sa.select(SlaAlert.thread_id).where(SlaAlert.step >= ESCALATION_STEP)
    )
    escalated = sa.or_(Thread.status == ThreadStatus.ESCALATED, ladder_escalated)
    grouped = (
        sa.select(
            Thread.assigned_team_id.label("key"),
            sa.func.count().label("n"),
            count_if(escalated).label("escalated"),
        )
        .where(between(Thread.created_at, f), *thread_team(f))
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
    note = _(
        "Conversations created in the range that are escalated now or whose SLA deadline "
        "passed (escalation ladder step 3 or 4)."
    )
    return Table(
        "escalation", _("Escalation rate by team"), columns, rows, total if rows else None, note
    )


def _escalation_row(label: str, n, escalated) -> dict:
    n, escalated = int(n or 0), int(escalated or 0)
    return {"label": label, "n": n, "escalated": escalated, "rate": ratio(escalated, n)}
