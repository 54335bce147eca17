"""What order e-mails say and who they go to."""

from __future__ import annotations

from decimal import Decimal

from app.conversations.channels.email.settings import reply_to
from app.conversations.languages import customer_language
from app.conversations.message_templates.visit_moment import window_text_of
from app.conversations.order_hooks import customer_link_url
from app.platform.extensions import db
from app.platform.models import Contact, Order, User, Visit
from app.platform.ui import local_money

# Dutch date as the rest of the app writes it (template variables use the same).
DATE_FORMAT = "%d-%m-%Y"


def customer_of(order: Order) -> Contact | None:
    """The person the order is for, if we have their e-mail address.

    A partner order's account contact is the partner, who gets partner callbacks,
    not the customer's mail; only direct orders fall back to it.
    """
    contact = order.end_customer
    if contact is None and order.partner_organization_id is None:
        contact = order.account_contact
    if contact is None or not (contact.email or "").strip():
        return None
    return contact


def order_total(order: Order, contact: Contact) -> str:
    """The order's amount as the recipient writes money ("€ 1.234,50" for a Dutch
    customer); an order without an amount yet reads as zero, as it always has."""
    return local_money(
        order.total_amount or Decimal("0"), order.currency, locale=customer_language(contact)
    )


def confirmation_data(order: Order, contact: Contact, config) -> dict:
    """The order confirmation template's fields."""
    return {
        "customer_name": contact.display_name,
        "order_id": order.order_number,
        "order_total": order_total(order, contact),
        "installation_date": (
            order.scheduled_date.strftime(DATE_FORMAT) if order.scheduled_date else None
        ),
        "team_contact": reply_to(config),
        "articles": [
            {"name": line.description, "quantity": line.quantity} for line in order.line_items
        ],
    }


def reminder_data(order: Order, contact: Contact, visit: Visit | None = None) -> dict:
    """The visit reminder template's fields for ``visit`` (without one, or unplanned:
    the order's own day and technician); the technician's phone only if they have one. A later
    visit (a second day, a return visit) also says its number, so the template can
    call it a follow-up visit."""
    number = visit.number if visit is not None else 1
    own = visit is not None and visit.scheduled_date is not None
    day = visit.scheduled_date if own else order.scheduled_date
    technician = (visit_technician(visit) if own else None) or order_technician(order)
    data = {
        "customer_name": contact.display_name,
        "order_id": order.order_number,
        "visit_date": day.strftime(DATE_FORMAT),
        "visit_time": window_text_of(order, visit),
        "technician_name": technician.name if technician else None,
        "technician_phone": technician.phone if technician else None,
        "preparation_notes": (
            "Zorg dat de meterkast en de plek van de laadpaal vrij toegankelijk zijn."
        ),
        # The customer's page of the order: the visit, what to prepare, the arrival.
        "customer_link": customer_link_url(order),
    }
    if number > 1:
        data["visit_number"] = number
    return data


def visit_technician(visit: Visit) -> User | None:
    """The lead of the visit's crew."""
    crew = visit.technician_ids
    return db.session.get(User, crew[0]) if crew else None


def order_technician(order: Order) -> User | None:
    if order.assigned_technician_id is None:
        return None
    return db.session.get(User, order.assigned_technician_id)
