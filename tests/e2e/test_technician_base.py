"""A manager sets where a technician's day starts and ends, at 1440×900 and on a
375-wide phone: a postcode PDOK does not know is refused beside its field, a known
one is placed. Screenshots go to docs/screenshots/ (or SCREENSHOT_DIR)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.platform.extensions import db
from app.platform.models import TechnicianBase
from tests.e2e.test_admin_pages import sign_in_dutch
from tests.e2e.timeouts import ACTION_TIMEOUT_MS

SHOTS = Path(
    os.environ.get("SCREENSHOT_DIR") or Path(__file__).resolve().parents[2] / "docs/screenshots"
)


@pytest.mark.parametrize("width,height", [(1440, 900), (375, 812)])
def test_a_manager_places_a_technicians_starting_point(
    live_server, browser, make_user, fake_pdok, width, height
):
    manager = make_user("manager", email="manager@switchboard.test", language="nl")
    tech = make_user("technician", email="daan@switchboard.test", language="nl")
    tech.name = "Daan Mulder"
    db.session.commit()
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone = width < 600
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="nl-NL", has_touch=phone
    )
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in_dutch(page, live_server.url, manager.email)
        page.goto(f"{live_server.url}/planning/technicians/{tech.id}")
        card = page.get_by_test_id("base-card")
        expect(card.get_by_test_id("base-missing")).to_be_visible()
        form = card.get_by_test_id("base-form")
        form.get_by_label("Postcode").first.fill("9999 ZZ")
        form.get_by_label("Huisnummer").first.fill("1")
        form.get_by_role("button", name="Begin, eind en gebied opslaan").click()
        expect(page.locator(".field-error").first).to_contain_text(
            "Beginpunt: PDOK kent geen adres 9999 ZZ 1"
        )
        form = page.get_by_test_id("base-form")
        form.get_by_label("Postcode").first.fill("3511AB")
        form.get_by_label("Huisnummer").first.fill("5a")
        form.get_by_label(re.compile("Gebied")).fill("80")
        form.get_by_role("button", name="Begin, eind en gebied opslaan").click()
        now = page.get_by_test_id("base-now")
        expect(now).to_contain_text("Oudegracht")
        expect(now).to_contain_text("binnen 80 km van het beginpunt")
        expect(now).to_contain_text("terug naar het beginpunt")
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"page is {scroll}px wide on a {width}px screen"
        page.get_by_test_id("base-card").screenshot(
            path=str(SHOTS / f"technician-base-{width}.png")
        )
    finally:
        context.close()
    db.session.expire_all()
    base = db.session.scalar(sa.select(TechnicianBase))
    assert base.user_id == tech.id and base.area_radius_km == 80
