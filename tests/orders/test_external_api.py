"""The /api/v1/external endpoints: send WhatsApp, send e-mail, bulk e-mail."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models import (
    CommunicationMessage,
    CommunicationThread,
    Contact,
    ContactIdentity,
    Order,
    SandboxSend,
)
from app.platform.models.enums import (
    ChannelType,
    DeliveryStatus,
    OrderStatus,
    ThreadStatus,
    TokenKind,
)
from tests.conftest import opened
from tests.fakes.sendgrid import API_KEY, FakeSendGrid
from tests.support import factories
from tests.support.jobs import drain_queues

TEXT = {
    "to": "31687654321",
    "type": "text",
    "text": {"body": "Uw bestelling #ORD-2025-001 is vandaag afgerond!"},
    "context": {"message_id": "wamid.previous_message_id"},
}
TEMPLATE = {
    "to": "31687654321",
    "type": "template",
    "template": {
        "name": "order_status_update",
        "language": {"code": "nl"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "ORD-2025-001"},
                    {"type": "text", "text": "In behandeling"},
                ],
            }
        ],
    },
}
EMAIL = {
    "to": "customer@example.com",
    "template_id": "order_confirmation",
    "dynamic_data": {"customer_name": "Jan Janssen", "order_id": "ORD-2025-001"},
    "category": "order_confirmation",
}
ENDPOINTS = ("send-whatsapp", "send-email", "send-bulk-email")


@pytest.fixture
def sendgrid():
    fake = FakeSendGrid().start()
    yield fake
    fake.stop()


@pytest.fixture
def app(make_app, sendgrid):
    # WhatsApp stays unconfigured (sandbox); SendGrid is the fake.
    app = make_app(
        SENDGRID_API_BASE=sendgrid.url, SENDGRID_API_KEY=API_KEY, MAIL_FROM="noreply@chargecars.nl"
    )
    with opened(app) as app:
        yield app


def bearer(user) -> dict:
    _, token = issue_token(TokenKind.PERSONAL, "test", user_id=user.id)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def load(message_id: str) -> CommunicationMessage:
    db.session.expire_all()
    return db.session.get(CommunicationMessage, uuid.UUID(message_id))


def test_every_endpoint_needs_a_signed_in_caller(client):
    for endpoint in ENDPOINTS:
        anonymous = client.post(f"/api/v1/external/{endpoint}", json={})
        assert anonymous.status_code == 401
        assert anonymous.json["error"]["code"] == "authentication_required"
        forged = client.post(
            f"/api/v1/external/{endpoint}", json={}, headers={"Authorization": "Bearer nope"}
        )
        assert forged.status_code == 401
        assert forged.json["error"]["code"] == "invalid_token"


def test_send_whatsapp_names_each_wrong_field(client, make_user):
    headers = bearer(make_user("agent"))

    def fields(body):
        response = client.post("/api/v1/external/send-whatsapp", headers=headers, json=body)
        assert response.status_code == 422, response.json
        return response.json["error"]["fields"]

    assert set(fields({**TEXT, "to": "bel me"})) == {"to"}
    assert set(fields({**TEXT, "type": "sms"})) == {"type"}
    assert set(fields({**TEXT, "text": {"body": "  "}})) == {"text.body"}
    assert set(fields({**TEXT, "context": {}})) == {"context.message_id"}
    assert set(fields({"type": "template", "template": {"language": {"code": "nl"}}})) == {
        "to",
        "template.name",
    }
    components = [{"type": "body", "parameters": [{"type": "image"}]}]
    broken = {**TEMPLATE, "template": {**TEMPLATE["template"], "components": components}}
    assert set(fields(broken)) == {"template.components[0].parameters[0]"}
    not_json = client.post(
        "/api/v1/external/send-whatsapp",
        headers={**headers, "Content-Type": "application/json"},
        data="{nope",
    )
    assert not_json.status_code == 400


def test_send_whatsapp_text_queues_a_pending_message_that_the_sandbox_sends(app, client, make_user):
    headers = bearer(make_user("agent"))

    response = client.post("/api/v1/external/send-whatsapp", headers=headers, json=TEXT)

    assert response.status_code == 202, response.json
    data = response.json["data"]
    assert response.json["success"] is True
    assert data["delivery_status"] == "pending"
    drain_queues(app)
    message = load(data["message_id"])
    assert str(message.thread_id) == data["thread_id"]
    assert message.message_content == TEXT["text"]["body"]
    assert message.channel.channel_type == ChannelType.WHATSAPP_BUSINESS
    assert message.thread.contact.phone == "+31687654321"
    assert message.extra["reply_to"] == "wamid.previous_message_id"
    # Sent, then the sandbox's simulated delivered/read ticks may already have come.
    assert message.delivery_status in (
        DeliveryStatus.SENT,
        DeliveryStatus.DELIVERED,
        DeliveryStatus.READ,
    )
    [record] = db.session.scalars(sa.select(SandboxSend)).all()
    assert (record.provider, record.recipient, record.message_id) == (
        "whatsapp",
        "+31687654321",
        message.id,
    )

    again = client.post("/api/v1/external/send-whatsapp", headers=headers, json=TEXT)
    assert again.json["data"]["thread_id"] == data["thread_id"]


def test_send_whatsapp_template_keeps_name_language_and_parameters(client, make_user):
    response = client.post(
        "/api/v1/external/send-whatsapp", headers=bearer(make_user("agent")), json=TEMPLATE
    )

    assert response.status_code == 202, response.json
    message = load(response.json["data"]["message_id"])
    assert message.extra["template_name"] == "order_status_update"
    assert message.extra["template_language"] == "nl"
    assert message.extra["template_parameters"] == ["ORD-2025-001", "In behandeling"]
    assert message.message_content == (
        "Template order_status_update (nl): ORD-2025-001 | In behandeling"
    )


def test_a_browser_session_must_send_the_csrf_token(client, auth, make_user):
    user = make_user("agent")
    auth.login(user.email)

    refused = client.post("/api/v1/external/send-whatsapp", json=TEXT)
    assert refused.status_code == 400
    assert refused.json["error"]["code"] == "csrf_failed"
    accepted = client.post(
        "/api/v1/external/send-whatsapp", json=TEXT, headers={"X-CSRFToken": auth.csrf_token()}
    )
    assert accepted.status_code == 202


def test_send_email_validates_then_reaches_sendgrid(app, client, sendgrid, make_user):
    headers = bearer(make_user("agent"))
    bad = client.post(
        "/api/v1/external/send-email",
        headers=headers,
        json={"to": "geen-adres", "template_id": "monthly_newsletter", "dynamic_data": []},
    )
    assert bad.status_code == 422
    fields = bad.json["error"]["fields"]
    assert set(fields) == {"to", "template_id", "dynamic_data"}
    assert "order_confirmation" in fields["template_id"]

    response = client.post("/api/v1/external/send-email", headers=headers, json=EMAIL)
    assert response.status_code == 202, response.json
    assert response.json["data"]["delivery_status"] == "pending"
    drain_queues(app)

    [call] = sendgrid.requests_to("/v3/mail/send")
    body = call.json()
    assert body["template_id"] == "d-order-confirmation-2025"
    assert body["categories"] == ["order_confirmation"]
    assert body["personalizations"][0]["to"] == [
        {"email": "customer@example.com", "name": "customer@example.com"}
    ]
    assert body["personalizations"][0]["dynamic_template_data"] == EMAIL["dynamic_data"]
    message = load(response.json["data"]["message_id"])
    assert message.external_message_id == sendgrid.message_ids[0]


def _order(number: str, status: OrderStatus, email: str | None) -> Order:
    customer = factories.contact(display_name=f"Klant {number}", email=email)
    order = Order(order_number=number, status=status, end_customer_contact_id=customer.id)
    db.session.add(order)
    db.session.flush()
    return order


def test_bulk_email_goes_to_the_named_audience_one_job_each(app, client, sendgrid, make_user):
    _order("CC-2026-00001", OrderStatus.SCHEDULED, "a@example.nl")
    _order("CC-2026-00002", OrderStatus.NEW, "b@example.nl")
    _order("CC-2026-00003", OrderStatus.COMPLETED, "c@example.nl")
    _order("CC-2026-00004", OrderStatus.APPROVED, None)
    db.session.commit()
    body = {"list_id": "customers_with_open_orders", "template_id": "d-planning-update-2026"}

    agent = client.post(
        "/api/v1/external/send-bulk-email", headers=bearer(make_user("agent")), json=body
    )
    assert agent.status_code == 403
    headers = bearer(make_user("manager"))
    unknown = client.post(
        "/api/v1/external/send-bulk-email",
        headers=headers,
        json={**body, "list_id": "marketing_subscribers", "send_at": "morgen"},
    )
    assert unknown.status_code == 422
    assert set(unknown.json["error"]["fields"]) == {"list_id", "send_at"}
    assert "customers_with_open_orders" in unknown.json["error"]["fields"]["list_id"]

    response = client.post("/api/v1/external/send-bulk-email", headers=headers, json=body)
    assert response.status_code == 202, response.json
    drain_queues(app)

    mails = sendgrid.mails()
    assert sorted(m["personalizations"][0]["to"][0]["email"] for m in mails) == [
        "a@example.nl",
        "b@example.nl",
    ]
    assert {tuple(m["categories"]) for m in mails} == {("bulk", "customers_with_open_orders")}
    assert {m["template_id"] for m in mails} == {"d-planning-update-2026"}
    progress = client.get(response.json["data"]["progress_url"], headers=headers)
    assert progress.status_code == 200
    assert progress.json["data"] == {
        "job_id": response.json["data"]["job_id"],
        "status": "finished",
        "total": 2,
        "queued": 2,
    }
    missing = client.get("/api/v1/external/bulk-jobs/no-such-job", headers=headers)
    assert missing.status_code == 404


# --- who may send, and into which conversation ------------


def _written() -> dict[str, int]:
    """How many rows a send could have added, table by table."""
    return {
        model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Contact, ContactIdentity, CommunicationThread, CommunicationMessage)
    }


def _teams_customer(channel_type: ChannelType, owners, **thread_fields):
    """A customer (phone of TEXT, address of EMAIL) in an open thread of ``owners``' team."""
    customer = factories.contact(phone="+31687654321", email="customer@example.com")
    thread = factories.thread(
        factories.channel(channel_type), customer, assigned_team_id=owners.id, **thread_fields
    )
    db.session.commit()
    return thread


