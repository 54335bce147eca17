"""Order SLA: how soon the desk takes up an order that waits for a person.

An order waits for a person from the moment it comes in (every order starts as
``new``) while it is to review or to approve: status ``new`` or ``quote_sent``
(:data:`app.orders.core.stages.WAITING`, the desk's review and new tabs). It stops
waiting when it first leaves those statuses, as its status transitions record.
The wait is counted in working hours of the default business calendar, against
``ORDER_WAIT_HOURS``: the same hours and limit as the desk's "waits too long"
mark (:func:`app.orders.core.desk_rows.desk_rows`).

Which orders, per partner (the team filter does not apply: an order has no team):

- live orders (never a partner's test order) that came in in the range;
- *in time*: left waiting within the limit; *late*: left after it, or still
  waiting and past it by now; *waiting, in time*: still waiting, limit ahead
  (not rated yet); the share in time is in time ÷ (in time + late);
- the median and 90th percentile of the waits of the orders that left waiting
  (nearest rank: the wait of a real order);
- *waiting too long now*: every live order still waiting past the limit now,
  whenever it came in: exactly the orders the desk marks.

The waits are measured in the database: the calendar's opening periods of the
days concerned go in as rows (:func:`working_days`), and each wait is the
working time up to its end less the working time up to its start. Two grouped
statements (and one for the partners' names), whatever the number of orders.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from app.analytics.definitions import DEFINITIONS, NO_PARTNER
from app.analytics.filters import AnalyticsFilter, local_midnight, local_today
from app.analytics.grouping import between, count_if
from app.analytics.sql import local_date, seconds_between
from app.analytics.tables import COUNT, PERCENT, WORKING_HOURS, Column, Table, ratio
from app.conversations.business_time.calendar import (
    Schedule,
    calendar_for,
    opening_periods,
    schedule_of,
    subtract_business_seconds,
)
from app.orders.core.stages import WAITING, live_orders, status_in
from app.platform.database import UTCDateTime
from app.platform.extensions import db
from app.platform.models import Order, OrderStatusTransition, Organization
from app.platform.ui import local_number

Transition = OrderStatusTransition
WAITING_VALUES = [status.value for status in WAITING]


def left_waiting() -> sa.ColumnElement[bool]:
    """A status move out of review or approval (``ix_order_status_transitions_left_waiting``).

    The statuses are written into the statement, not sent as parameters, so a
    prepared statement still matches the partial index.
    """

    def statuses(name: str):
        return sa.bindparam(name, WAITING_VALUES, expanding=True, literal_execute=True)

    return sa.and_(
        Transition.from_status.in_(statuses("left_from")),
        Transition.to_status.not_in(statuses("left_to")),
    )


def wait_limit_seconds() -> int:
    """``ORDER_WAIT_HOURS`` in working seconds: the desk's limit."""
    return int(current_app.config["ORDER_WAIT_HOURS"] * 3600)


def desk_schedule() -> Schedule:
    """The working hours the desk's mark counts in: the default business calendar."""
    return schedule_of(calendar_for(None))


# --- working time as rows --------------------------------------------------------


def working_days(schedule: Schedule, first_day: date, last_day: date) -> sa.CTE:
    """One row per Amsterdam day: the working seconds before it, and its opening periods.

    ``worked_before`` counts from ``first_day``'s start; ``opens_1``/``closes_1``
    … are the day's periods (as many pairs as the busiest day has, empty where a
    day has fewer), so the working time up to an instant of a day is read from
    that day's row alone (:func:`worked_until`) and each wait is two joins, no
    regrouping.
    """
    days = []
    worked = 0.0
    day = first_day
    while day <= last_day:
        periods = opening_periods(
            schedule, local_midnight(day), local_midnight(day + timedelta(days=1))
        )
        days.append((day, worked, periods))
        worked += sum((closes - opens).total_seconds() for opens, closes in periods)
        day += timedelta(days=1)
    pairs = max((len(periods) for _day, _worked, periods in days), default=0)
    columns = [sa.column("day", sa.Date), sa.column("worked_before", sa.Float)]
    for number in range(1, pairs + 1):
        columns += [
            sa.column(f"opens_{number}", UTCDateTime),
            sa.column(f"closes_{number}", UTCDateTime),
        ]
    rows = []
    for day, worked, periods in days:
        padded = [*periods, *[(None, None)] * (pairs - len(periods))]
        rows.append((day, worked, *(moment for pair in padded for moment in pair)))
    return sa.values(*columns, name="working_days").data(rows).cte("working_days")


