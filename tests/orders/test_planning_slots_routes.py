"""The best slots on the order page and in the conversation's customer panel: loaded
after the page, each planned with one click through the plan's own save (one customer
message, one partner callback), a plan changed or refused since answered with its
reason, a wrong field named, and only for the desk."""

from __future__ import annotations

import re
import secrets
from datetime import date, time

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from app.conversations.workspace.customer import customer_panel
from app.platform.extensions import db
from app.platform.models import (
    CommunicationMessage,
    Order,
    OutboundDelivery,
    Visit,
    VisitNotice,
)
from app.platform.models.enums import ChannelType, OrderStatus
from tests.support import factories
from tests.support.jobs import drain_queues
from tests.support.partner_support import make_partner
from tests.support.slots_support import (
    AMERSFOORT,
    UTRECHT,
    days_off,
    order_at,
    plan,
    technician_at,
)

HX = {"HX-Request": "true"}
SLOT_FORM = re.compile(r'<form method="post" action="([^"]+/slots)"(.*?)</form>', re.S)
FIELD = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


@pytest.fixture
def planner(make_user, auth):
    user = make_user("agent", language="nl")
    auth.login(user.email)
    return user


@pytest.fixture
def crew(make_user):
    return (
        technician_at(make_user, "Anna Dichtbij", UTRECHT),
        technician_at(make_user, "Bram Verweg", AMERSFOORT),
    )


def _slots(client, order, **query):
    answer = client.get(
        f"/planning/orders/{order.order_number}/slots", query_string=query, headers=HX
    )
    return answer, answer.get_data(as_text=True)


def _slot_forms(page: str) -> list[dict]:
    """Each offered slot's form fields (technician_ids as a list), in the page's order."""
    forms = []
    for _action, body in SLOT_FORM.findall(page):
        fields: dict = {"technician_ids": []}
        for name, value in FIELD.findall(body):
            if name == "technician_ids":
                fields["technician_ids"].append(value)
            else:
                fields[name] = value
        forms.append(fields)
    return forms


def _click(client, order, fields, headers=None):
    return client.post(
        f"/planning/orders/{order.order_number}/slots", data=fields, headers=headers or {}
    )


def test_the_order_page_loads_three_slots_after_the_section(app, client, planner, crew):
    order = order_at("CC-2026-02001")
    section = client.get(f"/planning/orders/{order.order_number}", headers=HX).get_data(
        as_text=True
    )
    assert f'hx-get="/planning/orders/{order.order_number}/slots"' in section
    assert 'data-testid="slot"' not in section  # not waited for

    answer, page = _slots(client, order)
    assert answer.status_code == 200 and "<html" not in page
    assert "Beste plekken" in page
    assert page.count('data-testid="slot"') == 3
    assert "Anna Dichtbij" in page
    minutes = re.findall(r"\+(\d+) min rijden", page)
    assert len(minutes) == 3 and [int(m) for m in minutes] == sorted(int(m) for m in minutes)
    assert all(form["version"] == "0" for form in _slot_forms(page))


def test_one_click_plans_the_slot_and_tells_everyone_once(app, client, planner, crew):
    partner = make_partner(
        webhook_url="https://partner.example/hook", webhook_events=["visit_scheduled"]
    )
    order = order_at("CC-2026-02002")
    order.partner_organization_id = partner.organization.id
    order.partner_order_id = "GRO-S1"
    db.session.commit()
    _answer, page = _slots(client, order)
    first = _slot_forms(page)[0]

    answer = _click(client, order, first)

    assert answer.status_code == 303, answer.get_data(as_text=True)
    assert answer.headers["Location"].endswith(f"/orders/{order.order_number}#planning")
    drain_queues(app)
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    visit = db.session.scalar(sa.select(Visit))
    assert order.status == OrderStatus.SCHEDULED
    assert order.scheduled_date.isoformat() == first["date"]
    assert visit.window_text == f"{first['window_start']}-{first['window_end']}"
    assert [str(t) for t in visit.technician_ids] == first["technician_ids"]
    assert visit.duration_minutes == 120
    assert "1× Alfen Eve Single 11 kW" in visit.materials  # the order's charger
    events = [d.event_type for d in db.session.scalars(sa.select(OutboundDelivery))]
    assert events == ["visit_scheduled"]
    notice = db.session.scalar(sa.select(VisitNotice))
    assert notice.kind == "planned" and notice.sent_at is not None
    messages = db.session.scalars(sa.select(CommunicationMessage)).all()
    assert [m.id for m in messages] == [notice.message_id]
    shown = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "CC-2026-02002 ingepland" in shown


