"""Demo orders: partner and direct intakes, their status history and commissions."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from app.orders.mobile.services import AMSTERDAM
from app.platform.extensions import db
from app.platform.models import (
    Commission,
    LineItem,
    Order,
    OrderNumberCounter,
    OrderStatusTransition,
)
from app.platform.models.enums import (
    AddressValidation,
    ArticleType,
    CommissionStatus,
    LineItemStatus,
    OrderSource,
    OrderStatus,
)
from app.seed.context import Customer, DemoContext, Partner, in_office_hours
from app.seed.demo_content import INSTALLATION_NOTES, TIME_WINDOWS, dutch_date, next_workday
from app.seed.demo_order_texts import (
    DIRECT_WALLBOXES,
    PARTNER_BASKETS,
    PARTNER_WEIGHTS,
    REASONS,
    UNMAPPED_SKUS,
)

S = OrderStatus
STATUS_COUNTS = {
    S.NEW: 15,
    S.QUOTE_SENT: 15,
    S.APPROVED: 13,
    S.SCHEDULED: 26,
    S.IN_PROGRESS: 3,
    S.COMPLETED: 35,
    S.ON_HOLD: 8,
    S.CANCELLED: 5,
}
# How many days ago an order in this status was typically placed.
AGE_DAYS = {
    S.NEW: (0.05, 4),
    S.QUOTE_SENT: (1, 12),
    S.APPROVED: (4, 20),
    S.SCHEDULED: (6, 30),
    S.IN_PROGRESS: (8, 35),
    S.COMPLETED: (20, 120),
    S.ON_HOLD: (6, 60),
    S.CANCELLED: (5, 90),
}
_HAPPY_PATH = [S.NEW, S.QUOTE_SENT, S.APPROVED, S.SCHEDULED, S.IN_PROGRESS, S.COMPLETED]
LINE_STATUS = {
    S.NEW: LineItemStatus.QUOTED,
    S.QUOTE_SENT: LineItemStatus.QUOTED,
    S.APPROVED: LineItemStatus.CONFIRMED,
    S.SCHEDULED: LineItemStatus.CONFIRMED,
    S.IN_PROGRESS: LineItemStatus.DELIVERED,
    S.COMPLETED: LineItemStatus.INSTALLED,
    S.ON_HOLD: LineItemStatus.CONFIRMED,
    S.CANCELLED: LineItemStatus.CANCELLED,
}
DIRECT_SOURCES = (
    [OrderSource.FILLOUT] * 4
    + [OrderSource.EMAIL] * 3
    + [OrderSource.MANUAL] * 3
    + [OrderSource.MAKE] * 2
)
# Orders not planned yet, whose preferred visit day is still to come.
UNPLANNED = (S.NEW, S.QUOTE_SENT, S.APPROVED, S.ON_HOLD)
# Visits on today's date, so the technicians' /m/ page has work to show.
TODAY_VISITS = ["tech", "tech", "tech", "ruben.dejong", "ruben.dejong"]
# Who is on site right now, one per order in progress.
ON_SITE = ["tech", "ruben.dejong", "kevin.hendriks"]


def build_orders(ctx: DemoContext) -> None:
    """Orders, lines, transitions, commissions and the per-year number counters."""
    rng = ctx.rng
    statuses = [status for status, count in STATUS_COUNTS.items() for _ in range(count)]
    rng.shuffle(statuses)
    buyers = rng.sample(ctx.customers, len(statuses) - 8)
    buyers += rng.sample(buyers, 8)  # a few households order a second charger
    partner_orders: set[str] = set()
    rows: list = []
    seen = {S.SCHEDULED: 0, S.IN_PROGRESS: 0}
    for status, customer in zip(statuses, buyers, strict=True):
        order = Order(
            id=uuid.uuid4(),
            status=status,
            currency="EUR",
            needs_review=False,
            review_reasons=[],
            channel_contact_ids=[],
            partner_external_references={},
        )
        partner = _pick_partner(ctx) if rng.random() < 0.5 else None
        technician = None
        if status == S.SCHEDULED and seen[status] < len(TODAY_VISITS):
            technician = TODAY_VISITS[seen[status]]
        elif status == S.IN_PROGRESS:
            technician = ON_SITE[seen[status] % len(ON_SITE)]
        if status in seen:
            seen[status] += 1
        times = _timeline(ctx, order, status, technician)
        order.created_at = times[0][1]
        order.updated_at = times[-1][1]
        _parties(ctx, order, customer, partner, partner_orders)
        rows += _line_items(ctx, order, partner, status)
        rows += _transitions(ctx, order, partner, times)
        if customer.address.validation_state == AddressValidation.NEEDS_REVIEW and status in (
            S.NEW,
            S.QUOTE_SENT,
            S.APPROVED,
            S.ON_HOLD,
        ):
            order.needs_review = order.flagged_for_review = True
            order.review_reasons = order.review_reasons + ["address not confirmed by PDOK"]
        if status == S.COMPLETED and partner is not None:
            rows += _commissions(ctx, order, partner)
        ctx.orders.append(order)
        ctx.order_customer[order.id] = customer
    _number_orders(ctx)
    db.session.add_all(ctx.orders)
    db.session.flush()
    db.session.add_all(rows)
    db.session.flush()


def _pick_partner(ctx: DemoContext) -> Partner:
    name = ctx.rng.choices(list(PARTNER_WEIGHTS), weights=list(PARTNER_WEIGHTS.values()))[0]
    return ctx.partners[name]


def _timeline(ctx: DemoContext, order: Order, status: S, technician: str | None):
    """The (status, time) steps from ``new`` to ``status``, oldest first."""
    rng = ctx.rng
    if status == S.ON_HOLD:
        path = rng.choice([[S.NEW, S.ON_HOLD], [S.NEW, S.QUOTE_SENT, S.APPROVED, S.ON_HOLD]])
    elif status == S.CANCELLED:
        path = rng.choice([[S.NEW, S.CANCELLED], [S.NEW, S.QUOTE_SENT, S.CANCELLED]])
    else:
        path = _HAPPY_PATH[: _HAPPY_PATH.index(status) + 1]
    created = ctx.ago(days=rng.uniform(*AGE_DAYS[status]))
    latest = ctx.ago(minutes=rng.randint(20, 180))
    visit_steps: list[tuple[S, datetime]] = []
    if status in (S.SCHEDULED, S.IN_PROGRESS):
        offset = (
            0
            if technician and status == S.SCHEDULED
            else rng.choice([1, 2, 3, 3, 4, 5, 7, 8, 10, 14])
        )
        order.scheduled_date = (
            ctx.today
            if status == S.IN_PROGRESS or offset == 0
            else (next_workday(ctx.today + timedelta(days=offset)))
        )
        if technician is None:  # a scheduled visit always has its technician
            technician = rng.choice(["tech", "ruben.dejong"])
        if status == S.IN_PROGRESS:
            started = min(ctx.local_time(ctx.today, 8, rng.randint(0, 40)), ctx.ago(minutes=25))
            visit_steps = [(S.IN_PROGRESS, started)]
            latest = started - timedelta(hours=14)
    elif status == S.COMPLETED:
        created_day = created.astimezone(AMSTERDAM).date()
        span = max(2, min((ctx.today - created_day).days - 1, 35))
        visit_day = created_day + timedelta(days=rng.randint(min(7, span), span))
        while visit_day.weekday() >= 5:  # installers work weekdays; move back to Friday
            visit_day -= timedelta(days=1)
        order.scheduled_date = visit_day
        technician = rng.choice(["tech", "ruben.dejong", "kevin.hendriks"])
        started = ctx.local_time(order.scheduled_date, 8, rng.randint(0, 90))
        finished = started + timedelta(minutes=rng.randint(150, 390))
        visit_steps = [(S.IN_PROGRESS, started), (S.COMPLETED, finished)]
        order.completed_at = finished
        latest = started - timedelta(hours=14)
    if technician:
        order.assigned_technician_id = ctx.user(technician).id
    office_steps = path[: len(path) - len(visit_steps)]
    latest = max(latest, created + timedelta(minutes=len(office_steps) * 5))
    fractions = sorted(rng.uniform(0.05, 0.95) for _ in office_steps[1:])
    steps = [(office_steps[0], created)] + [
        (step, created + (latest - created) * fraction)
        for step, fraction in zip(office_steps[1:], fractions, strict=True)
    ]
    taken = next(
        (i for i, (step, _) in enumerate(steps) if step not in (S.NEW, S.QUOTE_SENT)), None
    )
    if taken:
        # The desk takes most orders up within a few hours (the order SLA on the
        # analytics page): approved (or paused, cancelled) 20 minutes to 5 hours
        # after intake, a quote in between; derived from the drawn fraction, so the
        # demo's other records stay as they were.
        taken_up = timedelta(minutes=20 + int(fractions[0] * 10_000) % 280)
        for i in range(1, taken + 1):
            steps[i] = (steps[i][0], min(steps[i][1], created + taken_up * i / taken))
    return in_office_hours(ctx, steps, latest) + visit_steps


def _parties(
    ctx: DemoContext, order: Order, customer: Customer, partner: Partner | None, used: set[str]
) -> None:
    """Who the order is for, who pays, and the partner chain it came through."""
    rng = ctx.rng
    order.end_customer_contact_id = customer.contact.id
    order.customer_organization_id = customer.organization.id
    order.installation_address_id = customer.address.id
    order.installation_preferences = {
        "preferred_date": _preferred_date(ctx, order, rng.randint(7, 40)).isoformat(),
        "time_window": rng.choice(TIME_WINDOWS),
        "notes": rng.choice(INSTALLATION_NOTES),
        "phase": rng.choice(["1-fase", "3-fase", "3-fase"]),
    }
    if partner is None:
        order.source = rng.choice(DIRECT_SOURCES)
        order.account_contact_id = customer.contact.id
        return
    master_contact = partner.chain[-1]
    order.source = OrderSource.PARTNER_API
    order.partner_organization_id = partner.master.id
    order.account_contact_id = master_contact.id
    order.partner_contact_id = partner.contact.id
    order.channel_contact_ids = [str(contact.id) for contact in partner.chain]
    while True:
        partner_order_id = f"{partner.order_prefix}-{rng.randint(100000, 999999)}"
        if partner_order_id not in used:
            used.add(partner_order_id)
            break
    order.partner_order_id = partner_order_id
    order.partner_external_references = {
        "partner_order_id": partner_order_id,
        "partner_customer_id": f"CUST-{rng.randint(100000, 999999)}",
        "purchase_order_number": f"PO-{order.created_at:%Y%m%d}-{rng.randint(1, 999):03d}",
    }
    if len(partner.chain) > 1:
        order.partner_external_references["dealer_group_id"] = partner.organization.name


def _preferred_date(ctx: DemoContext, order: Order, weeks_out: int):
    """The customer's wish for the visit: a working day some weeks after ordering, and
    still ahead while the order waits to be planned (no one asks for a day gone by)."""
    wish = order.created_at.astimezone(AMSTERDAM).date() + timedelta(days=weeks_out)
    if order.status in UNPLANNED and wish < ctx.today + timedelta(days=2):
        wish = ctx.today + timedelta(days=2 + weeks_out % 12)
    return ctx.working_day(wish)


def _line_items(ctx: DemoContext, order: Order, partner: Partner | None, status: S) -> list:
    rng = ctx.rng
    lines: list[tuple[str | None, str | None, int]] = []  # (article sku, partner sku, qty)
    if partner is not None:
        master = partner.master.name
        for options, chance, quantity in PARTNER_BASKETS[master]:
            if rng.random() < chance:
                partner_sku = rng.choice(options)
                article = ctx.sku_map[(master, partner_sku)]
                lines.append((article.sku, partner_sku, rng.randint(*quantity)))
        if status in (S.NEW, S.QUOTE_SENT) and rng.random() < 0.3:
            lines.append((None, rng.choice(UNMAPPED_SKUS[master]), 1))
    else:
        wallbox, install = rng.choice(DIRECT_WALLBOXES)
        lines += [(wallbox, None, 1), (install, None, 1)]
        for sku, chance, quantity in (
            ("ACC-LB-KIT", 0.35, (1, 1)),
            ("ACC-CABLE-M", 0.4, (2, 15)),
            ("ACC-STAND-POST", 0.15, (1, 1)),
            ("SRV-MK-UPGRADE", 0.2, (1, 1)),
        ):
            if rng.random() < chance:
                lines.append((sku, None, rng.randint(*quantity)))
    items, total = [], Decimal("0")
    for position, (sku, partner_sku, quantity) in enumerate(lines, start=1):
        article = ctx.articles[sku] if sku else None
        item = LineItem(
            order_id=order.id,
            article_id=article.id if article else None,
            partner_sku=partner_sku,
            quantity=quantity,
            line_order=position,
            description=article.name if article else f"Onbekend partnerartikel {partner_sku}",
            unit_price=article.unit_price if article else Decimal("0"),
            line_item_status=LINE_STATUS[status],
            needs_review=article is None,
            external_item_reference=f"{partner_sku}-{position:02d}" if partner_sku else None,
            note="Partner-SKU niet gekoppeld; handmatig koppelen." if article is None else None,
            created_at=order.created_at,
            updated_at=order.created_at,
        )
        total += item.unit_price * quantity
        if article is not None and article.article_type == ArticleType.WALLBOX:
            ctx.order_charger[order.id] = article.name
        if article is None:
            order.needs_review = order.flagged_for_review = True
            order.review_reasons = order.review_reasons + [f"unmapped SKU {partner_sku}"]
        items.append(item)
    order.total_amount = total
    return items


def _transitions(ctx: DemoContext, order: Order, partner: Partner | None, times) -> list:
    rng = ctx.rng
    rows, previous = [], None
    for status, moment in times:
        if status == S.NEW:
            reason = REASONS["new"][order.source.value].format(
                partner=partner.organization.name if partner else ""
            )
        elif status == S.SCHEDULED:
            reason = REASONS["scheduled"].format(date=dutch_date(order.scheduled_date))
        else:
            reason = rng.choice(REASONS[status.value])
        context = {"source": order.source.value}
        if partner is not None:
            context.update(partner_source=True, partner_order_id=order.partner_order_id)
        if status == S.SCHEDULED:
            context["scheduled_date"] = order.scheduled_date.isoformat()
            ctx.scheduled_at[order.id] = moment  # when the visit was planned
        if status in (S.ON_HOLD, S.CANCELLED):
            order.notes = reason
        rows.append(
            OrderStatusTransition(
                order_id=order.id,
                from_status=previous.value if previous else None,
                to_status=status.value,
                transition_reason=reason,
                business_context=context,
                actor_user_id=_actor(ctx, order, status),
                created_at=moment,
                updated_at=moment,
            )
        )
        previous = status
    return rows


def _actor(ctx: DemoContext, order: Order, status: S) -> uuid.UUID | None:
    if status == S.NEW:
        return ctx.user("thomas.vandijk").id if order.source == OrderSource.MANUAL else None
    if status in (S.IN_PROGRESS, S.COMPLETED):
        return order.assigned_technician_id
    if status == S.SCHEDULED:
        return ctx.user("kevin.hendriks").id
    if status == S.APPROVED and ctx.rng.random() < 0.6:
        return None  # the customer signed the quote online
    return ctx.user(ctx.rng.choice(["agent", "lars.meijer", "emma.peters", "sanne.bakker"])).id


def _commissions(ctx: DemoContext, order: Order, partner: Partner) -> list:
    """One row per channel level; level 1 is the master partner."""
    age = ctx.now - order.completed_at
    status = (
        CommissionStatus.PAID
        if age > timedelta(days=30)
        else CommissionStatus.APPROVED
        if age > timedelta(days=10)
        else CommissionStatus.PENDING
    )
    rows = []
    for level, contact in enumerate(reversed(partner.chain), start=1):
        rate = partner.master.commission_rates.get(str(level))
        if rate is None:
            continue
        rate = Decimal(str(rate))
        rows.append(
            Commission(
                order_id=order.id,
                beneficiary_contact_id=contact.id,
                beneficiary_organization_id=contact.organization_id,
                commission_level=level,
                commission_rate=rate,
                base_amount=order.total_amount,
                commission_amount=(order.total_amount * rate / 100).quantize(Decimal("0.01")),
                status=status,
                created_at=order.completed_at,
                updated_at=order.completed_at,
            )
        )
    return rows


def _number_orders(ctx: DemoContext) -> None:
    """CC-<year>-<5 digits> in order of creation, continuing any existing counter."""
    ctx.orders.sort(key=lambda order: order.created_at)
    years = {order.created_at.astimezone(AMSTERDAM).year for order in ctx.orders}
    counters = {
        counter.year: counter
        for counter in db.session.scalars(
            sa.select(OrderNumberCounter).where(OrderNumberCounter.year.in_(years))
        )
    }
    for order in ctx.orders:
        year = order.created_at.astimezone(AMSTERDAM).year
        counter = counters.get(year)
        if counter is None:
            counter = counters[year] = OrderNumberCounter(year=year, last_value=0)
            db.session.add(counter)
        counter.last_value += 1
        order.order_number = f"CC-{year}-{counter.last_value:05d}"


def build_partner_order_history(ctx: DemoContext, count: int) -> list[Order]:
    """``count`` more completed partner orders of the last months, for the partner figures.

    The partner performance page compares a period with the one before it; the
    orders above are mostly recent, so without these most partners would show
    nothing before. Numbered after the orders above (numbers are unique, not
    chronological, as after an import). The caller hands ``ctx`` a random
    generator of its own, so nothing drawn here changes the rest of the demo.
    """
    used = {order.partner_order_id for order in ctx.orders if order.partner_order_id}
    orders, rows = [], []
    for _ in range(count):
        order = Order(
            id=uuid.uuid4(),
            status=S.COMPLETED,
            currency="EUR",
            needs_review=False,
            review_reasons=[],
            channel_contact_ids=[],
            partner_external_references={},
        )
        partner = _pick_partner(ctx)
        customer = ctx.rng.choice(ctx.customers)
        times = _timeline(ctx, order, S.COMPLETED, None)
        order.created_at = times[0][1]
        order.updated_at = times[-1][1]
        _parties(ctx, order, customer, partner, used)
        rows += _line_items(ctx, order, partner, S.COMPLETED)
        rows += _transitions(ctx, order, partner, times)
        rows += _commissions(ctx, order, partner)
        ctx.order_customer[order.id] = customer
        orders.append(order)
    orders.sort(key=lambda order: order.created_at)
    counters = {
        counter.year: counter for counter in db.session.scalars(sa.select(OrderNumberCounter))
    }
    for order in orders:
        year = order.created_at.astimezone(AMSTERDAM).year
        counter = counters.get(year)
        if counter is None:
            counter = counters[year] = OrderNumberCounter(year=year, last_value=0)
            db.session.add(counter)
        counter.last_value += 1
        order.order_number = f"CC-{year}-{counter.last_value:05d}"
    ctx.orders.extend(orders)
    db.session.add_all(orders)
    db.session.flush()
    db.session.add_all(rows)
    db.session.flush()
    return orders
