"""A work order at ROVIDA or Yardi becomes a dispatched order.

An inbound sync of ``work_orders`` (:mod:`app.integrations.sync.inbound_work_orders`)
and ROVIDA's notices (:mod:`app.integrations.provider_webhooks.work_order_notices`)
hand each work order to :func:`take_work_order`. Each open one we do not know yet
becomes an order through the orders' own building blocks (:mod:`app.orders.core.creation`,
the status engine): the tenant as end customer, the property's address checked
against the BAG, the description as the order's notes, ``source = integration``.
It is then dispatched: approved at once (a landlord's work order is the instruction; no
quote goes out) and, when the integration names a dispatch technician, planned
for that technician on the work order's preferred day (else the next day) and
scheduled, which puts it on their phone.

Once per remote work order: ``work_order_links`` is unique on (integration,
remote id). On PostgreSQL a transaction advisory lock makes simultaneous runs
for the same work order wait for each other; the unique key catches the rest.
Each work order is committed on its own, after its BAG check, so no lock is
held across a call to PDOK. Closed work orders we never saw are not imported.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.integrations.connectors.property import RemoteWorkOrder
from app.integrations.registry import get_provider
from app.orders.core.creation import (
    AddressDetails,
    allocate_order_number,
    check_details,
    find_or_create_customer,
    flag_for_review,
    installation_address,
    new_order,
    parse_address_line,
)
from app.orders.core.customer_details import keep_customer_as_sent
from app.orders.core.planning import plan_visit
from app.orders.core.status_engine import change_entity_status, record_initial_status
from app.platform.database import hold_advisory_lock, utcnow
from app.platform.extensions import db
from app.platform.models import Integration, Order, User, WorkOrderLink
from app.platform.models.enums import OrderSource, OrderStatus, Role

log = logging.getLogger(__name__)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# The integration setting naming who gets its work orders (a technician's e-mail).
DISPATCH_TECHNICIAN = "dispatch_technician"


def take_work_order(
    integration: Integration, work_order: RemoteWorkOrder
) -> tuple[Order | None, bool]:
    """The order for ``work_order``: the one made before, or a new dispatched one.

    Returns ``(order, created)``; ``(None, False)`` for a closed work order we
    never took. Works in the caller's transaction (no commit): call
    :func:`app.platform.transactions.commit` so the new order's follow-ups run.
    """
    known = link_for(integration, work_order.remote_id)
    if known is not None:
        known.remote_status = work_order.status[:40] or None
        return db.session.get(Order, known.order_id), False
    if not work_order.is_open:
        return None, False
    details = _address_details(work_order)
    check = check_details(details)  # PDOK first, outside any lock
    _serialise_on(integration, work_order.remote_id)
    known = link_for(integration, work_order.remote_id)
    if known is not None:
        return db.session.get(Order, known.order_id), False
    try:
        # A savepoint: if another run won the race the unique key catches (SQLite
        # has no advisory lock), only this attempt is undone.
        with db.session.begin_nested():
            order = _build_order(integration, work_order, details, check)
    except IntegrityError:
        known = link_for(integration, work_order.remote_id)
        if known is None:
            raise
        return db.session.get(Order, known.order_id), False
    log.info(
        "work order %s of %s became order %s",
        work_order.remote_id,
        integration.name,
        order.order_number,
    )
    return order, True


def link_for(integration: Integration, remote_id: str) -> WorkOrderLink | None:
    return db.session.scalar(
        sa.select(WorkOrderLink).where(
            WorkOrderLink.integration_id == integration.id,
            WorkOrderLink.remote_id == remote_id,
        )
    )


def _serialise_on(integration: Integration, remote_id: str) -> None:
    hold_advisory_lock(db.session, f"work-order:{integration.id}:{remote_id}")


def _address_details(work_order: RemoteWorkOrder) -> AddressDetails:
    if work_order.street or not work_order.address_line:
        return AddressDetails(
            street=work_order.street,
            house_number=work_order.house_number,
            house_number_addition=work_order.house_number_addition or work_order.unit,
            postal_code=work_order.postal_code,
            city=work_order.city,
        )
    return parse_address_line(work_order.address_line)


def _build_order(integration, work_order: RemoteWorkOrder, details, check) -> Order:
    provider = get_provider(integration.provider)
    provider_name = provider.name if provider else integration.provider
    # As the partner intake does: on PostgreSQL the gap-free number is taken last,
    # so concurrent intakes hold the year's counter row as briefly as possible.
    late = db.session.get_bind().dialect.name == "postgresql"
    number = f"TMP-{uuid.uuid4().hex[:16]}" if late else allocate_order_number()
    customer = find_or_create_customer(
        work_order.tenant_name or "", work_order.tenant_email, work_order.tenant_phone
    )
    address = installation_address(customer, details, check)
    references = {
        "integration_id": str(integration.id),
        "provider": integration.provider,
        "work_order_id": work_order.remote_id,
        "work_order_number": work_order.reference,
        "unit": work_order.unit,
    }
    order = new_order(
        number,
        status=OrderStatus.NEW,
        source=OrderSource.INTEGRATION,
        order_type="service",
        end_customer_contact_id=customer.id,
        customer_organization_id=customer.organization_id,
        installation_address_id=address.id,
        partner_external_references={k: v for k, v in references.items() if v},
        installation_preferences=(
            {"preferred_date": work_order.preferred_date.isoformat()}
            if work_order.preferred_date
            else {}
        ),
        notes=work_order.description,
    )
    keep_customer_as_sent(
        order,
        customer,
        name=work_order.tenant_name,
        email=work_order.tenant_email,
        phone=work_order.tenant_phone,
    )
    if address.validation_state.value != "valid":
        flag_for_review(order, f"address not confirmed by PDOK: {address.validation_message}")
    db.session.add(
        WorkOrderLink(
            integration_id=integration.id,
            remote_id=work_order.remote_id,
            order_id=order.id,
            remote_status=work_order.status[:40] or None,
            close_attempts=0,
        )
    )
    db.session.flush()  # the unique key answers here, before the number is taken
    if late:
        order.order_number = allocate_order_number()
        db.session.flush()
    context = {
        "integration_id": str(integration.id),
        "provider": integration.provider,
        "work_order_id": work_order.remote_id,
        "source": OrderSource.INTEGRATION.value,
    }
    reference = work_order.reference or work_order.remote_id
    record_initial_status(
        order, f"Order created from {provider_name} work order {reference}", context
    )
    _dispatch(order, integration, work_order, provider_name, context)
    return order


def _dispatch(order: Order, integration, work_order: RemoteWorkOrder, provider_name, context):
    """Approve the order and plan it for the integration's dispatch technician."""
    change_entity_status(
        order,
        OrderStatus.APPROVED,
        f"A {provider_name} work order is the instruction: no quote",
        context,
    )
    technician = dispatch_technician(integration)
    if technician is None:
        flag_for_review(order, "no dispatch technician is set for the integration")
        return
    today = utcnow().astimezone(AMSTERDAM).date()
    wanted = work_order.preferred_date
    day = wanted if wanted and wanted > today else today + timedelta(days=1)
    plan_visit(order, technician_id=technician.id, scheduled_date=day)
    change_entity_status(order, OrderStatus.SCHEDULED, f"Dispatched to {technician.name}", context)


def dispatch_technician(integration: Integration) -> User | None:
    """The active technician the integration's work orders go to, if one is set."""
    email = str((integration.config or {}).get(DISPATCH_TECHNICIAN) or "").strip().lower()
    if not email:
        return None
    return db.session.scalar(
        sa.select(User).where(
            sa.func.lower(User.email) == email,
            User.role == Role.TECHNICIAN,
            User.is_active_account.is_(True),
        )
    )