@pytest.mark.parametrize(("endpoint", "body"), [("send-whatsapp", TEXT), ("send-email", EMAIL)])
def test_a_technicians_token_sends_nothing(app, client, sendgrid, make_user, endpoint, body):
    before = _written()

    response = client.post(
        f"/api/v1/external/{endpoint}", headers=bearer(make_user("technician")), json=body
    )

    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"
    drain_queues(app)
    assert _written() == before
    assert db.session.scalars(sa.select(SandboxSend)).all() == []
    assert sendgrid.mails() == []


@pytest.mark.parametrize(
    ("endpoint", "body", "channel_type"),
    [
        ("send-whatsapp", TEXT, ChannelType.WHATSAPP_BUSINESS),
        ("send-email", EMAIL, ChannelType.EMAIL_OUTLOOK),
    ],
)
def test_a_send_into_another_teams_conversation_is_refused_before_anything_is_written(
    app, client, sendgrid, make_user, endpoint, body, channel_type
):
    ours, theirs = factories.team("Klantenservice"), factories.team("Techniek")
    thread = _teams_customer(channel_type, theirs)
    outsider = make_user("agent", team_id=ours.id)
    before = _written()

    refused = client.post(f"/api/v1/external/{endpoint}", headers=bearer(outsider), json=body)

    assert refused.status_code == 403, refused.json
    assert refused.json["error"]["fields"] == {"to": "in a conversation you cannot open"}
    # The caller could not open the thread it would have gone into either.
    opened_thread = client.get(f"/api/communication/threads/{thread.id}", headers=bearer(outsider))
    assert opened_thread.status_code == 403
    drain_queues(app)
    assert _written() == before  # not even the customer's address claimed as an identity
    assert db.session.scalars(sa.select(SandboxSend)).all() == []
    assert sendgrid.mails() == []

    for insider in (make_user("agent", team_id=theirs.id), make_user("manager")):
        accepted = client.post(f"/api/v1/external/{endpoint}", headers=bearer(insider), json=body)
        assert accepted.status_code == 202, accepted.json
        assert accepted.json["data"]["thread_id"] == str(thread.id)


def test_a_closed_conversation_of_another_team_does_not_block_a_new_one(client, make_user):
    ours, theirs = factories.team("Klantenservice"), factories.team("Techniek")
    closed = _teams_customer(ChannelType.WHATSAPP_BUSINESS, theirs, status=ThreadStatus.CLOSED)
    sender = bearer(make_user("agent", team_id=ours.id))

    response = client.post("/api/v1/external/send-whatsapp", headers=sender, json=TEXT)

    assert response.status_code == 202, response.json
    new_thread = response.json["data"]["thread_id"]
    assert new_thread != str(closed.id)
    assert client.get(f"/api/communication/threads/{new_thread}", headers=sender).status_code == 200
