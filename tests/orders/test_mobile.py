"""``/m/``: a technician's day, and one-tap status updates through the status engine."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from app.orders.mobile.services import local_today
from app.platform.extensions import db
from app.platform.models import (
    AuditLog,
    CommunicationMessage,
    CommunicationThread,
    InternalTask,
    Order,
    OrderStatusTransition,
    OutboundDelivery,
)
from app.platform.models.enums import (
    DeliveryKind,
    MessageType,
    OrderStatus,
    TaskStatus,
    TemplateCategory,
)
from tests.support import factories
from tests.support.jobs import drain_queues
from tests.support.mobile_support import visit
from tests.support.partner_support import make_partner

HTMX = {"HX-Request": "true"}


def _sign_in(auth, user):
    auth.login(user.email)
    return auth.csrf_token("/m/")


def _tap(client, token, order, tap, headers=None, confirmed=True):
    # "Completed" is asked about first (tests/orders/test_mobile_undo.py); these tests answer yes.
    data = {"tap": tap, "csrf_token": token}
    if confirmed:
        data["confirmed"] = "1"
    return client.post(f"/m/visits/{order.id}/status", data=data, headers=headers or {})


def _system_lines(order) -> list[str]:
    return db.session.scalars(
        sa.select(CommunicationMessage.message_content)
        .join(CommunicationThread, CommunicationThread.id == CommunicationMessage.thread_id)
        .where(
            CommunicationThread.order_id == order.id,
            CommunicationMessage.message_type == MessageType.SYSTEM_NOTIFICATION,
            CommunicationMessage.extra["visit_event"].as_string().is_not(None),
        )
        .order_by(CommunicationMessage.created_at)
    ).all()


def _moves(order) -> list[tuple[str | None, str]]:
    return [
        (t.from_status, t.to_status)
        for t in db.session.scalars(
            sa.select(OrderStatusTransition)
            .where(OrderStatusTransition.order_id == order.id)
            .order_by(OrderStatusTransition.created_at)
        )
    ]


def test_the_day_shows_todays_visits_with_address_maps_call_and_details(client, auth, make_user):
    tech = make_user("technician")
    other = make_user("technician")
    mine = visit(tech)
    visit(other, number="CC-2026-00043", with_whatsapp=False)
    visit(tech, number="CC-2026-00044", day=local_today() + timedelta(days=1), with_whatsapp=False)
    _sign_in(auth, tech)

    page = client.get("/m/").get_data(as_text=True)

    assert "CC-2026-00042" in page
    assert "CC-2026-00043" not in page and "CC-2026-00044" not in page
    assert "Stationsstraat 12 A, 3511 AB Utrecht" in page
    assert (
        "https://www.google.com/maps/search/?api=1&amp;query=Stationsstraat+12+A%2C+3511+AB+Utrecht"
    ) in page
    assert 'href="tel:+31612345678"' in page
    assert "Jan Jansen" in page
    assert "Alfen Eve Single S-line 11 kW" in page
    assert "Sleutel ligt bij de buren (nr. 14)" in page
    assert "Meterkast in de garage" in page
    assert 'accept="image/*" capture="environment"' in page
    # Every form carries its CSRF token.
    assert page.count('name="csrf_token"') == page.count("<form")
    assert f'action="/m/visits/{mine.id}/status"' in page
    for label in ("On the way", "Started", "Completed"):
        assert f">{label}</button>" in page
    # Looking writes nothing: no conversation is started to show the card.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CommunicationThread)) == 0


def test_tasks_due_today_or_overdue_are_listed_and_can_be_done(client, auth, make_user):
    tech = make_user("technician")
    today = local_today()
    for title, due, status in (
        ("Foto's meterkast uploaden", today, TaskStatus.OPEN),
        ("Laadpaal ophalen bij groothandel", today - timedelta(days=2), TaskStatus.IN_PROGRESS),
        ("Volgende week: keuring", today + timedelta(days=7), TaskStatus.OPEN),
        ("Al gedaan", today, TaskStatus.COMPLETED),
    ):
        db.session.add(
            InternalTask(
                task_title=title,
                assigned_to_user_id=tech.id,
                due_date=due,
                status=status,
                reminder_settings={},
                lock_version=1,
            )
        )
    db.session.commit()
    token = _sign_in(auth, tech)

    page = client.get("/m/").get_data(as_text=True)
    assert "Foto&#39;s meterkast uploaden" in page
    assert "Laadpaal ophalen bij groothandel" in page
    assert "Volgende week" not in page and "Al gedaan" not in page
    # The one past its day says so, as on the desk's task board; today's does not.
    cards = re.findall(r'<li class="card m-task[^"]*" data-testid="task">.*?</li>', page, re.S)
    late = [card for card in cards if 'data-testid="task-overdue"' in card]
    assert len(cards) == 2 and len(late) == 1 and "Laadpaal ophalen" in late[0]
    assert "Overdue" in late[0]

    task = db.session.scalar(
        sa.select(InternalTask).where(InternalTask.task_title == "Laadpaal ophalen bij groothandel")
    )
    answer = client.post(
        f"/m/tasks/{task.id}/done",
        data={"csrf_token": token, "lock_version": "1"},
        headers=HTMX,
    )
    assert answer.status_code == 200
    assert "Done: “Laadpaal ophalen bij groothandel”." in answer.get_data(as_text=True)
    db.session.refresh(task)
    assert task.status == TaskStatus.COMPLETED and task.completed_at is not None

    stale = client.post(f"/m/tasks/{task.id}/done", data={"csrf_token": token, "lock_version": "1"})
    assert stale.status_code == 303


def test_only_phone_roles_open_the_view(client, auth, make_user):
    assert client.get("/m/").status_code == 302  # to the sign-in page
    agent = make_user("agent")
    auth.login(agent.email)
    assert client.get("/m/").status_code == 403


def test_started_then_completed_goes_through_the_status_engine_and_its_hooks(
    app, client, auth, make_user
):
    tech = make_user("technician")
    partner = make_partner(webhook_url="http://127.0.0.1:9/hooks")  # nothing listens
    factories.template(
        "De status van uw bestelling {{order_id}} is gewijzigd naar: {{order_status}}.",
        template_name="order_status_update",
        whatsapp_template_name="order_status_update",
    )
    order = visit(tech, partner_organization_id=partner.organization.id, partner_order_id="GRO-1")
    token = _sign_in(auth, tech)

    started = _tap(client, token, order, "started")
    assert started.status_code == 303
    assert started.headers["Location"].endswith(f"/m/#visit-{order.id}")
    page = client.get("/m/").get_data(as_text=True)
    assert "CC-2026-00042: visit started." in page
    assert ">Completed</button>" in page and ">Started</button>" not in page

    completed = _tap(client, token, order, "completed", HTMX)
    assert completed.status_code == 200
    card = completed.get_data(as_text=True)
    assert "CC-2026-00042: visit completed." in card
    assert 'data-testid="visit-status">completed<' in card

    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.COMPLETED and order.completed_at is not None
    assert _moves(order) == [("scheduled", "in_progress"), ("in_progress", "completed")]
    transitions = db.session.scalars(
        sa.select(OrderStatusTransition).where(OrderStatusTransition.order_id == order.id)
    ).all()
    assert {t.actor_user_id for t in transitions} == {tech.id}
    assert all(t.business_context == {"via": "mobile"} for t in transitions)
    # The partner hears both moves; the customer gets the completion milestone.
    callbacks = db.session.scalars(
        sa.select(OutboundDelivery).where(OutboundDelivery.kind == DeliveryKind.PARTNER_CALLBACK)
    ).all()
    assert sorted(c.payload["status"] for c in callbacks) == ["DELIVERED", "IN_PROGRESS"]
    notice = db.session.scalar(
        sa.select(CommunicationMessage).where(
            CommunicationMessage.extra["milestone"].as_string() == "completed"
        )
    )
    assert notice is not None and "Afgerond" in notice.message_content
    assert _system_lines(order) == [
        f"{tech.name} started the visit on site.",
        f"{tech.name} completed the visit.",
    ]
    # Both lines and the notice are in the one conversation of the order.
    assert notice.thread.order_id == order.id
    drain_queues(app)


def test_completed_from_scheduled_passes_through_in_progress(client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech)
    token = _sign_in(auth, tech)
    assert _tap(client, token, order, "completed").status_code == 303
    db.session.expire_all()
    assert _moves(order) == [("scheduled", "in_progress"), ("in_progress", "completed")]


def test_an_illegal_move_is_explained_and_changes_nothing(client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech, status=OrderStatus.COMPLETED)
    token = _sign_in(auth, tech)

    answer = _tap(client, token, order, "started", HTMX)
    assert answer.status_code == 422
    assert "Can&#39;t mark CC-2026-00042 started: the order is completed." in answer.get_data(
        as_text=True
    )
    plain = _tap(client, token, order, "on_the_way")
    assert plain.status_code == 303
    page = client.get("/m/").get_data(as_text=True)
    assert "Can&#39;t mark CC-2026-00042 on the way: the order is completed" in page
    assert _tap(client, token, order, "dance", HTMX).status_code == 422
    db.session.expire_all()
    assert _moves(order) == [] and _system_lines(order) == []
    # A completed visit offers no taps.
    assert ">Started</button>" not in page


def test_only_the_assigned_technician_or_a_lead_may_update(client, auth, make_user):
    tech = make_user("technician")
    intruder = make_user("technician")
    lead = make_user("team_lead")
    order = visit(tech)

    token = _sign_in(auth, intruder)
    assert _tap(client, token, order, "started").status_code == 403
    assert (
        client.post(
            f"/m/visits/{order.id}/reply", data={"csrf_token": token, "template_id": "x"}
        ).status_code
        == 403
    )
    auth.logout()
    token = _sign_in(auth, lead)
    assert _tap(client, token, order, "started").status_code == 303
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.IN_PROGRESS
    # A post without the CSRF token is refused.
    assert client.post(f"/m/visits/{order.id}/status", data={"tap": "completed"}).status_code == 400


def test_on_the_way_is_a_visit_event_and_the_customer_is_told(app, client, auth, make_user):
    tech = make_user("technician", phone="+31687654321")
    order = visit(tech)
    token = _sign_in(auth, tech)

    answer = _tap(client, token, order, "on_the_way", HTMX)

    assert answer.status_code == 200
    # A fresh WhatsApp conversation has no open window and no approved template
    # is configured, so the message goes by e-mail.
    assert "CC-2026-00042: on the way, customer told by Outlook." in answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.SCHEDULED
    sent = db.session.scalar(
        sa.select(CommunicationMessage).where(
            CommunicationMessage.message_type == MessageType.OUTGOING
        )
    )
    assert sent.channel.channel_name == "Outlook"
    assert sent.recipient_external["email"] == "jan@example.nl"
    assert f"onze monteur {tech.name} is nu onderweg" in sent.message_content
    assert sent.sender_user_id == tech.id
    audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "VISIT_ON_THE_WAY"))
    assert audit.record_id == order.id and audit.changed_by_user_id == tech.id
    assert audit.changes["customer_message_id"] == str(sent.id)
    assert _system_lines(order) == [
        f"{tech.name} is on the way to the visit (customer told by Outlook)."
    ]
    assert ">On the way</button>" not in answer.get_data(as_text=True)
    assert "On the way since" in answer.get_data(as_text=True)
    # Still "scheduled" underneath; the card's badge says what the technician did.
    assert 'data-testid="visit-status">on the way<' in answer.get_data(as_text=True)

    again = _tap(client, token, order, "on_the_way", HTMX)
    assert "already marked on the way today" in again.get_data(as_text=True)
    assert len(_system_lines(order)) == 1
    drain_queues(app)
    db.session.expire_all()
    assert db.session.get(CommunicationMessage, sent.id).delivery_status.value != "pending"

    # At work, the card no longer says how long ago the technician set out.
    started = _tap(client, token, order, "started", HTMX).get_data(as_text=True)
    assert 'data-testid="visit-status">in progress<' in started
    assert "On the way since" not in started


def test_on_the_way_uses_the_approved_template_on_whatsapp(client, auth, make_user):
    tech = make_user("technician")
    factories.template(
        "Hoi {{customer_first_name}}, {{technician_name}} is onderweg naar u ({{order_id}}).",
        template_name="technician_on_the_way",
        template_category=TemplateCategory.INSTALLATION_SCHEDULING,
        whatsapp_template_name="technician_on_the_way",
    )
    order = visit(tech)
    token = _sign_in(auth, tech)
    _tap(client, token, order, "on_the_way")
    sent = db.session.scalar(
        sa.select(CommunicationMessage).where(
            CommunicationMessage.message_type == MessageType.OUTGOING
        )
    )
    assert sent.channel.channel_name == "WhatsApp"
    assert sent.message_content == f"Hoi Jan, {tech.name} is onderweg naar u (CC-2026-00042)."
    assert sent.extra["template_parameters"] == ["Jan", tech.name, "CC-2026-00042"]


def test_on_the_way_without_a_way_to_reach_the_customer_is_still_recorded(client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech, with_whatsapp=False, contact_fields={"email": None})
    token = _sign_in(auth, tech)
    _tap(client, token, order, "on_the_way")
    page = client.get("/m/").get_data(as_text=True)
    assert "The customer was not told:" in page
    [line] = _system_lines(order)
    assert line.startswith(f"{tech.name} is on the way to the visit (customer not told:")
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "VISIT_ON_THE_WAY")
        )
        == 1
    )


def test_the_agent_sees_the_visit_in_the_thread(client, auth, make_user):
    tech = make_user("technician")
    agent = make_user("agent")
    order = visit(tech)
    token = _sign_in(auth, tech)
    _tap(client, token, order, "completed")
    auth.logout()
    auth.login(agent.email)
    thread = db.session.scalar(
        sa.select(CommunicationThread).where(CommunicationThread.order_id == order.id)
    )
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert f"{tech.name} completed the visit." in page
