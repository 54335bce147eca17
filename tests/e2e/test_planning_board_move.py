"""A planner moves visits on the week board at 1440×900: one dragged with the mouse to
another technician, one dragged onto a day off (refused, back in its place, the reason
read out), one carried by keyboard to another technician and day, and one whose new
technician's hours need "plan anyway". The screenshot of the keyboard move, its target
cell highlighted, goes to docs/screenshots/planning-board-drag.png (or SCREENSHOT_DIR)."""

from __future__ import annotations

import os
import re
from datetime import time, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import expect

from app.orders.mobile.services import local_today
from app.orders.planning.board import week_key
from app.orders.planning.services import PlanRequest, save_plan
from app.platform.extensions import db
from app.platform.models import (
    Order,
    TechnicianAbsence,
    TechnicianBase,
    TechnicianSchedule,
    Visit,
)
from app.platform.transactions import commit
from tests.e2e.test_admin_pages import sign_in_dutch
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support.planning_support import approved_order, working_day

SHOTS = Path(
    os.environ.get("SCREENSHOT_DIR") or Path(__file__).resolve().parents[2] / "docs/screenshots"
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


# Where each technician starts the day, and where the customers live (PDOK's places).
BASES = {
    "Daan Mulder": ("Symfonielaan 8, 3438EX Nieuwegein", "52.029470", "5.091150"),
    "Kevin Hendriks": ("Stationsplein 1, 3818LE Amersfoort", "52.153000", "5.373000"),
    "Ruben de Jong": ("Oudegracht 5a, 3511AB Utrecht", "52.090700", "5.121400"),
}
PLACES = {
    "CC-2026-00951": ("52.090700", "5.121400"),  # Utrecht
    "CC-2026-00952": ("52.155200", "5.387200"),  # Amersfoort
    "CC-2026-00953": ("52.081000", "5.130000"),  # Utrecht
    "CC-2026-00954": ("52.373100", "4.893600"),  # Amsterdam
}


def _team(make_user):
    team = {}
    for name, (label, latitude, longitude) in BASES.items():
        user = make_user("technician", skills=["alfen"], language="nl")
        user.name = name
        db.session.add(
            TechnicianBase(
                user_id=user.id,
                start_label=label,
                start_postal_code=label.split(", ")[1][:6],
                start_house_number=label.split(", ")[0].split()[-1],
                start_latitude=Decimal(latitude),
                start_longitude=Decimal(longitude),
            )
        )
        team[name.split()[0].lower()] = user
    # Kevin works mornings only; Ruben is off on Thursday.
    db.session.add(
        TechnicianSchedule(
            user_id=team["kevin"].id, weekly_hours={d: ["08:00", "13:00"] for d in WEEKDAYS}
        )
    )
    db.session.commit()
    return team


def _plan(manager, number, technician, day, start, end, customer):
    order = approved_order(number, contact_fields={"display_name": customer})
    address = order.installation_address
    address.latitude, address.longitude = (Decimal(v) for v in PLACES[number])
    db.session.commit()
    save_plan(
        order,
        PlanRequest(
            day=day,
            window_start=time(*start),
            window_end=time(*end),
            technician_ids=(technician.id,),
            duration_minutes=(end[0] - start[0]) * 60 + end[1] - start[1],
            materials="1× Alfen Eve Single 11 kW",
            technician_notes=None,
            seen_version=0,
        ),
        manager,
        local_today(),
    )
    commit()
    return order.order_number


def _cell(page, name, day):
    row = page.locator(f'[data-testid="board-row"][data-technician="{name}"]')
    return row.locator(f'td[data-day="{day.isoformat()}"]')


def _card(page, number):
    return page.locator(f'[data-testid="board-stop"][data-visit-order="{number}"]')


def _drag(page, card, cell):
    """Press on the card, move to the cell in steps (as a hand does), let go; the window
    scrolled so both are in view (cards are taller with the customer's photo count)."""
    between = """([card, cell]) => {
      const a = card.getBoundingClientRect(), b = cell.getBoundingClientRect();
      const middle = (Math.min(a.top, b.top) + Math.max(a.bottom, b.bottom)) / 2;
      window.scrollBy(0, middle - innerHeight / 2);
    }"""
    page.evaluate(between, [card.element_handle(), cell.element_handle()])
    start, end = card.bounding_box(), cell.bounding_box()
    height = page.viewport_size["height"]
    assert 0 <= start["y"] and end["y"] + end["height"] <= height, "the cell is out of view"
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + 10)
    page.mouse.down()
    page.mouse.move(start["x"] + start["width"] / 2 + 12, start["y"] + 20, steps=4)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] - 12, steps=20)
    page.mouse.up()


