"""The figures of ``/analytics``: each is ONE aggregate query, grouped in SQL.

Nothing here loops over threads or messages in Python: every function sends a
single ``GROUP BY`` statement (over the source rows of the days computed
directly, united with the daily roll-ups of the others, see
:mod:`app.analytics.rollups`) and reshapes its handful of grouped rows (one per
channel, team, agent or day) into a :class:`~app.analytics.tables.Table`. The
volume and template figures share one statement
(:func:`~app.analytics.activity.message_activity`), so a page reads the
messages (today's, and the roll-ups of past days) twice (that one, and
workload), not three times. Totals are sums of those grouped rows, and the
roll-ups keep sums and counts, never averages, so averages stay exact (sum / count).

The figures live by feature: :mod:`app.analytics.service_level` (first
response, SLA compliance, resolution, escalation) and
:mod:`app.analytics.activity` (volume, workload, tasks, templates), on the
shared grouping and scoping of :mod:`app.analytics.grouping`; the order SLA
(:mod:`app.analytics.order_sla`) reads orders, in two grouped statements. Each module says
which rows its figures count. This module is the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from app.analytics.activity import message_volume, tasks_on_time, template_share, workload
from app.analytics.coverage import direct_coverage
from app.analytics.filters import AnalyticsFilter
from app.analytics.order_sla import order_sla
from app.analytics.routing import routing_suggestions
from app.analytics.satisfaction import csat_by_agent, csat_by_channel, csat_by_team, csat_by_week
from app.analytics.service_level import (
    escalation_rate,
    first_response_by_channel,
    first_response_by_team,
    resolution_by_channel,
    sla_compliance,
)
from app.analytics.sql import prepare_connection
from app.analytics.suggestions import suggestion_use
from app.analytics.tables import Table

# In page order; the keys are the ``figure`` values of the CSV export.
FIGURES: dict[str, Callable[[AnalyticsFilter, datetime, dict], Table]] = {
    "first_response_channel": first_response_by_channel,
    "first_response_team": first_response_by_team,
    "sla": sla_compliance,
    "resolution": resolution_by_channel,
    "order_sla": order_sla,
    "volume": message_volume,
    "escalation": escalation_rate,
    "workload": workload,
    "tasks": tasks_on_time,
    "templates": template_share,
    "suggestions": suggestion_use,
    "csat_agent": csat_by_agent,
    "csat_team": csat_by_team,
    "csat_channel": csat_by_channel,
    "csat_week": csat_by_week,
    "routing": routing_suggestions,
}


def _memo(f: AnalyticsFilter, direct: bool) -> dict:
    # ``direct`` skips the roll-ups: the reference computation they must equal.
    return {"coverage": direct_coverage(f)} if direct else {}


def compute(key: str, f: AnalyticsFilter, now: datetime, *, direct: bool = False) -> Table:
    """One figure by its key (raises KeyError for an unknown key)."""
    figure = FIGURES[key]
    prepare_connection()
    return figure(f, now, _memo(f, direct))


def compute_all(f: AnalyticsFilter, now: datetime, *, direct: bool = False) -> list[Table]:
    """Every figure; past days from the daily roll-ups where they hold, unless ``direct``."""
    prepare_connection()
    memo = _memo(f, direct)
    return [figure(f, now, memo) for figure in FIGURES.values()]
