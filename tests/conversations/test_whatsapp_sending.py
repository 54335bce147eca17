"""WhatsApp outbound: replies through the Cloud API, the 24-hour window, Meta's errors,
delivery ticks from status webhooks, and the order-status auto-reply."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

import app.conversations.channels.whatsapp.client as whatsapp_client
import app.conversations.core.sending as sending
from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models import Notification, Order, ProviderStatus
from app.platform.models.enums import DeliveryStatus, MessageType, OrderStatus, Role, TokenKind
from tests.fakes import whatsapp as wa
from tests.support import factories
from tests.support.helpers import HX, post_reply, signed_in_agent
from tests.support.jobs import drain_queues
from tests.support.whatsapp_support import (
    CUSTOMER,
    CUSTOMER_E164,
    customer_text,
    deliver,
    fake_whatsapp_server,
    messages,
    only_thread,
    wait_until,
    whatsapp_app,
    whatsapp_thread,
)

STATUS_TEXT = "Uw bestelling {{order_id}} heeft nu de status: {{order_status}}."


fake_whatsapp = pytest.fixture(fake_whatsapp_server, name="fake_whatsapp")
app = pytest.fixture(whatsapp_app, name="app")
agent = pytest.fixture(signed_in_agent, name="agent")


def _outgoing():
    [message] = messages(MessageType.OUTGOING)
    return message


def _status_template(**fields):
    return factories.template(
        STATUS_TEXT,
        template_name="Orderstatus",
        whatsapp_template_name="order_status_update",
        **fields,
    )


# --- replies and ticks ---------------------------------------------------------------


def test_reply_reaches_the_api_and_the_delivered_status_shows(
    app, client, auth, agent, fake_whatsapp
):
    deliver(app, client, customer_text("Mijn laadpaal knippert rood", wamid="wamid.in1"))
    thread = only_thread()
    response = post_reply(client, auth, thread, content="We komen morgen langs.")
    assert response.status_code == 200
    drain_queues(app)
    assert fake_whatsapp.sent() == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": CUSTOMER,
            "type": "text",
            "text": {"preview_url": False, "body": "We komen morgen langs."},
            "context": {"message_id": "wamid.in1"},
        }
    ]
    [call] = fake_whatsapp.requests_to("/messages", "POST")
    assert call.path == f"/{wa.VERSION}/{wa.PHONE_NUMBER_ID}/messages"
    assert call.headers["Authorization"] == f"Bearer {wa.ACCESS_TOKEN}"
    db.session.expire_all()
    reply = _outgoing()
    assert reply.delivery_status == DeliveryStatus.SENT
    assert reply.external_message_id.startswith("wamid.fake")
    assert db.session.scalar(sa.select(ProviderStatus.last_success_at)) is not None

    deliver(
        app,
        client,
        wa.webhook(statuses=[wa.status(reply.external_message_id, "delivered", 1, CUSTOMER)]),
    )
    assert _outgoing().delivery_status == DeliveryStatus.DELIVERED
    timeline = client.get(f"/threads/{thread.id}/timeline").get_data(as_text=True)
    assert 'data-status="delivered"' in timeline
    # A late "sent" never takes the ticks back.
    deliver(
        app,
        client,
        wa.webhook(statuses=[wa.status(reply.external_message_id, "sent", 0, CUSTOMER)]),
    )
    assert _outgoing().delivery_status == DeliveryStatus.DELIVERED


def test_failed_status_webhook_names_metas_error(app, client, auth, agent):
    deliver(app, client, customer_text("Hallo"))
    post_reply(client, auth, only_thread(), content="Hallo Jan")
    drain_queues(app)
    db.session.expire_all()
    wamid = _outgoing().external_message_id
    error = {
        "code": 131047,
        "title": "Re-engagement message",
        "message": "Re-engagement message",
        "error_data": {
            "details": "More than 24 hours have passed since the customer last replied."
        },
    }
    deliver(app, client, wa.webhook(statuses=[wa.status(wamid, "failed", 2, CUSTOMER, [error])]))
    reply = _outgoing()
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert reply.delivery_error.startswith("131047: Re-engagement message — More than 24 hours")


# --- the 24-hour window --------------------------------------------------------------


def test_free_text_outside_the_window_is_refused(app, client, auth, agent, fake_whatsapp):
    thread = whatsapp_thread(inbound_ago=timedelta(days=2))
    response = post_reply(client, auth, thread, content="Nog vragen?")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The 24-hour WhatsApp window closed at" in html
    assert "send an approved template instead." in html
    assert messages(MessageType.OUTGOING) == []

    _, token = issue_token(TokenKind.PERSONAL, "test", user_id=agent.id)
    db.session.commit()
    api = app.test_client().post(  # a script with a token, not the signed-in browser
        "/api/communication/messages",
        json={"thread_id": str(thread.id), "content": "Nog vragen?"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api.status_code == 422
    assert "24-hour WhatsApp window closed" in api.json["error"]["fields"]["content"]
    drain_queues(app)
    assert fake_whatsapp.sent() == []


def test_composer_offers_only_approved_templates_when_the_window_is_closed(
    app, client, auth, agent
):
    thread = whatsapp_thread(inbound_ago=timedelta(days=2, hours=1))
    approved = _status_template()
    factories.template("Hallo {{customer_name}}", template_name="Vrije groet")
    db.session.commit()
    html = client.get(f"/threads/{thread.id}/composer", headers=HX).get_data(as_text=True)
    assert "Last customer message 2 days ago — WhatsApp only allows approved templates now" in html
    assert "Orderstatus" in html and "Vrije groet" not in html
    assert str(approved.id) in html

    open_thread = whatsapp_thread(inbound_ago=timedelta(hours=2))
    html = client.get(f"/threads/{open_thread.id}/composer", headers=HX).get_data(as_text=True)
    assert "only allows approved templates" not in html and "Vrije groet" in html


def test_template_goes_out_as_an_approved_template_outside_the_window(
    app, client, auth, agent, fake_whatsapp
):
    order = Order(order_number="CC-2026-00042", status=OrderStatus.SCHEDULED)
    db.session.add(order)
    db.session.flush()
    thread = whatsapp_thread(inbound_ago=timedelta(days=3), order_id=order.id)
    template = _status_template()
    db.session.commit()
    composer = client.get(
        f"/threads/{thread.id}/composer?template_id={template.id}", headers=HX
    ).get_data(as_text=True)
    rendered = "Uw bestelling CC-2026-00042 heeft nu de status: Ingepland."
    assert rendered in composer

    edited = post_reply(client, auth, thread, template_id=str(template.id), content="Iets anders")
    assert edited.status_code == 422
    assert "cannot be edited" in edited.get_data(as_text=True)

    response = post_reply(client, auth, thread, template_id=str(template.id), content=rendered)
    assert response.status_code == 200
    drain_queues(app)
    [body] = fake_whatsapp.sent()
    assert body["type"] == "template"
    assert body["to"] == CUSTOMER
    assert body["template"] == {
        "name": "order_status_update",
        "language": {"code": "nl"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "CC-2026-00042"},
                    {"type": "text", "text": "Ingepland"},
                ],
            }
        ],
    }
    db.session.expire_all()
    reply = _outgoing()
    assert reply.message_content == rendered
    assert reply.extra["template_parameters"] == ["CC-2026-00042", "Ingepland"]
    assert reply.delivery_status == DeliveryStatus.SENT


# --- Meta's errors -------------------------------------------------------------------


def test_re_engagement_error_fails_the_message_with_advice(app, client, auth, agent, fake_whatsapp):
    thread = whatsapp_thread(inbound_ago=timedelta(hours=23))
    fake_whatsapp.answer_error(400, 131047, "Re-engagement message")
    post_reply(client, auth, thread, content="Bent u nog thuis?")
    drain_queues(app)
    db.session.expire_all()
    reply = _outgoing()
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert reply.delivery_error.startswith("131047: Re-engagement message")
    assert "template" in reply.delivery_error
    assert len(fake_whatsapp.sent()) == 1  # not retried


def test_rate_limit_is_retried_and_the_second_attempt_succeeds(
    app, client, auth, agent, fake_whatsapp, monkeypatch
):
    monkeypatch.setattr(sending, "RETRY_DELAYS", (1, 1))
    thread = whatsapp_thread(inbound_ago=timedelta(minutes=5))
    fake_whatsapp.answer_error(400, 130429, "Rate limit hit")
    post_reply(client, auth, thread, content="Een moment geduld")
    wait_until(lambda: _outgoing().delivery_status == DeliveryStatus.SENT, app)
    assert len(fake_whatsapp.sent()) == 2
    status = db.session.scalars(sa.select(ProviderStatus)).one()
    assert status.consecutive_failures == 0 and not status.unhealthy


def test_a_provider_that_does_not_answer_in_time_is_retried(
    app, client, auth, agent, fake_whatsapp, monkeypatch
):
    monkeypatch.setattr(sending, "RETRY_DELAYS", (1, 1))
    monkeypatch.setattr(whatsapp_client, "TIMEOUT", (2, 0.3))
    thread = whatsapp_thread(inbound_ago=timedelta(minutes=5))
    fake_whatsapp.answer_slowly(1.0)
    post_reply(client, auth, thread, content="Komt eraan")
    wait_until(lambda: _outgoing().delivery_status == DeliveryStatus.SENT, app)
    assert len(fake_whatsapp.sent()) == 2


@pytest.mark.parametrize(
    ("http_status", "body", "retryable"),
    [
        (400, wa.FakeWhatsApp.error_body(130429, "Rate limit hit"), True),
        (400, wa.FakeWhatsApp.error_body(131056, "Pair rate limit hit"), True),
        (500, wa.FakeWhatsApp.error_body(131000, "Something went wrong"), True),
        (503, "<html>Service Unavailable</html>", True),
        (400, wa.FakeWhatsApp.error_body(131047, "Re-engagement message"), False),
        (400, wa.FakeWhatsApp.error_body(100, "Invalid parameter"), False),
        (401, wa.FakeWhatsApp.error_body(190, "Error validating access token"), False),
    ],
)
def test_metas_errors_are_read_by_code(http_status, body, retryable):
    failure = whatsapp_client.failure_from(http_status, body if isinstance(body, dict) else None)
    assert failure.retryable is retryable
    if isinstance(body, dict):
        assert failure.code == body["error"]["code"]
        assert str(failure).startswith(f"{failure.code}: ")


def test_no_free_text_to_a_customer_who_never_wrote_on_whatsapp(app, client, auth, agent):
    thread = whatsapp_thread(inbound_ago=None)
    response = post_reply(client, auth, thread, content="Hallo Jan")
    assert response.status_code == 422
    assert "has not written on WhatsApp yet" in response.get_data(as_text=True)


def test_rejected_token_marks_whatsapp_unhealthy_and_alerts_admins_once(
    app, client, auth, agent, make_user, fake_whatsapp
):
    admins = [make_user("admin"), make_user("admin")]
    thread = whatsapp_thread(inbound_ago=timedelta(minutes=5))
    fake_whatsapp.answer_error(401, 190, "Error validating access token", times=2)
    post_reply(client, auth, thread, content="Eerste")
    post_reply(client, auth, thread, content="Tweede")
    drain_queues(app)
    db.session.expire_all()
    replies = messages(MessageType.OUTGOING)
    assert [r.delivery_status for r in replies] == [DeliveryStatus.FAILED] * 2
    assert "access token" in replies[0].delivery_error
    assert len(fake_whatsapp.sent()) == 2  # no retries
    status = db.session.scalars(sa.select(ProviderStatus)).one()
    assert status.unhealthy and "190" in status.last_error_message
    alerts = db.session.scalars(sa.select(Notification)).all()
    assert sorted(n.user_id for n in alerts) == sorted(a.id for a in admins)
    assert {(n.notification_type, n.priority.value) for n in alerts} == {
        ("integration_unhealthy", "urgent")
    }
    assert wa.ACCESS_TOKEN not in (alerts[0].message or "")
    assert all(a.role == Role.ADMIN for a in admins)


# --- the order-status auto-reply -------------------------------------------------


def _customer_with_order():
    jan = factories.contact(display_name="Jan Jansen", phone=CUSTOMER_E164)
    mine = Order(
        order_number="CC-2026-00042", status=OrderStatus.SCHEDULED, end_customer_contact_id=jan.id
    )
    someone_elses = Order(order_number="CC-2026-00099", status=OrderStatus.ON_HOLD)
    db.session.add_all([mine, someone_elses])
    _status_template()
    db.session.commit()
    return jan, mine


def test_order_status_question_is_answered_with_the_template(app, client, fake_whatsapp):
    _, order = _customer_with_order()
    question = customer_text("Wat is de status van mijn bestelling CC-2026-00042?", "wamid.q1")
    deliver(app, client, question)
    deliver(app, client, question)  # Meta's retry: still one answer
    drain_queues(app)
    db.session.expire_all()
    [answer] = messages(MessageType.AUTO_RESPONSE)
    assert answer.sender_user_id is None
    assert answer.extra["automation"] == "order_status_answer"
    assert answer.message_content == "Uw bestelling CC-2026-00042 heeft nu de status: Ingepland."
    assert answer.delivery_status == DeliveryStatus.SENT
    assert only_thread().order_id == order.id
    [body] = fake_whatsapp.sent()
    assert body["type"] == "template"
    assert body["context"] == {"message_id": "wamid.q1"}
    assert [p["text"] for p in body["template"]["components"][0]["parameters"]] == [
        "CC-2026-00042",
        "Ingepland",
    ]
    # Asking again straight away is left to the agents.
    deliver(app, client, customer_text("Waar blijft mijn order?", "wamid.q2"))
    assert len(messages(MessageType.AUTO_RESPONSE)) == 1


def test_no_auto_reply_about_someone_elses_order_or_for_other_questions(app, client, fake_whatsapp):
    _customer_with_order()
    deliver(app, client, customer_text("Status van CC-2026-00099 graag", "wamid.x1"))
    deliver(app, client, customer_text("Kunnen jullie ook zonnepanelen leggen?", "wamid.x2"))
    drain_queues(app)
    assert messages(MessageType.AUTO_RESPONSE) == []
    assert fake_whatsapp.sent() == []