def test_htmx_click_goes_back_to_the_order_page(app, client, planner, crew):
    order = order_at("CC-2026-02003")
    _answer, page = _slots(client, order)
    answer = _click(client, order, _slot_forms(page)[0], HX)
    assert answer.status_code == 204
    assert answer.headers["HX-Redirect"] == f"/orders/{order.order_number}"


def test_a_plan_changed_since_is_refused_with_its_reason(app, client, planner, crew):
    order = order_at("CC-2026-02004")
    _answer, page = _slots(client, order)
    offered = _slot_forms(page)[0]
    # A colleague plans the order in the meantime.
    plan(order, [crew[1]], *_day_and_window(offered), planner)

    answer = _click(client, order, offered, HX)

    assert answer.status_code == 409
    body = answer.get_data(as_text=True)
    assert 'data-testid="slot-stale"' in body and "Iemand anders" in body
    # The slots offered again are found with the plan as it is now.
    assert all(form["version"] == "1" for form in _slot_forms(body))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VisitNotice)) == 1


def test_a_slot_that_no_longer_fits_is_refused_with_its_reason(app, client, planner, crew):
    order = order_at("CC-2026-02005")
    _answer, page = _slots(client, order)
    offered = _slot_forms(page)[0]
    anna = crew[0]
    day = _day_and_window(offered)[0]
    days_off(anna, day, day, reason="Ziek")

    answer = _click(client, order, offered, HX)

    assert answer.status_code == 422
    body = answer.get_data(as_text=True)
    assert 'data-testid="slot-problems"' in body and 'data-code="day_off"' in body
    assert "Ziek" in body
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 0


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"date": "morgen"}, "date", "Datum"),
        ({"window_start": "25:00"}, "window", "Tijdvak"),
        ({"window_end": "08:00"}, "window", "Tijdvak"),
        ({"technician_ids": ["not-an-id"]}, "technician_ids", "Monteurs"),
        ({"technician_ids": []}, "technician_ids", "Monteurs"),
        ({"version": "x"}, "version", "Versie"),
    ],
)
def test_a_wrong_field_is_named(app, client, planner, crew, change, field, words):
    order = order_at("CC-2026-02006")
    _answer, page = _slots(client, order)
    form = {**_slot_forms(page)[0], **change}

    answer = _click(client, order, form, HX)

    assert answer.status_code == 422
    body = answer.get_data(as_text=True)
    assert f'data-field="{field}"' in body and words in body, body[:1500]


def test_a_conversation_that_is_no_conversation_is_named(app, client, planner, crew):
    order = order_at("CC-2026-02007")
    answer, page = _slots(client, order, thread="not-a-thread")
    assert answer.status_code == 400 and "Gesprek" in page


def _csrf_header(app, client) -> dict:
    """A valid CSRF token for ``client``'s session, whatever pages its user may open."""
    raw = secrets.token_hex(20)
    with client.session_transaction() as session:
        session["csrf_token"] = raw
    token = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)
    return {"X-CSRFToken": token}


@pytest.mark.parametrize("role", ["technician", "partner"])
def test_technicians_and_partners_get_no_slots(app, client, make_user, auth, crew, role):
    order = order_at("CC-2026-02008")
    fields = {}
    if role == "partner":
        fields["partner_organization_id"] = make_partner().organization.id
    user = make_user(role, two_factor=True, **fields)
    auth.login(user.email)
    answer, _page = _slots(client, order)
    assert answer.status_code == 403
    form = {
        "date": "2030-01-07",
        "window_start": "09:00",
        "window_end": "11:00",
        "technician_ids": [str(crew[0].id)],
        "version": "0",
    }
    posted = client.post(
        f"/planning/orders/{order.order_number}/slots",
        data=form,
        headers=_csrf_header(app, client),
    )
    assert posted.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 0


