"""Channel commissions: one record per channel level when an order completes."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from app.orders.core.status_engine import change_entity_status
from app.orders.partners.commissions import create_commissions
from app.orders.partners.services import create_partner
from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models import Commission, Contact, Order
from app.platform.models.enums import ContactType, OrderStatus, TokenKind

TO_COMPLETED = ("approved", "scheduled", "in_progress", "completed")


def _contact(organization) -> Contact:
    return db.session.scalar(
        sa.select(Contact).where(
            Contact.organization_id == organization.id,
            Contact.contact_type == ContactType.ORGANIZATION,
        )
    )


def _chain(master_rates, regional_rates=None, dealer_rates=None):
    """Groendus → Groendus Regio Oost → Laadpunt Zwolle, as in the demo data."""
    master = create_partner("Groendus").organization
    regional = create_partner("Groendus Regio Oost", parent=master).organization
    dealer = create_partner("Laadpunt Zwolle", parent=regional).organization
    master.commission_rates = master_rates
    regional.commission_rates = regional_rates or {}
    dealer.commission_rates = dealer_rates or {}
    db.session.commit()
    return master, regional, dealer


def _order_through(dealer, total="1234.56") -> Order:
    order = Order(
        order_number="CC-2026-00042",
        partner_organization_id=dealer.id,
        partner_order_id="ZWO-1",
        # Nearest first, as the partner intake records it.
        channel_contact_ids=[str(_contact(org).id) for org in dealer.channel_chain()],
        total_amount=Decimal(total),
    )
    db.session.add(order)
    db.session.commit()
    return order


def _complete(order) -> None:
    for step in TO_COMPLETED:
        change_entity_status(order, OrderStatus(step), f"to {step}")
    db.session.commit()


def _rows(order) -> list[tuple]:
    return [
        (c.commission_level, c.beneficiary_contact_id, c.commission_rate, c.commission_amount)
        for c in db.session.scalars(
            sa.select(Commission)
            .where(Commission.order_id == order.id)
            .order_by(Commission.commission_level)
        )
    ]


def test_a_completed_order_pays_each_level_of_a_three_level_chain_once(app):
    master, regional, dealer = _chain({"1": 5.0, "2": 3.0, "3": 2.0})
    order = _order_through(dealer)

    change_entity_status(order, OrderStatus.APPROVED)
    db.session.commit()
    assert _rows(order) == []  # nothing before completion

    for step in TO_COMPLETED[1:]:
        change_entity_status(order, OrderStatus(step))
    db.session.commit()
    assert _rows(order) == [
        (1, _contact(master).id, Decimal("5.00"), Decimal("61.73")),
        (2, _contact(regional).id, Decimal("3.00"), Decimal("37.04")),
        (3, _contact(dealer).id, Decimal("2.00"), Decimal("24.69")),
    ]
    commission = db.session.scalar(sa.select(Commission).where(Commission.commission_level == 1))
    assert commission.base_amount == Decimal("1234.56")
    assert commission.beneficiary_organization_id == master.id

    # Running it again (a replayed hook, a person's retry) adds nothing.
    assert create_commissions(order) == []
    db.session.commit()
    assert len(_rows(order)) == 3


def test_a_partners_own_rate_overrides_the_masters_and_missing_levels_earn_nothing(app):
    master, regional, dealer = _chain({"1": 5.0, "2": 0}, dealer_rates={"3": "2.5"})
    order = _order_through(dealer, total="1000.00")
    _complete(order)
    assert _rows(order) == [
        (1, _contact(master).id, Decimal("5.00"), Decimal("50.00")),
        # level 2: the master's rate is 0 and Regio Oost has none → no record
        (3, _contact(dealer).id, Decimal("2.50"), Decimal("25.00")),
    ]


def test_the_chain_recorded_on_the_order_counts_not_todays_hierarchy(app):
    master, regional, dealer = _chain({"1": 5.0, "2": 3.0, "3": 2.0})
    order = _order_through(dealer, total="100.00")
    dealer.parent = None  # moved after the order was taken
    db.session.commit()
    _complete(order)
    assert [row[0] for row in _rows(order)] == [1, 2, 3]


def test_an_order_without_a_partner_earns_no_commission(app):
    order = Order(order_number="CC-2026-00007", total_amount=Decimal("500"))
    db.session.add(order)
    db.session.commit()
    _complete(order)
    assert _rows(order) == []


def test_commissions_are_in_the_order_json_and_on_the_order_page(app, client, auth, make_user):
    master, regional, dealer = _chain({"1": 5.0, "2": 3.0, "3": 2.0})
    order = _order_through(dealer)
    _complete(order)
    agent = make_user("agent")
    _, token = issue_token(TokenKind.PERSONAL, "t", user_id=agent.id)
    db.session.commit()

    data = client.get(
        f"/api/orders/{order.order_number}", headers={"Authorization": f"Bearer {token}"}
    ).json["data"]
    assert [(c["level"], c["beneficiary_name"], c["amount"]) for c in data["commissions"]] == [
        (1, "Groendus", "61.73"),
        (2, "Groendus Regio Oost", "37.04"),
        (3, "Laadpunt Zwolle", "24.69"),
    ]

    auth.login(agent.email)
    page = client.get(f"/orders/{order.order_number}").get_data(as_text=True)
    table = page.split('data-testid="commissions"', 1)[1].split("</table>", 1)[0]
    assert "Laadpunt Zwolle" in table and "€61.73" in table and "2.00 %" in table
