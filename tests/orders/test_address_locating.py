"""The live orders' addresses still without coordinates are asked of PDOK again."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from app.orders.addresses.locating import RETRY_AFTER, locate_waiting_addresses
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.features import collect
from app.platform.models import Address
from app.platform.models.enums import OrderStatus
from tests.support.planning_support import approved_order


def _unlocated(number, postal_code, house_number, addition=None, **fields):
    order = approved_order(number=number, **fields)
    address = order.installation_address
    address.postal_code, address.house_number = postal_code, house_number
    address.house_number_addition = addition
    address.latitude = address.longitude = None
    db.session.commit()
    return order


def test_an_address_pdok_now_knows_gets_its_place_and_one_it_does_not_is_asked_later(
    app, fake_pdok
):
    found = _unlocated("CC-2026-00201", "3511AB", "5", "a")
    unknown = _unlocated("CC-2026-00202", "9999ZZ", "1")
    done = _unlocated("CC-2026-00203", "1012AB", "123")
    done.status = OrderStatus.COMPLETED
    db.session.commit()

    assert locate_waiting_addresses() == 1
    db.session.expire_all()
    placed = found.installation_address
    assert (placed.latitude, placed.longitude) == (Decimal("52.0907"), Decimal("5.1214"))
    assert unknown.installation_address.latitude is None
    assert unknown.installation_address.location_checked_at is not None
    # A completed order needs no route: never asked.
    assert done.installation_address.location_checked_at is None
    asked = len(fake_pdok.requests)

    # Asked again only after RETRY_AFTER.
    assert locate_waiting_addresses() == 0
    assert len(fake_pdok.requests) == asked
    db.session.execute(
        sa.update(Address)
        .where(Address.id == unknown.installation_address_id)
        .values(location_checked_at=utcnow() - RETRY_AFTER - timedelta(minutes=1))
    )
    db.session.commit()
    locate_waiting_addresses()
    assert len(fake_pdok.requests) > asked


def test_pdok_down_marks_nothing_so_the_next_run_asks_again(app):
    # PDOK_API_BASE points at a closed port in the tests' configuration.
    order = _unlocated("CC-2026-00204", "3511AB", "5", "a")
    assert locate_waiting_addresses() == 0
    db.session.expire_all()
    assert order.installation_address.location_checked_at is None


def test_the_order_page_says_an_address_has_no_place(app, client, fake_pdok, make_user, auth):
    agent = make_user("agent", language="nl")
    auth.login(agent.email)
    order = _unlocated("CC-2026-00205", "9999ZZ", "1")
    page = client.get(f"/orders/{order.order_number}").get_data(as_text=True)
    assert "Nog geen plek op de kaart" in page
    locate_waiting_addresses()
    page = client.get(f"/orders/{order.order_number}").get_data(as_text=True)
    assert "Geen plek op de kaart: PDOK kent dit adres niet" in page


def test_the_look_up_runs_every_ten_minutes():
    jobs = {job.name: job for job in collect().periodic_jobs}
    assert jobs["locate-addresses"].every_seconds == 600
