"""The analytics page as a whole: every figure, its chart, and the headline numbers."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.analytics.activity import TASK_TARGET, TEMPLATE_TARGET
from app.analytics.charts import bar_chart, day_chart
from app.analytics.figures import compute_all
from app.analytics.filters import AnalyticsFilter
from app.analytics.satisfaction import CSAT_TARGET
from app.analytics.service_level import SLA_TARGET
from app.analytics.sla_misses import sla_misses
from app.analytics.tables import COUNT, DURATION, PERCENT, RATING, Table, display

# Per figure: (value column, its kind, chart title, target, higher is better).
CHARTS = {
    "first_response_channel": ("average", DURATION, _l("Average first response per channel"), None),
    "first_response_team": ("average", DURATION, _l("Average first response per team"), None),
    "sla": ("compliance", PERCENT, _l("SLA compliance per channel"), SLA_TARGET),
    "resolution": ("average", DURATION, _l("Average resolution time per channel"), None),
    "order_sla": ("share", PERCENT, _l("Orders taken up in time per partner"), None),
    "escalation": ("rate", PERCENT, _l("Escalation rate per team"), None),
    "workload": ("open", COUNT, _l("Open assigned conversations per agent"), None),
    "tasks": ("share", PERCENT, _l("Tasks completed on time per team"), TASK_TARGET),
    "templates": (
        "share",
        PERCENT,
        _l("Share of outbound messages from templates"),
        TEMPLATE_TARGET,
    ),
    "suggestions": ("share", PERCENT, _l("Replies started from a suggestion, per agent"), None),
    "csat_agent": ("score", PERCENT, _l("Customer satisfaction (4–5) per agent"), CSAT_TARGET),
    "csat_channel": ("score", PERCENT, _l("Customer satisfaction (4–5) per channel"), CSAT_TARGET),
    "routing": ("share", PERCENT, _l("Routing suggestions accepted per suggested team"), None),
}


@dataclass(frozen=True)
class Headline:
    label: str
    value: str
    detail: str = ""
    tone: str = ""  # "good", "bad" or "" when there is no target
    figure: str = ""  # the figure (and its definition) the number comes from
    definition: str = ""  # that figure's one-line definition, shown on hover


@dataclass(frozen=True)
class Dashboard:
    filter: AnalyticsFilter
    tables: list[Table]
    headlines: list[Headline]

    def table(self, key: str) -> Table:
        return next(table for table in self.tables if table.key == key)


def build_dashboard(f: AnalyticsFilter, now: datetime) -> Dashboard:
    """Compute every figure for the filter and attach its chart."""
    tables = compute_all(f, now)
    for table in tables:
        if table.key == "volume":
            per_week = table.extra.get("per_week")
            table.chart = day_chart(
                table, _("Messages per week") if per_week else _("Messages per day")
            )
        elif table.key in CHARTS:
            value_key, kind, title, target = CHARTS[table.key]
            table.chart = bar_chart(table, value_key, kind, title, target=target)
    # Under the SLA table: which conversations missed, and why (app/analytics/sla_misses.py).
    sla = next(table for table in tables if table.key == "sla")
    sla.extra["misses"] = sla_misses(f, now)
    dashboard = Dashboard(f, tables, [])
    # Each headline carries its figure's definition, the sentence under that figure.
    dashboard.headlines.extend(
        replace(h, definition=dashboard.table(h.figure).note) for h in _headlines(dashboard)
    )
    return dashboard


def _total(dashboard: Dashboard, key: str, column: str):
    total = dashboard.table(key).total
    return None if total is None else total.get(column)


def _count(dashboard: Dashboard, key: str, column: str) -> str:
    return display(_total(dashboard, key, column) or 0, COUNT)


def _tone(value: float | None, target: float) -> str:
    if value is None:
        return ""
    return "good" if value >= target else "bad"


def _headlines(dashboard: Dashboard) -> list[Headline]:
    compliance = _total(dashboard, "sla", "compliance")
    on_time = _total(dashboard, "tasks", "share")
    templated = _total(dashboard, "templates", "share")
    satisfaction = _total(dashboard, "csat_channel", "score")
    rated = _total(dashboard, "csat_channel", "n") or 0
    average_rating = display(_total(dashboard, "csat_channel", "average"), RATING)
    return [
        Headline(
            _("Average first response"),
            display(_total(dashboard, "first_response_channel", "average"), DURATION),
            _(
                "%(count)s conversations answered",
                count=_count(dashboard, "first_response_channel", "n"),
            ),
            figure="first_response_channel",
        ),
        Headline(
            _("SLA compliance"),
            display(compliance, PERCENT),
            _("target %(target)s %%", target=f"{SLA_TARGET:.0f}"),
            _tone(compliance, SLA_TARGET),
            figure="sla",
        ),
        Headline(
            _("Orders in time"),
            display(_total(dashboard, "order_sla", "share"), PERCENT),
            _(
                "%(count)s waiting too long now",
                count=_count(dashboard, "order_sla", "waiting_now"),
            ),
            figure="order_sla",
        ),
        Headline(
            _("Average resolution"),
            display(_total(dashboard, "resolution", "average"), DURATION),
            _("%(count)s conversations resolved", count=_count(dashboard, "resolution", "n")),
            figure="resolution",
        ),
        Headline(
            _("Escalation rate"),
            display(_total(dashboard, "escalation", "rate"), PERCENT),
            _("%(count)s escalated", count=_count(dashboard, "escalation", "escalated")),
            figure="escalation",
        ),
        Headline(
            _("Tasks on time"),
            display(on_time, PERCENT),
            _("target %(target)s %%", target=f"{TASK_TARGET:.0f}"),
            _tone(on_time, TASK_TARGET),
            figure="tasks",
        ),
        Headline(
            _("From templates"),
            display(templated, PERCENT),
            _("aim above %(target)s %%", target=f"{TEMPLATE_TARGET:.0f}"),
            _tone(templated, TEMPLATE_TARGET),
            figure="templates",
        ),
        Headline(
            _("From a suggestion"),
            display(_total(dashboard, "suggestions", "share"), PERCENT),
            _(
                "%(started)s of %(n)s replies",
                started=_count(dashboard, "suggestions", "started"),
                n=_count(dashboard, "suggestions", "n"),
            ),
            figure="suggestions",
        ),
        Headline(
            _("Customer satisfaction"),
            display(satisfaction, PERCENT),
            _(
                "%(n)s ratings, average %(average)s",
                n=display(rated, COUNT),
                average=average_rating,
            ),
            _tone(satisfaction, CSAT_TARGET) if rated else "",
            figure="csat_channel",
        ),
        Headline(
            label=_("Messages"),
            value=display(_total(dashboard, "volume", "total"), COUNT),
            detail=_("in the range"),
            figure="volume",
        ),
    ]
