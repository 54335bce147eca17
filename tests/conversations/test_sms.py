"""SMS through a Twilio-compatible API: signed webhooks in, replies out, delivery ticks."""

from __future__ import annotations

import base64

import pytest
import sqlalchemy as sa

from app.conversations.channels.sms.transport import SmsTransport
from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, InboundWebhookEvent, ProviderStatus
from app.platform.models.enums import ChannelType, DeliveryStatus, MessageType, TokenKind
from app.platform.transports.base import OutboundMessage, TransportError
from tests.conftest import opened
from tests.fakes.twilio import FakeTwilio
from tests.support.helpers import serving
from tests.support.jobs import drain_queues, drain_until

PUBLIC_BASE_URL = "https://switchboard.example.nl"
WEBHOOK_URL = PUBLIC_BASE_URL + "/api/v1/webhooks/sms"
OUR_NUMBER = "+3197010203040"
CUSTOMER = "+31612345678"


@pytest.fixture
def twilio():
    yield from serving(FakeTwilio())


@pytest.fixture
def app(make_app, twilio):
    app = make_app(
        SMS_API_BASE=twilio.url,
        SMS_ACCOUNT_SID=twilio.account_sid,
        SMS_AUTH_TOKEN=twilio.auth_token,
        SMS_FROM=OUR_NUMBER,
        PUBLIC_BASE_URL=PUBLIC_BASE_URL,
    )
    with opened(app) as app:
        yield app


def post_form(client, twilio, form, *, signature=None):
    signature = twilio.sign(WEBHOOK_URL, form) if signature is None else signature
    headers = {"X-Twilio-Signature": signature} if signature else {}
    return client.post("/api/v1/webhooks/sms", data=form, headers=headers)


def bearer(user) -> dict:
    _, token = issue_token(TokenKind.PERSONAL, "test", user_id=user.id)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def messages(message_type=None) -> list[CommunicationMessage]:
    db.session.expire_all()
    query = sa.select(CommunicationMessage).order_by(CommunicationMessage.created_at)
    if message_type is not None:
        query = query.where(CommunicationMessage.message_type == message_type)
    return list(db.session.scalars(query))


def test_signed_inbound_sms_lands_in_a_thread(app, client, twilio):
    media_url = f"https://api.twilio.com/2010-04-01/Accounts/{twilio.account_sid}/Media/ME1"
    form = twilio.inbound_message(
        CUSTOMER, "Hoi, wanneer komt de monteur?", media=[(media_url, "image/jpeg")]
    )

    response = post_form(client, twilio, form)

    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert response.get_data(as_text=True).endswith("<Response/>")
    drain_queues(app)
    [message] = messages()
    assert message.message_type == MessageType.INCOMING
    assert message.message_content == "Hoi, wanneer komt de monteur?"
    assert message.external_message_id == form["MessageSid"]
    assert message.channel.channel_type == ChannelType.SMS
    assert message.thread.contact.phone == CUSTOMER
    assert message.thread.response_due_at is not None
    assert message.attachments == [
        {"url": media_url, "content_type": "image/jpeg", "filename": "media-1.jpeg"}
    ]
    event = db.session.scalar(sa.select(InboundWebhookEvent))
    assert (event.source, event.event_type, event.dedupe_key) == (
        "sms",
        "message",
        form["MessageSid"],
    )
    assert event.processing_state.value == "processed"


def test_the_same_sms_twice_is_stored_once(app, client, twilio):
    form = twilio.inbound_message(CUSTOMER, "Dubbel verstuurd")
    assert post_form(client, twilio, form).status_code == 200
    assert post_form(client, twilio, form).status_code == 200
    drain_queues(app)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InboundWebhookEvent)) == 1
    assert len(messages()) == 1


def test_unsigned_or_wrongly_signed_posts_are_refused(app, client, twilio, monkeypatch):
    form = twilio.inbound_message(CUSTOMER, "Nep")
    tampered = {**form, "Body": "Anders"}
    cases = {
        "missing": "",
        "other token": twilio.sign(WEBHOOK_URL, form, token="not-the-token"),
        "tampered body": None,  # signed for ``form``, posted as ``tampered``
        "other url": twilio.sign("http://localhost/api/v1/webhooks/sms", form),
    }
    for name, signature in cases.items():
        posted = tampered if name == "tampered body" else form
        signature = twilio.sign(WEBHOOK_URL, form) if signature is None else signature
        response = post_form(client, twilio, posted, signature=signature)
        assert response.status_code == 401, name
        assert response.json["error"]["code"] == "invalid_signature"
    # With no token configured nothing can be verified, so nothing is accepted.
    monkeypatch.setitem(app.config, "SMS_AUTH_TOKEN", None)
    assert post_form(client, twilio, form).status_code == 401
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InboundWebhookEvent)) == 0


