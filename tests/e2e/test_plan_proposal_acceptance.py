"""A team lead has next week proposed, accepts one day of it and moves a visit.

On the deployment a customer runs (``python wsgi.py`` and two ``python worker.py`` on
PostgreSQL and Redis; Microsoft Graph and the partner's receiver as fakes), at 1440×900
in Dutch. Three technicians start from their bases around Utrecht; Kevin is trained on
Easee only, and every order needs an Alfen charger. Eight customers wait nearby (one
address not on the map), five of them a partner's, all reachable by e-mail:

a) the team lead opens next week's board and asks "Plan voorstellen";
b) sees the proposal being made, then its dashed cards and its driving figures
   (docs/screenshots/planning-proposal.png, or SCREENSHOT_DIR);
c) accepts the busiest day;
d) drags one of its visits to Kevin: refused (Kevin lacks the Alfen skill), the reason
   read out, the card back in its cell;
e) carries it by keyboard to the other Alfen technician, on the nearest other day.

Then, the workers done: per accepted visit exactly one partner callback (its partner's
orders), one customer message and one calendar event; the move adds one of each (a new
day: the customer's "moved" message, the partner's ``visit_rescheduled``, and the event
created in the new technician's calendar, the old one's deleted); nothing twice.
"""

from __future__ import annotations

import os
import re
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.orders.mobile.services import local_today
from app.orders.planning.board import week_key
from app.orders.planning.hours import public_holiday
from app.platform.extensions import db
from app.platform.models import PlanProposal, ProposalVisit, Visit
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL
from tests.e2e.test_admin_pages import sign_in_dutch
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support.proposal_support import (
    PLACES,
    app_beside_deployment,
    customer_order,
    graph_for_deployment,
    outlook_channel,
    partner_calling_back,
    partner_receiver,
    technician,
    told,
    workers_idle,
)
from tests.support.topology import wait_until

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

SHOTS = Path(
    os.environ.get("SCREENSHOT_DIR") or Path(__file__).resolve().parents[2] / "docs/screenshots"
)
SETTLE_SECONDS = 60.0
CUSTOMERS = (
    "Eva de Boer",
    "Sem Visser",
    "Noor Bakker",
    "Lotte Smit",
    "Bram Peters",
    "Fenna Kok",
    "Milan Vos",
    "Sara Jansen",
)
PARTNER_ORDERS = 5  # the first five customers came through the partner
# Noor Bakker asked for the week's first working day, Milan Vos for its third: the
# proposal has more than one day.
WISHES = {2: 0, 6: 2}


graph = pytest.fixture(graph_for_deployment, name="graph")
receiver = pytest.fixture(partner_receiver, name="receiver")
app = pytest.fixture(app_beside_deployment, name="app")


def _cell(page, technician, day):
    row = page.locator(f'[data-testid="board-row"][data-technician="{technician.name}"]')
    return row.locator(f'td[data-day="{day.isoformat()}"]')


def _card(page, number):
    return page.locator(f'[data-testid="board-stop"][data-visit-order="{number}"]')


def _drag(page, card, cell):
    """Press on the card, move to the cell in steps (as a hand does), let go; the
    window scrolled so both are in view, and the card let go at the cell's near edge."""
    between = """([card, cell]) => {
      const a = card.getBoundingClientRect(), b = cell.getBoundingClientRect();
      const middle = (Math.min(a.top, b.top) + Math.max(a.bottom, b.bottom)) / 2;
      window.scrollBy(0, middle - innerHeight / 2);
    }"""
    page.evaluate(between, [card.element_handle(), cell.element_handle()])
    start, end = card.bounding_box(), cell.bounding_box()
    below = end["y"] > start["y"]
    drop_y = end["y"] + 12 if below else end["y"] + end["height"] - 12
    assert 0 < start["y"] and 0 < drop_y < page.viewport_size["height"], "out of view"
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + 10)
    page.mouse.down()
    page.mouse.move(start["x"] + start["width"] / 2 + 12, start["y"] + 20, steps=4)
    page.mouse.move(end["x"] + end["width"] / 2, drop_y, steps=20)
    page.mouse.up()


