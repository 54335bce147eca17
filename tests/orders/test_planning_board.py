"""The planning board: a week of technicians × days with visits,
load and days off, the orders still to plan, and planning from it; technicians'
hours and days off."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.orders.mobile.services import local_today
from app.orders.planning.board import week_key
from app.orders.planning.hours import public_holiday
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import Order, TechnicianAbsence, TechnicianSchedule
from app.platform.models.enums import OrderStatus
from tests.support.helpers import csrf_token_from
from tests.support.planning_support import approved_order, plan_form, working_day


@pytest.fixture
def manager(make_user, auth):
    user = make_user("manager", language="nl")
    auth.login(user.email)
    return user


@pytest.fixture
def tech(make_user):
    return make_user("technician", skills=["alfen"], language="nl")


def _token(client, path="/planning/"):
    return csrf_token_from(client.get(path).get_data(as_text=True))


def _plan(client, order, form):
    token = _token(client, f"/planning/orders/{order.order_number}")
    return client.post(f"/planning/orders/{order.order_number}", data={**form, "csrf_token": token})


def test_the_board_shows_visits_load_days_off_and_what_is_left_to_plan(app, client, manager, tech):
    day = working_day()
    planned = approved_order("CC-2026-00301")
    approved_order(
        "CC-2026-00302", preferences={"preferred_date": "2026-12-03", "time_window": "middag"}
    )
    assert _plan(client, planned, plan_form([tech], day, "08:00", "12:00")).status_code == 303
    off = day + timedelta(days=1)
    db.session.add(TechnicianAbsence(user_id=tech.id, starts_on=off, ends_on=off, reason="cursus"))
    db.session.commit()
    monday = day - timedelta(days=day.weekday())
    page = client.get(f"/planning/?week={week_key(monday)}").get_data(as_text=True)
    row = page[page.index(f'data-technician="{tech.name}"') :]
    row = row[: row.index("</tr>")]
    cell = row[row.index(f'data-day="{day.isoformat()}"') :]
    cell = cell[: cell.index("</td>")]
    assert "CC-2026-00301" in cell and "08:00-12:00" in cell and "3511" in cell
    assert re.search(r"2\s*/\s*9\s*u", cell)  # 2 h planned of a 08:00–17:00 day
    if off.weekday() < 5:
        off_cell = row[row.index(f'data-day="{off.isoformat()}"') :]
        assert "is-off" in row[row.index(f'data-day="{off.isoformat()}"') - 60 :][:80]
        assert "cursus" in off_cell[: off_cell.index("</td>")]
    side = page[page.index('data-testid="unplanned"') :]
    assert "CC-2026-00302" in side and "CC-2026-00301" not in side
    assert "voorkeur do 03 dec 2026" in side and "middag" in side
    # Weeks to either side.
    assert f"week={week_key(monday - timedelta(days=7))}" in page
    assert f"week={week_key(monday + timedelta(days=7))}" in page


def test_planning_from_the_board_returns_to_the_board_and_refusals_stay_on_it(
    app, client, manager, tech
):
    order = approved_order("CC-2026-00303")
    day = working_day()
    week = week_key(day - timedelta(days=day.weekday()))
    dialog = client.get(
        f"/planning/orders/{order.order_number}?from=board&week={week}",
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert 'name="from" value="board"' in dialog and f'value="{week}"' in dialog
    token = _token(client)
    refused = client.post(
        f"/planning/orders/{order.order_number}",
        data={
            **plan_form([tech], day, "18:00", "20:00"),
            "from": "board",
            "week": week,
            "csrf_token": token,
        },
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'data-testid="board"' in page and 'data-code="outside_hours"' in page
    answer = client.post(
        f"/planning/orders/{order.order_number}",
        data={**plan_form([tech], day), "from": "board", "week": week, "csrf_token": token},
    )
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/planning/?week={week}")
    db.session.expire_all()
    assert db.session.scalar(sa.select(Order.status)) == OrderStatus.SCHEDULED


def test_the_board_is_in_the_navigation_of_planners_only(app, client, auth, make_user):
    agent = make_user("agent", language="nl")
    auth.login(agent.email)
    assert 'href="/planning/"' in client.get("/inbox").get_data(as_text=True)
    auth.logout()
    tech = make_user("technician", language="nl")
    auth.login(tech.email)
    assert 'href="/planning/"' not in client.get("/m/").get_data(as_text=True)
    assert client.get("/planning/").status_code == 403


def test_a_manager_sets_working_hours_and_days_off(app, client, manager, tech):
    path = f"/planning/technicians/{tech.id}"
    token = _token(client, path)
    bad = client.post(
        f"{path}/hours", data={"mon_start": "17:00", "mon_end": "08:00", "csrf_token": token}
    )
    assert bad.status_code == 422
    assert "Maandag: het einde moet na het begin liggen" in bad.get_data(as_text=True)
    form = {"csrf_token": token, "mon_start": "07:00", "mon_end": "15:30"}
    form.update({f"{d}_start": "08:00" for d in ("tue", "wed", "thu", "fri")})
    form.update({f"{d}_end": "17:00" for d in ("tue", "wed", "thu", "fri")})
    assert client.post(f"{path}/hours", data=form).status_code == 303
    hours = db.session.scalar(sa.select(TechnicianSchedule.weekly_hours))
    assert hours["mon"] == ["07:00", "15:30"] and hours["sat"] is None
    day = working_day()
    missing = client.post(
        f"{path}/absences",
        data={"starts_on": day.isoformat(), "ends_on": "", "reason": "", "csrf_token": token},
    )
    page = missing.get_data(as_text=True)
    assert missing.status_code == 422
    assert "Tot en met: kies een dag" in page and "Reden: tussen 1 en 200 tekens" in page
    added = client.post(
        f"{path}/absences",
        data={
            "starts_on": day.isoformat(),
            "ends_on": day.isoformat(),
            "reason": "verlof",
            "csrf_token": token,
        },
    )
    assert added.status_code == 303
    assert "verlof" in client.get(path).get_data(as_text=True)


def test_team_leads_plan_but_do_not_set_hours(app, client, auth, make_user, tech):
    lead = make_user("team_lead", language="nl")
    auth.login(lead.email)
    assert client.get("/planning/").status_code == 200
    assert client.get(f"/planning/technicians/{tech.id}").status_code == 403


def _saturday_after(day):
    return day + timedelta(days=(5 - day.weekday()) % 7)


def _column(page: str, tech_name: str, day) -> str:
    row = page[page.index(f'data-technician="{tech_name}"') :]
    row = row[: row.index("</tr>")]
    cell = row[row.rindex("<td", 0, row.index(f'data-day="{day.isoformat()}"')) :]
    return cell[: cell.index("</td>")]


def _head(page: str, day) -> str:
    head = page[page.index("<thead>") : page.index("</thead>")]
    th = head[head.rindex("<th", 0, head.index(f'data-day="{day.isoformat()}"')) :]
    return th[: th.index("</th>")]


def test_a_saturday_visit_is_in_its_column_and_in_the_technicians_load(app, client, manager, tech):
    """A visit planned on a Saturday over the rules stays on the board."""
    saturday = _saturday_after(working_day())
    if public_holiday(saturday):
        pytest.skip("that Saturday is a public holiday")
    sunday = saturday + timedelta(days=1)
    monday = saturday - timedelta(days=5)
    week = week_key(monday)
    order = approved_order("CC-2026-00311")
    form = {**plan_form([tech], saturday, "09:00", "11:00"), "from": "board", "week": week}
    # Saturday is no working day of the default schedule: "plan anyway", as on a weekday.
    assert _plan(client, order, form).status_code == 422
    answer = _plan(client, order, {**form, "override": "1"})
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/planning/?week={week}")

    page = client.get(f"/planning/?week={week}").get_data(as_text=True)
    cell = _column(page, tech.name, saturday)
    assert "CC-2026-00311" in cell and "09:00-11:00" in cell
    assert re.search(r"2\s*/\s*0\s*u", cell)  # 2 h planned on a day without hours
    row = page[page.index(f'data-technician="{tech.name}"') :]
    week_load = row[row.index('data-testid="week-load"') :]
    # Five days of 08:00–17:00 and the Saturday's two hours.
    assert re.search(r"Week: 2\s*/\s*45\s*u", week_load[: week_load.index("</span>")])
    # The Saturday is drawn full, the empty Sunday narrow.
    assert "is-narrow" not in _head(page, saturday)
    assert "is-narrow" in _head(page, sunday)
    assert "is-narrow" in _column(page, tech.name, sunday)
    assert "CC-2026-00311" not in _column(page, tech.name, sunday)


def test_the_board_opens_on_the_week_of_the_next_working_day(app, client, manager, tech, clock):
    """On a weekday the board opens on this week; on a Saturday on the next one, not
    on a week wholly behind the planner."""
    today = local_today()
    wednesday = today + timedelta(days=(2 - today.weekday()) % 7)
    saturday = wednesday + timedelta(days=3)
    if public_holiday(wednesday):
        pytest.skip("that Wednesday is a public holiday")

    def move_to(day) -> None:
        noon = datetime.combine(day, time(12, 0), tzinfo=ZoneInfo("Europe/Amsterdam"))
        clock.advance((noon - utcnow()).total_seconds())
        assert local_today() == day

    move_to(wednesday)
    page = client.get("/planning/").get_data(as_text=True)
    this_week = wednesday - timedelta(days=2)
    assert f'data-day="{this_week.isoformat()}"' in page
    assert f'data-day="{saturday.isoformat()}"' in page

    move_to(saturday)
    page = client.get("/planning/").get_data(as_text=True)
    next_monday = saturday + timedelta(days=2)
    assert f'data-day="{next_monday.isoformat()}"' in page
    assert f'data-day="{saturday.isoformat()}"' not in page
    assert f"week {next_monday.isocalendar()[1]}" in page
