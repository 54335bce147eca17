"""Planning a visit from the order page: the form, its refusals,
and what a plan sets in motion (status, partner callback, customer message, phone)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.orders.deliveries.partner_events import VISIT_RESCHEDULED
from app.orders.mobile.services import local_today
from app.orders.planning.hours import public_holiday
from app.platform.extensions import db
from app.platform.models import (
    CommunicationMessage,
    Order,
    OutboundDelivery,
    TechnicianAbsence,
    TechnicianSchedule,
    Visit,
    VisitNotice,
)
from app.platform.models.enums import OrderStatus
from tests.support.helpers import csrf_token_from
from tests.support.jobs import drain_queues
from tests.support.partner_support import make_partner
from tests.support.planning_support import approved_order, plan_form, working_day


@pytest.fixture
def planner(make_user, auth):
    user = make_user("team_lead", language="nl")
    auth.login(user.email)
    return user


@pytest.fixture
def tech(make_user):
    return make_user("technician", skills=["alfen", "zaptec"], language="nl")


def _post(client, order, form, path=""):
    page = client.get(f"/planning/orders/{order.order_number}")
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post(
        f"/planning/orders/{order.order_number}{path}", data={**form, "csrf_token": token}
    )


def _order(number="CC-2026-00101"):
    return db.session.scalar(sa.select(Order).where(Order.order_number == number))


def test_order_page_loads_the_planning_section_with_the_customers_wishes(
    app, client, planner, tech
):
    order = approved_order(preferences={"preferred_date": "2026-12-01", "time_window": "middag"})
    page = client.get(f"/orders/{order.order_number}").get_data(as_text=True)
    assert f'hx-get="/planning/orders/{order.order_number}"' in page
    section = client.get(
        f"/planning/orders/{order.order_number}", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert 'data-testid="plan-form"' in section and "<html" not in section
    assert "di 01 dec 2026" in section and "middag" in section
    assert "Voorkeursdatum" in section  # the wishes in Dutch
    assert tech.name in section
    # What to bring starts from the order's charger.
    assert "1× Alfen Eve Single 11 kW" in section


def test_planning_an_approved_order_schedules_it_and_tells_everyone_once(
    app, client, planner, tech
):
    partner = make_partner(
        webhook_url="https://partner.example/hook",
        webhook_events=["visit_scheduled", VISIT_RESCHEDULED],
    )
    order = approved_order(
        partner_organization_id=partner.organization.id, partner_order_id="GRO-1"
    )
    day = working_day()
    answer = _post(client, order, plan_form([tech], day))
    assert answer.status_code == 303, answer.get_data(as_text=True)
    assert answer.headers["Location"].endswith(f"/orders/{order.order_number}#planning")
    drain_queues(app)
    db.session.expire_all()
    order = _order()
    visit = db.session.scalar(sa.select(Visit))
    assert order.status == OrderStatus.SCHEDULED
    assert order.scheduled_date == day and order.assigned_technician_id == tech.id
    assert visit.version == 1 and visit.window_text == "09:00-12:00"
    assert visit.technician_ids == [tech.id]
    events = [d.event_type for d in db.session.scalars(sa.select(OutboundDelivery))]
    assert events == ["visit_scheduled"]
    notice = db.session.scalar(sa.select(VisitNotice))
    assert notice.kind == "planned" and notice.sent_at is not None
    message = db.session.get(CommunicationMessage, notice.message_id)
    assert day.strftime("%d-%m-%Y") in message.message_content
    assert "tussen 09:00 en 12:00" in message.message_content
    # The status engine's own "installation planned" notice is not sent as well.
    messages = db.session.scalars(sa.select(CommunicationMessage)).all()
    assert [m.id for m in messages] == [message.id], [m.message_content for m in messages]


def test_moving_a_plan_keeps_the_status_and_sends_visit_rescheduled(app, client, planner, tech):
    partner = make_partner(
        webhook_url="https://partner.example/hook",
        webhook_events=["visit_scheduled", VISIT_RESCHEDULED],
    )
    order = approved_order(
        partner_organization_id=partner.organization.id, partner_order_id="GRO-2"
    )
    day = working_day()
    assert _post(client, order, plan_form([tech], day)).status_code == 303
    later = working_day(8 if day == working_day(7) else 9)
    later = later if later != day else working_day(10)
    answer = _post(client, order, plan_form([tech], later, "13:00", "16:00", version=1))
    assert answer.status_code == 303, answer.get_data(as_text=True)
    drain_queues(app)
    db.session.expire_all()
    order = _order()
    assert order.status == OrderStatus.SCHEDULED and order.scheduled_date == later
    deliveries = db.session.scalars(
        sa.select(OutboundDelivery).order_by(OutboundDelivery.created_at)
    ).all()
    assert [d.event_type for d in deliveries] == ["visit_scheduled", VISIT_RESCHEDULED]
    assert deliveries[1].payload["visit"] == {
        "number": 1,
        "purpose": None,
        "date": later.isoformat(),
        "window_start": "13:00",
        "window_end": "16:00",
    }
    assert deliveries[1].payload["status"] == "PLANNED"
    notices = db.session.scalars(sa.select(VisitNotice).order_by(VisitNotice.version)).all()
    assert [(n.version, n.kind) for n in notices] == [(1, "planned"), (2, "moved")]
    moved = db.session.get(CommunicationMessage, notices[1].message_id)
    # The day and hours in words, as the plan has them.
    assert f"verplaatst. De monteur komt nu op {later:%d-%m-%Y} tussen 13:00 en 16:00." in (
        moved.message_content
    ), moved.message_content
    visit = db.session.scalar(sa.select(Visit))
    assert visit.previous_date == day


def test_a_stale_version_is_refused_with_a_reload_message(app, client, planner, tech):
    order = approved_order()
    day = working_day()
    assert _post(client, order, plan_form([tech], day)).status_code == 303
    # A second planner's form still says "no plan yet" (version 0), then version 1 twice.
    stale = _post(client, order, plan_form([tech], day, "13:00", "15:00", version=0))
    assert stale.status_code == 409
    assert "Iemand anders heeft deze planning intussen gewijzigd" in stale.get_data(as_text=True)
    assert (
        _post(client, order, plan_form([tech], day, "13:00", "15:00", version=1)).status_code == 303
    )
    again = _post(client, order, plan_form([tech], day, "14:00", "16:00", version=1))
    assert again.status_code == 409
    assert db.session.scalar(sa.select(Visit.version)) == 2


@pytest.mark.parametrize(
    ("setup", "code", "dutch"),
    [
        ("past", "past", "ligt in het verleden"),
        ("holiday", "holiday", "is een feestdag"),
        ("day_off", "day_off", "is afwezig op"),
        ("double", "double_booking", "heeft al CC-2026-00202"),
        ("skill", "skill", "Niemand op dit bezoek heeft de vaardigheid alfen"),
    ],
)
def test_hard_refusals_name_the_problem_in_dutch(
    app, client, planner, tech, make_user, setup, code, dutch
):
    order = approved_order()
    day = working_day()
    technicians = [tech]
    if setup == "past":
        day = local_today() - timedelta(days=1)
    elif setup == "holiday":
        day = _next_holiday()
    elif setup == "day_off":
        db.session.add(
            TechnicianAbsence(user_id=tech.id, starts_on=day, ends_on=day, reason="verlof")
        )
        db.session.commit()
    elif setup == "double":
        other = approved_order("CC-2026-00202", brand=None)
        assert _post(client, other, plan_form([tech], day, "10:00", "13:00")).status_code == 303
    elif setup == "skill":
        technicians = [make_user("technician", skills=["easee"])]
    answer = _post(client, order, plan_form(technicians, day, override="1"))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422, page
    assert f'data-code="{code}"' in page and dutch in page
    assert 'data-testid="plan-override"' not in page  # a hard refusal has no "plan anyway"
    db.session.expire_all()
    assert _order().status == OrderStatus.APPROVED
    assert db.session.scalar(sa.select(Visit).where(Visit.order_id == order.id)) is None


def test_outside_working_hours_warns_and_may_be_overridden(app, client, planner, tech):
    db.session.add(
        TechnicianSchedule(
            user_id=tech.id,
            weekly_hours={d: ["07:00", "15:30"] for d in ("mon", "tue", "wed", "thu", "fri")},
        )
    )
    db.session.commit()
    order = approved_order()
    day = working_day()
    form = plan_form([tech], day, "14:00", "17:00")
    answer = _post(client, order, form)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'data-code="outside_hours"' in page and "buiten de werktijd" in page
    assert 'data-testid="plan-override"' in page
    answer = _post(client, order, {**form, "override": "1"})
    assert answer.status_code == 303
    db.session.expire_all()
    assert _order().status == OrderStatus.SCHEDULED


def test_form_errors_name_their_field(app, client, planner, tech):
    order = approved_order()
    answer = _post(
        client,
        order,
        {"date": "morgen", "window_start": "12:00", "window_end": "09:00", "version": "0"},
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "Datum: kies een dag" in page
    assert "Tijdvak: het einde moet na het begin liggen" in page
    assert "Monteurs: kies er minstens één" in page


def test_taking_back_a_plan_returns_the_order_to_approved(app, client, planner, tech):
    order = approved_order()
    day = working_day()
    assert _post(client, order, plan_form([tech], day)).status_code == 303
    answer = _post(client, order, {"version": "1"}, path="/cancel")
    assert answer.status_code == 303
    drain_queues(app)
    db.session.expire_all()
    order = _order()
    assert order.status == OrderStatus.APPROVED
    assert order.scheduled_date is None and order.assigned_technician_id is None
    kinds = [
        n.kind for n in db.session.scalars(sa.select(VisitNotice).order_by(VisitNotice.version))
    ]
    assert kinds == ["planned", "cancelled"]


def test_technicians_may_not_plan(app, client, auth, tech):
    order = approved_order()
    auth.login(tech.email)
    assert client.get(f"/planning/orders/{order.order_number}").status_code == 403
    assert client.get("/planning/").status_code == 403


def test_the_phone_shows_the_plan_to_every_technician_on_it(
    app, client, planner, tech, auth, make_user
):
    colleague = make_user("technician", skills=[], language="nl")
    order = approved_order()
    today = local_today()
    # Planned for today (the phone shows today): ensure it is a working day for the test.
    for user in (tech, colleague):
        db.session.add(
            TechnicianSchedule(
                user_id=user.id,
                weekly_hours={
                    d: ["07:00", "19:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
                },
            )
        )
    db.session.commit()
    if public_holiday(today):
        pytest.skip("today is a public holiday: nothing can be planned on it")
    first = _post(client, order, plan_form([tech], working_day(), override="1"))
    assert first.status_code == 303
    # Moved to today, with a colleague along.
    form = plan_form([tech, colleague], today, "15:00", "17:00", version=1, override="1")
    answer = _post(client, order, form)
    assert answer.status_code == 303, answer.get_data(as_text=True)
    for user in (tech, colleague):
        auth.logout()
        auth.login(user.email)
        page = client.get("/m/").get_data(as_text=True)
        assert order.order_number in page
        assert "15:00–17:00" in page
        assert "Kabel 10 m" in page and "Bel aan bij de achterdeur" in page
        line = page[page.index('data-testid="visit-plan-change"') :][:200]
        assert "Verplaatst van" in line and f"{working_day():%d-%m} naar" in line, line
        # Not only the lead: everyone on the visit moves it along and reads its conversation.
        assert 'class="m-taps"' in page, user.name
        assert client.get(f"/m/visits/{order.id}/conversation").status_code == 200


def _next_holiday():
    day = local_today() + timedelta(days=1)
    while not public_holiday(day) or day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def test_every_technician_on_the_visit_gets_the_push(
    app, client, planner, tech, make_user, monkeypatch
):
    queued = []
    monkeypatch.setattr("app.orders.mobile.listeners.push_enabled", lambda: True)
    monkeypatch.setattr("app.orders.mobile.listeners.has_subscription", lambda user_id: True)
    monkeypatch.setattr(
        "app.orders.mobile.listeners.enqueue", lambda path, *args, **kw: queued.append(args)
    )
    colleague = make_user("technician", language="nl")
    order = approved_order()
    day = working_day()
    assert _post(client, order, plan_form([tech, colleague], day)).status_code == 303
    assert [(a[1], a[2]) for a in queued] == [
        (str(tech.id), f"assigned:{day.isoformat()}:v1"),
        (str(colleague.id), f"assigned:{day.isoformat()}:v1"),
    ]


def test_an_order_not_yet_approved_says_so_instead_of_offering_the_form(app, client, planner, tech):
    order = approved_order()
    order.status = OrderStatus.QUOTE_SENT
    db.session.commit()
    section = client.get(f"/planning/orders/{order.order_number}").get_data(as_text=True)
    assert 'data-testid="plan-form"' not in section
    assert "een bezoek wordt ingepland zodra de order is goedgekeurd." in section.lower()
    answer = _post_without_form(client, order, plan_form([tech], working_day()))
    assert answer.status_code == 422
    assert 'data-code="status"' in answer.get_data(as_text=True)


def _post_without_form(client, order, form):
    token = csrf_token_from(client.get("/planning/").get_data(as_text=True))
    return client.post(f"/planning/orders/{order.order_number}", data={**form, "csrf_token": token})


def test_the_visit_card_reads_the_customers_wishes_as_a_technician_would(
    app, client, auth, tech
):
    """A preferred date in the technician's language, an access note copied into the
    order's notes said once (seen on the phone in the end-to-end walk)."""
    order = approved_order(
        preferences={"preferred_date": "2026-12-15", "access_notes": "Garage via de zijdeur"},
    )
    order.notes = "Garage via de zijdeur"
    order.status = OrderStatus.SCHEDULED
    order.assigned_technician_id = tech.id
    order.scheduled_date = local_today()
    db.session.commit()
    auth.login(tech.email)
    page = client.get("/m/").get_data(as_text=True)
    assert "di 15-12-2026" in page and "2026-12-15" not in page
    assert page.count("Garage via de zijdeur") == 1
