"""The customer's personal link (``/t/<token>``): issued, found, revoked, expired.

Every message to a customer about their order carries the order's live link
(:func:`customer_link_url`); the page (:mod:`app.orders.customer_page`) finds
its order with :func:`order_of_token`. The token is 16 random bytes (128 bits,
22 URL-safe characters); the page looks it up by its SHA-256, as partner
invitations and API tokens are. A link stops working when a desk person revokes
it (:func:`renew_link` hands out a new one), when the customer's data is erased
(the erasure deletes the rows), and ``CUSTOMER_LINK_DAYS_AFTER_COMPLETION``
days after the order completed or was cancelled. Whichever it was, the page
cannot tell a wrong token from a stopped one: each finds no order.

Nothing here commits.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.platform.database import upsert_insert, utcnow
from app.platform.extensions import db
from app.platform.models import Contact, CustomerLink, Order, OrderStatusTransition, User
from app.platform.models.enums import OrderStatus

# The page's address (app.orders.customer_page.web.routes), kept out of logs by
# app.platform.security.redaction.
LINK_PATH = "/t/"
TOKEN_BYTES = 16
# token_urlsafe(16) is 22 characters; anything far from that is no token of ours.
TOKEN_LENGTH = 22
# After these the order is done with: the link ends a set time later.
FINISHED = (OrderStatus.COMPLETED, OrderStatus.CANCELLED)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def live_link(order: Order) -> CustomerLink:
    """The order's live link, issued now if it has none.

    Two messages about one order sent at once (a notice job and a tap) issue
    one link: the partial unique index lets one insert land, and both read it.
    """
    link = current_link(order)
    if link is not None:
        return link
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link_id = db.session.scalar(
        upsert_insert(CustomerLink, db.session.get_bind().dialect.name)
        .values(order_id=order.id, token_hash=token_hash(token), token=token)
        .on_conflict_do_nothing(
            index_elements=["order_id"], index_where=sa.text("revoked_at IS NULL")
        )
        .returning(CustomerLink.id)
    )
    return db.session.get(CustomerLink, link_id) if link_id else current_link(order)


def current_link(order: Order) -> CustomerLink | None:
    """The order's live link, if it has one (nothing is issued)."""
    return db.session.scalar(
        sa.select(CustomerLink).where(
            CustomerLink.order_id == order.id, CustomerLink.revoked_at.is_(None)
        )
    )


def link_url(link: CustomerLink) -> str:
    """The full address of ``link``, for a message."""
    # Built, not url_for'd: messages are written by jobs, outside any request.
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}{LINK_PATH}{link.token}"


def customer_link_url(order: Order) -> str:
    """The full address of the order's personal link (issued if need be), for a message."""
    return link_url(live_link(order))


def order_of_token(token: str, now: datetime | None = None) -> Order | None:
    """The order ``token`` opens, or None: unknown, revoked, expired or erased alike."""
    if len(token) != TOKEN_LENGTH:
        return None
    order = db.session.scalar(
        sa.select(Order)
        .join(CustomerLink, CustomerLink.order_id == Order.id)
        .outerjoin(Contact, Contact.id == Order.end_customer_contact_id)
        .where(
            CustomerLink.token_hash == token_hash(token),
            CustomerLink.revoked_at.is_(None),
            Order.is_test.is_(False),
            Contact.erased_at.is_(None),
        )
    )
    if order is None or link_ended(order, now or utcnow()):
        return None
    return order


def link_ended(order: Order, now: datetime) -> bool:
    """Whether the order finished longer ago than the link outlives it."""
    if order.status not in FINISHED:
        return False
    days = current_app.config["CUSTOMER_LINK_DAYS_AFTER_COMPLETION"]
    return now >= _finished_at(order) + timedelta(days=days)


def _finished_at(order: Order) -> datetime:
    """When the order completed, or was last cancelled (its history says; not
    ``updated_at``, which any later edit moves on)."""
    if order.completed_at is not None:
        return order.completed_at
    cancelled_at = db.session.scalar(
        sa.select(sa.func.max(OrderStatusTransition.created_at)).where(
            OrderStatusTransition.order_id == order.id,
            OrderStatusTransition.to_status == OrderStatus.CANCELLED.value,
        )
    )
    return cancelled_at or order.updated_at


def renew_link(order: Order, by: User) -> CustomerLink:
    """Revoke the order's link (it opens nothing from now on) and issue a new one."""
    db.session.execute(
        sa.update(CustomerLink)
        .where(CustomerLink.order_id == order.id, CustomerLink.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_by_user_id=by.id, updated_at=utcnow())
    )
    return live_link(order)
