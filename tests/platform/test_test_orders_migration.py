"""Migration 0064: test orders made before let go of the contacts and addresses they linked."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app.platform.extensions import db
from app.platform.models import Address, Contact, Order
from tests.support import factories


def _order(number: str, contact: Contact, *, is_test: bool) -> Order:
    address = Address(
        contact_id=contact.id,
        organization_id=contact.organization_id,
        street="Hoofdstraat",
        house_number="123",
        postal_code="1012AB",
        city="Amsterdam",
        province="Noord-Holland",
        latitude=Decimal("52.373100"),
    )
    db.session.add(address)
    db.session.flush()
    order = Order(
        order_number=number,
        partner_order_id=number,
        end_customer_contact_id=contact.id,
        account_contact_id=contact.id,
        partner_contact_id=contact.id,
        channel_contact_ids=[str(contact.id)],
        installation_address_id=address.id,
        customer_as_sent={"name": "Jan Janssen", "email": "jan@example.com"},
        is_test=is_test,
    )
    db.session.add(order)
    db.session.flush()
    return order


def test_0064_moves_a_test_orders_address_onto_it_and_unlinks_its_contacts(app):
    jan = factories.contact(display_name="Jan Janssen", email="jan@example.com")
    live = _order("CC-2026-00001", jan, is_test=False)
    test = _order("CC-TEST-2026-00001", jan, is_test=True)
    ids = (live.id, test.id, live.installation_address_id, test.installation_address_id, jan.id)
    db.session.commit()
    live_id, test_id, live_address, test_address, jan_id = ids
    db.session.rollback()
    downgrade(revision="0063_move_language")
    upgrade()
    db.session.expire_all()

    moved = db.session.get(Order, test_id)
    assert moved.test_address == {
        "street": "Hoofdstraat",
        "house_number": "123",
        "postal_code": "1012AB",
        "city": "Amsterdam",
    }
    assert moved.installation_address_for_partner().one_line() == (
        "Hoofdstraat 123, 1012AB Amsterdam"
    )
    assert (
        moved.installation_address_id,
        moved.end_customer_contact_id,
        moved.account_contact_id,
        moved.partner_contact_id,
        moved.channel_contact_ids,
    ) == (None, None, None, None, [])
    assert db.session.get(Address, test_address) is None
    # The live order and the contact are as they were.
    kept = db.session.get(Order, live_id)
    assert kept.test_address is None
    assert (kept.installation_address_id, kept.end_customer_contact_id) == (live_address, jan_id)
    assert db.session.get(Address, live_address) is not None
    assert db.session.get(Contact, jan_id) is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 2
