"""Articles, partner SKU mappings, orders, their lines, history and commissions."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.database import Entity, enum_column
from app.platform.extensions import db
from app.platform.models.crm import Address, SentAddress
from app.platform.models.enums import (
    ArticleType,
    BusinessEntity,
    CommissionStatus,
    LineItemStatus,
    OrderSource,
    OrderStatus,
)


class Article(Entity, db.Model):
    """Something ChargeCars sells or does: a wallbox, an installation package."""

    __tablename__ = "articles"

    sku: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    description: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    article_type: so.Mapped[ArticleType] = so.mapped_column(enum_column(ArticleType))
    brand: so.Mapped[Optional[str]] = so.mapped_column(sa.String(80))
    unit_price: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(10, 2), default=Decimal("0"))
    vat_rate: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(4, 2), default=Decimal("21"))
    is_active: so.Mapped[bool] = so.mapped_column(default=True)
    # Technicians its installation needs on site (a freestanding post is dug in by
    # two); a visit's crew is the most any of its articles needs.
    crew_size: so.Mapped[int] = so.mapped_column(default=1, server_default="1")


class PartnerSkuMapping(Entity, db.Model):
    """A partner's product code and the ChargeCars article it stands for."""

    __tablename__ = "partner_sku_mappings"
    __table_args__ = (sa.UniqueConstraint("partner_organization_id", "partner_sku"),)

    partner_organization_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE")
    )
    partner_sku: so.Mapped[str] = so.mapped_column(sa.String(64))
    article_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("articles.id", ondelete="RESTRICT"), index=True
    )
    description: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))

    article: so.Mapped[Article] = so.relationship()


class OrderNumberCounter(db.Model):
    """The last order number handed out per year.

    Incremented under a row lock in the order's own transaction, so numbers are
    unique and gap-free even when intakes race (a rolled-back order gives its
    number back).
    """

    __tablename__ = "order_number_counters"

    year: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    last_value: so.Mapped[int] = so.mapped_column(default=0)


# How a transaction locks an order it is about to change: ``with_for_update=
# LOCK_TO_CHANGE`` (FOR NO KEY UPDATE). Two changes of one order still wait for each
# other, but a row that only refers to the order (a visit notice, an invoice, a
# payment) is inserted without waiting: its foreign-key check takes KEY SHARE,
# which this lock leaves free and FOR UPDATE did not. With FOR UPDATE such an
# insert held its new row while it waited for the order, and a transaction holding
# the order that inserted the same key next waited for that row: a deadlock.
LOCK_TO_CHANGE: dict = {"key_share": True}


# The order desk's tabs (app.orders.core.stages): each one's sort key and its orders,
# written as the desk's queries write them, so PostgreSQL sees they match.
DESK_INDEXES = (
    ("review", ("created_at", "id"), "status IN ('new', 'quote_sent') AND needs_review IS true"),
    ("new", ("created_at", "id"), "status IN ('new', 'quote_sent') AND needs_review IS false"),
    ("to_plan", ("created_at", "id"), "status = 'approved'"),
    ("planned", ("coalesce(scheduled_date, '2000-01-01')", "id"), "status = 'scheduled'"),
    ("in_progress", ("created_at", "id"), "status = 'in_progress'"),
    ("completed", ("coalesce(completed_at, updated_at)", "id"), "status = 'completed'"),
    ("closed", ("updated_at", "id"), "status IN ('on_hold', 'cancelled')"),
)

# A move out of review or approval, as app.analytics.order_sla.left_waiting writes it.
LEFT_WAITING = "from_status IN ('new', 'quote_sent') AND to_status NOT IN ('new', 'quote_sent')"

# What the desk's filters read, carried in each tab's index: a filtered page and
# count are read from the index alone, not from a row per order passed over.
DESK_FILTERED = (
    "partner_organization_id",
    "source",
    "installation_postcode",
    "assigned_technician_id",
    # A broad name search walks a tab testing each order's customer (app.orders.core.search).
    "end_customer_contact_id",
)
# The columns a tab's sort expression reads: PostgreSQL reads such an index alone
# only when it also holds them (else each entry passed over is looked up in the table).
DESK_KEY_COLUMNS = {"planned": ("scheduled_date",), "completed": ("completed_at", "updated_at")}


