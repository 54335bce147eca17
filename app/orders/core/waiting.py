"""New work announces itself: the count of orders waiting for a person.

An order waits for a person while it is to review or new (to approve):
:data:`app.orders.core.stages.NEEDS_A_PERSON`. The desk sees how many on its
"Orders" menu item on every page, so that count is kept in Redis for
``WAITING_CACHE_SECONDS`` (one count for everyone: the desk reads every order)
instead of being counted on each page load at 1 M orders; a count stops at
``COUNT_CAP`` + 1 and reads "999+", as the inbox's tabs do.

The status engine tells :func:`on_status_change` of every order's first status
and every move; when the move changes how many wait (an order came in, or left
review or approval) the count is made afresh after the commit and sent to the
desk's live connections as ``orders:waiting`` (the count only, no order data:
it goes to role rooms), and a new order's desk gets a notification.
Test orders never come here (the engine runs only the partner's hook for them).
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask
from redis.exceptions import RedisError

from app.conversations.inbox.access import DESK_ROLES, SEE_EVERYTHING
from app.conversations.notifications.services import announce, create_notification
from app.orders.core.stages import WAITING, live_orders
from app.platform.extensions import db
from app.platform.jobs.queues import broker
from app.platform.models import Order, OrderStatusTransition, User
from app.platform.models.enums import OrderStatus, Priority, Role
from app.platform.realtime import publish, role_room
from app.platform.system_texts import text
from app.platform.transactions import after_commit, commit
from app.platform.ui import register_nav_count

COUNT_CAP = 999
WAITING_CACHE_SECONDS = 15
CACHE_KEY = "switchboard:orders-waiting"
LIVE_EVENT = "orders:waiting"
NOTIFICATION_TYPE = "order_waiting"
NOTIFIED_ROLES = (Role.AGENT, Role.TEAM_LEAD)

log = logging.getLogger(__name__)


def waiting_count() -> int:
    """Live orders to review or to approve, up to ``COUNT_CAP`` + 1 (an index range)."""
    matching = (
        sa.select(sa.literal(1))
        .select_from(Order)
        .where(live_orders(), Order.status.in_(WAITING))
        .limit(COUNT_CAP + 1)
        .subquery()
    )
    return db.session.scalar(sa.select(sa.func.count()).select_from(matching)) or 0


def count_label(count: int) -> str:
    return f"{COUNT_CAP}+" if count > COUNT_CAP else str(count)


def cached_waiting_count() -> int:
    """:func:`waiting_count`, kept in Redis briefly; counted afresh when Redis is away."""
    connection = broker().connection
    try:
        cached = connection.get(CACHE_KEY)
    except RedisError:
        log.warning("waiting-orders count cache unavailable; counting afresh", exc_info=True)
        return waiting_count()
    if cached is not None:
        return int(cached)
    return _recount()


def _recount() -> int:
    count = waiting_count()
    try:
        broker().connection.set(CACHE_KEY, count, ex=WAITING_CACHE_SECONDS)
    except RedisError:
        log.warning("waiting-orders count not cached", exc_info=True)
    return count


def desk_rooms() -> list[str]:
    """The desk's role rooms: agents, team leads, managers, admins — never a
    technician's or a partner's connection."""
    return [role_room(role) for role in (*DESK_ROLES, *SEE_EVERYTHING)]


def announce_waiting() -> None:
    """Count afresh (after a commit that changed it) and tell the desk's connections."""
    count = _recount()
    publish(LIVE_EVENT, {"count": count, "label": count_label(count)}, rooms=desk_rooms())


def waiting_label() -> str:
    """The menu item's count, as shown."""
    return count_label(cached_waiting_count())


def init_app(app: Flask) -> None:
    register_nav_count(app, "orders_waiting", waiting_label)


def _waits(status: OrderStatus | str | None) -> bool:
    return status is not None and OrderStatus(status) in WAITING


def on_status_change(order: Order, transition: OrderStatusTransition) -> None:
    """Status hook: a move into or out of waiting is announced after the commit, and a
    new order that waits is told to the desk."""
    if _waits(transition.from_status) == _waits(transition.to_status):
        return
    after_commit(announce_waiting)
    if transition.from_status is None:
        order_id = order.id
        after_commit(lambda: notify_desk_of(order_id))


def desk_recipients(order: Order) -> list[User]:
    """Who is told of a new order: the desk's agents and team leads.

    There is no partner→team routing setting yet; once there is, a routed
    partner's orders go to that team's members only.
    """
    return list(
        db.session.scalars(
            sa.select(User).where(
                User.role.in_(NOTIFIED_ROLES), User.is_active_account.is_(True)
            )
        )
    )


def notify_desk_of(order_id) -> None:
    """Tell the desk of a new order to review or approve, once per person.

    Runs after the order's commit, in a transaction of its own. The database's
    unique index (``uq_notifications_order_waiting``) keeps it to one notice per
    person and order: a second run (two workers, a duplicate intake, the Fillout
    intake's own notice) is refused by it and tells no one again.
    """
    order = db.session.get(Order, order_id)
    if order is None or order.is_test or order.status not in WAITING:
        return
    title = text(
        "notification.order_to_review" if order.needs_review else "notification.order_to_approve",
        number=order.order_number,
    )
    partner = order.partner_organization
    message = text(
        "notification.order_from",
        partner=partner.name if partner else text("notification.unknown"),
    )
    made = []
    for user in desk_recipients(order):
        try:
            with db.session.begin_nested():
                made.append(
                    create_notification(
                        user.id,
                        NOTIFICATION_TYPE,
                        title,
                        message,
                        priority=Priority.HIGH if order.needs_review else Priority.NORMAL,
                        source_table="orders",
                        source_record_id=order.id,
                        # A path, not url_for: this may run in a job, outside any request.
                        link=f"/orders/{order.order_number}",
                    )
                )
        except sa.exc.IntegrityError:
            continue  # told already
    commit()
    for notification in made:
        announce(notification)
