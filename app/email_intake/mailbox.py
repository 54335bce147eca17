"""Which partner an e-mail is for, by the address it was sent to.

A partner's integration names its order mailbox (``order_email_address``,
say orders-alva@chargecars.nl, an alias of the shared Outlook mailbox). Mail
addressed to it is an order; every other mail is customer conversation.
"""

from __future__ import annotations

from collections.abc import Iterable
from email.utils import getaddresses

import sqlalchemy as sa

from app.extensions import db
from app.models import Organization, PartnerIntegration

# Headers that name who a mail was for. Delivered-To and X-Original-To keep the
# alias an order mailbox forwards from, where To may be a list's address.
RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to")


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


def graph_recipients(graph_message: dict) -> list[str]:
    """Every recipient address of a Graph message resource, lower case.

    Read from ``toRecipients``/``ccRecipients`` when selected, and from the
    internet message headers, which the Outlook channel always fetches.
    """
    found = []
    for key in ("toRecipients", "ccRecipients", "bccRecipients"):
        for recipient in graph_message.get(key) or []:
            found.append(((recipient or {}).get("emailAddress") or {}).get("address") or "")
    header_values = [
        header.get("value") or ""
        for header in graph_message.get("internetMessageHeaders") or []
        if (header.get("name") or "").lower() in RECIPIENT_HEADERS
    ]
    found += [address for _, address in getaddresses(header_values)]
    return list(dict.fromkeys(address.strip().lower() for address in found if "@" in address))
