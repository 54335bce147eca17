"""A small partner world for portal tests: two partners, a sub-partner, orders, callbacks, keys."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from app.orders.partners.keys import issue_partner_key
from app.platform.extensions import db
from app.platform.models import (
    Address,
    DeliveryAttempt,
    LineItem,
    Order,
    OrderStatusTransition,
    OutboundDelivery,
)
from app.platform.models.enums import DeliveryKind, OrderStatus, OutboundState
from tests.support import factories
from tests.support.helpers import enroll_two_factor
from tests.support.partner_support import Partner, make_partner

_numbers = itertools.count(1)


@dataclass
class PartnerFixture:
    partner: Partner
    orders: list[Order] = field(default_factory=list)
    deliveries: list[OutboundDelivery] = field(default_factory=list)
    key_ids: list[uuid.UUID] = field(default_factory=list)
    user_email: str = ""

    @property
    def organization(self):
        return self.partner.organization

    @property
    def integration(self):
        return self.partner.integration


def make_order(partner: Partner, *, partner_order_id: str, customer: str, postal: str, **fields):
    n = next(_numbers)
    contact = factories.contact(display_name=customer)
    address = Address(street="Dorpsstraat", house_number=str(n), postal_code=postal, city="Utrecht")
    db.session.add(address)
    db.session.flush()
    order = Order(
        order_number=f"CC-2026-{n:06d}",
        status=fields.pop("status", OrderStatus.NEW),
        partner_organization_id=partner.organization.id,
        partner_order_id=partner_order_id,
        end_customer_contact_id=contact.id,
        installation_address_id=address.id,
        customer_as_sent={"name": customer, "email": None},
        total_amount=Decimal("1499.00"),
        notes="INTERNAL: customer was rude on the phone",
        **fields,
    )
    db.session.add(order)
    db.session.flush()
    db.session.add(LineItem(order_id=order.id, description="Wallbox 11 kW", partner_sku="WB-11"))
    db.session.add_all(
        [
            OrderStatusTransition(
                order_id=order.id,
                from_status=None,
                to_status="new",
                transition_reason="INTERNAL reason: intake",
            ),
            OrderStatusTransition(
                order_id=order.id,
                from_status="new",
                to_status="approved",
                transition_reason="INTERNAL reason: credit check",
                partner_note="Approved, we will call the customer.",
            ),
        ]
    )
    return order


def make_delivery(partner: Partner, order: Order, *, state=OutboundState.FAILED, is_test=False):
    delivery = OutboundDelivery(
        kind=DeliveryKind.PARTNER_CALLBACK,
        partner_integration_id=partner.integration.id,
        order_id=order.id,
        event_type="status_changed",
        webhook_id=f"msg_{uuid.uuid4().hex}",
        target_url="https://partner.example/hooks",
        payload={"order_id": order.order_number, "status": "approved"},
        state=state,
        attempt_count=1,
        max_attempts=3,
        last_status_code=500,
        is_test=is_test,
    )
    db.session.add(delivery)
    db.session.flush()
    db.session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            attempt_number=1,
            status_code=500,
            latency_ms=120.0,
            response_excerpt="upstream exploded",
        )
    )
    return delivery


def build_world(make_user, language: str = "en") -> dict[str, PartnerFixture]:
    """Alpha (with sub-partner Alpha Sub) and Beta, each with orders, callbacks, keys, a user."""
    alpha = make_partner("Alpha", webhook_url="https://alpha.example/hooks")
    sub = make_partner(
        "Alpha Sub", webhook_url="https://sub.example/hooks", parent=alpha.organization
    )
    beta = make_partner("Beta", webhook_url="https://beta.example/hooks")
    world = {}
    for name, partner, postal in (
        ("alpha", alpha, "3511 AB"),
        ("sub", sub, "3512 CD"),
        ("beta", beta, "1011 EF"),
    ):
        fixture = PartnerFixture(partner)
        live = make_order(
            partner, partner_order_id=f"{name.upper()}-1", customer=f"Klant {name}", postal=postal
        )
        test = make_order(
            partner,
            partner_order_id=f"{name.upper()}-T",
            customer=f"Test {name}",
            postal=postal,
            is_test=True,
        )
        fixture.orders = [live, test]
        fixture.deliveries = [
            make_delivery(partner, live),
            make_delivery(partner, test, is_test=True),
        ]
        token, _plain = issue_partner_key(partner.organization, f"{name} key")
        db.session.flush()
        fixture.key_ids = [token.id]
        db.session.commit()
        user = make_user(
            "partner",
            email=f"{name}@portal.test",
            partner_organization_id=partner.organization.id,
            language=language,
        )
        enroll_two_factor(user)
        fixture.user_email = user.email
        world[name] = fixture
    return world
