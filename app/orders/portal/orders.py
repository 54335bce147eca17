"""The partner's orders as the portal shows them: searched, filtered, paged, one in detail.

Only what a partner may know is read: the customer as the partner sent it
(:meth:`Order.customer_info_for_partner`), statuses, and the history's
``partner_note`` (never internal notes or transition reasons).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from app.orders.portal.scope import PortalScope, status_vocabularies
from app.platform.extensions import db
from app.platform.models import Address, Contact, Order, OrderStatusTransition
from app.platform.models.enums import OrderStatus
from app.platform.typed_dates import DateRefused, parse_day
from app.platform.ui import DISPLAY_ZONE

PAGE_SIZE = 25
MAX_QUERY = 100


@dataclass
class OrderFilter:
    q: str = ""
    status: str = ""
    mode: str = ""  # "", "live" or "test"
    since: date | None = None
    until: date | None = None
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    def args(self, **changes) -> dict:
        """The filter as query arguments (for links to other pages of it)."""
        values = {
            "q": self.q,
            "status": self.status,
            "mode": self.mode,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "page": self.page,
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value not in ("", None, 1)}


@dataclass
class OrderPage:
    orders: list[Order]
    filter: OrderFilter
    total: int
    vocabularies: dict[uuid.UUID, dict[str, str]]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def parse_filter(args) -> OrderFilter:
    """The list's filter from query arguments; a bad value is dropped, ``errors`` says why."""
    f = OrderFilter(q=(args.get("q") or "").strip()[:MAX_QUERY])
    status = args.get("status") or ""
    if status in OrderStatus.values():
        f.status = status
    elif status:
        f.errors["status"] = _("Choose one of the options.")
    mode = args.get("mode") or ""
    f.mode = mode if mode in ("live", "test") else ""
    for name in ("since", "until"):
        try:
            setattr(f, name, parse_day(args.get(name)))
        except DateRefused as exc:
            f.errors[name] = str(exc)
    try:
        f.page = max(1, min(int(args.get("page") or 1), 10_000))
    except ValueError:
        f.page = 1
    return f


def search_orders(scope: PortalScope, f: OrderFilter) -> OrderPage:
    """One page of the scope's orders matching ``f``, newest first."""
    query = (
        sa.select(Order)
        .outerjoin(Contact, Contact.id == Order.end_customer_contact_id)
        .outerjoin(Address, Address.id == Order.installation_address_id)
        .where(Order.partner_organization_id.in_(scope.order_owner_ids))
    )
    if f.q:
        like = f"%{_escape(f.q)}%"
        compact = f"%{_escape(f.q.replace(' ', '').upper())}%"
        sent_name = Order.customer_as_sent["name"].as_string()
        query = query.where(
            sa.or_(
                Order.partner_order_id.ilike(like, escape="\\"),
                Order.order_number.ilike(like, escape="\\"),
                sent_name.ilike(like, escape="\\"),
                sa.and_(
                    Order.customer_as_sent.is_(None),
                    Contact.display_name.ilike(like, escape="\\"),
                ),
                sa.func.replace(sa.func.upper(Address.postal_code), " ", "").like(
                    compact, escape="\\"
                ),
                # A test order keeps its address itself.
                sa.func.replace(
                    sa.func.upper(Order.test_address["postal_code"].as_string()), " ", ""
                ).like(compact, escape="\\"),
            )
        )
    if f.status:
        query = query.where(Order.status == OrderStatus(f.status))
    if f.mode:
        query = query.where(Order.is_test.is_(f.mode == "test"))
    if f.since:
        query = query.where(Order.created_at >= _day_start(f.since))
    if f.until:
        query = query.where(Order.created_at < _day_start(f.until + timedelta(days=1)))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    orders = list(
        db.session.scalars(
            query.options(so.selectinload(Order.installation_address))
            .order_by(Order.created_at.desc(), Order.id.desc())
            .offset((f.page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
    )
    return OrderPage(orders, f, total, status_vocabularies(scope.order_owner_ids))


@dataclass
class OrderDetail:
    order: Order
    own: bool
    organization_name: str
    vocabulary: dict[str, str]
    # (when, from, to, partner_note) in order: no reasons, no internal notes.
    history: list[tuple[datetime, str | None, str, str | None]]


def order_detail(scope: PortalScope, order_id: uuid.UUID) -> OrderDetail | None:
    """One order of the scope, or None (another partner's order is not found)."""
    order = db.session.get(Order, order_id)
    if order is None or order.partner_organization_id not in scope.order_owner_ids:
        return None
    history = [
        (row.created_at, row.from_status, row.to_status, row.partner_note)
        for row in db.session.scalars(
            sa.select(OrderStatusTransition)
            .where(OrderStatusTransition.order_id == order.id)
            .order_by(OrderStatusTransition.created_at)
        )
    ]
    vocabulary = status_vocabularies({order.partner_organization_id}).get(
        order.partner_organization_id, {}
    )
    return OrderDetail(
        order,
        scope.is_own(order.partner_organization_id),
        scope.organization_name(order.partner_organization_id),
        vocabulary,
        history,
    )


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=DISPLAY_ZONE)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
