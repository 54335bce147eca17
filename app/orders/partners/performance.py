"""Partner performance: the figures a partner is judged by.

Per partner, for a period of the last 7, 30 or 90 Dutch calendar days (today
included) and the same number of days before it:

- orders received, and the average per day, week (7 days) and month (30 days);
- average order value: the orders' total amount divided by their number;
- the share of those orders flagged for review at intake (``Order.flagged_for_review``);
- the partner's calls to the API (made with its key): how many, the share
  answered with 400 or above, and the median (p50) and p95 response time,
  read off the per-day response-time histogram (``PartnerApiUsage``) as the
  upper bound of the bucket the percentile falls in;
- callback success: status callbacks to the partner created in the period
  that were delivered, out of those delivered or given up on (still being
  retried or cancelled ones are not yet a success or a failure).

Each figure family is one grouped query over all partners and both periods,
so the page costs the same few queries for five partners or five hundred.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    Order,
    Organization,
    OutboundDelivery,
    PartnerApiUsage,
    PartnerIntegration,
)
from app.platform.models.enums import DeliveryKind, OrganizationType, OutboundState
from app.platform.ui import DISPLAY_ZONE

PERIODS = (7, 30, 90)
# A p50/p95 above this is in the open-ended slowest bucket: "more than", not "at most".
LARGEST_BOUND_MS = PartnerApiUsage.BUCKETS_MS[-1]
DEFAULT_PERIOD = 30
CURRENT, PREVIOUS = "current", "previous"


@dataclass
class Figures:
    """One partner's raw sums over one period; the rates derive from them."""

    orders: int = 0
    order_total: Decimal = Decimal("0")
    needing_review: int = 0
    api_requests: int = 0
    api_errors: int = 0
    api_total_ms: float = 0.0
    # Response-time bucket upper bound (ms) -> calls.
    api_buckets: dict[int, int] = field(default_factory=dict)
    callbacks_delivered: int = 0
    callbacks_failed: int = 0

    @property
    def average_order_value(self) -> Decimal | None:
        if not self.orders:
            return None
        return (self.order_total / self.orders).quantize(Decimal("0.01"))

    @property
    def review_share(self) -> float | None:
        """Percentage of the period's orders flagged for review."""
        return _percent(self.needing_review, self.orders)

    @property
    def api_error_rate(self) -> float | None:
        """Percentage of the partner's API calls answered with 400 or above."""
        return _percent(self.api_errors, self.api_requests)

    @property
    def api_average_ms(self) -> float | None:
        return round(self.api_total_ms / self.api_requests, 1) if self.api_requests else None

    @property
    def api_p50_ms(self) -> int | None:
        return self.api_percentile(0.50)

    @property
    def api_p95_ms(self) -> int | None:
        return self.api_percentile(0.95)

    def api_percentile(self, share: float) -> int | None:
        """The upper bound of the bucket holding the ``share`` percentile of calls."""
        if not self.api_requests:
            return None
        wanted = math.ceil(share * sum(self.api_buckets.values()))
        seen = 0
        for bound in sorted(self.api_buckets):
            seen += self.api_buckets[bound]
            if seen >= wanted:
                return bound
        return max(self.api_buckets)

    @property
    def callbacks_finished(self) -> int:
        return self.callbacks_delivered + self.callbacks_failed

    @property
    def callback_success_rate(self) -> float | None:
        """Percentage of finished callbacks that were delivered."""
        return _percent(self.callbacks_delivered, self.callbacks_finished)


@dataclass(frozen=True)
class Trend:
    """Change against the previous period: relative (percent) or in percentage points."""

    change: float | None
    points: bool = False
    # Whether a rise is good news (more orders) or bad (more errors).
    rise_is_good: bool = True

    @property
    def direction(self) -> str:
        if self.change is None or self.change == 0:
            return "flat"
        return "up" if self.change > 0 else "down"

    @property
    def verdict(self) -> str:
        """ "good", "bad" or "neutral", for the colour of the arrow."""
        if self.direction == "flat":
            return "neutral"
        return "good" if (self.direction == "up") == self.rise_is_good else "bad"


@dataclass
class PartnerPerformance:
    organization: Organization
    days: int
    current: Figures
    previous: Figures

    @property
    def orders_per_day(self) -> float:
        return round(self.current.orders / self.days, 2)

    @property
    def orders_per_week(self) -> float:
        return round(self.current.orders * 7 / self.days, 1)

    @property
    def orders_per_month(self) -> float:
        return round(self.current.orders * 30 / self.days, 1)

    @property
    def orders_trend(self) -> Trend:
        return Trend(_relative(self.current.orders, self.previous.orders))

    @property
    def order_value_trend(self) -> Trend:
        return Trend(_relative(self.current.average_order_value, self.previous.average_order_value))

    @property
    def review_trend(self) -> Trend:
        return Trend(
            _points(self.current.review_share, self.previous.review_share),
            points=True,
            rise_is_good=False,
        )

    @property
    def api_error_trend(self) -> Trend:
        return Trend(
            _points(self.current.api_error_rate, self.previous.api_error_rate),
            points=True,
            rise_is_good=False,
        )

    @property
    def callback_trend(self) -> Trend:
        return Trend(
            _points(self.current.callback_success_rate, self.previous.callback_success_rate),
            points=True,
        )


