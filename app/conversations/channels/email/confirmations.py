"""The order confirmation e-mail, sent once per order."""

from __future__ import annotations

import logging
import uuid

from flask import current_app

from app.conversations.channels.email.orders import confirmation_data, customer_of
from app.conversations.channels.email.records import already_sent
from app.conversations.channels.email.transactional import send_transactional
from app.platform.extensions import db
from app.platform.models import Order
from app.platform.models.orders import LOCK_TO_CHANGE
from app.platform.transactions import commit

log = logging.getLogger(__name__)

TEMPLATE_KEY = "order_confirmation"
CATEGORIES = ["order", "confirmation", "transactional"]


def send_order_confirmation(order_id: str) -> str | None:
    """Job: e-mail the customer their order confirmation; returns the message id.

    Does nothing (returns None) when the order is gone, has no customer e-mail
    address, or was confirmed before: running it twice sends one mail.
    """
    # The row lock makes a second job for the same order wait, then see the first mail.
    order = db.session.get(Order, uuid.UUID(str(order_id)), with_for_update=LOCK_TO_CHANGE)
    if order is None:
        log.warning("order %s vanished before its confirmation", order_id)
        return None
    if already_sent(order.id, TEMPLATE_KEY):
        log.info("order %s was already confirmed", order.order_number)
        db.session.rollback()
        return None
    contact = customer_of(order)
    if contact is None:
        log.warning("order %s has no customer e-mail address to confirm to", order.order_number)
        db.session.rollback()
        return None
    message = send_transactional(
        contact.email,
        TEMPLATE_KEY,
        confirmation_data(order, contact, current_app.config),
        CATEGORIES,
        contact=contact,
        order=order,
        subject=f"Orderbevestiging {order.order_number}",
    )
    commit()
    return str(message.id)