def _ready(page):
    page.wait_for_load_state("load")
    page.wait_for_function("() => window.Sortable !== undefined")


def test_a_planner_moves_visits_by_mouse_and_by_keyboard(live_server, browser, make_user):
    manager = make_user("manager", email="manager@switchboard.test", language="nl")
    team = _team(make_user)
    monday = working_day(7) - timedelta(days=working_day(7).weekday())
    tuesday, wednesday, thursday = (monday + timedelta(days=n) for n in (1, 2, 3))
    db.session.add(
        TechnicianAbsence(
            user_id=team["ruben"].id, starts_on=thursday, ends_on=thursday, reason="cursus"
        )
    )
    db.session.commit()
    early = _plan(manager, "CC-2026-00951", team["daan"], monday, (8, 0), (10, 30), "Eva de Boer")
    late = _plan(manager, "CC-2026-00952", team["daan"], monday, (11, 0), (13, 30), "Sem Visser")
    _plan(manager, "CC-2026-00953", team["ruben"], tuesday, (8, 0), (12, 0), "Noor Bakker")
    kevins = _plan(
        manager, "CC-2026-00954", team["kevin"], wednesday, (8, 0), (10, 0), "Lotte Smit"
    )
    week = week_key(monday)
    SHOTS.mkdir(parents=True, exist_ok=True)

    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    status = page.get_by_test_id("board-move-status")
    try:
        sign_in_dutch(page, live_server.url, manager.email)
        page.goto(f"{live_server.url}/planning/?week={week}")
        _ready(page)

        # With the mouse: Daan's afternoon visit to Ruben, the same Monday.
        _drag(page, _card(page, late), _cell(page, "Ruben de Jong", monday))
        expect(page.locator(".flash")).to_contain_text(f"{late} verplaatst: Ruben de Jong")
        _ready(page)
        expect(_cell(page, "Ruben de Jong", monday)).to_contain_text(late)
        expect(_cell(page, "Daan Mulder", monday)).not_to_contain_text(late)

        # Onto a day off: refused, the reason read out, the card back where it was.
        _drag(page, _card(page, kevins), _cell(page, "Ruben de Jong", thursday))
        expect(status).to_contain_text(f"{kevins} is niet verplaatst")
        expect(status).to_contain_text("Ruben de Jong is afwezig")
        expect(_cell(page, "Kevin Hendriks", wednesday).locator(_card(page, kevins))).to_have_count(
            1
        )
        expect(_cell(page, "Ruben de Jong", thursday)).not_to_contain_text(kevins)

        # By keyboard: Daan's morning visit to Kevin on Tuesday.
        card = _card(page, early).get_by_test_id("board-visit")
        card.focus()
        page.keyboard.press("Space")
        expect(status).to_contain_text(f"{early} opgepakt")
        page.keyboard.press("ArrowDown")  # Kevin Hendriks, the next row
        page.keyboard.press("ArrowRight")  # Tuesday
        target = _cell(page, "Kevin Hendriks", tuesday)
        expect(target).to_have_class(re.compile(r"\bis-target\b"))
        expect(status).to_contain_text(re.compile(r"Kevin Hendriks, dinsdag \d+ \w+"))
        page.locator(".board-main").screenshot(path=str(SHOTS / "planning-board-drag.png"))
        page.keyboard.press("Enter")
        expect(page.locator(".flash")).to_contain_text(f"{early} verplaatst: Kevin Hendriks")
        _ready(page)
        expect(_cell(page, "Kevin Hendriks", tuesday)).to_contain_text(early)
        # Focus is back on the moved card, in its new cell.
        expect(target.locator(".board-visit")).to_be_focused()

        # Kevin works until 13:00: the afternoon visit asks first, then goes.
        _drag(page, _card(page, late), _cell(page, "Kevin Hendriks", monday))
        expect(status).to_contain_text("buiten de werktijd")
        expect(status).to_contain_text("Toch plannen?")
        override = page.get_by_test_id("board-move-override")
        expect(override).to_be_focused()
        override.click()
        expect(page.locator(".flash")).to_contain_text(f"{late} verplaatst: Kevin Hendriks")
        expect(_cell(page, "Kevin Hendriks", monday)).to_contain_text(late)
    finally:
        context.close()

    db.session.expire_all()
    crews = {
        number: (visit.scheduled_date, visit.technician_ids, visit.version)
        for number, visit in db.session.execute(
            sa.select(Order.order_number, Visit).join(Visit, Visit.order_id == Order.id)
        ).all()
    }
    assert crews[early] == (tuesday, [team["kevin"].id], 2)
    assert crews[late] == (monday, [team["kevin"].id], 3)
    assert crews[kevins] == (wednesday, [team["kevin"].id], 1)
