"""Demo partner activity: API calls and status callbacks behind the partner performance page.

The partners' orders come from :mod:`app.seed.demo_orders`, plus a few dozen
completed ones of the last months made here, so the periods before the recent
ones have orders too; this adds what those partners did around them over the
last half year, so every period on /partners (up to 90 days and the 90 before)
has figures to compare: per day
and response-time bucket the calls each master partner made to the API, and
a status callback for each status change of their orders, delivered or given
up on. Each partner has a profile of its own (busy and fast, slow, flaky), so
the page shows differences worth a look.

It draws from a random generator of its own, so the rest of the demo stays
exactly as it was.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import (
    DeliveryAttempt,
    OrderStatusTransition,
    OutboundDelivery,
    PartnerApiUsage,
    PartnerIntegration,
)
from app.platform.models.enums import DeliveryKind, OutboundState
from app.seed.context import DemoContext
from app.seed.demo_orders import build_partner_order_history

ACTIVITY_SEED = 16_008
DAYS = 180
HISTORY_ORDERS = 45


@dataclass(frozen=True)
class Profile:
    calls_per_day: int  # on a weekday, at the end of the half year
    growth: float  # calls now relative to half a year ago
    median_ms: float
    error_share: float  # of calls answered with 400 or above
    callback_failure: float  # share of callbacks given up on


PROFILES = {
    "Groendus": Profile(420, 1.6, 85, 0.012, 0.02),
    "Essent": Profile(260, 1.1, 140, 0.025, 0.05),
    "Eneco": Profile(180, 0.8, 230, 0.06, 0.12),
    "50five": Profile(90, 1.3, 60, 0.008, 0.0),
    "Alva": Profile(40, 1.0, 420, 0.09, 0.2),
}


def build_partner_activity(ctx: DemoContext) -> dict[str, int]:
    """API usage rows and callback deliveries for the demo partners; returns counts."""
    rng = random.Random(ACTIVITY_SEED)  # noqa: S311 - demo data, not security
    # The order builders draw from ctx.rng: a generator of our own while they run here.
    shared_rng, ctx.rng = ctx.rng, random.Random(ACTIVITY_SEED + 1)  # noqa: S311
    try:
        history = build_partner_order_history(ctx, HISTORY_ORDERS)
    finally:
        ctx.rng = shared_rng
    integrations = dict(
        db.session.execute(
            sa.select(PartnerIntegration.partner_organization_id, PartnerIntegration.id)
        ).all()
    )
    usage_rows = _usage_rows(ctx, rng)
    if usage_rows:
        db.session.execute(sa.insert(PartnerApiUsage), usage_rows)
    callbacks = _callbacks(ctx, rng, integrations)
    db.session.flush()
    return {
        "partner_history_orders": len(history),
        "partner_usage_rows": len(usage_rows),
        "partner_callbacks": callbacks,
    }


def _usage_rows(ctx: DemoContext, rng: random.Random) -> list[dict]:
    rows = []
    buckets = PartnerApiUsage.BUCKETS_MS + (PartnerApiUsage.SLOWER_BUCKET_MS,)
    for name, profile in PROFILES.items():
        partner = ctx.partners.get(name)
        if partner is None:
            continue
        for back in range(DAYS):
            day = ctx.today - timedelta(days=back)
            trend = profile.growth ** (-back / DAYS)
            weekend = 0.25 if day.weekday() >= 5 else 1.0
            calls = int(profile.calls_per_day * trend * weekend * rng.uniform(0.8, 1.2))
            if calls <= 0:
                continue
            sums: dict[int, list] = {}
            for _ in range(calls):
                ms = rng.lognormvariate(0, 0.55) * profile.median_ms
                bound = next((b for b in buckets if ms <= b), buckets[-1])
                total = sums.setdefault(bound, [0, 0, 0.0])
                total[0] += 1
                total[1] += rng.random() < profile.error_share
                total[2] += ms
            for bound, (requests, errors, total_ms) in sums.items():
                rows.append(
                    {
                        "id": uuid.uuid4(),
                        "created_at": ctx.now,
                        "updated_at": ctx.now,
                        "day": day,
                        "partner_organization_id": partner.organization.id,
                        "bucket_ms": bound,
                        "request_count": requests,
                        "error_count": errors,
                        "total_duration_ms": round(total_ms, 2),
                    }
                )
    return rows


def _callbacks(ctx: DemoContext, rng: random.Random, integrations: dict) -> int:
    """A callback per status change of a partner's order, as app.orders.partners.status_webhook
    sends."""
    orders = {order.id: order for order in ctx.orders if order.partner_organization_id}
    profiles = {
        partner.organization.id: PROFILES[name]
        for name, partner in ctx.partners.items()
        if name in PROFILES
    }
    transitions = db.session.scalars(
        sa.select(OrderStatusTransition)
        .where(OrderStatusTransition.order_id.in_(list(orders)))
        .order_by(OrderStatusTransition.created_at)
    ).all()
    deliveries, attempts = [], []
    for transition in transitions:
        order = orders[transition.order_id]
        integration_id = integrations.get(order.partner_organization_id)
        profile = profiles.get(order.partner_organization_id)
        if integration_id is None or profile is None or transition.to_status is None:
            continue
        failed = rng.random() < profile.callback_failure
        sent = transition.created_at + timedelta(seconds=rng.randint(1, 20))
        delivery = OutboundDelivery(
            id=uuid.uuid4(),
            created_at=sent,
            updated_at=sent,
            kind=DeliveryKind.PARTNER_CALLBACK,
            partner_integration_id=integration_id,
            order_id=order.id,
            event_type="status_changed",
            webhook_id=f"msg_demo_{uuid.uuid4().hex}",
            target_url="https://partner.example/webhooks/chargecars",
            payload={"order_number": order.order_number, "status": str(transition.to_status)},
            state=OutboundState.FAILED if failed else OutboundState.DELIVERED,
            attempt_count=3 if failed else 1,
            max_attempts=3,
            last_status_code=503 if failed else 200,
            last_error="503 Service Unavailable" if failed else None,
            delivered_at=None if failed else sent,
        )
        deliveries.append(delivery)
        for number in range(1, delivery.attempt_count + 1):
            attempts.append(
                DeliveryAttempt(
                    delivery_id=delivery.id,
                    created_at=sent + timedelta(minutes=(number - 1) * 5),
                    attempt_number=number,
                    status_code=503 if failed else 200,
                    latency_ms=round(rng.uniform(80, 900), 1),
                    error="503 Service Unavailable" if failed else None,
                )
            )
    db.session.add_all(deliveries)
    db.session.flush()
    db.session.add_all(attempts)
    return len(deliveries)
