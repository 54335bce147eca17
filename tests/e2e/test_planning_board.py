"""A manager plans an unplanned order from the week board at 1440×900; the board
scrolls in its own box at 375 wide. Screenshots of the board and of the order page's
planning section go to docs/screenshots/ (or SCREENSHOT_DIR)."""

from __future__ import annotations

import os
import re
from datetime import time, timedelta
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import expect

from app.orders.mobile.services import local_today
from app.orders.planning.board import week_key
from app.orders.planning.services import PlanRequest, save_plan
from app.platform.extensions import db
from app.platform.models import Order, TechnicianAbsence, TechnicianSchedule
from app.platform.models.enums import OrderStatus
from app.platform.transactions import commit
from tests.e2e.test_admin_pages import sign_in_dutch
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support.planning_support import approved_order, working_day

SHOTS = Path(
    os.environ.get("SCREENSHOT_DIR") or Path(__file__).resolve().parents[2] / "docs/screenshots"
)


def _team(make_user):
    names = (
        ("Daan Mulder", ["alfen", "zaptec", "3-fase"]),
        ("Ruben de Jong", ["easee", "alfen"]),
        ("Kevin Hendriks", ["alfen", "myenergi"]),
    )
    team = []
    for name, skills in names:
        user = make_user("technician", skills=skills, language="nl")
        user.name = name
        team.append(user)
    db.session.commit()
    return team


