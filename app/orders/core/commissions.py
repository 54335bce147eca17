"""An order's commission records, as the order page and the JSON API show them.

The records are made by the partners feature when an order completes
(``app.orders.partners.commissions``); here they are only read.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import Commission, Contact, Order


def order_commissions(order: Order) -> list[Commission]:
    """The order's commission records by level."""
    return list(
        db.session.scalars(
            sa.select(Commission)
            .where(Commission.order_id == order.id)
            .order_by(Commission.commission_level)
        )
    )


def commission_to_dict(commission: Commission, names: dict[uuid.UUID, str]) -> dict:
    return {
        "id": str(commission.id),
        "level": commission.commission_level,
        "beneficiary_contact_id": str(commission.beneficiary_contact_id),
        "beneficiary_organization_id": (
            str(commission.beneficiary_organization_id)
            if commission.beneficiary_organization_id
            else None
        ),
        "beneficiary_name": names.get(commission.beneficiary_contact_id),
        "rate": str(commission.commission_rate),
        "base_amount": str(commission.base_amount),
        "amount": str(commission.commission_amount),
        "status": commission.status.value,
    }


def commissions_as_dicts(order: Order) -> list[dict]:
    """The order's commissions for JSON, with each beneficiary's name."""
    commissions = order_commissions(order)
    ids = [c.beneficiary_contact_id for c in commissions]
    names = (
        dict(
            db.session.execute(
                sa.select(Contact.id, Contact.display_name).where(Contact.id.in_(ids))
            ).all()
        )
        if ids
        else {}
    )
    return [commission_to_dict(c, names) for c in commissions]
