"""The JSON API for threads and messages."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread, Order
from app.platform.models.enums import ChannelType, TokenKind
from tests.support import factories
from tests.support.jobs import drain_queues


def _headers(user):
    _, token = issue_token(TokenKind.PERSONAL, "test", user_id=user.id)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _setup(make_user):
    agent = make_user("agent")
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    contact = factories.contact(display_name="Eva de Boer", phone="+31687654321")
    thread = factories.thread(whatsapp, contact, thread_subject="Offerte")
    factories.message(thread, "Wat kost een laadpaal?", sender_contact_id=contact.id)
    db.session.commit()
    return agent, thread, contact


def test_thread_detail_has_messages(client, make_user):
    agent, thread, _ = _setup(make_user)
    response = client.get(f"/api/communication/threads/{thread.id}", headers=_headers(agent))
    assert response.status_code == 200
    data = response.json["data"]
    assert data["subject"] == "Offerte"
    assert data["contact"]["name"] == "Eva de Boer"
    assert data["messages"][0] == {
        **data["messages"][0],
        "direction": "inbound",
        "message_type": "incoming",
        "content": "Wat kost een laadpaal?",
        "channel": "whatsapp_business",
    }
    assert set(data["messages"][0]) >= {
        "id",
        "direction",
        "message_type",
        "channel",
        "content",
        "external_message_id",
        "delivery_status",
        "created_at",
    }


def test_post_message_queues_a_send(app, client, make_user):
    agent, thread, _ = _setup(make_user)
    response = client.post(
        "/api/communication/messages",
        headers=_headers(agent),
        json={"thread_id": str(thread.id), "content": "Ongeveer 1.200 euro."},
    )
    assert response.status_code == 201, response.json
    assert response.json["data"]["delivery_status"] == "pending"
    assert response.json["data"]["direction"] == "outbound"
    drain_queues(app)
    db.session.expire_all()
    stored = db.session.get(CommunicationMessage, uuid.UUID(response.json["data"]["id"]))
    assert stored.delivery_status.value in ("sent", "delivered", "read")


def test_post_message_validation_names_fields(client, make_user):
    agent, thread, _ = _setup(make_user)
    headers = _headers(agent)
    empty = client.post(
        "/api/communication/messages",
        headers=headers,
        json={"thread_id": str(thread.id), "content": " "},
    )
    assert empty.status_code == 422
    assert "content" in empty.json["error"]["fields"]
    missing = client.post("/api/communication/messages", headers=headers, json={"content": "x"})
    assert missing.status_code == 422
    assert missing.json["error"]["fields"] == {"thread_id": "required"}
    bad_json = client.post(
        "/api/communication/messages",
        headers={**headers, "Content-Type": "application/json"},
        data="{not json",
    )
    assert bad_json.status_code == 400
    channel = client.post(
        "/api/communication/messages",
        headers=headers,
        json={"thread_id": str(thread.id), "content": "x", "channel": "email"},
    )
    assert channel.status_code == 422
    assert "channel" in channel.json["error"]["fields"]


def test_post_internal_note_and_template(client, make_user):
    agent, thread, _ = _setup(make_user)
    headers = _headers(agent)
    note = client.post(
        "/api/communication/messages",
        headers=headers,
        json={"thread_id": str(thread.id), "content": "Terugbellen", "internal": True},
    )
    assert note.status_code == 201
    assert note.json["data"]["direction"] == "internal"
    template = factories.template(
        "Beste {{customer_name}}, uw {{product}} komt eraan.",
        variables=["customer_name", "product"],
    )
    db.session.commit()
    missing = client.post(
        "/api/communication/messages",
        headers=headers,
        json={"thread_id": str(thread.id), "template_id": str(template.id)},
    )
    assert missing.status_code == 422
    assert any(
        "product" in key or "product" in msg for key, msg in missing.json["error"]["fields"].items()
    )
    sent = client.post(
        "/api/communication/messages",
        headers=headers,
        json={
            "thread_id": str(thread.id),
            "template_id": str(template.id),
            "variables": {"product": "Zaptec Go"},
        },
    )
    assert sent.status_code == 201, sent.json
    assert sent.json["data"]["content"] == "Beste Eva de Boer, uw Zaptec Go komt eraan."


def test_put_thread_and_stale_version(client, make_user):
    agent, thread, _ = _setup(make_user)
    headers = _headers(agent)
    ok = client.put(
        f"/api/communication/threads/{thread.id}",
        headers=headers,
        json={"status": "in_progress", "lock_version": 1},
    )
    assert ok.status_code == 200
    assert ok.json["data"]["status"] == "in_progress"
    assert ok.json["data"]["lock_version"] == 2
    stale = client.put(
        f"/api/communication/threads/{thread.id}",
        headers=headers,
        json={"status": "resolved", "lock_version": 1},
    )
    assert stale.status_code == 409
    invalid = client.put(
        f"/api/communication/threads/{thread.id}",
        headers=headers,
        json={"status": "sleeping", "lock_version": 2},
    )
    assert invalid.status_code == 422
    assert "status" in invalid.json["error"]["fields"]


def test_create_thread(client, make_user):
    agent, _, contact = _setup(make_user)
    headers = _headers(agent)
    created = client.post(
        "/api/communication/threads",
        headers=headers,
        json={
            "subject": "Terugbelverzoek",
            "contact_id": str(contact.id),
            "channel": "whatsapp_business",
            "priority": "high",
            "tags": ["Bellen"],
        },
    )
    assert created.status_code == 201, created.json
    assert created.json["data"]["priority"] == "high"
    assert created.json["data"]["tags"] == ["bellen"]
    bad = client.post(
        "/api/communication/threads",
        headers=headers,
        json={"subject": "", "priority": "someday", "contact_id": "nope"},
    )
    assert bad.status_code == 422
    assert set(bad.json["error"]["fields"]) == {"subject", "priority", "contact_id"}


def test_messages_list_is_paginated(client, make_user):
    agent, thread, contact = _setup(make_user)
    for n in range(4):
        factories.message(thread, f"bericht {n}", sender_contact_id=contact.id)
    db.session.commit()
    headers = _headers(agent)
    first = client.get(
        f"/api/communication/messages?thread_id={thread.id}&limit=3", headers=headers
    )
    assert len(first.json["data"]) == 3 and first.json["next_cursor"]
    rest = client.get(
        f"/api/communication/messages?thread_id={thread.id}&limit=3"
        f"&cursor={first.json['next_cursor']}",
        headers=headers,
    )
    assert len(rest.json["data"]) == 2 and rest.json["next_cursor"] is None
    ids = [m["id"] for m in first.json["data"] + rest.json["data"]]
    assert len(set(ids)) == 5


def test_mark_inbound_message_read(client, make_user):
    agent, thread, _ = _setup(make_user)
    message = db.session.scalar(sa.select(CommunicationMessage))
    response = client.put(
        f"/api/communication/messages/{message.id}", headers=_headers(agent), json={"read": True}
    )
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(CommunicationMessage, message.id).read_at is not None


def test_other_teams_thread_is_403_in_api(client, make_user):
    other = factories.team()
    agent, thread, _ = _setup(make_user)
    thread.assigned_team_id = other.id
    agent.team_id = factories.team().id
    db.session.commit()
    headers = _headers(agent)
    assert client.get(f"/api/communication/threads/{thread.id}", headers=headers).status_code == 403
    assert (
        client.put(
            f"/api/communication/threads/{thread.id}", headers=headers, json={"status": "closed"}
        ).status_code
        == 403
    )
    listed = client.get("/api/communication/threads", headers=headers).json["data"]
    assert str(thread.id) not in [t["id"] for t in listed]


# --- what a new thread may name ---------------------------


def _threads_of(contact) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(CommunicationThread)
        .where(CommunicationThread.contact_id == contact.id)
    )


def test_a_new_thread_may_not_name_another_teams_customer(client, make_user):
    ours, theirs = factories.team("Klantenservice"), factories.team("Techniek")
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    foreign = factories.contact(display_name="Bram Smit", phone="+31611112222")
    factories.thread(whatsapp, foreign, assigned_team_id=theirs.id)
    shared = factories.contact(display_name="Eva de Boer")
    factories.thread(whatsapp, shared, assigned_team_id=theirs.id)
    factories.thread(whatsapp, shared, assigned_team_id=ours.id)
    newcomer = factories.contact(display_name="Noor Bakker")  # no conversation yet
    db.session.commit()
    agent = _headers(make_user("agent", team_id=ours.id))

    def create(headers, contact_id):
        body = {"subject": "Terugbelverzoek", "contact_id": contact_id}
        return client.post("/api/communication/threads", headers=headers, json=body)

    refused = create(agent, str(foreign.id))
    assert refused.status_code == 403
    assert refused.json["error"]["fields"] == {"contact_id": "a customer of another team"}
    assert "Bram" not in refused.get_data(as_text=True)
    assert _threads_of(foreign) == 1

    assert create(agent, str(shared.id)).status_code == 201
    assert create(agent, str(newcomer.id)).status_code == 201
    missing = create(agent, str(uuid.uuid4()))
    assert missing.status_code == 422
    assert missing.json["error"]["fields"] == {"contact_id": "not found"}
    manager = create(_headers(make_user("manager")), str(foreign.id))
    assert manager.status_code == 201


def test_a_technician_cannot_open_threads_naming_orders_or_customers(client, make_user):
    technician = make_user("technician")
    customer = factories.contact()
    order = Order(order_number="CC-2026-00001", assigned_technician_id=technician.id)
    db.session.add(order)
    db.session.commit()

    response = client.post(
        "/api/communication/threads",
        headers=_headers(technician),
        json={"subject": "Bezoek", "order_id": str(order.id), "contact_id": str(customer.id)},
    )

    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"
    assert _threads_of(customer) == 0
