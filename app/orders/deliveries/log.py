"""The delivery log: outbound deliveries with what a person needs beside them."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask
from flask_babel import gettext

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


# Our own reasons a delivery failed (app.orders.deliveries.transport), stored in English
# for the log; a page shows them in the reader's language. A receiver's own answer
# is shown as it came.
CONNECTION_FAILED = re.compile(r"^connection failed \((\w+)\)$")
TIMED_OUT = re.compile(r"^timed out after (\d+)s$")


def readable_error(error: str | None) -> str:
    if not error:
        return ""
    if CONNECTION_FAILED.match(error):
        return gettext("Could not connect to the receiver")
    if timed_out := TIMED_OUT.match(error):
        return gettext("No answer within %(seconds)s seconds", seconds=timed_out[1])
    return error


def init_app(app: Flask) -> None:
    app.add_template_filter(readable_error, "delivery_error")
