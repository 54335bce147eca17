"""The thread page: timeline, replies through the sandbox, notes, edits, access."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import sqlalchemy as sa

from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, InternalTask, Order, SandboxSend
from app.platform.models.enums import (
    ChannelType,
    DeliveryStatus,
    MessageType,
    TemplateCategory,
    TemplateChannelType,
    ThreadStatus,
)
from tests.support import factories
from tests.support.jobs import drain_queues

HX = {"HX-Request": "true"}


def _conversation(**thread_fields):
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Outlook")
    jan = factories.contact(display_name="Jan Jansen", phone="+31612345678", email="jan@example.nl")
    thread = factories.thread(whatsapp, jan, thread_subject="Laadpaal werkt niet", **thread_fields)
    factories.message(
        thread,
        "Mijn laadpaal knippert rood",
        sender_contact_id=jan.id,
        external_message_id="wamid.in1",
    )
    db.session.commit()
    return thread


def _signed_in(auth, make_user, role="agent", **fields):
    user = make_user(role, email=f"{role}@switchboard.test", **fields)
    auth.login(f"{role}@switchboard.test")
    return user


def _wait_for_status(message_id, wanted, app, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        drain_queues(app)
        db.session.expire_all()
        status = db.session.get(CommunicationMessage, message_id).delivery_status
        if status == wanted:
            return
        time.sleep(0.2)
    raise AssertionError(f"message stayed {status}, wanted {wanted}")


def test_thread_page_merges_messages_notes_tasks_in_time_order(client, auth, make_user):
    agent = _signed_in(auth, make_user)
    thread = _conversation()
    earlier = utcnow() - timedelta(hours=1)
    db.session.add(
        InternalTask(task_title="Bel klant terug", thread_id=thread.id, created_at=earlier)
    )
    factories.message(
        thread, "Monteur gevraagd", message_type=MessageType.INTERNAL_NOTE, sender_user_id=agent.id
    )
    db.session.commit()
    html = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "Jan Jansen" in html and "Laadpaal werkt niet" in html
    task_at, first_at, note_at = (
        html.index(s)
        for s in ("Bel klant terug", "Mijn laadpaal knippert rood", "Monteur gevraagd")
    )
    assert task_at < first_at < note_at
    assert "internal note" in html


def test_reply_goes_out_through_the_sandbox_with_delivery_ticks(app, client, auth, make_user):
    _signed_in(auth, make_user)
    thread = _conversation()
    response = client.post(
        f"/threads/{thread.id}/reply",
        data={
            "content": "We komen morgen langs.",
            "csrf_token": auth.csrf_token(f"/threads/{thread.id}"),
        },
        headers=HX,
    )
    assert response.status_code == 200
    assert "We komen morgen langs." in response.get_data(as_text=True)
    message = db.session.scalar(
        sa.select(CommunicationMessage).where(
            CommunicationMessage.message_type == MessageType.OUTGOING
        )
    )
    # The send job may take it the moment the reply is committed.
    assert message.delivery_status in (DeliveryStatus.PENDING, DeliveryStatus.SENT)
    assert message.recipient_external["phone"] == "+31612345678"
    assert message.extra["reply_to"] == "wamid.in1"
    _wait_for_status(message.id, DeliveryStatus.READ, app)
    sent = db.session.scalar(sa.select(SandboxSend).where(SandboxSend.message_id == message.id))
    assert sent.provider == "whatsapp"
    assert sent.request_body["text"] == "We komen morgen langs."
    db.session.expire_all()
    refreshed = db.session.get(type(thread), thread.id)
    assert refreshed.first_response_at is not None
    assert refreshed.status == ThreadStatus.IN_PROGRESS
    assert refreshed.last_message_preview == "We komen morgen langs."
    page = client.get(f"/threads/{thread.id}/timeline").get_data(as_text=True)
    assert 'data-status="read"' in page


def test_empty_reply_is_refused_on_the_page(client, auth, make_user):
    _signed_in(auth, make_user)
    thread = _conversation()
    token = auth.csrf_token(f"/threads/{thread.id}")
    response = client.post(
        f"/threads/{thread.id}/reply", data={"content": "   ", "csrf_token": token}, headers=HX
    )
    assert response.status_code == 422
    assert "Write a reply before sending." in response.get_data(as_text=True)
    plain = client.post(f"/threads/{thread.id}/reply", data={"content": "", "csrf_token": token})
    assert plain.status_code == 422
    assert "Write a reply before sending." in plain.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(CommunicationMessage.id))) == 1


def test_reply_by_email_gets_a_subject(app, client, auth, make_user):
    _signed_in(auth, make_user)
    thread = _conversation()
    outlook = db.session.scalar(
        sa.select(type(thread.channel)).where(
            type(thread.channel).channel_type == ChannelType.EMAIL_OUTLOOK
        )
    )
    client.post(
        f"/threads/{thread.id}/reply",
        headers=HX,
        data={
            "content": "Zie bijlage.",
            "channel_id": str(outlook.id),
            "csrf_token": auth.csrf_token(f"/threads/{thread.id}"),
        },
    )
    message = db.session.scalar(
        sa.select(CommunicationMessage).where(
            CommunicationMessage.message_type == MessageType.OUTGOING
        )
    )
    assert message.subject == "Re: Laadpaal werkt niet"
    assert message.recipient_external["email"] == "jan@example.nl"
    drain_queues(app)


def test_template_preview_and_missing_variables(client, auth, make_user):
    _signed_in(auth, make_user)
    thread = _conversation()
    ok = factories.template("Beste {{customer_name}}, we helpen u graag.", template_name="Groet")
    needs_order = factories.template("Order {{order_id}} is onderweg.", template_name="Order")
    db.session.commit()
    page = client.get(f"/threads/{thread.id}/composer?template_id={ok.id}", headers=HX)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Beste Jan Jansen, we helpen u graag." in html
    assert 'data-testid="template-preview"' in html
    refused = client.get(f"/threads/{thread.id}/composer?template_id={needs_order.id}", headers=HX)
    assert refused.status_code == 422
    assert "order" in refused.get_data(as_text=True).lower()


def test_sending_from_a_template_counts_its_use(app, client, auth, make_user):
    _signed_in(auth, make_user)
    thread = _conversation()
    template = factories.template("Beste {{customer_name}}, bedankt!")
    db.session.commit()
    client.post(
        f"/threads/{thread.id}/reply",
        headers=HX,
        data={
            "content": "Beste Jan Jansen, bedankt!",
            "template_id": str(template.id),
            "csrf_token": auth.csrf_token(f"/threads/{thread.id}"),
        },
    )
    db.session.expire_all()
    assert db.session.get(type(template), template.id).usage_count == 1
    message = db.session.scalar(
        sa.select(CommunicationMessage).where(
            CommunicationMessage.message_type == MessageType.OUTGOING
        )
    )
    assert message.template_id == template.id
    drain_queues(app)


def test_internal_note(client, auth, make_user):
    _signed_in(auth, make_user)
    thread = _conversation()
    response = client.post(
        f"/threads/{thread.id}/note",
        headers=HX,
        data={"content": "Klant is boos", "csrf_token": auth.csrf_token(f"/threads/{thread.id}")},
    )
    assert response.status_code == 200
    note = db.session.scalar(
        sa.select(CommunicationMessage).where(
            CommunicationMessage.message_type == MessageType.INTERNAL_NOTE
        )
    )
    assert note.message_content == "Klant is boos"
    assert db.session.scalar(sa.select(sa.func.count(SandboxSend.id))) == 0


def test_inline_edit_writes_system_lines(client, auth, make_user):
    agent = _signed_in(auth, make_user)
    thread = _conversation()
    response = client.post(
        f"/threads/{thread.id}/edit",
        headers=HX,
        data={
            "status": "waiting_customer",
            "priority": "urgent",
            "assigned_to_user_id": str(agent.id),
            "tags": "Storing, factuur",
            "lock_version": "1",
            "csrf_token": auth.csrf_token(f"/threads/{thread.id}"),
        },
    )
    assert response.status_code == 200
    db.session.expire_all()
    edited = db.session.get(type(thread), thread.id)
    assert edited.status == ThreadStatus.WAITING_CUSTOMER
    assert edited.priority.value == "urgent"
    assert edited.assigned_to_user_id == agent.id
    assert edited.tags == ["factuur", "storing"]
    assert edited.lock_version == 2
    lines = db.session.scalars(
        sa.select(CommunicationMessage.message_content).where(
            CommunicationMessage.message_type == MessageType.SYSTEM_NOTIFICATION
        )
    ).all()
    assert any("waiting customer" in line for line in lines)
    assert len(lines) == 4


def _system_lines() -> list[str]:
    return db.session.scalars(
        sa.select(CommunicationMessage.message_content).where(
            CommunicationMessage.message_type == MessageType.SYSTEM_NOTIFICATION
        )
    ).all()


def test_saving_one_field_leaves_a_technicians_assignment_and_the_tags_alone(
    client, auth, make_user
):
    _signed_in(auth, make_user)
    technician = make_user("technician")
    thread = _conversation(assigned_to_user_id=technician.id, tags=["storing", "factuur"])
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    # The dropdown shows who has it, and each control posts only its own field.
    assert f'value="{technician.id}" selected>{technician.name} (technician)' in page
    assert 'hx-params="csrf_token,lock_version,priority"' in page
    token = auth.csrf_token(f"/threads/{thread.id}")
    # What htmx sends for a priority change.
    answer = client.post(
        f"/threads/{thread.id}/edit",
        headers=HX,
        data={"priority": "high", "lock_version": "1", "csrf_token": token},
    )
    assert answer.status_code == 200
    # What the form sends without JavaScript: every field, as the page showed it.
    client.post(
        f"/threads/{thread.id}/edit",
        data={
            "status": "open",
            "priority": "urgent",
            "assigned_to_user_id": str(technician.id),
            "tags": "storing, factuur",
            "lock_version": "2",
            "csrf_token": token,
        },
    )
    db.session.expire_all()
    edited = db.session.get(type(thread), thread.id)
    assert edited.priority.value == "urgent"
    assert edited.assigned_to_user_id == technician.id
    lines = _system_lines()
    assert len(lines) == 2 and all("priority" in line for line in lines)


def test_stale_edit_is_refused_with_a_message(client, auth, make_user):
    _signed_in(auth, make_user)
    thread = _conversation()
    token = auth.csrf_token(f"/threads/{thread.id}")
    first = client.post(
        f"/threads/{thread.id}/edit",
        headers=HX,
        data={"priority": "high", "lock_version": "1", "csrf_token": token},
    )
    assert first.status_code == 200
    stale = client.post(
        f"/threads/{thread.id}/edit",
        headers=HX,
        data={"priority": "low", "lock_version": "1", "csrf_token": token},
    )
    assert stale.status_code == 409
    assert "Someone else changed this conversation" in stale.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(thread), thread.id).priority.value == "high"


def test_other_teams_thread_is_403(client, auth, make_user):
    mine, theirs = factories.team("Klantenservice"), factories.team("Techniek")
    db.session.commit()
    _signed_in(auth, make_user, team_id=mine.id)
    thread = _conversation(assigned_team_id=theirs.id)
    token = auth.csrf_token("/inbox")
    assert client.get(f"/threads/{thread.id}").status_code == 403
    edit = client.post(
        f"/threads/{thread.id}/edit",
        data={"priority": "low", "lock_version": "1", "csrf_token": token},
    )
    assert edit.status_code == 403
    reply = client.post(f"/threads/{thread.id}/reply", data={"content": "x", "csrf_token": token})
    assert reply.status_code == 403
    assert str(thread.id) not in _inbox_ids(client)


def _inbox_ids(client):
    html = client.get("/inbox").get_data(as_text=True)
    return [m for m in re.findall(r'data-thread-id="([^"]+)"', html)]


def test_unknown_thread_is_404(client, auth, make_user):
    _signed_in(auth, make_user)
    assert client.get("/threads/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.get("/threads/not-a-uuid").status_code == 404


def test_technician_sees_only_threads_of_their_orders(client, auth, make_user):
    tech = _signed_in(auth, make_user, role="technician")
    thread = _conversation()
    assert client.get(f"/threads/{thread.id}").status_code == 403
    order = Order(order_number="CC-2026-00001", assigned_technician_id=tech.id)
    db.session.add(order)
    db.session.flush()
    thread.order_id = order.id
    db.session.commit()
    assert client.get(f"/threads/{thread.id}").status_code == 200


def test_composer_filters_templates_by_channel_and_category(client, auth, make_user):
    _signed_in(auth, make_user)
    thread = _conversation()
    factories.template(
        "WhatsApp planning",
        template_name="WA planning",
        channel_type=TemplateChannelType.WHATSAPP_BUSINESS,
        template_category=TemplateCategory.INSTALLATION_SCHEDULING,
    )
    factories.template(
        "Mail klacht",
        template_name="Mail klacht",
        channel_type=TemplateChannelType.EMAIL_OUTLOOK,
        template_category=TemplateCategory.COMPLAINT_RESPONSE,
    )
    factories.template(
        "Overal", template_name="Overal bruikbaar", template_category=TemplateCategory.FOLLOW_UP
    )
    db.session.commit()
    html = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "WA planning" in html and "Overal bruikbaar" in html and "Mail klacht" not in html
    narrowed = client.get(
        f"/threads/{thread.id}/composer?channel_id={thread.channel_id}&category=follow_up",
        headers=HX,
    ).get_data(as_text=True)
    assert "Overal bruikbaar" in narrowed and "WA planning" not in narrowed
