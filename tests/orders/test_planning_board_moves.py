"""A visit card dropped on another cell of the board: POST /planning/orders/<key>/move
re-plans the visit through save_plan, with the dialog's refusals, and what a change
sets in motion happens once: the customer's message, the partner's callback, the
calendar, the phones."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from app.orders.deliveries.partner_events import VISIT_RESCHEDULED
from app.orders.mobile.services import local_today
from app.orders.planning.board import week_key
from app.orders.planning.hours import public_holiday
from app.orders.planning.moves import moved_crew
from app.orders.planning.services import PlanRequest, save_plan
from app.platform.extensions import db
from app.platform.models import (
    CalendarEvent,
    CommunicationMessage,
    OutboundDelivery,
    TechnicianSchedule,
    Visit,
    VisitNotice,
)
from app.platform.transactions import commit
from tests.support.helpers import csrf_token_from
from tests.support.jobs import drain_queues
from tests.support.partner_support import make_partner
from tests.support.planning_support import approved_order, working_day


@pytest.fixture
def planner(make_user, auth):
    user = make_user("team_lead", language="nl")
    auth.login(user.email)
    return user


@pytest.fixture
def tech(make_user):
    user = make_user("technician", skills=["alfen"], language="nl")
    user.name = "Daan Mulder"
    db.session.commit()
    return user


@pytest.fixture
def ruben(make_user):
    user = make_user("technician", skills=["alfen", "easee"], language="nl")
    user.name = "Ruben de Jong"
    db.session.commit()
    return user


def _days():
    """Two working days ahead in one week: where a visit is, and where it is dropped."""
    offset = 7
    while True:
        day = working_day(offset)
        later = [
            day + timedelta(days=n)
            for n in range(1, 5 - day.weekday())
            if not public_holiday(day + timedelta(days=n))
        ]
        if later:
            return day, later[0]
        offset = (day - local_today()).days + 1


def _planned(planner, technicians, day, number="CC-2026-00801", **fields):
    order = approved_order(number, **fields)
    save_plan(
        order,
        PlanRequest(
            day=day,
            window_start=time(9),
            window_end=time(12),
            technician_ids=tuple(t.id for t in technicians),
            duration_minutes=150,
            materials="1× Alfen Eve\nKabel 10 m",
            technician_notes="Bel aan bij de achterdeur",
            seen_version=0,
        ),
        planner,
        local_today(),
    )
    commit()
    return order


def _move(client, order, technician, to_day, version=1, **fields):
    """Drop ``order``'s card (an order, or just its number) on ``technician``'s ``to_day``;
    ``fields`` add to the form or replace what it says."""
    number = getattr(order, "order_number", order)
    token = csrf_token_from(client.get("/planning/").get_data(as_text=True))
    form = {
        "technician_id": str(technician.id),
        "day": to_day.isoformat(),
        "version": str(version),
        "week": week_key(to_day - timedelta(days=to_day.weekday())),
        **fields,
    }
    return client.post(
        f"/planning/orders/{number}/move",
        data=form,
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )


def _visit(order) -> Visit:
    db.session.expire_all()
    return db.session.scalar(sa.select(Visit).where(Visit.order_id == order.id))


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_dropped_card_moves_the_visit_and_tells_everyone_once(
    app, client, planner, tech, ruben, monkeypatch
):
    pushes = []
    monkeypatch.setattr("app.orders.mobile.listeners.push_enabled", lambda: True)
    monkeypatch.setattr("app.orders.mobile.listeners.has_subscription", lambda user_id: True)
    monkeypatch.setattr(
        "app.orders.mobile.listeners.enqueue",
        lambda path, *args, **kw: pushes.append((path.rsplit(".", 1)[-1], args[1])),
    )
    calendar_syncs = []
    original_sync = __import__(
        "app.orders.calendar_sync.listeners", fromlist=["queue_visit_sync"]
    ).queue_visit_sync
    monkeypatch.setattr(
        "app.orders.calendar_sync.listeners.queue_visit_sync",
        lambda order_id: (calendar_syncs.append(order_id), original_sync(order_id)),
    )
    partner = make_partner(
        webhook_url="https://partner.example/hook",
        webhook_events=["visit_scheduled", VISIT_RESCHEDULED],
    )
    day, later = _days()
    order = _planned(
        planner, [tech], day, partner_organization_id=partner.organization.id, partner_order_id="M1"
    )
    drain_queues(app)
    before = {
        "messages": _count(CommunicationMessage),
        "deliveries": _count(OutboundDelivery),
        "notices": _count(VisitNotice),
    }
    pushes.clear()
    calendar_syncs.clear()

    answer = _move(client, order, ruben, later, from_technician_id=str(tech.id))
    assert answer.status_code == 200, answer.get_json()
    monday = later - timedelta(days=later.weekday())
    assert answer.get_json() == {
        "success": True,
        "moved": True,
        "location": f"/planning/?week={week_key(monday)}",
    }
    drain_queues(app)

    visit = _visit(order)
    assert visit.version == 2 and visit.scheduled_date == later
    assert visit.technician_ids == [ruben.id]
    # What the planner did not touch is kept.
    assert (visit.window_start, visit.window_end, visit.duration_minutes) == (
        time(9),
        time(12),
        150,
    )
    assert visit.materials == "1× Alfen Eve\nKabel 10 m"
    assert visit.technician_notes == "Bel aan bij de achterdeur"
    # Once each: the customer's message, the partner's callback, the calendar, the phones.
    assert _count(CommunicationMessage) == before["messages"] + 1
    assert _count(OutboundDelivery) == before["deliveries"] + 1
    assert _count(VisitNotice) == before["notices"] + 1
    notice = db.session.scalars(sa.select(VisitNotice).order_by(VisitNotice.version.desc())).first()
    assert (notice.version, notice.kind) == (2, "moved")
    callback = db.session.scalars(
        sa.select(OutboundDelivery).order_by(OutboundDelivery.created_at.desc())
    ).first()
    assert callback.event_type == VISIT_RESCHEDULED
    assert callback.payload["visit"]["date"] == later.isoformat()
    assert calendar_syncs == [order.id]
    live = db.session.scalars(
        sa.select(CalendarEvent).where(
            CalendarEvent.order_id == order.id, CalendarEvent.cancelled_at.is_(None)
        )
    ).all()
    assert [row.technician_id for row in live] == [ruben.id]
    assert sorted(pushes) == sorted(
        [("push_visit_planned", str(ruben.id)), ("push_visit_withdrawn", str(tech.id))]
    )
    # The board the planner goes back to says where the visit went.
    page = client.get(answer.get_json()["location"]).get_data(as_text=True)
    assert f"{order.order_number} verplaatst: Ruben de Jong" in page


def test_a_technician_without_the_skill_is_refused_with_the_reason(
    app, client, planner, tech, make_user
):
    easee_only = make_user("technician", skills=["easee"], language="nl")
    day, later = _days()
    order = _planned(planner, [tech], day)
    notices = _count(VisitNotice)
    answer = _move(client, order, easee_only, later, override="1")
    assert answer.status_code == 422
    error = answer.get_json()["error"]
    assert error["code"] == "plan_refused" and error["may_override"] is False
    assert [p["code"] for p in error["problems"]] == ["skill"]
    assert "Niemand op dit bezoek heeft de vaardigheid alfen" in error["message"]
    visit = _visit(order)
    assert (visit.version, visit.scheduled_date, visit.technician_ids) == (1, day, [tech.id])
    assert _count(VisitNotice) == notices


def test_a_soft_problem_asks_first_and_moves_with_override(app, client, planner, tech, ruben):
    db.session.add(
        TechnicianSchedule(
            user_id=ruben.id,
            weekly_hours={d: ["07:00", "11:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        )
    )
    db.session.commit()
    day, later = _days()
    order = _planned(planner, [tech], day)
    asked = _move(client, order, ruben, later)
    assert asked.status_code == 422
    error = asked.get_json()["error"]
    assert error["may_override"] is True
    assert [p["code"] for p in error["problems"]] == ["outside_hours"]
    assert "buiten de werktijd" in error["message"]
    assert _visit(order).version == 1
    answer = _move(client, order, ruben, later, override="1")
    assert answer.status_code == 200, answer.get_json()
    visit = _visit(order)
    assert (visit.version, visit.scheduled_date, visit.technician_ids) == (2, later, [ruben.id])


def test_a_stale_version_is_refused_as_someone_elses_change(app, client, planner, tech, ruben):
    day, later = _days()
    order = _planned(planner, [tech], day)
    assert _move(client, order, ruben, later, version=1).status_code == 200
    stale = _move(client, order, tech, day, version=1)
    assert stale.status_code == 409
    assert stale.get_json()["error"]["code"] == "plan_changed"
    assert (
        "Iemand anders heeft deze planning intussen gewijzigd"
        in (stale.get_json()["error"]["message"])
    )
    visit = _visit(order)
    assert (visit.version, visit.scheduled_date, visit.technician_ids) == (2, later, [ruben.id])


@pytest.mark.parametrize(
    ("change", "field", "dutch"),
    [
        ({"technician_id": "nobody"}, "technician_id", "Monteur:"),
        ({"day": "morgen"}, "day", "Dag:"),
        ({"day": "outside"}, "day", "Dag: niet in de week van het bord"),
        ({"version": "abc"}, "version", "Versie:"),
        ({"week": "2026-W99"}, "week", "Week:"),
        ({"from_technician_id": "x"}, "from_technician_id", "Van monteur:"),
        ({"from_technician_id": "other"}, "from_technician_id", "Van monteur:"),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    app, client, planner, tech, ruben, make_user, change, field, dutch
):
    day, later = _days()
    order = _planned(planner, [tech], day)
    if change.get("day") == "outside":
        change = {"day": (day + timedelta(days=7)).isoformat()}
    if change.get("from_technician_id") == "other":
        change = {"from_technician_id": str(make_user("technician").id)}
    answer = _move(client, order, ruben, later, **change)
    assert answer.status_code == 400, answer.get_json()
    error = answer.get_json()["error"]
    assert list(error["fields"]) == [field]
    assert dutch in error["message"], error["message"]
    assert _visit(order).version == 1


def test_an_order_that_does_not_exist_is_404(app, client, planner, ruben):
    day, _later = _days()
    answer = _move(client, "CC-2026-00899", ruben, day)
    assert answer.status_code == 404
    assert answer.get_json()["error"]["message"] == "Er is geen order met dat id of nummer."


def test_technicians_may_not_move_visits(app, client, auth, planner, tech, ruben):
    day, later = _days()
    order = _planned(planner, [tech], day)
    auth.logout()
    auth.login(tech.email)
    token = csrf_token_from(client.get("/m/").get_data(as_text=True))
    answer = client.post(
        f"/planning/orders/{order.order_number}/move",
        data={
            "technician_id": str(ruben.id),
            "day": later.isoformat(),
            "version": "1",
            "week": week_key(later - timedelta(days=later.weekday())),
        },
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )
    assert answer.status_code == 403
    assert _visit(order).version == 1


def test_the_crew_stays_and_the_technician_whose_cell_it_left_is_replaced(
    app, client, planner, tech, ruben, make_user
):
    kevin = make_user("technician", skills=["alfen"], language="nl")
    day, _later = _days()
    order = _planned(planner, [tech, ruben], day)
    # From Ruben's cell (not the lead's) to Kevin's: Daan still leads, Kevin comes along.
    answer = _move(client, order, kevin, day, from_technician_id=str(ruben.id))
    assert answer.status_code == 200, answer.get_json()
    assert _visit(order).technician_ids == [tech.id, kevin.id]
    # Without a cell named, the lead is replaced; dropped on a crew member, that one leads.
    assert _move(client, order, kevin, day, version=2).status_code == 200
    assert _visit(order).technician_ids == [kevin.id]


def test_moved_crew():
    lead, mate, other = "lead", "mate", "other"
    assert moved_crew((lead, mate), None, other) == (other, mate)
    assert moved_crew((lead, mate), mate, other) == (lead, other)
    assert moved_crew((lead, mate), None, mate) == (mate,)
    assert moved_crew((lead, mate), mate, lead) == (lead,)
    assert moved_crew((), None, other) == (other,)


def test_a_same_day_swap_tells_the_phones_and_the_calendar_not_the_customer(
    app, client, planner, tech, ruben
):
    """As the dialog's save: the customer and the partner hear of a new day or window,
    not of which technician comes."""
    day, _later = _days()
    order = _planned(planner, [tech], day)
    drain_queues(app)
    messages, deliveries = _count(CommunicationMessage), _count(OutboundDelivery)
    answer = _move(client, order, ruben, day)
    assert answer.status_code == 200, answer.get_json()
    drain_queues(app)
    assert (_count(CommunicationMessage), _count(OutboundDelivery)) == (messages, deliveries)
    live = db.session.scalars(
        sa.select(CalendarEvent.technician_id).where(
            CalendarEvent.order_id == order.id, CalendarEvent.cancelled_at.is_(None)
        )
    ).all()
    assert live == [ruben.id]


def test_the_board_offers_planned_cards_to_move_with_their_version(
    app, client, planner, tech, ruben
):
    day, _later = _days()
    order = _planned(planner, [tech], day)
    monday = day - timedelta(days=day.weekday())
    page = client.get(f"/planning/?week={week_key(monday)}").get_data(as_text=True)
    stop = page[page.index(f'data-visit-order="{order.order_number}"') :][:1500]
    assert f'data-move-url="/planning/orders/{order.order_number}/move"' in stop
    assert 'data-version="1"' in stop and "is-fixed" not in page[page.index(stop) - 80 :][:80]
    assert 'tabindex="0"' in stop and "Verplaats" in page
    assert f'data-technician-id="{ruben.id}"' in page
    assert 'data-testid="board-move-status"' in page and 'aria-live="polite"' in page
    assert "vendor/sortablejs/Sortable-1.15.7.min.js" in page
