"""Make.com ``order-created`` and ``visit-completed``.

``order-created`` builds an order from the same blocks as the partner API
(customer by e-mail/phone, BAG-checked address, mapped lines, first status
through the status engine). With a partner and its ``partner_order_id`` there
is one order per id, however often or however concurrently it arrives.

``visit-completed`` moves the order to ``completed`` through the status
engine, passing through ``in_progress`` when the order is still waiting for
the visit (``scheduled``, or ``on_hold``).
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from app.orders.core.creation import (
    AddressDetails,
    add_line,
    find_or_create_customer,
    flag_for_review,
    flag_possible_duplicate,
    installation_address,
    new_order,
)
from app.orders.core.customer_details import keep_customer_as_sent
from app.orders.core.services import find_order
from app.orders.core.status_engine import (
    ALLOWED_TRANSITIONS,
    IllegalTransition,
    change_entity_status,
    record_initial_status,
)
from app.orders.make.schemas import OrderCreated, OrderReference, VisitCompleted
from app.orders.partners.intake import channel_contacts, existing_order
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.jobs.queues import enqueue
from app.platform.models import InboundWebhookEvent, Order, Organization
from app.platform.models.enums import AddressValidation, OrderSource, OrderStatus, OrganizationType
from app.platform.transactions import after_commit
from app.platform.webhooks.processing import UnprocessableEvent

log = logging.getLogger(__name__)

SCENARIO_CREATED = "order-created"
SCENARIO_VISIT = "visit-completed"


def order_for(reference: OrderReference) -> Order:
    """The order a scenario names; :class:`UnprocessableEvent` when there is none."""
    order = find_order(reference.order_key)
    if order is None:
        raise UnprocessableEvent(f"no order {reference.order_key}")
    return order


def execution_id(body, event: InboundWebhookEvent) -> str | None:
    return (event.headers or {}).get("x-make-execution-id") or body.execution_id


# --- order-created ----------------------------------------------------------------


def order_created(body: OrderCreated, event: InboundWebhookEvent) -> Order:
    """Create the order in ``body``, or return the partner's earlier one."""
    partner = _partner(body)
    if partner is not None and body.partner_order_id:
        found = existing_order(partner, body.partner_order_id)
        if found is not None:
            log.info("Make order-created for existing %s: nothing new", found.order_number)
            return found
    try:
        # A savepoint: a partner API intake of the same partner_order_id winning
        # the race trips the unique constraint, and only this attempt is undone.
        with db.session.begin_nested():
            order = _build_order(body, partner, event)
    except IntegrityError:
        found = existing_order(partner, body.partner_order_id) if partner else None
        if found is None or not body.partner_order_id:
            raise
        return found
    if partner is not None:
        # The partner gets the same confirmation as via the API.
        order_id = str(order.id)
        after_commit(
            lambda: enqueue("app.orders.partners.confirmations.send_partner_confirmation", order_id)
        )
    return order


def _partner(body: OrderCreated) -> Organization | None:
    if body.partner_id is None:
        return None
    partner = db.session.get(Organization, body.partner_id)
    if partner is None or partner.organization_type != OrganizationType.PARTNER:
        raise UnprocessableEvent(f"no partner {body.partner_id}")
    return partner


def _build_order(
    body: OrderCreated, partner: Organization | None, event: InboundWebhookEvent
) -> Order:
    customer_in = body.customer
    customer = find_or_create_customer(customer_in.name, customer_in.email, customer_in.phone)
    address = installation_address(
        customer,
        AddressDetails(
            street=customer_in.address.street,
            house_number=customer_in.address.house_number,
            house_number_addition=customer_in.address.house_number_addition,
            postal_code=customer_in.address.postal_code,
            city=customer_in.address.city,
        ),
    )
    chain = channel_contacts(partner) if partner is not None else []
    execution = execution_id(body, event)
    references = {
        "partner_order_id": body.partner_order_id,
        "make_execution_id": execution,
        "make_event_id": str(event.id),
    }
    order = new_order(
        status=OrderStatus.NEW,
        source=OrderSource.MAKE,
        partner_organization_id=partner.id if partner else None,
        account_contact_id=chain[0].id if chain else customer.id,
        partner_contact_id=chain[0].id if chain else None,
        end_customer_contact_id=customer.id,
        customer_organization_id=customer.organization_id,
        channel_contact_ids=[str(c.id) for c in chain],
        partner_order_id=body.partner_order_id,
        partner_external_references={k: v for k, v in references.items() if v},
        installation_address_id=address.id,
        installation_preferences=body.installation_preferences or {},
        notes=body.notes,
    )
    keep_customer_as_sent(
        order, customer, name=customer_in.name, email=customer_in.email, phone=customer_in.phone
    )
    if address.validation_state != AddressValidation.VALID:
        flag_for_review(order, f"address not confirmed by PDOK: {address.validation_message}")
    for product in body.products:
        add_line(
            order,
            sku=product.sku,
            description=product.description,
            quantity=product.quantity,
            partner_organization_id=partner.id if partner else None,
        )
    flag_possible_duplicate(order)
    record_initial_status(
        order,
        "Order created by a Make.com scenario",
        {
            "source": "make",
            "scenario": SCENARIO_CREATED,
            "partner_source": partner is not None,
            "partner_order_id": body.partner_order_id,
            "make_execution_id": execution,
        },
    )
    return order


# --- visit-completed --------------------------------------------------------------


def visit_completed(body: VisitCompleted, event: InboundWebhookEvent) -> Order:
    """Complete the order; an order already completed is left as it is."""
    order = order_for(body)
    if order.status == OrderStatus.COMPLETED:
        log.info("visit-completed for %s, which is already completed", order.order_number)
        return order
    context = {
        "source": "make",
        "scenario": SCENARIO_VISIT,
        "technician": body.technician,
        "completed_at": body.completed_at.isoformat() if body.completed_at else None,
        "make_execution_id": execution_id(body, event),
    }
    reason = "Visit completed" + (f": {body.notes}" if body.notes else "")
    try:
        if _needs_visit_start(order.status):
            change_entity_status(
                order,
                OrderStatus.IN_PROGRESS,
                "Visit started (reported with its completion)",
                context,
                partner_note="Installation started",
            )
        # The technician's notes are ours; the partner reads only that it is done.
        change_entity_status(
            order, OrderStatus.COMPLETED, reason, context, partner_note="Installation completed"
        )
    except IllegalTransition as exc:
        raise UnprocessableEvent(f"{order.order_number}: {exc}") from exc
    # The visit's own time, when Make knows it, rather than when we heard of it.
    if body.completed_at is not None and body.completed_at <= utcnow():
        order.completed_at = body.completed_at
    return order


def _needs_visit_start(status: OrderStatus) -> bool:
    allowed = ALLOWED_TRANSITIONS[status]
    return OrderStatus.COMPLETED not in allowed and OrderStatus.IN_PROGRESS in allowed
