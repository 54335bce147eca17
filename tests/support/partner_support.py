"""Shared set-up for partner API tests: a partner with a key, articles and SKU mappings."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.orders.partners.services import create_partner
from app.platform.extensions import db
from app.platform.models import Article, PartnerSkuMapping
from app.platform.models.enums import ArticleType


@dataclass
class Partner:
    id: str
    api_key: str
    secret: str
    organization: object
    integration: object

    @property
    def headers(self) -> dict:
        return {"X-API-Key": self.api_key}


def make_partner(
    name: str = "Groendus", *, webhook_url: str | None = None, parent=None, **integration_fields
) -> Partner:
    new = create_partner(name, webhook_url=webhook_url, parent=parent)
    new.organization.email = f"orders@{name.lower().replace(' ', '')}.example"
    new.integration.status_mapping = {
        "chargecars_to_partner": {
            "new": "RECEIVED",
            "approved": "CONFIRMED",
            "scheduled": "PLANNED",
            "in_progress": "IN_PROGRESS",
            "completed": "DELIVERED",
            "on_hold": "ON_HOLD",
            "cancelled": "CANCELLED",
        },
        # A partner may only pause an order (app.orders.partners.config); its
        # cancellation is a request an agent confirms.
        "partner_to_chargecars": {"ON_HOLD": "on_hold", "CANCELLED": "on_hold"},
    }
    for key, value in integration_fields.items():
        setattr(new.integration, key, value)
    db.session.commit()
    return Partner(
        str(new.organization.id), new.api_key, new.webhook_secret, new.organization, new.integration
    )


def add_articles(partner: Partner) -> dict[str, Article]:
    """Two articles and this partner's SKUs for them (a wallbox and its installation)."""
    articles = {
        "ALF-EVE-S-11KW": Article(
            sku="ALF-EVE-S-11KW",
            name="Alfen Eve Single 11 kW",
            article_type=ArticleType.WALLBOX,
            unit_price=Decimal("1149.00"),
        ),
        "INST-BASIC-1P": Article(
            sku="INST-BASIC-1P",
            name="Installatie basis 1-fase",
            article_type=ArticleType.INSTALLATION,
            unit_price=Decimal("495.00"),
        ),
    }
    db.session.add_all(articles.values())
    db.session.flush()
    db.session.add_all(
        [
            PartnerSkuMapping(
                partner_organization_id=partner.organization.id,
                partner_sku="GRO-ALFEN-11",
                article_id=articles["ALF-EVE-S-11KW"].id,
            ),
            PartnerSkuMapping(
                partner_organization_id=partner.organization.id,
                partner_sku="GRO-INSTALL-1",
                article_id=articles["INST-BASIC-1P"].id,
            ),
        ]
    )
    db.session.commit()
    return articles


def line_items_order(partner_order_id: str = "GRO-2026-000123", **overrides) -> dict:
    """A partner order body with ``line_items[].sku``, as the partner guide shows it."""
    body = {
        "partner_order_id": partner_order_id,
        "partner_customer_id": "CUST-456789",
        "dealer_group_id": "VAN_MOSSEL_WEST",
        "purchase_order_number": "PO-20260601-001",
        "customer": {
            "name": "Jan Janssen",
            "email": "jan@example.com",
            "phone": "06-12345678",
            "address": {"street": "Hoofdstraat 123", "city": "Amsterdam", "postal_code": "1012 AB"},
        },
        "line_items": [
            {
                "sku": "GRO-ALFEN-11",
                "description": "Wallbox 11kW",
                "quantity": 1,
                "partner_item_id": "VLV-WALLBOX-001",
            },
            {"sku": "GRO-INSTALL-1", "quantity": 1},
        ],
        "installation_preferences": {
            "preferred_date": "2026-12-15",
            "time_preference": "morning",
            "access_notes": "Garage via de zijdeur",
        },
    }
    body.update(overrides)
    return body


def products_order(partner_order_id: str = "GRO-123456") -> dict:
    """The other order shape partners send: ``products[].partner_sku`` and references."""
    return {
        "partner_order_id": partner_order_id,
        "customer": {
            "name": "Petra de Vries",
            "email": "petra@example.com",
            "phone": "+31 6 87654321",
            "address": {
                "street": "Oudegracht",
                "house_number": "5a",
                "postal_code": "3511AB",
                "city": "Utrecht",
            },
        },
        "products": [{"partner_sku": "GRO-ALFEN-11", "quantity": 1, "description": "Alfen 11 kW"}],
        "installation_preferences": {"preferred_date": "2026-12-20", "notes": "Liefst na 10 uur"},
        "partner_references": {
            "dealer_group_id": "DLR-7",
            "purchase_order": "PO-77",
            "customer_account": "ACC-9",
        },
    }
