"""The delivery log: outbound deliveries with what a person needs beside them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.extensions import db
from app.platform.models import Order, OutboundDelivery, User


@dataclass
class DeliveryLog:
    deliveries: list[OutboundDelivery]
    next_before: str | None
    order_numbers: dict[uuid.UUID, str]
    user_names: dict[uuid.UUID, str]


def order_deliveries(order: Order) -> DeliveryLog:
    """Every delivery about one order, newest first."""
    rows = list(
        db.session.scalars(
            sa.select(OutboundDelivery)
            .where(OutboundDelivery.order_id == order.id)
            .options(so.selectinload(OutboundDelivery.attempts))
            .order_by(OutboundDelivery.created_at.desc())
        )
    )
    return describe_deliveries(rows, None)


def describe_deliveries(deliveries: list[OutboundDelivery], next_before: str | None) -> DeliveryLog:
    """Deliveries with the order numbers and people the log shows beside them."""
    order_ids = {d.order_id for d in deliveries if d.order_id}
    user_ids = {a.triggered_by_user_id for d in deliveries for a in d.attempts} - {None}
    order_numbers = (
        dict(
            db.session.execute(
                sa.select(Order.id, Order.order_number).where(Order.id.in_(order_ids))
            ).all()
        )
        if order_ids
        else {}
    )
    user_names = (
        dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(user_ids))).all())
        if user_ids
        else {}
    )
    return DeliveryLog(deliveries, next_before, order_numbers, user_names)
