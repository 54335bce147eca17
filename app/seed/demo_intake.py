"""Demo partner e-mail intake: Alva's order mailbox and one mail waiting for review."""

from __future__ import annotations

import sqlalchemy as sa

from app.orders.email_intake.drafts import draft_from_email
from app.platform.extensions import db
from app.platform.models import Organization, PartnerIntegration
from app.platform.models.enums import OrganizationType

ALVA_MAILBOX = "orders-alva@chargecars.nl"

# Forwarded and half-structured, as they often arrive: no order id, one SKU in
# running text. The parser stays under 90 %, so it waits in the review queue.
MESSY_ORDER_MAIL = """Hoi,

Zie onderstaand, kunnen jullie dit inplannen? Klant wil graag eind juli,
liefst op een vrijdag.

Groet,
Mark

---------- Doorgestuurd bericht ---------
Van: Verkoop Alva <verkoop@alva-charging.nl>
Onderwerp: bestelling

> Klant: Pieter Jansen
> Kerkstraat 12 a
> 3512 HT Utrecht
> tel 06 87654321
> pieter.jansen@example.com
>
> Hij heeft gekozen voor de wallbox 22 kW (ALV-WB-22), 1 stuks, plus de
> installatie. Oprit is van grind, dus graag even overleggen over de kabelroute.
"""


def build_order_email_intake() -> int:
    """Give Alva its order mailbox and leave one parsed mail in the review queue."""
    alva = db.session.scalar(
        sa.select(Organization).where(
            Organization.name == "Alva", Organization.organization_type == OrganizationType.PARTNER
        )
    )
    if alva is None:
        return 0
    integration = db.session.scalar(
        sa.select(PartnerIntegration).where(PartnerIntegration.partner_organization_id == alva.id)
    )
    integration.order_email_address = ALVA_MAILBOX
    draft_from_email(
        alva,
        subject="FW: bestelling klant Jansen",
        text=MESSY_ORDER_MAIL,
        sender="m.bakker@alva-charging.nl",
        internet_message_id="<demo-alva-order-1@mail.alva-charging.nl>",
    )
    return 1
