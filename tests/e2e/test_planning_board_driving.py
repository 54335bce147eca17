"""A planner sees each technician's day as driven on the board at 1440×900: the drive
before each visit, the day's total, and the visit the drive makes late. The
screenshot goes to docs/screenshots/ (or SCREENSHOT_DIR)."""

from __future__ import annotations

import os
from datetime import time, timedelta
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import expect

from app.orders.mobile.services import local_today
from app.orders.planning.board import week_key
from app.orders.planning.services import PlanRequest, save_plan
from app.platform.extensions import db
from app.platform.models import TechnicianBase
from app.platform.transactions import commit
from tests.e2e.test_admin_pages import sign_in_dutch
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support.planning_support import approved_order, working_day

SHOTS = Path(
    os.environ.get("SCREENSHOT_DIR") or Path(__file__).resolve().parents[2] / "docs/screenshots"
)
# (number, latitude, longitude, window): Utrecht, Amersfoort, Amsterdam, back to Utrecht.
STOPS = (
    ("CC-2026-00501", "52.090700", "5.121400", (8, 0, 9, 0)),
    ("CC-2026-00502", "52.155200", "5.387200", (10, 0, 12, 0)),
    ("CC-2026-00503", "52.373100", "4.893600", (12, 0, 14, 0)),
    ("CC-2026-00504", "52.081000", "5.130000", (14, 15, 14, 45)),
)


def test_the_board_shows_the_day_as_driven(live_server, browser, make_user):
    manager = make_user("manager", email="manager@switchboard.test", language="nl")
    tech = make_user("technician", email="daan@switchboard.test", language="nl")
    tech.name = "Daan Mulder"
    db.session.add(
        TechnicianBase(
            user_id=tech.id,
            start_label="Symfonielaan 8, 3438EX Nieuwegein",
            start_postal_code="3438EX",
            start_house_number="8",
            start_latitude=Decimal("52.029470"),
            start_longitude=Decimal("5.091150"),
        )
    )
    db.session.commit()
    day = working_day(7)
    for number, latitude, longitude, (h1, m1, h2, m2) in STOPS:
        order = approved_order(number, brand=None)
        address = order.installation_address
        address.latitude, address.longitude = Decimal(latitude), Decimal(longitude)
        db.session.commit()
        save_plan(
            order,
            PlanRequest(
                day=day,
                window_start=time(h1, m1),
                window_end=time(h2, m2),
                technician_ids=(tech.id,),
                duration_minutes=90,
                materials=None,
                technician_notes=None,
                seen_version=0,
                override=True,
            ),
            manager,
            local_today(),
        )
        commit()
    monday = day - timedelta(days=day.weekday())
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in_dutch(page, live_server.url, manager.email)
        page.goto(f"{live_server.url}/planning/?week={week_key(monday)}")
        row = page.locator('[data-testid="board-row"][data-technician="Daan Mulder"]')
        cell = row.locator(f'td[data-day="{day.isoformat()}"]')
        expect(cell.get_by_test_id("board-drive")).to_have_count(4)
        expect(cell.get_by_test_id("day-drive")).to_contain_text("Rijden")
        expect(cell.locator(".board-drive.is-late")).to_have_count(1)
        expect(cell.locator(".board-drive.is-late")).to_contain_text("na het venster")
        page.get_by_test_id("board-scroll").screenshot(
            path=str(SHOTS / "planning-board-driving.png")
        )
    finally:
        context.close()
