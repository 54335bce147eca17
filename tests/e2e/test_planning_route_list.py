"""A planner opens a technician's route list from the board and prints it: at 1440×900
the week's days with their visits, no WCAG violation; on paper no menu or button,
black on white even in dark mode, each day on a page of its own; at 375 wide it reads
without sideways scrolling. Screenshots: docs/screenshots/route-list.png and
route-list-375.png (or SCREENSHOT_DIR)."""

from __future__ import annotations

import os
import re
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
from tests.e2e.axe import axe_violations
from tests.e2e.test_admin_pages import sign_in_dutch
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support.planning_support import approved_order, working_day

SHOTS = Path(
    os.environ.get("SCREENSHOT_DIR") or Path(__file__).resolve().parents[2] / "docs/screenshots"
)
# (number, customer, street and number, postcode and city, latitude, longitude,
#  day offset from Monday, window, notes)
VISITS = (
    (
        "CC-2026-00971",
        "Eva de Boer",
        ("Oudegracht", "120"),
        ("3511 AX", "Utrecht"),
        ("52.090700", "5.121400"),
        0,
        (8, 0, 10, 0),
        None,
    ),
    (
        "CC-2026-00972",
        "Sem Visser",
        ("Langestraat", "45"),
        ("3811 AD", "Amersfoort"),
        ("52.155200", "5.387200"),
        0,
        (11, 0, 13, 0),
        "Hond in de tuin; sleutel bij de buren (nr. 14).",
    ),
    (
        "CC-2026-00973",
        "Noor Bakker",
        ("Biltstraat", "200"),
        ("3572 BS", "Utrecht"),
        ("52.081000", "5.130000"),
        2,
        (9, 0, 12, 0),
        None,
    ),
)


def _week(make_user):
    manager = make_user("manager", email="manager@switchboard.test", language="nl")
    daan = make_user("technician", language="nl")
    daan.name = "Daan Mulder"
    ruben = make_user("technician", language="nl")
    ruben.name = "Ruben de Jong"
    db.session.add(
        TechnicianBase(
            user_id=daan.id,
            start_label="Symfonielaan 8, 3438EX Nieuwegein",
            start_postal_code="3438EX",
            start_house_number="8",
            start_latitude=Decimal("52.029470"),
            start_longitude=Decimal("5.091150"),
        )
    )
    db.session.commit()
    monday = working_day(7) - timedelta(days=working_day(7).weekday())
    for number, customer, street, place, (latitude, longitude), offset, window, notes in VISITS:
        order = approved_order(number, brand=None, contact_fields={"display_name": customer})
        address = order.installation_address
        (address.street, address.house_number), address.house_number_addition = street, None
        address.postal_code, address.city = place
        address.latitude, address.longitude = Decimal(latitude), Decimal(longitude)
        db.session.commit()
        crew = (daan.id, ruben.id) if notes else (daan.id,)
        save_plan(
            order,
            PlanRequest(
                day=monday + timedelta(days=offset),
                window_start=time(*window[:2]),
                window_end=time(*window[2:]),
                technician_ids=crew,
                duration_minutes=90,
                materials="1× Alfen Eve Single 11 kW\nKabel 15 m\nAardlekschakelaar",
                technician_notes=notes,
                seen_version=0,
                override=True,
            ),
            manager,
            local_today(),
        )
        commit()
    return manager, daan, monday


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-z])", pdf))


def test_a_planner_prints_a_technicians_route_list(live_server, browser, make_user):
    manager, daan, monday = _week(make_user)
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in_dutch(page, live_server.url, manager.email)
        page.goto(f"{live_server.url}/planning/?week={week_key(monday)}")
        row = page.locator('[data-testid="board-row"][data-technician="Daan Mulder"]')
        row.get_by_test_id("route-list-week").click()
        expect(page).to_have_url(re.compile(rf"/technicians/{daan.id}/route\?week="))
        expect(page.get_by_role("heading", level=1)).to_have_text("Routelijst van Daan Mulder")
        days = page.get_by_test_id("route-day")
        expect(days).to_have_count(2)
        monday_list = days.first
        expect(monday_list.get_by_test_id("route-stop")).to_have_count(2)
        expect(monday_list.get_by_test_id("route-start")).to_contain_text(
            "Symfonielaan 8, 3438EX Nieuwegein"
        )
        second = monday_list.get_by_test_id("route-stop").nth(1)
        expect(second).to_contain_text("CC-2026-00972")
        expect(second).to_contain_text("11:00-13:00")
        expect(second).to_contain_text("Langestraat 45, 3811 AD Amersfoort")
        expect(second).to_contain_text("Hond in de tuin")
        expect(second.get_by_test_id("route-crew")).to_have_text("Daan Mulder, Ruben de Jong")
        expect(second.get_by_test_id("route-drive")).to_contain_text("min rijden")
        expect(second.get_by_test_id("route-arrival")).to_have_text(re.compile(r"^\d\d:\d\d$"))
        expect(monday_list.get_by_test_id("route-totals")).to_contain_text("thuis om")
        assert axe_violations(page) == []
        page.screenshot(path=str(SHOTS / "route-list.png"), full_page=True)

        # "Print" opens the browser's print dialog.
        page.evaluate("() => { window.print = () => { window.printAsked = true; }; }")
        page.get_by_test_id("route-print").click()
        assert page.evaluate("() => window.printAsked === true")

        # On paper, in dark mode too: the list alone, black on white, a day a page.
        page.emulate_media(media="print", color_scheme="dark")
        expect(page.locator("header.topbar")).to_be_hidden()
        expect(page.get_by_test_id("route-print")).to_be_hidden()
        colours = monday_list.evaluate(
            "el => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]"
        )
        assert colours == ["rgb(0, 0, 0)", "rgb(255, 255, 255)"], colours
        assert days.nth(1).evaluate("el => getComputedStyle(el).breakBefore") == "page"
        assert _pdf_pages(page.pdf(format="A4")) == 2
    finally:
        context.close()

    phone = browser.new_context(
        viewport={"width": 375, "height": 812}, locale="nl-NL", is_mobile=True, has_touch=True
    )
    page = phone.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in_dutch(page, live_server.url, manager.email)
        page.goto(f"{live_server.url}/planning/technicians/{daan.id}/route?day={monday}")
        expect(page.get_by_test_id("route-stop")).to_have_count(2)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the route list is {width}px wide on a 375px screen"
        page.screenshot(path=str(SHOTS / "route-list-375.png"), full_page=True)
    finally:
        phone.close()
