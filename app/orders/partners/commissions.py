"""Channel commissions: one record per partner level on a completed order.

Levels follow the channel hierarchy (and the demo data): level 1 is the master partner at
the top of the channel, level 2 the partner below it, and so on down to the
partner the order came through. ``order.channel_contact_ids`` lists the
partners' organization contacts nearest first, as recorded at intake, so the
levels are counted from its end. A later change to the hierarchy does not
change who earns on an order already taken.

The rate for a level is the beneficiary's own ``commission_rates[level]``
when it has one, otherwise the master partner's rate for that level: the
master agrees the split for its whole channel, and a sub-partner with its own
agreement can override its level. A level without a positive rate gets no
record. Amounts are ``total_amount × rate / 100`` rounded half-up to cents.
"""

from __future__ import annotations

import logging
import uuid
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import sqlalchemy as sa

from app.orders.partners.services import organization_contact
from app.platform.extensions import db
from app.platform.models import Commission, Contact, Order, OrderStatusTransition, Organization
from app.platform.models.enums import OrderStatus

log = logging.getLogger(__name__)
CENT = Decimal("0.01")
MAX_RATE = Decimal("100")


def on_status_change(order: Order, transition: OrderStatusTransition) -> None:
    """Status hook: commissions are earned when the order is completed."""
    if transition.to_status == OrderStatus.COMPLETED.value:
        create_commissions(order)


def create_commissions(order: Order) -> list[Commission]:
    """Write the commission records ``order`` earns its channel (no commit).

    Idempotent: a beneficiary that already has a record for this order is
    skipped, so running it twice creates nothing new. Returns the new records.
    """
    chain = channel_chain(order)
    if not chain:
        return []
    existing = set(
        db.session.scalars(
            sa.select(Commission.beneficiary_contact_id).where(Commission.order_id == order.id)
        )
    )
    master = chain[-1].organization
    created = []
    for level, contact in enumerate(reversed(chain), start=1):
        if contact.id in existing:
            continue
        rate = level_rate(contact.organization, master, level)
        if rate is None:
            continue
        base = order.total_amount or Decimal("0")
        commission = Commission(
            order_id=order.id,
            beneficiary_contact_id=contact.id,
            beneficiary_organization_id=contact.organization_id,
            commission_level=level,
            commission_rate=rate,
            base_amount=base,
            commission_amount=(base * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP),
        )
        db.session.add(commission)
        created.append(commission)
    db.session.flush()
    return created


def channel_chain(order: Order) -> list[Contact]:
    """The partners' organization contacts the order came through, nearest first.

    From the order's own ``channel_contact_ids``; an order that has a partner
    but no recorded chain (an older intake) uses the partner's hierarchy now.
    """
    ids = []
    for raw in order.channel_contact_ids or []:
        try:
            ids.append(uuid.UUID(str(raw)))
        except ValueError:
            log.warning("order %s: channel contact id %r is not a UUID", order.id, raw)
    if not ids and order.partner_organization_id:
        partner = db.session.get(Organization, order.partner_organization_id)
        if partner is None:
            return []
        return [c for c in map(organization_contact, partner.channel_chain()) if c]
    contacts = {
        contact.id: contact
        for contact in db.session.scalars(sa.select(Contact).where(Contact.id.in_(ids)))
    }
    chain = []
    for contact_id in dict.fromkeys(ids):
        contact = contacts.get(contact_id)
        if contact is None or contact.organization is None:
            log.warning("order %s: channel contact %s has no organization", order.id, contact_id)
            continue
        chain.append(contact)
    return chain


def level_rate(
    beneficiary: Organization, master: Organization | None, level: int
) -> Decimal | None:
    """The percentage ``beneficiary`` earns at ``level``, or None for no commission."""
    for source in (beneficiary, master):
        if source is None:
            continue
        raw = (source.commission_rates or {}).get(str(level))
        if raw is None or raw == "":
            continue
        try:
            rate = Decimal(str(raw))
        except InvalidOperation:
            log.warning("organization %s: commission rate %r is not a number", source.id, raw)
            return None
        return rate if Decimal("0") < rate <= MAX_RATE else None
    return None