def worked_until(days, moment) -> sa.ColumnElement[float]:
    """Working seconds from the first day's start to ``moment`` (``days``: its day's row)."""
    total = days.c.worked_before
    number = 1
    while f"opens_{number}" in days.c:
        opens, closes = days.c[f"opens_{number}"], days.c[f"closes_{number}"]
        total = total + sa.case(
            (sa.or_(opens.is_(None), moment <= opens), 0.0),
            (moment >= closes, seconds_between(closes, opens)),
            else_=seconds_between(moment, opens),
        )
        number += 1
    return total


# --- the figure ----------------------------------------------------------------------


def _waits(f: AnalyticsFilter, now: datetime, schedule: Schedule) -> sa.CTE:
    """Per order of the range that waited: its partner, whether it left, its working wait."""
    # When each order first left waiting, from the one index that holds those moves
    # (an order of the range leaves on or after the range's start), then joined by
    # hash: 80,000 orders a year probed one by one cost half a second.
    leaves = (
        sa.select(Transition.order_id, sa.func.min(Transition.created_at).label("left_at"))
        .where(left_waiting(), Transition.created_at >= f.start)
        .group_by(Transition.order_id)
        .subquery("leaves")
    )
    orders = (
        sa.select(
            Order.id.label("order_id"),
            Order.partner_organization_id.label("partner_id"),
            Order.created_at.label("came_in"),
            leaves.c.left_at,
            Order.status.in_(WAITING).label("waits"),
        )
        .outerjoin(leaves, leaves.c.order_id == Order.id)
        .where(live_orders(), between(Order.created_at, f))
        .subquery("range_orders")
    )
    # An order without the history of leaving that no longer waits (loaded as it
    # stands, before transitions were kept) has no wait to measure.
    waited = (
        sa.select(orders)
        .where(sa.or_(orders.c.left_at.is_not(None), orders.c.waits.is_(True)))
        .subquery("waited")
    )
    # Still waiting: the wait so far (a transition stamped after ``now`` reads as now).
    at_now = sa.literal(now, UTCDateTime)
    ended = sa.case(
        (sa.or_(waited.c.left_at.is_(None), waited.c.left_at > at_now), at_now),
        else_=waited.c.left_at,
    )
    days = working_days(schedule, f.first_day, max(f.last_day, local_today(now)))
    came_in_day, ended_day = days.alias("came_in_day"), days.alias("ended_day")
    handled = waited.c.left_at.is_not(None)
    worked = (
        sa.select(
            waited.c.partner_id,
            handled.label("handled"),
            (worked_until(ended_day, ended) - worked_until(came_in_day, waited.c.came_in)).label(
                "wait"
            ),
        )
        .join(came_in_day, came_in_day.c.day == local_date(waited.c.came_in))
        .join(ended_day, ended_day.c.day == local_date(ended))
        .subquery("worked")
    )
    return sa.select(
        worked,
        # Ranks among the partner's orders and among all, handled and waiting apart.
        sa.func.row_number()
        .over(partition_by=(worked.c.partner_id, worked.c.handled), order_by=worked.c.wait)
        .label("rank"),
        sa.func.count().over(partition_by=(worked.c.partner_id, worked.c.handled)).label("ranked"),
        sa.func.row_number()
        .over(partition_by=worked.c.handled, order_by=worked.c.wait)
        .label("rank_all"),
        sa.func.count().over(partition_by=worked.c.handled).label("ranked_all"),
    ).cte("waits")


def _summed(waits: sa.CTE, limit: int, rank, ranked) -> list:
    handled = waits.c.handled.is_(True)
    in_time = waits.c.wait <= limit

    def nearest_rank(percent: int):
        # The wait of the first handled order at or past ``percent`` % of them.
        return sa.func.min(waits.c.wait).filter(handled, rank * 100 >= ranked * percent)

    return [
        sa.func.count().label("n"),
        count_if(sa.and_(handled, in_time)).label("in_time"),
        count_if(sa.not_(in_time)).label("late"),
        count_if(sa.and_(sa.not_(handled), in_time)).label("running"),
        nearest_rank(50).label("median"),
        nearest_rank(90).label("p90"),
    ]


def _range_groups(f: AnalyticsFilter, now: datetime, schedule: Schedule, limit: int) -> dict:
    """Per partner id (and ``"all"``), the range's counts and wait percentiles."""
    waits = _waits(f, now, schedule)
    per_partner = sa.select(
        sa.literal(False).label("is_all"),
        waits.c.partner_id,
        *_summed(waits, limit, waits.c.rank, waits.c.ranked),
    ).group_by(waits.c.partner_id)
    overall = sa.select(
        sa.literal(True).label("is_all"),
        sa.null().label("partner_id"),
        *_summed(waits, limit, waits.c.rank_all, waits.c.ranked_all),
    )
    groups = {}
    for row in db.session.execute(sa.union_all(per_partner, overall)).mappings():
        groups["all" if row["is_all"] else row["partner_id"]] = dict(row)
    return groups