def _ready(page):
    page.wait_for_load_state("load")
    page.wait_for_function("() => window.Sortable !== undefined")


def _arrows_to(page, card, cell) -> list[str]:
    """The arrow keys that walk the board from ``card``'s cell to ``cell``."""
    rows_and_columns = """([stop, target]) => {
      const rows = Array.from(document.querySelectorAll("table.board tbody tr"));
      const where = (cell) => {
        const row = rows.findIndex((r) => r.contains(cell));
        return [row, Array.from(rows[row].querySelectorAll("td.board-cell")).indexOf(cell)];
      };
      return [where(stop.closest("td.board-cell")), where(target)];
    }"""
    (row, column), (to_row, to_column) = page.evaluate(
        rows_and_columns, [card.element_handle(), cell.element_handle()]
    )
    vertical = ["ArrowDown" if to_row > row else "ArrowUp"] * abs(to_row - row)
    horizontal = ["ArrowRight" if to_column > column else "ArrowLeft"] * abs(to_column - column)
    return vertical + horizontal


def _accepted(proposal_id) -> list[ProposalVisit]:
    db.session.expire_all()
    visits = db.session.scalars(
        sa.select(ProposalVisit).where(
            ProposalVisit.proposal_id == proposal_id, ProposalVisit.decision == "accepted"
        )
    ).all()
    db.session.rollback()
    return list(visits)