@dataclass(frozen=True)
class Period:
    days: int
    first_day: date  # of the current period; it runs to today
    previous_first_day: date

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=self.days - 1)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(), DISPLAY_ZONE)

    @property
    def previous_start(self) -> datetime:
        return datetime.combine(self.previous_first_day, time(), DISPLAY_ZONE)


def period_days(value) -> int:
    """A period length the page offers, from a query-string value; else the default."""
    try:
        days = int(value)
    except (TypeError, ValueError):
        return DEFAULT_PERIOD
    return days if days in PERIODS else DEFAULT_PERIOD


def period_of(days: int, now: datetime | None = None) -> Period:
    """The last ``days`` Dutch calendar days (today included) and the ``days`` before."""
    today = (now or utcnow()).astimezone(DISPLAY_ZONE).date()
    first_day = today - timedelta(days=days - 1)
    return Period(days, first_day, first_day - timedelta(days=days))


def partner_performance(days: int, now: datetime | None = None) -> list[PartnerPerformance]:
    """Every partner's figures over the period and the one before it, by name."""
    period = period_of(days, now)
    partners = db.session.scalars(
        sa.select(Organization)
        .where(Organization.organization_type == OrganizationType.PARTNER)
        .order_by(sa.func.lower(Organization.name))
    ).all()
    figures: dict[tuple[uuid.UUID, str], Figures] = {}

    def of(partner_id: uuid.UUID, which: str) -> Figures:
        return figures.setdefault((partner_id, which), Figures())

    for partner_id, which, count, total, review in _order_rows(period):
        entry = of(partner_id, which)
        entry.orders, entry.order_total = int(count), Decimal(total or 0)
        entry.needing_review = int(review or 0)
    for partner_id, which, bucket, requests, errors, total_ms in _api_rows(period):
        entry = of(partner_id, which)
        entry.api_requests += int(requests)
        entry.api_errors += int(errors)
        entry.api_total_ms += float(total_ms)
        entry.api_buckets[bucket] = entry.api_buckets.get(bucket, 0) + int(requests)
    for partner_id, which, delivered, failed in _callback_rows(period):
        entry = of(partner_id, which)
        entry.callbacks_delivered, entry.callbacks_failed = int(delivered), int(failed)
    return [
        PartnerPerformance(partner, days, of(partner.id, CURRENT), of(partner.id, PREVIOUS))
        for partner in partners
    ]


def _which(column, start) -> sa.Case:
    return sa.case((column >= start, CURRENT), else_=PREVIOUS)


def _order_rows(period: Period) -> list:
    which = _which(Order.created_at, period.start).label("which")
    return db.session.execute(
        sa.select(
            Order.partner_organization_id,
            which,
            sa.func.count(),
            sa.func.sum(Order.total_amount),
            sa.func.sum(sa.case((Order.flagged_for_review, 1), else_=0)),
        )
        .where(
            Order.partner_organization_id.is_not(None),
            Order.created_at >= period.previous_start,
            # Sandbox orders and their callbacks are no part of a partner's performance.
            Order.is_test.is_(False),
        )
        .group_by(Order.partner_organization_id, which)
    ).all()


def _api_rows(period: Period) -> list:
    which = _which(PartnerApiUsage.day, period.first_day).label("which")
    return db.session.execute(
        sa.select(
            PartnerApiUsage.partner_organization_id,
            which,
            PartnerApiUsage.bucket_ms,
            sa.func.sum(PartnerApiUsage.request_count),
            sa.func.sum(PartnerApiUsage.error_count),
            sa.func.sum(PartnerApiUsage.total_duration_ms),
        )
        .where(PartnerApiUsage.day >= period.previous_first_day)
        .group_by(PartnerApiUsage.partner_organization_id, which, PartnerApiUsage.bucket_ms)
    ).all()


def _callback_rows(period: Period) -> list:
    which = _which(OutboundDelivery.created_at, period.start).label("which")
    state = OutboundDelivery.state
    return db.session.execute(
        sa.select(
            PartnerIntegration.partner_organization_id,
            which,
            sa.func.sum(sa.case((state == OutboundState.DELIVERED, 1), else_=0)),
            sa.func.sum(sa.case((state == OutboundState.FAILED, 1), else_=0)),
        )
        .join(PartnerIntegration, PartnerIntegration.id == OutboundDelivery.partner_integration_id)
        .where(
            OutboundDelivery.kind == DeliveryKind.PARTNER_CALLBACK,
            OutboundDelivery.created_at >= period.previous_start,
            OutboundDelivery.is_test.is_(False),
        )
        .group_by(PartnerIntegration.partner_organization_id, which)
    ).all()


def _percent(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None


def _relative(now, before) -> float | None:
    """Change in percent of the previous value; none when there was nothing before."""
    if now is None or not before:
        return None
    return round(float((Decimal(str(now)) - Decimal(str(before))) * 100 / Decimal(str(before))), 1)


def _points(now: float | None, before: float | None) -> float | None:
    if now is None or before is None:
        return None
    return round(now - before, 1)
