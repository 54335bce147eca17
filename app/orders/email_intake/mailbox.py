"""Which partner an e-mail is for, by the address it was sent to.

A partner's integration names its order mailbox (``order_email_address``,
say orders-alva@chargecars.nl, an alias of the shared Outlook mailbox). Mail
addressed to it is an order; every other mail is customer conversation.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import Organization, PartnerIntegration


def partner_for_recipients(addresses: Iterable[str]) -> Organization | None:
    """The active partner whose order mailbox is among ``addresses`` (any case)."""
    wanted = sorted({address.strip().lower() for address in addresses if address})
    if not wanted:
        return None
    return db.session.scalar(
        sa.select(Organization)
        .join(PartnerIntegration, PartnerIntegration.partner_organization_id == Organization.id)
        .where(
            sa.func.lower(PartnerIntegration.order_email_address).in_(wanted),
            PartnerIntegration.is_active.is_(True),
        )
        .order_by(PartnerIntegration.created_at)
        .limit(1)
    )