class Order(Entity, db.Model):
    """An installation order, from whichever source it came."""

    __tablename__ = "orders"
    __table_args__ = (
        # One order per partner reference: the idempotency key of the partner API.
        # Per mode: a sandbox order may share its id with a live one.
        sa.UniqueConstraint(
            "partner_organization_id",
            "partner_order_id",
            "is_test",
            name="uq_orders_partner_order_id_mode",
        ),
        sa.Index("ix_orders_status_created", "status", "created_at"),
        # The order desk (app.orders.core.stages, app.orders.core.search): planned work by
        # visit day, and an order found by the partner's id or its address.
        sa.Index("ix_orders_status_scheduled", "status", "scheduled_date"),
        sa.Index("ix_orders_partner_order_id", "partner_order_id"),
        sa.Index("ix_orders_installation_address_id", "installation_address_id"),
        # A postcode area's orders by stage, a range of one index read alone (the desk's counts).
        sa.Index(
            "ix_orders_postcode_stage",
            "installation_postcode",
            postgresql_include=["status", "needs_review", "scheduled_date", "is_test"],
        ),
        # One partial index per tab of the desk, on the tab's sort key and the id
        # (app.orders.core.stages): a page is a range of it and a count stops early.
        *(
            sa.Index(
                f"ix_orders_desk_{tab}",
                *(sa.text(column) if "(" in column else column for column in key),
                postgresql_where=sa.text(f"is_test IS false AND {where}"),
                sqlite_where=sa.text(f"is_test = 0 AND {where}"),
                postgresql_include=[
                    *(c for c in DESK_FILTERED if c not in key),
                    *DESK_KEY_COLUMNS.get(tab, ()),
                ],
            )
            for tab, key, where in DESK_INDEXES
        ),
        # What a search looks through unless a tab is asked for: every live order, newest first.
        sa.Index(
            "ix_orders_desk_all",
            "created_at",
            "id",
            postgresql_where=sa.text("is_test IS false"),
            sqlite_where=sa.text("is_test = 0"),
            postgresql_include=list(DESK_FILTERED),
        ),
    )

    order_number: so.Mapped[str] = so.mapped_column(sa.String(20), unique=True)
    status: so.Mapped[OrderStatus] = so.mapped_column(
        enum_column(OrderStatus), default=OrderStatus.NEW
    )
    source: so.Mapped[OrderSource] = so.mapped_column(
        enum_column(OrderSource), default=OrderSource.MANUAL
    )
    order_type: so.Mapped[str] = so.mapped_column(sa.String(32), default="installation")
    business_entity: so.Mapped[BusinessEntity] = so.mapped_column(
        enum_column(BusinessEntity), default=BusinessEntity.CHARGECARS
    )
    # The account (who we invoice, often the partner) and the end customer.
    account_contact_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    end_customer_contact_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    partner_contact_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL")
    )
    customer_organization_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    partner_organization_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    # Contact ids of every partner level the order came through, nearest first.
    channel_contact_ids: so.Mapped[list[Any]] = so.mapped_column(default=list)
    # Copy of partner_external_references["partner_order_id"], as a real column so
    # the unique constraint above can hold it.
    partner_order_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))
    partner_external_references: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    installation_address_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("addresses.id", ondelete="SET NULL")
    )
    # The installation address's postcode, copied here for the order desk's postcode
    # area filter: a range of the orders' own indexes instead of 11,000 addresses
    # looked up one by one for an area of two digits. Kept by the listeners below.
    installation_postcode: so.Mapped[Optional[str]] = so.mapped_column(sa.String(16))
    installation_preferences: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    # Still has a reason in ``review_reasons`` for a person to check.
    needs_review: so.Mapped[bool] = so.mapped_column(default=False, index=True)
    # An intake flagged it, whether or not a person has fixed the reasons since
    # (the partner's performance figures count these).
    flagged_for_review: so.Mapped[bool] = so.mapped_column(
        default=False, server_default=sa.false()
    )
    # Made with a partner's test key (sandbox): the partner's callbacks
    # and API only; never the inbox, planning, technicians, invoices or figures.
    is_test: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    review_reasons: so.Mapped[list[Any]] = so.mapped_column(default=list)
    # The end customer's name, e-mail and phone as the intake sent them. An intake
    # never changes a known contact's addresses, so what differs stays
    # here; None for orders not made by an intake, or made before.
    customer_as_sent: so.Mapped[Optional[dict[str, Any]]] = so.mapped_column()
    # A test order's installation address as sent (in the BAG's spelling once
    # confirmed), kept here instead of as an Address row: a test order links no
    # contact and makes no address. None for live orders.
    test_address: so.Mapped[Optional[dict[str, Any]]] = so.mapped_column()
    # A salted digest per field of the partner's validated order body
    # (app.orders.partners.payload_digest): the same partner_order_id with another body
    # is refused naming the fields that differ. None for orders made before it
    # was kept, or not by a partner intake.
    partner_payload_digest: so.Mapped[Optional[dict[str, Any]]] = so.mapped_column()
    scheduled_date: so.Mapped[Optional[date]] = so.mapped_column(index=True)
    assigned_technician_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    total_amount: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(12, 2), default=Decimal("0"))
    currency: so.Mapped[str] = so.mapped_column(sa.String(3), default="EUR")
    notes: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    completed_at: so.Mapped[Optional[datetime]] = so.mapped_column()

    line_items: so.Mapped[list["LineItem"]] = so.relationship(
        back_populates="order", order_by="LineItem.line_order", cascade="all, delete-orphan"
    )
    transitions: so.Mapped[list["OrderStatusTransition"]] = so.relationship(
        back_populates="order",
        order_by="OrderStatusTransition.created_at",
        cascade="all, delete-orphan",
    )
    end_customer = so.relationship("Contact", foreign_keys=[end_customer_contact_id])
    account_contact = so.relationship("Contact", foreign_keys=[account_contact_id])
    partner_organization = so.relationship("Organization", foreign_keys=[partner_organization_id])
    installation_address = so.relationship("Address")
    # Its visits (app/platform/models/planning.py), numbered from 1, once someone
    # planned one; most orders have one.
    visits = so.relationship("Visit", viewonly=True, order_by="Visit.number")

    @property
    def visit(self):
        """The current visit: the first not completed (the last when all are); None
        before anyone planned. ``scheduled_date`` and ``assigned_technician_id`` are its."""
        visits = self.visits
        return next((v for v in visits if v.completed_at is None), visits[-1] if visits else None)

    def customer_info_for_partner(self) -> dict[str, Optional[str]]:
        """The customer's name and e-mail as the partner may see them: what was sent.

        A partner that knows only a customer's phone number must not learn the
        name and e-mail we hold; orders from before ``customer_as_sent`` show the contact.
        """
        if self.customer_as_sent is not None:
            return {key: self.customer_as_sent.get(key) for key in ("name", "email")}
        customer = self.end_customer
        return {
            "name": customer.display_name if customer else None,
            "email": customer.email if customer else None,
        }

    def installation_address_for_partner(self) -> Address | SentAddress | None:
        """The installation address as the partner's views show it.

        A test order has no Address row; its address is the one kept on it.
        """
        if self.test_address:
            return SentAddress.from_json(self.test_address)
        return self.installation_address


