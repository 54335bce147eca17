"""The confirmation e-mail a partner gets for each order it sends."""

from __future__ import annotations

import logging
import uuid

from flask import current_app

from app.conversations.channels.email.orders import order_total
from app.conversations.channels.email.records import already_sent
from app.conversations.channels.email.settings import reply_to
from app.conversations.channels.email.transactional import send_transactional
from app.orders.core.customer_details import partner_review_reasons
from app.orders.partners.services import organization_contact
from app.platform.extensions import db
from app.platform.models import Contact, Order, Organization
from app.platform.models.orders import LOCK_TO_CHANGE
from app.platform.transactions import commit

log = logging.getLogger(__name__)

TEMPLATE_KEY = "partner_order_confirmation"
CATEGORIES = ["order", "partner", "confirmation", "transactional"]


def partner_mail_contact(partner: Organization) -> Contact | None:
    """The partner's organization contact with an e-mail address to write to."""
    contact = organization_contact(partner)
    if contact is not None and not contact.email and partner.email:
        contact.email = partner.email
    if contact is None or not (contact.email or "").strip():
        return None
    return contact


def send_partner_confirmation(order_id: str) -> str | None:
    """Job: confirm a partner's order to the partner; once per order.

    Returns the message id, or None when there is nobody to write to (the
    partner has no e-mail address on file) or it was sent before.
    """
    order = db.session.get(Order, uuid.UUID(str(order_id)), with_for_update=LOCK_TO_CHANGE)
    if order is None or order.partner_organization is None:
        return None
    if already_sent(order.id, TEMPLATE_KEY):
        db.session.rollback()
        return None
    contact = partner_mail_contact(order.partner_organization)
    if contact is None:
        log.info("partner of %s has no e-mail address; no confirmation sent", order.order_number)
        db.session.rollback()
        return None
    address = order.installation_address
    reasons = partner_review_reasons(order)
    message = send_transactional(
        contact.email,
        TEMPLATE_KEY,
        {
            "partner_name": order.partner_organization.name,
            "order_id": order.order_number,
            "partner_order_id": order.partner_order_id,
            "customer_name": order.customer_info_for_partner()["name"],
            "installation_address": address.one_line() if address else None,
            "order_total": order_total(order, contact),
            "needs_review": bool(reasons),
            "review_reasons": reasons,
            "team_contact": reply_to(current_app.config),
        },
        CATEGORIES,
        contact=contact,
        order=order,
        subject=f"Order ontvangen: {order.order_number} ({order.partner_order_id})",
    )
    commit()
    return str(message.id)
