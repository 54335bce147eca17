"""Partner status pages in the browser, in Dutch at 1440×900: an admin grants a partner
more status reach, and a status change on the order page carries an internal reason
and a note for the partner, each labelled for who reads it.

``SCREENSHOTS_DIR`` set: the pages are saved there as partnerstatus-*.png.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

from playwright.sync_api import expect

from app.platform.extensions import db
from app.platform.models import Contact, Order
from app.platform.models.enums import OrderStatus
from tests.e2e.test_sign_in import sign_in
from tests.support.partner_support import make_partner

SHOTS = os.environ.get("SCREENSHOTS_DIR")
DESK = {"width": 1440, "height": 900}


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"partnerstatus-{name}.png"), full_page=False)


def _order(partner) -> Order:
    customer = Contact(display_name="Jan Janssen", email="jan@example.com")
    db.session.add(customer)
    db.session.flush()
    order = Order(
        order_number=f"CC-2026-{uuid.uuid4().int % 100000:05d}",
        status=OrderStatus.NEW,
        partner_organization_id=partner.organization.id,
        partner_order_id="GRO-2026-000777",
        partner_external_references={"partner_order_id": "GRO-2026-000777"},
        end_customer_contact_id=customer.id,
    )
    db.session.add(order)
    db.session.commit()
    return order


def test_an_admin_grants_status_reach_and_writes_a_note_for_the_partner(
    live_server, browser, make_user
):
    make_user("admin", email="admin@switchboard.test", language="nl")
    partner = make_partner()
    order = _order(partner)
    context = browser.new_context(viewport=DESK)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, "admin@switchboard.test")
        page.goto(f"{live_server.url}/partners/{partner.id}#status_grants")
        grants = page.get_by_test_id("status-grants")
        expect(grants.get_by_role("checkbox", name=re.compile("in de wacht"))).to_be_checked()
        grants.get_by_role("checkbox", name=re.compile("akkoord")).check()
        grants.get_by_role("checkbox", name=re.compile("afgerond")).check()
        page.get_by_role("button", name="Statusbereik opslaan").click()
        expect(page.get_by_text("Statusbereik opgeslagen.")).to_be_visible()
        page.locator("#status_grants").scroll_into_view_if_needed()
        expect(page.get_by_test_id("reportable-statuses")).to_contain_text(
            "approved, completed, on_hold"
        )
        _shot(page, "partner-grants")
        page.goto(f"{live_server.url}/admin/audit")
        entries = page.locator("main table")
        expect(entries).to_contain_text("Statusbereik van partner gewijzigd")
        expect(entries).to_contain_text("Statussen die de partner mag zetten")
        _shot(page, "audit-log")

        page.goto(f"{live_server.url}/orders/{order.order_number}")
        page.get_by_label("Verplaatsen naar").select_option("approved")
        page.get_by_label("Interne reden (alleen voor collega's)").fill(
            "Klant belde, korting gegeven"
        )
        page.get_by_label("Notitie voor de partner (de partner ziet dit)").fill("Offerte getekend")
        _shot(page, "order-status-form")
        page.get_by_role("button", name="Status wijzigen").click()
        history = page.locator("#history")
        expect(history.get_by_test_id("internal-reason")).to_contain_text(
            "Intern: Klant belde, korting gegeven"
        )
        expect(history.get_by_test_id("partner-note")).to_contain_text(
            "Aan de partner: Offerte getekend"
        )
        history.scroll_into_view_if_needed()
        _shot(page, "order-history")
    finally:
        context.close()
