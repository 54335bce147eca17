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

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from app.analytics.coverage import (
    Coverage,
    combined,
    coverage,
    first_instant,
    in_days,
    on_days,
)
from app.analytics.definitions import (
    DEFINITIONS,
    SLA_OUTSIDE,
    customer_thread,
    escalated,
    has_sla_clock,
)
from app.analytics.filters import AnalyticsFilter
from app.analytics.grouping import (
    BY_CHANNEL,
    BY_TEAM,
    Dimension,
    count_if,
    group_name,
    named,
    thread_team,
)
from app.analytics.tables import COUNT, DURATION, PERCENT, Column, Table, average, ratio
from app.platform.extensions import db
from app.platform.models import (
    AnalyticsThreadDaily,
    CommunicationChannel,
    CommunicationThread,
    Team,
)
from app.platform.models.enums import ThreadStatus

Thread, Channel, Daily = CommunicationThread, CommunicationChannel, AnalyticsThreadDaily
SLA_TARGET = 95.0
CLOSED = (ThreadStatus.RESOLVED, ThreadStatus.CLOSED)


# --- reading days: direct rows of some, roll-ups of the others ------------------------


def _grouped(
    f: AnalyticsFilter,
    cov: Coverage,
    keys: tuple,
    moment,
    where: list,
    direct: dict,
    daily: dict,
    present: str,
) -> sa.Select:
    """A figure's groups (labelled ``key``) summed over direct days and rolled-up days.

    ``keys`` is the thread column and the roll-up column grouped by, ``moment``
    the thread time that places a thread on a day; ``direct`` the aggregates
    over threads and ``daily`` the roll-up columns that hold the same sums.
    Groups whose ``present`` count is 0 are left out, as a direct query would.
    """
    direct_key, daily_key = keys
    parts = []
    if cov.direct:
        parts.append(
            sa.select(direct_key.label("key"), *(v.label(k) for k, v in direct.items()))
            .where(customer_thread(), in_days(moment, cov.direct), *thread_team(f), *where)
            .group_by(direct_key)
        )
    if cov.rolled:
        parts.append(
            sa.select(
                daily_key.label("key"),
                *(sa.func.sum(getattr(Daily, column)).label(k) for k, column in daily.items()),
            )
            .where(on_days(Daily.day, cov.rolled), *daily_team(f))
            .group_by(daily_key)
        )
    outputs = tuple(k for k in direct if k != "rows")
    return combined(parts, ("key",), outputs, present)


def daily_team(f: AnalyticsFilter) -> list[sa.ColumnElement[bool]]:
    """The team filter on the thread roll-ups (the thread's assigned team)."""
    return [] if f.team_id is None else [Daily.team_id == f.team_id]


# --- response and resolution times -------------------------------------------


def _duration_table(
    key: str, title: str, dim: Dimension, grouped: sa.Select, count_label: str
) -> Table:
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


def _durations(
    f: AnalyticsFilter, cov: Coverage, dim: Dimension, moment, seconds, n: str, total: str
) -> sa.Select:
    return _grouped(
        f,
        cov,
        (dim.key, getattr(Daily, dim.daily_key)),
        moment,
        [seconds.is_not(None)],
        {"n": sa.func.count(), "seconds": sa.func.sum(seconds)},
        {"n": n, "seconds": total},
        "n",
    )


def _first_response(
    key: str, title: str, dim: Dimension, f: AnalyticsFilter, now: datetime, memo: dict
) -> Table:
    grouped = _durations(
        f,
        coverage(f, now, memo),
        dim,
        Thread.created_at,
        Thread.first_response_seconds,
        "first_responses",
        "first_response_seconds",
    )
    return _duration_table(key, title, dim, grouped, _("Answered"))


def first_response_by_channel(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    return _first_response(
        "first_response_channel", _("Average first response by channel"), BY_CHANNEL, f, now, memo
    )


def first_response_by_team(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    return _first_response(
        "first_response_team", _("Average first response by team"), BY_TEAM, f, now, memo
    )


def resolution_by_channel(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    grouped = _durations(
        f,
        coverage(f, now, memo),
        BY_CHANNEL,
        Thread.resolved_at,
        Thread.resolution_seconds,
        "resolved",
        "resolution_seconds",
    )
    return _duration_table(
        "resolution", _("Average resolution time by channel"), BY_CHANNEL, grouped, _("Resolved")
    )


# --- SLA compliance ------------------------------------------------------------


def sla_compliance(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    cov = coverage(f, now, memo)
    # Only the direct days' conversations are read: those created from their first day on.
    missed = escalated(now, since=first_instant(cov.direct))
    answered = Thread.first_response_at.is_not(None)
    clock = has_sla_clock()
    met = sa.and_(clock, answered, sa.not_(missed))
    # Unanswered and in time; one closed unanswered (spam, a duplicate) owes nothing.
    running = sa.and_(clock, sa.not_(answered), sa.not_(missed), Thread.status.not_in(CLOSED))
    # Every customer conversation of the range is read, so the ones outside the
    # compliance figure are counted too, each under the reason it is outside.
    grouped = _grouped(
        f,
        cov,
        (Thread.channel_id, Daily.channel_id),
        Thread.created_at,
        [],
        {
            "met": count_if(met),
            "missed": count_if(sa.and_(clock, missed)),
            "running": count_if(running),
            "clocked": count_if(clock),
            "threads": sa.func.count(),
        },
        {
            "met": "sla_met",
            "missed": "sla_missed",
            "running": "sla_running",
            "clocked": "sla_threads",
            "threads": "threads",
        },
        "threads",
    )
    query = named(grouped, Channel, Channel.channel_name)
    rows = [
        _compliance_row(group_name(name, BY_CHANNEL.empty), *counts)
        for name, *counts in db.session.execute(query)
    ]
    counted = ("met", "missed", "running", "clocked", "threads")
    total = _compliance_row(_("All"), *(sum(r[key] for r in rows) for key in counted))
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
    table.extra["coverage"] = sla_coverage(total)
    return table


def _compliance_row(label: str, met, missed, running, clocked, threads) -> dict:
    met, missed, running = int(met or 0), int(missed or 0), int(running or 0)
    clocked, threads = int(clocked or 0), int(threads or 0)
    return {
        "label": label,
        "met": met,
        "missed": missed,
        "running": running,
        "compliance": ratio(met, met + missed),
        # Outside the compliance figure (app.analytics.definitions.SLA_OUTSIDE).
        "closed_unanswered": clocked - met - missed - running,
        "not_asked": threads - clocked,
        "clocked": clocked,
        "threads": threads,
    }


@dataclass(frozen=True)
class SlaCoverage:
    """How many of the range's customer conversations compliance rates; why not the rest."""

    rated: int
    conversations: int
    outside: tuple[tuple[str, str, int, str], ...]  # (key, label, count, definition)


def sla_coverage(total: dict) -> SlaCoverage:
    """Rated (met + missed) and, per reason, the conversations outside; they add up to all."""
    outside = tuple(
        (key, str(label), total[key], str(definition))
        for key, (label, definition) in SLA_OUTSIDE.items()
    )
    return SlaCoverage(total["met"] + total["missed"], total["threads"], outside)


# --- escalation rate -----------------------------------------------------------


def escalation_rate(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    cov = coverage(f, now, memo)
    missed = escalated(now, since=first_instant(cov.direct))
    grouped = _grouped(
        f,
        cov,
        (Thread.assigned_team_id, Daily.team_id),
        Thread.created_at,
        [],
        {"n": sa.func.count(), "escalated": count_if(missed)},
        {"n": "threads", "escalated": "escalated"},
        "n",
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