def waiting_too_long_now(now: datetime, schedule: Schedule, limit: int) -> dict:
    """Live orders waiting past the limit now, per partner id: ``{"review": n, "new": n}``.

    The desk's own rule (came in more than the limit in working hours ago): a
    range of the orders' (status, came in) index.
    """
    waited_since = subtract_business_seconds(schedule, now, limit)
    rows = db.session.execute(
        sa.select(
            Order.partner_organization_id,
            count_if(Order.needs_review.is_(True)),
            count_if(Order.needs_review.is_(False)),
        )
        .where(live_orders(), status_in(WAITING), Order.created_at < waited_since)
        .group_by(Order.partner_organization_id)
    )
    return {partner: {"review": review, "new": new} for partner, review, new in rows}


@dataclass(frozen=True)
class WaitingNow:
    """A partner's orders waiting too long now, and where the desk lists them."""

    partner_id: uuid.UUID | None
    label: str
    review: int
    new: int

    @property
    def total(self) -> int:
        return self.review + self.new


def order_sla(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    """The order SLA per partner for the range, and the orders waiting too long now."""
    schedule, limit = desk_schedule(), wait_limit_seconds()
    groups = _range_groups(f, now, schedule, limit)
    overall = groups.pop("all", None)
    late_now = waiting_too_long_now(now, schedule, limit)
    partner_ids = [key for key in {*groups, *late_now} if key is not None]
    names = dict(
        db.session.execute(
            sa.select(Organization.id, Organization.name).where(Organization.id.in_(partner_ids))
        ).all()
        if partner_ids
        else []
    )
    rows = []
    for partner_id in {*groups, *late_now}:
        now_late = late_now.get(partner_id, {"review": 0, "new": 0})
        label = names.get(partner_id) or str(NO_PARTNER)
        row = _row(label, groups.get(partner_id, {}), now_late)
        row["partner_id"] = partner_id
        rows.append(row)
    # By name; orders without a partner (our own intakes) last.
    rows.sort(key=lambda row: (row["partner_id"] is None, row["label"].lower()))
    total = _row(
        _("All"),
        overall or {},
        {key: sum(counts[key] for counts in late_now.values()) for key in ("review", "new")},
    )
    columns = (
        Column("label", _("Partner")),
        Column("n", _("Orders"), COUNT),
        Column("in_time", _("In time"), COUNT),
        Column("late", _("Late"), COUNT),
        Column("running", _("Waiting, in time"), COUNT),
        Column("share", _("Share in time"), PERCENT),
        Column("median", _("Median wait (working hours)"), WORKING_HOURS),
        Column("p90", _("90th percentile wait (working hours)"), WORKING_HOURS),
        Column("waiting_now", _("Waiting too long now"), COUNT),
    )
    hours = current_app.config["ORDER_WAIT_HOURS"]
    table = Table(
        "order_sla",
        _("Order SLA"),
        columns,
        rows,
        total if rows else None,
        str(DEFINITIONS["order_sla"]) % {"hours": _hours_text(hours)},
    )
    table.extra["wide"] = True
    table.extra["limit_hours"] = _hours_text(hours)
    table.extra["waiting_now"] = [
        WaitingNow(row["partner_id"], row["label"], row["review_now"], row["new_now"])
        for row in rows
        if row["waiting_now"]
    ]
    table.extra["waiting_now_total"] = WaitingNow(
        None, total["label"], total["review_now"], total["new_now"]
    )
    return table


def _row(label: str, counts: dict, now_late: dict) -> dict:
    in_time, late = int(counts.get("in_time") or 0), int(counts.get("late") or 0)
    return {
        "label": label,
        "n": int(counts.get("n") or 0),
        "in_time": in_time,
        "late": late,
        "running": int(counts.get("running") or 0),
        "share": ratio(in_time, in_time + late),
        "median": _seconds(counts.get("median")),
        "p90": _seconds(counts.get("p90")),
        "waiting_now": now_late["review"] + now_late["new"],
        "review_now": now_late["review"],
        "new_now": now_late["new"],
    }


def _seconds(value) -> float | None:
    return None if value is None else max(float(value), 0.0)


def _hours_text(hours: float) -> str:
    """``4`` or ``4,5``: the limit as the reader writes numbers."""
    return local_number(hours, 0 if float(hours).is_integer() else 1)
