"""What the order page shows beside the order itself, gathered in a few queries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext

from app.orders.core.commissions import order_commissions
from app.orders.core.customer_details import Difference, customer_differences
from app.orders.core.review import readable_reason
from app.orders.core.review_fixes import FixEntry, fix_history
from app.orders.core.status_engine import ALLOWED_TRANSITIONS
from app.orders.core.visits import MOVED_BY_CUSTOMER
from app.orders.deliveries.log import DeliveryLog, order_deliveries
from app.orders.invoices.views import InvoiceView, invoice_view
from app.platform.extensions import db
from app.platform.labels import label
from app.platform.models import (
    AuditLog,
    Commission,
    Contact,
    Order,
    User,
    VisitSignature,
)
from app.platform.models.enums import OrderStatus
from app.platform.ui import local_date

# Before approval: the statuses in which a flagged order still waits for review.
REVIEW_STATUSES = frozenset({OrderStatus.NEW, OrderStatus.QUOTE_SENT})


@dataclass(frozen=True)
class CustomerMove:
    """A visit the customer moved on their page: to which day and window."""

    at: datetime
    visit: int
    day: str | None
    window: str | None


def customer_moves(order: Order) -> list[CustomerMove]:
    entries = db.session.scalars(
        sa.select(AuditLog).where(
            AuditLog.table_name == "orders",
            AuditLog.record_id == order.id,
            AuditLog.action == MOVED_BY_CUSTOMER,
        )
    )
    return [
        CustomerMove(
            at=entry.created_at,
            visit=(entry.changes or {}).get("visit") or 1,
            day=_day((entry.changes or {}).get("date")),
            window=(entry.changes or {}).get("window"),
        )
        for entry in entries
    ]


def _day(value: str | None) -> str | None:
    return local_date(date.fromisoformat(value), "%a %d %b %Y") if value else None


@dataclass
class OrderPage:
    order: Order
    next_statuses: list[str]
    actor_names: dict[uuid.UUID, str]
    commissions: list[Commission]
    beneficiary_names: dict[uuid.UUID, str]
    deliveries: DeliveryLog
    review_reasons: list[str]
    # (label, value) in the reader's words: "Created through the API: yes".
    partner_references: list[tuple[str, str]]
    customer_differences: list[Difference]
    invoice: InvoiceView | None
    # What people did about its review reasons (app.orders.core.review_fixes), newest first.
    review_fixes: list[FixEntry] = field(default_factory=list)
    # Taken on the technician's phone at the end of each visit, by visit number
    # (app.orders.mobile.signatures): a second day is signed for again.
    signatures: list[VisitSignature] = field(default_factory=list)
    # How many visits the order has: the signatures say which visit only when several.
    visit_count: int = 1

    # Visits the customer moved on their own page (app.orders.customer_page.moving).
    customer_moves: list[CustomerMove] = field(default_factory=list)

    @property
    def history(self) -> list[tuple]:
        """Status changes, review fixes and the customer's own visit moves together,
        newest first: (at, transition, fix, customer move), one of the three set."""
        moves = [(t.created_at, t, None, None) for t in self.order.transitions]
        fixes = [(f.at, None, f, None) for f in self.review_fixes]
        customer = [(m.at, None, None, m) for m in self.customer_moves]
        return sorted(moves + fixes + customer, key=lambda entry: entry[0], reverse=True)

    @property
    def awaiting_review(self) -> bool:
        """Whether the order still waits for a person's decision on its review flag.

        ``Order.needs_review`` stays set after approval on purpose: it records that
        the order was flagged at intake, which the partner's performance figures
        count. Approving the order is that decision, so the badge goes with it.
        """
        return self.order.needs_review and self.order.status in REVIEW_STATUSES


def order_page(order: Order) -> OrderPage:
    """The order with its allowed moves, who moved it, commissions and callbacks,
    its review reasons in the reader's language, the customer details sent
    with it that the contact does not have, and its invoice's payments."""
    allowed = ALLOWED_TRANSITIONS[order.status]
    # In the lifecycle's own order, not alphabetically.
    next_statuses = [s.value for s in OrderStatus if s in allowed]
    review_fixes = fix_history(order)
    actor_ids = {t.actor_user_id for t in order.transitions} | {f.actor_id for f in review_fixes}
    actor_ids -= {None}
    commissions = order_commissions(order)
    beneficiary_ids = {c.beneficiary_contact_id for c in commissions}
    return OrderPage(
        order=order,
        next_statuses=next_statuses,
        actor_names=_names(User.id, User.name, actor_ids),
        commissions=commissions,
        beneficiary_names=_names(Contact.id, Contact.display_name, beneficiary_ids),
        deliveries=order_deliveries(order),
        review_reasons=[readable_reason(str(r)) for r in order.review_reasons or []],
        partner_references=partner_references(order),
        customer_differences=customer_differences(order, order.end_customer),
        invoice=invoice_view(order),
        review_fixes=review_fixes,
        customer_moves=customer_moves(order),
        signatures=list(
            db.session.scalars(
                sa.select(VisitSignature)
                .where(VisitSignature.order_id == order.id)
                .order_by(VisitSignature.visit_number)
            )
        ),
        visit_count=len(order.visits),
    )


def partner_references(order: Order) -> list[tuple[str, str]]:
    """The partner's references to the order, named and valued in the reader's words."""
    shown = []
    for key, value in (order.partner_external_references or {}).items():
        if value in (None, ""):
            continue
        if isinstance(value, bool):
            value = gettext("yes") if value else gettext("no")
        shown.append((label(key, "partner_reference"), str(value)))
    return shown


def _names(id_column, name_column, ids: set) -> dict:
    if not ids:
        return {}
    return dict(
        db.session.execute(sa.select(id_column, name_column).where(id_column.in_(ids))).all()
    )
