"""The status engine: the only way an order's status changes.

An explicit table says which moves are allowed. Every move writes an
``OrderStatusTransition`` and an audit entry in the caller's transaction, and
runs the registered follow-ups (partner callbacks, customer notices, Teams
alerts) in that same transaction, so a status change and what it causes are
committed together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from flask import current_app

from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.features import resolve
from app.platform.models import AuditLog, Order, OrderStatusTransition, User
from app.platform.models.enums import OrderStatus

S = OrderStatus
ACTIVE = (S.NEW, S.QUOTE_SENT, S.APPROVED, S.SCHEDULED, S.IN_PROGRESS)

ALLOWED_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.NEW: frozenset({S.QUOTE_SENT, S.APPROVED, S.ON_HOLD, S.CANCELLED}),
    S.QUOTE_SENT: frozenset({S.NEW, S.APPROVED, S.ON_HOLD, S.CANCELLED}),
    S.APPROVED: frozenset({S.SCHEDULED, S.ON_HOLD, S.CANCELLED}),
    # A visit can be moved back to "approved" when it has to be re-planned.
    S.SCHEDULED: frozenset({S.APPROVED, S.IN_PROGRESS, S.ON_HOLD, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.COMPLETED, S.ON_HOLD, S.SCHEDULED}),
    # On hold resumes where work can pick up again.
    S.ON_HOLD: frozenset(set(ACTIVE) | {S.CANCELLED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Follow-ups run inside the status change's transaction: (order, transition) → None.
# Each feature declares its own (``status_hooks`` of its FEATURE, app.platform.features),
# so the engine imports none of the features that react.
StatusHook = Callable[[Order, OrderStatusTransition], None]

# A test order (a partner's sandbox) is heard of by its partner
# only: no customer notices, Teams alerts, commissions, invoices, Make or
# integration events, calendars. One switch here keeps every present and future
# feature's hook away from it.
TEST_ORDER_HOOKS: tuple[str, ...] = ("app.orders.deliveries.partner_callbacks:on_status_change",)


@cache
def _resolve(path: str) -> StatusHook:
    return resolve(path)


def _hooks() -> list[StatusHook]:
    return [_resolve(path) for path in current_app.extensions["features"].status_hooks]


def _test_order_hooks() -> list[StatusHook]:
    return [_resolve(path) for path in TEST_ORDER_HOOKS]


class IllegalTransition(Exception):
    def __init__(self, from_status: OrderStatus, to_status: OrderStatus) -> None:
        allowed = ", ".join(sorted(s.value for s in ALLOWED_TRANSITIONS[from_status])) or "none"
        super().__init__(
            f"an order cannot go from {from_status.value} to {to_status.value} "
            f"(allowed from {from_status.value}: {allowed})"
        )
        self.from_status = from_status
        self.to_status = to_status


def parse_status(value: str) -> OrderStatus:
    """The status named ``value``; ValueError listing the statuses otherwise."""
    try:
        return OrderStatus(value)
    except ValueError as exc:
        raise ValueError(f"must be one of {', '.join(OrderStatus.values())}") from exc


def record_initial_status(
    order: Order,
    reason: str,
    context: dict | None = None,
    actor: User | None = None,
    *,
    partner_note: str | None = None,
) -> OrderStatusTransition:
    """Record a new order's first status (from nothing to ``order.status``).

    The order must be flushed. The hooks run as for any move, so a partner
    subscribed to ``order_created`` hears of it from the same transaction.
    """
    return _record(order, None, order.status, reason, context, actor, partner_note)


def change_entity_status(
    order: Order,
    to_status: OrderStatus,
    reason: str | None = None,
    context: dict | None = None,
    actor: User | None = None,
    *,
    partner_note: str | None = None,
) -> OrderStatusTransition:
    """Move ``order`` to ``to_status`` (no commit); raises :class:`IllegalTransition`.

    ``reason`` is for colleagues and never leaves us; ``partner_note`` is what
    the order's partner may read about the move (None: nothing).
    """
    from_status = order.status
    if to_status not in ALLOWED_TRANSITIONS[from_status]:
        raise IllegalTransition(from_status, to_status)
    return _record(order, from_status, to_status, reason, context, actor, partner_note)


def _record(
    order: Order,
    from_status: OrderStatus | None,
    to_status: OrderStatus,
    reason: str | None,
    context: dict | None,
    actor: User | None,
    partner_note: str | None,
) -> OrderStatusTransition:
    now = utcnow()
    transition = OrderStatusTransition(
        order_id=order.id,
        from_status=from_status.value if from_status else None,
        to_status=to_status.value,
        transition_reason=(reason or "").strip() or None,
        partner_note=(partner_note or "").strip() or None,
        business_context=context or {},
        actor_user_id=actor.id if actor else None,
        created_at=now,
    )
    order.status = to_status
    if to_status == S.COMPLETED:
        order.completed_at = now
    db.session.add(transition)
    db.session.add(
        AuditLog(
            table_name="orders",
            record_id=order.id,
            action="STATUS_CHANGE" if from_status else "STATUS_INITIAL",
            changed_by_user_id=actor.id if actor else None,
            changes={
                "from_status": from_status.value if from_status else None,
                "to_status": to_status.value,
                "reason": transition.transition_reason,
                "partner_note": transition.partner_note,
                "context": context or {},
            },
        )
    )
    db.session.flush()
    for hook in _test_order_hooks() if order.is_test else _hooks():
        hook(order, transition)
    return transition