def _week(manager, team, monday):
    """A believable week: visits on most days, a day off, a short-hours technician."""
    daan, ruben, kevin = team
    db.session.add(
        TechnicianSchedule(
            user_id=kevin.id,
            weekly_hours={
                **{d: ["08:00", "13:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
                "sat": None,
                "sun": None,
            },
        )
    )
    db.session.add(
        TechnicianAbsence(
            user_id=ruben.id,
            starts_on=monday + timedelta(days=3),
            ends_on=monday + timedelta(days=3),
            reason="verlof",
        )
    )
    db.session.commit()
    plans = [
        (daan, 0, (8, 0), (10, 30)),
        (daan, 0, (11, 0), (13, 30)),
        (daan, 1, (13, 0), (16, 0)),
        (ruben, 1, (8, 0), (12, 0)),
        (ruben, 2, (9, 0), (11, 0)),
        (kevin, 2, (8, 0), (10, 0)),
        (daan, 4, (8, 0), (12, 0)),
    ]
    for index, (tech, offset, start, end) in enumerate(plans):
        order = approved_order(f"CC-2026-{500 + index:05d}")
        order.installation_address.postal_code = f"{3511 + index * 137} AB"
        save_plan(
            order,
            PlanRequest(
                day=monday + timedelta(days=offset),
                window_start=time(*start),
                window_end=time(*end),
                technician_ids=(tech.id,),
                duration_minutes=(end[0] - start[0]) * 60 + end[1] - start[1],
                materials=None,
                technician_notes=None,
                seen_version=0,
                override=True,
            ),
            manager,
            local_today(),
        )
        commit()


def _waiting_orders():
    """Approved orders nobody planned yet, with the customer's wishes."""
    wishes = (
        ("2026-12-07", "ochtend (08:00-12:00)", "Graag na 9 uur, kinderen naar school."),
        ("2026-12-09", "middag (12:00-17:00)", None),
        (None, "hele dag beschikbaar", "Laadpaal aan de zijgevel, 15 m kabel."),
    )
    orders = []
    for index, (preferred, window, notes) in enumerate(wishes):
        preferences = {"time_window": window}
        if preferred:
            preferences["preferred_date"] = preferred
        if notes:
            preferences["notes"] = notes
        orders.append(
            approved_order(
                f"CC-2026-{600 + index:05d}",
                preferences=preferences,
                contact_fields={
                    "display_name": ("Eva de Boer", "Sem Visser", "Noor Bakker")[index]
                },
            )
        )
    return orders


def _no_sideways_scroll(page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"page is {scroll}px wide on a {width}px screen"


def test_a_manager_plans_an_unplanned_order_from_the_board(live_server, browser, make_user):
    manager = make_user("manager", email="manager@switchboard.test", language="nl")
    manager.name = "Marieke Bos"
    team = _team(make_user)
    day = working_day(7)
    monday = day - timedelta(days=day.weekday())
    _week(manager, team, monday)
    waiting = _waiting_orders()
    week = week_key(monday)
    SHOTS.mkdir(parents=True, exist_ok=True)

    # A Dutch planner's browser: date and time fields in Dutch form.
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in_dutch(page, live_server.url, manager.email)
        page.goto(f"{live_server.url}/planning/?week={week}")
        board = page.get_by_test_id("board")
        expect(board.get_by_test_id("board-row")).to_have_count(3)
        expect(page.get_by_test_id("unplanned-order")).to_have_count(3)
        _no_sideways_scroll(page, 1440)

        # Plan the oldest waiting order: Ruben on Wednesday afternoon.
        first = page.get_by_test_id("unplanned-order").filter(has_text=waiting[0].order_number)
        first.get_by_test_id("plan-open").click()
        dialog = page.get_by_test_id("plan-dialog")
        expect(dialog.get_by_test_id("plan-form")).to_be_visible()
        wednesday = monday + timedelta(days=2)
        dialog.locator('input[name="date"]').fill(wednesday.isoformat())
        dialog.locator('input[name="window_start"]').fill("13:00")
        dialog.locator('input[name="window_end"]').fill("16:00")
        dialog.get_by_label(re.compile("Ruben de Jong")).check()
        dialog.get_by_test_id("plan-submit").click()

        expect(page).to_have_url(re.compile(rf"/planning/\?week={week}$"))
        row = page.locator('[data-testid="board-row"][data-technician="Ruben de Jong"]')
        cell = row.locator(f'td[data-day="{wednesday.isoformat()}"]')
        expect(cell).to_contain_text(waiting[0].order_number)
        expect(cell).to_contain_text("13:00-16:00")
        expect(page.get_by_test_id("unplanned-order")).to_have_count(2)
        _no_sideways_scroll(page, 1440)
        page.screenshot(path=str(SHOTS / "planning-board.png"), full_page=False)

        # A double booking is refused on the board, with the reason in Dutch.
        second = page.get_by_test_id("unplanned-order").first
        # The board was loaded anew by the plan above: a click before htmx has bound the
        # button does nothing (a loaded CI machine runs the deferred scripts late).
        page.wait_for_load_state("load")
        page.wait_for_function("() => window.htmx !== undefined")
        second.get_by_test_id("plan-open").click()
        dialog.locator('input[name="date"]').fill(wednesday.isoformat())
        dialog.locator('input[name="window_start"]').fill("14:00")
        dialog.locator('input[name="window_end"]').fill("15:00")
        dialog.get_by_label(re.compile("Ruben de Jong")).check()
        dialog.get_by_test_id("plan-submit").click()
        expect(page.get_by_test_id("plan-problems")).to_contain_text(
            f"Ruben de Jong heeft al {waiting[0].order_number}"
        )

        # The order page's planning section, loaded into the page.
        page.goto(f"{live_server.url}/orders/{waiting[0].order_number}")
        section = page.get_by_test_id("order-planning")
        expect(section.get_by_test_id("plan-current")).to_contain_text("13:00-16:00")
        expect(section.get_by_test_id("plan-preferences")).to_contain_text("Voorkeursdatum")
        section.scroll_into_view_if_needed()
        section.screenshot(path=str(SHOTS / "order-planning.png"))

        # The job needs a second day: added from the section, planned on Friday.
        page.wait_for_function("() => window.htmx !== undefined")
        expect(section.get_by_test_id("plan-slots")).to_be_visible()
        section.locator('select[name="purpose"]').select_option("second_day")
        section.get_by_test_id("plan-add-visit-submit").click()
        expect(page).to_have_url(re.compile(r"\?visit=2#planning$"))
        section = page.get_by_test_id("order-planning")
        visits = section.get_by_test_id("plan-visits")
        expect(visits).to_contain_text("Bezoek 2 van 2 · tweede dag")
        expect(visits.get_by_test_id("plan-visit-2")).to_contain_text("niet ingepland")
        # Its best slots load into the section after it: wait, or the form moves under
        # the pointer while they arrive.
        expect(section.get_by_test_id("plan-slots")).to_be_visible()
        friday = monday + timedelta(days=4)
        section.locator('input[name="date"]').fill(friday.isoformat())
        section.locator('input[name="window_start"]').fill("13:00")
        section.locator('input[name="window_end"]').fill("16:00")
        section.get_by_label(re.compile("Ruben de Jong")).check()
        section.get_by_test_id("plan-submit").click()
        section = page.get_by_test_id("order-planning")
        expect(section.get_by_test_id("plan-slots")).to_be_visible()
        expect(section.get_by_test_id("plan-visit-2")).to_contain_text(friday.strftime("%d"))
        expect(section.get_by_test_id("plan-current")).to_contain_text("13:00-16:00")
        section.scroll_into_view_if_needed()
        section.screenshot(path=str(SHOTS / "planning-visits.png"))

        # Each visit on its own day of the board, the order's number marked 1/2 and 2/2.
        page.goto(f"{live_server.url}/planning/?week={week}")
        row = page.locator('[data-testid="board-row"][data-technician="Ruben de Jong"]')
        for on, mark in ((wednesday, "1/2"), (friday, "2/2")):
            stop = row.locator(f'td[data-day="{on.isoformat()}"] [data-testid="board-stop"]')
            mine = stop.filter(has_text=waiting[0].order_number)
            expect(mine.get_by_test_id("visit-of")).to_have_text(mark)
    finally:
        context.close()

    db.session.expire_all()
    order = db.session.scalar(sa.select(Order).where(Order.order_number == waiting[0].order_number))
    # Still scheduled by its first visit; its day stays the first visit's.
    assert order.status == OrderStatus.SCHEDULED and order.scheduled_date == wednesday
    days = [v.scheduled_date for v in sorted(order.visits, key=lambda v: v.number)]
    assert days == [wednesday, friday]


def test_the_board_scrolls_in_its_own_box_on_a_phone(live_server, browser, make_user):
    manager = make_user("manager", email="manager@switchboard.test", language="nl")
    team = _team(make_user)
    day = working_day(7)
    monday = day - timedelta(days=day.weekday())
    _week(manager, team, monday)
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in_dutch(page, live_server.url, manager.email)
        page.goto(f"{live_server.url}/planning/?week={week_key(monday)}")
        expect(page.get_by_test_id("board")).to_be_visible()
        _no_sideways_scroll(page, 375)
        box = page.get_by_test_id("board-scroll")
        assert box.evaluate("el => el.scrollWidth > el.clientWidth")
        page.screenshot(path=str(SHOTS / "planning-board-375.png"), full_page=False)
    finally:
        context.close()


def test_a_saturday_visit_has_a_full_column_and_an_empty_sunday_a_narrow_one(
    live_server, browser, make_user
):
    """The week runs to Sunday; a weekend day is narrow until a visit is on
    it, and the plan dialog plans a Saturday as it plans a weekday ("plan anyway")."""
    manager = make_user("manager", email="manager@switchboard.test", language="nl")
    manager.name = "Marieke Bos"
    team = _team(make_user)
    ruben = team[1]
    day = working_day(7)
    monday = day - timedelta(days=day.weekday())
    saturday, sunday = monday + timedelta(days=5), monday + timedelta(days=6)
    _week(manager, team, monday)
    waiting = _waiting_orders()
    week = week_key(monday)
    SHOTS.mkdir(parents=True, exist_ok=True)

    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in_dutch(page, live_server.url, manager.email)
        page.goto(f"{live_server.url}/planning/?week={week}")
        head = page.get_by_test_id("board").locator("thead")

        def width(when) -> float:
            return head.locator(f'th[data-day="{when.isoformat()}"]').bounding_box()["width"]

        # Nothing on the weekend yet: both its columns narrow, the weekdays full.
        assert width(saturday) < 64 and width(sunday) < 64, (width(saturday), width(sunday))
        assert width(monday) > 120
        _no_sideways_scroll(page, 1440)

        # Ruben agreed to a Saturday: planned from the dialog, over the warning.
        page.wait_for_function("() => window.htmx !== undefined")
        first = page.get_by_test_id("unplanned-order").filter(has_text=waiting[0].order_number)
        first.get_by_test_id("plan-open").click()
        dialog = page.get_by_test_id("plan-dialog")
        dialog.locator('input[name="date"]').fill(saturday.isoformat())
        dialog.locator('input[name="window_start"]').fill("09:00")
        dialog.locator('input[name="window_end"]').fill("12:00")
        dialog.locator('input[name="duration_minutes"]').fill("180")
        dialog.get_by_label(re.compile("Ruben de Jong")).check()
        dialog.get_by_test_id("plan-submit").click()
        expect(page.get_by_test_id("plan-problems")).to_be_visible()
        page.get_by_test_id("plan-override").check()
        page.get_by_test_id("plan-submit").click()

        expect(page).to_have_url(re.compile(rf"/planning/\?week={week}$"))
        row = page.locator('[data-testid="board-row"][data-technician="Ruben de Jong"]')
        cell = row.locator(f'td[data-day="{saturday.isoformat()}"]')
        expect(cell).to_contain_text(waiting[0].order_number)
        expect(cell).to_contain_text("09:00-12:00")
        expect(cell.get_by_test_id("cell-load")).to_have_text(re.compile(r"3\s*/\s*0\s*u"))
        # Ruben's week: Mon–Fri 08:00–17:00 but Thursday off (36 h), 6 h planned, and
        # the Saturday's 3 h.
        expect(row.get_by_test_id("week-load")).to_have_text(re.compile(r"Week: 9\s*/\s*36\s*u"))
        # The Saturday is a full column now; the empty Sunday stays narrow.
        assert width(saturday) > 120 and width(saturday) >= width(monday) * 0.9
        assert width(sunday) < 64
        _no_sideways_scroll(page, 1440)
        page.screenshot(path=str(SHOTS / "planning-board-saturday.png"), full_page=False)
    finally:
        context.close()

    db.session.expire_all()
    order = db.session.scalar(sa.select(Order).where(Order.order_number == waiting[0].order_number))
    assert order.status == OrderStatus.SCHEDULED and order.scheduled_date == saturday
    assert order.visit.technician_ids == [ruben.id]