def _conversation(order):
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp slots")
    thread = factories.thread(channel, order.end_customer, order_id=order.id)
    db.session.commit()
    return thread


def test_the_conversation_panel_loads_its_orders_slots_lazily(app, client, planner, crew):
    order = order_at("CC-2026-02009")
    thread = _conversation(order)

    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)

    url = f"/planning/orders/{order.order_number}/slots?thread={thread.id}"
    assert f'hx-get="{url}"' in page
    assert 'data-testid="slot"' not in page  # the conversation does not wait for them
    answer, panel = _slots(client, order, thread=thread.id)
    assert answer.status_code == 200
    assert "Beste plekken voor CC-2026-02009" in panel
    forms = _slot_forms(panel)
    assert len(forms) == 3 and all(f["thread"] == str(thread.id) for f in forms)


def test_one_click_in_the_panel_plans_and_stays_on_the_conversation(app, client, planner, crew):
    order = order_at("CC-2026-02010")
    thread = _conversation(order)
    _answer, panel = _slots(client, order, thread=thread.id)

    answer = _click(client, order, _slot_forms(panel)[0], HX)

    assert answer.status_code == 200
    body = answer.get_data(as_text=True)
    assert 'data-testid="slot-planned"' in body and "CC-2026-02010 ingepland" in body
    drain_queues(app)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VisitNotice)) == 1
    # Without htmx, back to the conversation.
    other = order_at("CC-2026-02011")
    other_thread = _conversation(other)
    _answer, panel = _slots(client, other, thread=other_thread.id)
    answer = _click(client, other, _slot_forms(panel)[0])
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/threads/{other_thread.id}")


def test_only_the_desk_sees_slots_in_the_panel(app, make_user, crew):
    order = order_at("CC-2026-02012")
    thread = _conversation(order)
    agent = make_user("agent")
    with app.test_request_context():
        assert customer_panel(thread, agent).slots_url.endswith(f"/slots?thread={thread.id}")
        # A technician on the customer's conversation is shown no slots to plan.
        assert customer_panel(thread, crew[0]).slots_url is None


def test_an_order_that_cannot_be_planned_gets_no_slots_in_the_panel(app, client, planner, crew):
    order = order_at("CC-2026-02013")
    order.status = OrderStatus.QUOTE_SENT
    thread = _conversation(order)
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert 'data-testid="customer-slots"' not in page


def _day_and_window(fields):
    return (
        date.fromisoformat(fields["date"]),
        time.fromisoformat(fields["window_start"]),
        time.fromisoformat(fields["window_end"]),
    )


def test_a_second_days_slots_come_after_the_first_and_a_click_plans_the_second(
    app, client, planner, crew
):
    order = order_at("CC-2026-02031")
    _answer, page = _slots(client, order)
    first = _slot_forms(page)[0]
    assert _click(client, order, first).status_code == 303
    added = client.post(
        f"/planning/orders/{order.order_number}/visits",
        data={"purpose": "second_day", "csrf_token": first["csrf_token"]},
    )
    assert added.status_code == 303

    # The section of visit 2 asks for visit 2's slots.
    section = client.get(f"/planning/orders/{order.order_number}?visit=2", headers=HX).get_data(
        as_text=True
    )
    assert f'hx-get="/planning/orders/{order.order_number}/slots?visit=2"' in section
    answer, page = _slots(client, order, visit="2")
    assert answer.status_code == 200
    offered = _slot_forms(page)
    assert offered and all(form["visit"] == "2" for form in offered)
    assert all(form["date"] > first["date"] for form in offered)

    picked = _click(client, order, offered[0])
    assert picked.status_code == 303, picked.get_data(as_text=True)
    assert picked.headers["Location"].endswith(f"/orders/{order.order_number}?visit=2#planning")
    db.session.expire_all()
    visits = db.session.scalars(
        sa.select(Visit).where(Visit.order_id == order.id).order_by(Visit.number)
    ).all()
    assert [v.scheduled_date.isoformat() for v in visits] == [first["date"], offered[0]["date"]]
    order = db.session.get(Order, order.id)
    assert (
        order.status == OrderStatus.SCHEDULED and order.scheduled_date.isoformat() == first["date"]
    )
    # A visit number that is none is refused by name.
    assert _slots(client, order, visit="x")[0].status_code == 400