def test_a_team_lead_accepts_a_proposed_day_and_moves_a_visit(
    app, deployment, browser, graph, receiver, make_user
):
    planner = make_user("team_lead", email="marieke.bos@chargecars.nl", language="nl")
    planner.name = "Marieke Bos"
    daan = technician(make_user, "Daan Mulder", ["alfen"])
    kevin = technician(make_user, "Kevin Hendriks", ["easee"])
    ruben = technician(make_user, "Ruben de Jong", ["alfen"])
    outlook_channel()
    partner = partner_calling_back(receiver)
    today = local_today()
    monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
    days = [d for d in (monday + timedelta(days=n) for n in range(5)) if not public_holiday(d)]
    orders = [
        customer_order(
            f"CC-2026-0120{n + 1}",
            place,
            name,
            partner if n < PARTNER_ORDERS else None,
            preferred_date=days[WISHES[n]] if n in WISHES else None,
        )
        for n, (place, name) in enumerate(zip(PLACES, CUSTOMERS, strict=True))
    ]
    nowhere = customer_order("CC-2026-01209", None, "Daan Dekker")
    by_id = {order.id: order for order in orders}

    topology = deployment(
        **graph.app_config(),
        REQUESTS_CA_BUNDLE=graph.ca_bundle,
        DELIVERY_RETRY_BASE_SECONDS="1",
        PLANNING_SOLVE_SECONDS="3",
    )
    topology.start_web()
    base_url = topology.base_url
    SHOTS.mkdir(parents=True, exist_ok=True)

    context = browser.new_context(
        viewport={"width": 1440, "height": 900}, locale="nl-NL", timezone_id="Europe/Amsterdam"
    )
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    status = page.get_by_test_id("board-move-status")
    try:
        sign_in_dutch(page, base_url, planner.email)

        # a) Next week's board; the proposal offers its working days and the next
        # week's (customers ask a week or two ahead); the planner takes this week only.
        page.goto(f"{base_url}/planning/?week={week_key(monday)}")
        ask = page.get_by_test_id("proposal-ask")
        expect(ask.locator('input[name="first_day"]')).to_have_value(monday.isoformat())
        last_day = ask.locator('input[name="last_day"]')
        expect(last_day).to_have_value((monday + timedelta(days=11)).isoformat())
        last_day.fill((monday + timedelta(days=4)).isoformat())
        ask.get_by_role("button", name="Plan voorstellen").click()

        # b) The proposal waits for a worker, and the bar says so. The workers start
        # now: a solve this small is done before the page loads, and the bar would be
        # seen only by luck.
        progress = page.get_by_test_id("proposal-progress")
        expect(progress.get_by_test_id("proposal-bar")).to_be_visible()
        expect(progress.get_by_test_id("proposal-step")).to_have_text("Wacht op een verwerker")
        topology.start_worker()
        topology.start_worker()
        # The bar's answer, once the proposal is made, brings the board back with it.
        ghosts = page.get_by_test_id("proposal-ghost")
        expect(ghosts).to_have_count(len(orders), timeout=SETTLE_SECONDS * 1000)
        _ready(page)
        expect(page.get_by_test_id("proposal-figures")).to_contain_text(
            f"{len(orders)} bezoeken voorgesteld"
        )
        expect(page.get_by_test_id("proposal-figures")).to_contain_text("km")
        expect(page.get_by_test_id("proposal-saved")).to_contain_text("rijden")
        expect(page.get_by_test_id("proposal-unplanned")).to_contain_text(nowhere.order_number)
        # Kevin is not trained on Alfen: none of his cells has a proposed visit.
        expect(
            page.locator(
                f'[data-testid="board-row"][data-technician="{kevin.name}"]'
            ).get_by_test_id("proposal-ghost")
        ).to_have_count(0)
        page.screenshot(path=str(SHOTS / "planning-proposal.png"), full_page=True)

        # c) The day with the most proposed visits, accepted.
        db.session.expire_all()
        proposal = db.session.get(PlanProposal, uuid.UUID(page.url.split("proposal=")[1]))
        per_day = Counter(visit.day for visit in proposal.visits)
        db.session.rollback()
        day = max(sorted(per_day), key=lambda d: per_day[d])
        page.locator(f'[data-testid="proposal-accept-day"][data-day="{day.isoformat()}"]').click()
        expect(page.locator(".flash")).to_contain_text(
            f"{per_day[day]} bezoek{'en' if per_day[day] > 1 else ''} uit het voorstel ingepland"
        )
        _ready(page)
        accepted = _accepted(proposal.id)
        assert len(accepted) == per_day[day] and {v.day for v in accepted} == {day}
        for visit in accepted:
            expect(_card(page, by_id[visit.order_id].order_number)).to_have_count(1)
        # The other days' visits are still proposed, to accept another time.
        still = page.locator('[data-testid="proposal-ghost"][data-decision="proposed"]')
        expect(still).to_have_count(len(orders) - len(accepted))
        expect(still.first).to_be_visible()

        # d) A partner's visit of that day dragged to Kevin: he lacks the Alfen skill.
        # The card nearest his row, so both are in view: Ruben's first (his row is
        # below Kevin's), else Daan's last.
        moved, lead = _nearest_partner_visit(accepted, by_id, below=ruben, above=daan)
        other = daan if lead is ruben else ruben
        number = by_id[moved.order_id].order_number
        home = _cell(page, lead, day)
        _drag(page, _card(page, number), _cell(page, kevin, day))
        expect(status).to_contain_text(f"{number} is niet verplaatst")
        expect(status).to_contain_text("Niemand op dit bezoek heeft de vaardigheid alfen")
        expect(home.locator(_card(page, number))).to_have_count(1)
        expect(_cell(page, kevin, day)).not_to_contain_text(number)

        # e) By keyboard to the other Alfen technician, the nearest other working day.
        later = next(
            other_day
            for offset in (1, -1, 2, -2, 3, -3, 4, -4)
            if monday <= (other_day := day + timedelta(days=offset)) < monday + timedelta(days=5)
            and other_day >= today
            and not public_holiday(other_day)
        )
        target = _cell(page, other, later)
        card = _card(page, number).get_by_test_id("board-visit")
        card.focus()
        page.keyboard.press("Space")
        expect(status).to_contain_text(f"{number} opgepakt")
        for key in _arrows_to(page, _card(page, number), target):
            page.keyboard.press(key)
        expect(target).to_have_class(re.compile(r"\bis-target\b"))
        page.keyboard.press("Enter")
        expect(page.locator(".flash")).to_contain_text(f"{number} verplaatst: {other.name}")
        _ready(page)
        expect(target.locator(_card(page, number))).to_have_count(1)
    finally:
        context.close()

    # What the workers sent, once they have nothing left to do.
    accepted_ids = {visit.order_id for visit in accepted}
    partners = {order.id for order in orders if order.partner_order_id} & accepted_ids
    expected = {
        "deliveries": Counter({(order_id, "visit_scheduled"): 1 for order_id in partners})
        + Counter({(moved.order_id, "visit_rescheduled"): 1}),
        "undelivered": 0,
        "notices": Counter({(order_id, "planned"): 1 for order_id in accepted_ids})
        + Counter({(moved.order_id, "moved"): 1}),
        "unsent": 0,
        # The moved visit keeps the old technician's row, cancelled, beside the new one's.
        "calendar_rows": Counter(accepted_ids) + Counter([moved.order_id]),
        "calendar_cancelled": 1,
    }
    everyone = (daan, kevin, ruben)
    all_ids = [order.id for order in orders] + [nowhere.id]

    def settled():
        in_calendars = sum(len(graph.events_of(t.email)) for t in everyone)
        return told(all_ids) == expected and in_calendars == len(accepted) and workers_idle(app)

    try:
        wait_until(settled, SETTLE_SECONDS, "the workers done", every=0.25)
    except AssertionError:
        raise AssertionError(f"{told(all_ids)}\n!=\n{expected}\n{topology.report()}") from None

    # The partner: each accepted order's plan called back once, and the move once.
    assert receiver.rejections == []
    callbacks = Counter((e.event, e.payload["partner_order_id"]) for e in receiver.events)
    assert callbacks == Counter(
        {
            (event, by_id[order_id].partner_order_id): n
            for (order_id, event), n in expected["deliveries"].items()
        }
    )
    # The customers: one e-mail per accepted visit, and one for the move.
    assert len(graph.requests_to("/sendMail", "POST")) == len(accepted) + 1
    # The calendars: one event made per accepted visit, and one in the new technician's
    # calendar for the move (the old one's deleted); each visit once, where it is now.
    assert len(graph.requests_to("/events", "POST")) == len(accepted) + 1
    assert sum(graph.events_created.values()) == len(accepted) + 1
    planned_for = {v.order_id: (uuid.UUID(v.technician_ids[0]), v.day) for v in accepted}
    planned_for[moved.order_id] = (other.id, later)
    db.session.expire_all()
    for order_id, (technician_id, planned_day) in planned_for.items():
        visit = db.session.scalar(sa.select(Visit).where(Visit.order_id == order_id))
        assert (visit.technician_ids, visit.scheduled_date) == ([technician_id], planned_day)
        [owner] = [t for t in everyone if t.id == technician_id]
        number = by_id[order_id].order_number
        [event] = [e for e in graph.events_of(owner.email) if number in e["subject"]]
        assert event["start"]["dateTime"].startswith(planned_day.isoformat())


def _nearest_partner_visit(accepted, by_id, *, below, above):
    """A partner's accepted visit and its technician: the first of ``below``'s day,
    else the last of ``above``'s."""
    for person, latest_first in ((below, False), (above, True)):
        theirs = sorted(
            (v for v in accepted if v.technician_ids[0] == str(person.id)),
            key=lambda v: v.window_start,
            reverse=latest_first,
        )
        for visit in theirs:
            if by_id[visit.order_id].partner_order_id:
                return visit, person
    raise AssertionError("no partner's order among the accepted visits")