@sa.event.listens_for(Order, "before_insert")
@sa.event.listens_for(Order, "before_update")
def _copy_installation_postcode(mapper, connection, order: Order) -> None:
    """An order's copy of its installation postcode, when it gets (another) address."""
    if not sa.inspect(order).attrs.installation_address_id.history.has_changes():
        return
    address_id = order.installation_address_id
    # The address is stored first (the order refers to it), with any new postcode.
    order.installation_postcode = (
        connection.scalar(sa.select(Address.postal_code).where(Address.id == address_id))
        if address_id
        else None
    )


@sa.event.listens_for(Address, "after_update")
def _update_installation_postcodes(mapper, connection, address: Address) -> None:
    """A corrected postcode (PDOK's spelling, an edit) reaches the orders installed there."""
    if not sa.inspect(address).attrs.postal_code.history.has_changes():
        return
    connection.execute(
        sa.update(Order.__table__)
        .where(Order.__table__.c.installation_address_id == address.id)
        .values(installation_postcode=address.postal_code)
    )


class LineItem(Entity, db.Model):
    """One line of an order. ``article_id`` is empty when a partner SKU is unmapped."""

    __tablename__ = "line_items"

    order_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    article_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("articles.id", ondelete="SET NULL")
    )
    partner_sku: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))
    description: so.Mapped[str] = so.mapped_column(sa.String(255))
    quantity: so.Mapped[int] = so.mapped_column(default=1)
    unit_price: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(10, 2), default=Decimal("0"))
    line_item_status: so.Mapped[LineItemStatus] = so.mapped_column(
        enum_column(LineItemStatus), default=LineItemStatus.QUOTED
    )
    line_order: so.Mapped[int] = so.mapped_column(default=1)
    external_item_reference: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))
    needs_review: so.Mapped[bool] = so.mapped_column(default=False)
    note: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)

    order: so.Mapped[Order] = so.relationship(back_populates="line_items")
    article: so.Mapped[Optional["Article"]] = so.relationship()


class OrderStatusTransition(Entity, db.Model):
    """One move of an order's status, written by the status engine only."""

    __tablename__ = "order_status_transitions"
    __table_args__ = (
        sa.Index("ix_order_status_transitions_order_created", "order_id", "created_at"),
        # When orders left review or approval, by the moment: the order SLA of a
        # range is a range of it (app.analytics.order_sla).
        sa.Index(
            "ix_order_status_transitions_left_waiting",
            "created_at",
            postgresql_include=["order_id"],
            postgresql_where=sa.text(LEFT_WAITING),
            sqlite_where=sa.text(LEFT_WAITING),
        ),
    )

    order_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE")
    )
    from_status: so.Mapped[Optional[str]] = so.mapped_column(sa.String(32))
    to_status: so.Mapped[str] = so.mapped_column(sa.String(32))
    # For colleagues only: never sent to a partner.
    transition_reason: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    # What the partner may read about this move (callback ``status_details.reason``,
    # the partner API's status answer); None tells the partner nothing.
    partner_note: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    business_context: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    actor_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    order: so.Mapped[Order] = so.relationship(back_populates="transitions")


class Commission(Entity, db.Model):
    """What one level of the partner channel earns on a completed order."""

    __tablename__ = "commissions"
    __table_args__ = (sa.UniqueConstraint("order_id", "beneficiary_contact_id"),)

    order_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    beneficiary_contact_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("contacts.id", ondelete="RESTRICT"), index=True
    )
    beneficiary_organization_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL")
    )
    commission_level: so.Mapped[int] = so.mapped_column()
    commission_rate: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(5, 2))
    base_amount: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(12, 2))
    commission_amount: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(12, 2))
    status: so.Mapped[CommissionStatus] = so.mapped_column(
        enum_column(CommissionStatus), default=CommissionStatus.PENDING
    )
