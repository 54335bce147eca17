"""What a row of the order desk shows: who, where, how far, what blocks it, the visit.

Gathered for a whole page in two queries (unmapped lines, crew names), so a
page of fifty orders costs what one costs.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import format_timedelta
from flask_babel import gettext as _

from app.conversations.business_time.calendar import calendar_for, subtract_business_seconds
from app.orders.core.review import readable_reason
from app.orders.core.stages import BY_NAME, NEEDS_A_PERSON, WAITING, stage_of
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.labels import label
from app.platform.models import LineItem, Order, User
from app.platform.models.enums import OrderStatus

# The installation preferences that tell a planner when the customer can be visited.
WHEN_PREFERENCES = (
    "preferred_date",
    "preferred_dates",
    "time_window",
    "time_preference",
    "preference",
)


@dataclass
class PlannedVisit:
    day: date | None
    window: str | None
    technicians: list[str]


@dataclass
class DeskRow:
    order: Order
    stage: str
    stage_label: str
    status_label: str
    age: str
    partner: str | None
    customer: str | None
    place: str | None
    blocks: list[str] = field(default_factory=list)
    visit: PlannedVisit | None = None
    # To review or approve for longer than ``ORDER_WAIT_HOURS`` working hours.
    waits_too_long: bool = False


def desk_rows(
    orders: list[Order],
    today: date,
    now: datetime | None = None,
    *,
    wait_hours: float | None = None,
) -> list[DeskRow]:
    """Rows for ``orders`` as the reader sees them (their language, their time).

    With ``wait_hours``, an order waiting for a person that came in more than
    that many working hours ago (the default business calendar) is marked.
    """
    now = now or utcnow()
    # One instant for the page: an order that came in before it has waited too long.
    waited_since = (
        subtract_business_seconds(calendar_for(None), now, int(wait_hours * 3600))
        if wait_hours
        else None
    )
    ids = [order.id for order in orders]
    unmapped = _unmapped_skus(ids)
    names = _crew_names(orders)
    rows = []
    for order in orders:
        stage = stage_of(order, today)
        address = order.installation_address
        rows.append(
            DeskRow(
                order=order,
                stage=stage,
                stage_label=str(BY_NAME[stage].label),
                status_label=label(order.status, "order"),
                age=format_timedelta(_as_aware(now) - _as_aware(order.created_at)),
                partner=order.partner_organization.name if order.partner_organization else None,
                customer=order.end_customer.display_name if order.end_customer else None,
                place=(address.city if address else None),
                blocks=_blocks(order, unmapped.get(order.id, [])),
                visit=_visit(order, names),
                waits_too_long=(
                    waited_since is not None
                    and stage in NEEDS_A_PERSON
                    and _as_aware(order.created_at) < waited_since
                ),
            )
        )
    return rows


def _as_aware(moment: datetime) -> datetime:
    # SQLite hands back the stored UTC time without its zone.
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def _blocks(order: Order, unmapped: list[str]) -> list[str]:
    blocks = []
    if order.needs_review and order.status in WAITING:
        blocks.extend(readable_reason(str(reason)) for reason in order.review_reasons or [])
    for sku in unmapped:
        text = _("No article is mapped to product %(detail)s", detail=sku)
        if text not in blocks:
            blocks.append(text)
    waiting = order.status in (*WAITING, OrderStatus.APPROVED)
    preferences = order.installation_preferences or {}
    if waiting and not any(preferences.get(key) for key in WHEN_PREFERENCES):
        blocks.append(_("No preferred day or time of day"))
    return blocks


def _visit(order: Order, names: dict[uuid.UUID, str]) -> PlannedVisit | None:
    visit = order.visit
    if visit is None or visit.scheduled_date is None:
        return None
    crew = [names[i] for i in visit.technician_ids if i in names]
    return PlannedVisit(visit.scheduled_date, visit.window_text, crew)


def _unmapped_skus(order_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    if not order_ids:
        return {}
    found: dict[uuid.UUID, list[str]] = defaultdict(list)
    rows = db.session.execute(
        sa.select(LineItem.order_id, LineItem.partner_sku, LineItem.description).where(
            LineItem.order_id.in_(order_ids),
            LineItem.article_id.is_(None),
            LineItem.partner_sku.is_not(None),
        )
    )
    for order_id, sku, _description in rows:
        found[order_id].append(sku)
    return found


def _crew_names(orders: list[Order]) -> dict[uuid.UUID, str]:
    ids = {i for order in orders if order.visit for i in order.visit.technician_ids}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids))).all())