def test_reply_goes_out_by_sms_and_status_callbacks_move_its_ticks(app, client, twilio, make_user):
    post_form(client, twilio, twilio.inbound_message(CUSTOMER, "Kan het eerder?"))
    drain_queues(app)
    [inbound] = messages()
    headers = bearer(make_user("agent"))

    response = client.post(
        "/api/communication/messages",
        headers=headers,
        json={"thread_id": str(inbound.thread_id), "content": "Ja, morgen om 9 uur."},
    )
    assert response.status_code == 201, response.json
    drain_queues(app)

    assert twilio.sent_messages() == [
        {
            "To": CUSTOMER,
            "From": OUR_NUMBER,
            "Body": "Ja, morgen om 9 uur.",
            "StatusCallback": WEBHOOK_URL,
        }
    ]
    [call] = twilio.requests_to("/Messages.json")
    assert call.path == f"/2010-04-01/Accounts/{twilio.account_sid}/Messages.json"
    credentials = base64.b64encode(f"{twilio.account_sid}:{twilio.auth_token}".encode()).decode()
    assert call.headers["Authorization"] == f"Basic {credentials}"
    [reply] = messages(MessageType.OUTGOING)
    assert reply.external_message_id.startswith("SM")
    assert reply.delivery_status == DeliveryStatus.SENT

    for status in ("sent", "delivered", "delivered"):  # Twilio may repeat a callback
        callback = twilio.status_callback(reply.external_message_id, status, to=CUSTOMER)
        assert post_form(client, twilio, callback).status_code == 200
    drain_until(
        app, lambda: messages(MessageType.OUTGOING)[0].delivery_status == DeliveryStatus.DELIVERED
    )
    [reply] = messages(MessageType.OUTGOING)
    assert reply.delivery_status == DeliveryStatus.DELIVERED
    assert reply.delivered_at is not None
    keys = set(db.session.scalars(sa.select(InboundWebhookEvent.dedupe_key)))
    assert f"{reply.external_message_id}:delivered" in keys
    assert f"{reply.external_message_id}:sent" in keys


def test_undelivered_callback_fails_the_message_with_the_error_code(app, client, twilio, make_user):
    post_form(client, twilio, twilio.inbound_message(CUSTOMER, "Hallo"))
    drain_queues(app)
    [inbound] = messages()
    client.post(
        "/api/communication/messages",
        headers=bearer(make_user("agent")),
        json={"thread_id": str(inbound.thread_id), "content": "Komt dit aan?"},
    )
    drain_queues(app)
    [reply] = messages(MessageType.OUTGOING)

    callback = twilio.status_callback(
        reply.external_message_id, "undelivered", to=CUSTOMER, error_code="30003"
    )
    post_form(client, twilio, callback)
    drain_queues(app)

    [reply] = messages(MessageType.OUTGOING)
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert reply.delivery_error == "ErrorCode 30003: unreachable destination handset"


def test_provider_refusal_fails_the_reply_with_twilios_message(app, client, twilio, make_user):
    post_form(client, twilio, twilio.inbound_message(CUSTOMER, "Hallo"))
    drain_queues(app)
    [inbound] = messages()
    twilio.answer_next(
        400,
        {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400},
    )
    client.post(
        "/api/communication/messages",
        headers=bearer(make_user("agent")),
        json={"thread_id": str(inbound.thread_id), "content": "Nog een vraag"},
    )
    drain_queues(app)

    [reply] = messages(MessageType.OUTGOING)
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert reply.delivery_error == "Twilio error 21610: Attempt to send to unsubscribed recipient"
    status = db.session.scalar(sa.select(ProviderStatus).where(ProviderStatus.provider == "sms"))
    assert status.consecutive_failures == 1


def test_server_errors_and_timeouts_are_retryable(app, twilio):
    outbound = OutboundMessage(message_id=None, channel_type="sms", recipient=CUSTOMER, body="Test")
    twilio.answer_next(503, {"code": 20500, "message": "Service unavailable"})
    with pytest.raises(TransportError) as failure:
        SmsTransport(app.config).send(outbound)
    assert failure.value.retryable

    twilio.answer_next(429, {"code": 20429, "message": "Too Many Requests"})
    with pytest.raises(TransportError) as failure:
        SmsTransport(app.config).send(outbound)
    assert failure.value.retryable

    unreachable = {**app.config, "SMS_API_BASE": "http://127.0.0.1:9"}
    with pytest.raises(TransportError) as failure:
        SmsTransport(unreachable).send(outbound)
    assert failure.value.retryable
    assert twilio.auth_token not in str(failure.value)

    result = SmsTransport(app.config).send(outbound)
    assert result.external_message_id.startswith("SM")
    db.session.commit()
    status = db.session.scalar(sa.select(ProviderStatus).where(ProviderStatus.provider == "sms"))
    assert status.consecutive_failures == 0 and status.last_success_at is not None


def test_an_amount_goes_out_in_the_sms_alphabet(app, twilio):
    """Babel's "€ 1.234,50" has a no-break space, which GSM-7 lacks: sent as a plain
    space, the SMS stays in GSM-7 (160 characters a part, not UCS-2's 70)."""
    body = "Uw order: totaal €\u00a01.234,50, 10\u202f% korting"
    outbound = OutboundMessage(message_id=None, channel_type="sms", recipient=CUSTOMER, body=body)
    SmsTransport(app.config).send(outbound)
    [call] = twilio.requests_to("/Messages.json")
    assert call.form()["Body"] == "Uw order: totaal € 1.234,50, 10 % korting"
