"""Outlook sending through Microsoft Graph: replies, new mails, errors, the token cache."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from app.conversations.channels.outlook import client as graph_client
from app.conversations.channels.outlook.state import outlook_channel
from app.conversations.channels.outlook.transport import GraphTransport
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, ProviderStatus
from app.platform.models.enums import ChannelType, DeliveryStatus, MessageType
from app.platform.transports.base import OutboundMessage, TransportError
from tests.support import factories
from tests.support.helpers import signed_in_agent
from tests.support.outlook_support import (
    CUSTOMER,
    deliver,
    graph_fake,
    outlook_app,
    settle,
    subscribe,
)

graph = pytest.fixture(graph_fake, name="graph")
app = pytest.fixture(outlook_app, name="app")


def _reply_on_page(client, auth, thread, content, channel_id=None):
    data = {"content": content, "csrf_token": auth.csrf_token(f"/threads/{thread.id}")}
    if channel_id:
        data["channel_id"] = str(channel_id)
    response = client.post(f"/threads/{thread.id}/reply", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 200


def _sent_messages(expected: int) -> list[CommunicationMessage]:
    """The outgoing messages, once ``expected`` of them have been sent."""
    sent = db.session.scalars(
        sa.select(CommunicationMessage)
        .where(
            CommunicationMessage.message_type == MessageType.OUTGOING,
            CommunicationMessage.delivery_status == DeliveryStatus.SENT,
        )
        .order_by(CommunicationMessage.created_at)
    ).all()
    return sent if len(sent) == expected else []


def test_replies_go_out_through_graph_and_answers_find_their_thread(
    app, client, auth, make_user, graph
):
    subscribe(client, graph)
    signed_in_agent(auth, make_user)
    graph.add_message("AAMkAD-q", sender=CUSTOMER, subject="Offerte", conversation_id="conv-q")
    thread = deliver(app, client, graph, "AAMkAD-q").thread

    _reply_on_page(client, auth, thread, "Wij plannen een monteur in.")
    (sent,) = settle(app, lambda: _sent_messages(1))
    (reply,) = graph.requests_to("/messages/AAMkAD-q/reply", "POST")
    message = reply.json()["message"]
    assert message["internetMessageId"] == f"<switchboard.{sent.id.hex}@chargecars.nl>"
    assert message["toRecipients"] == [{"emailAddress": {"address": CUSTOMER}}]
    # The reply, then the customer's mail quoted below it.
    assert message["body"]["contentType"] == "HTML"
    content = message["body"]["content"]
    assert content.startswith("<p>Wij plannen een monteur in.</p>")
    # The quote line is in the customer's language: Dutch.
    assert re.search(r"Op \d\d-\d\d-\d{4} om \d\d:\d\d schreef [^<]+:</p><blockquote", content)
    assert "Hallo" in content
    assert "comment" not in reply.json()
    assert sent.external_message_id == f"<switchboard.{sent.id.hex}@chargecars.nl>"

    # A WhatsApp customer written to by e-mail: a new conversation, via sendMail.
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    piet = factories.contact(display_name="Piet", email="piet@example.nl")
    chat = factories.thread(whatsapp, piet, thread_subject="Laadpaal offline")
    db.session.commit()
    _reply_on_page(client, auth, chat, "Zie de handleiding.", channel_id=outlook_channel().id)
    assert settle(app, lambda: _sent_messages(2))
    (send_mail,) = graph.requests_to("/sendMail", "POST")
    mail = send_mail.json()
    assert mail["saveToSentItems"] is True
    assert mail["message"]["subject"] == "Re: Laadpaal offline"
    assert mail["message"]["toRecipients"] == [{"emailAddress": {"address": "piet@example.nl"}}]
    assert mail["message"]["body"] == {"contentType": "Text", "content": "Zie de handleiding."}

    # Piet answers from another client: new conversationId, In-Reply-To our mail.
    graph.add_message(
        "AAMkAD-piet",
        sender="piet@example.nl",
        conversation_id="conv-piet",
        in_reply_to=mail["message"]["internetMessageId"],
    )
    answer = deliver(app, client, graph, "AAMkAD-piet")
    assert answer.thread_id == chat.id
    assert answer.thread.external_references["conversation_key"] == "conv-piet"

    # One token for the subscription, three fetches and two sends.
    assert len(graph.requests_to("/oauth2/v2.0/token", "POST")) == 1
    assert len(graph.tokens_issued) == 1


def _outbound(**fields) -> OutboundMessage:
    values = {
        "message_id": uuid.uuid4(),
        "channel_type": "email_outlook",
        "recipient": CUSTOMER,
        "body": "Tot morgen.",
        "subject": "Afspraak",
    }
    return OutboundMessage(**{**values, **fields})


def _graph_status() -> ProviderStatus:
    db.session.expire_all()
    return db.session.scalar(sa.select(ProviderStatus).where(ProviderStatus.provider == "graph"))


def test_send_errors_map_to_retryable_or_not(app, graph, monkeypatch):
    transport = GraphTransport(app.config)
    graph.add_message("AAMkAD-r", sender=CUSTOMER)

    # Throttled with a short Retry-After: waited out and retried in place.
    graph.fail_next("/reply", 429, headers={"Retry-After": "0"})
    result = transport.send(
        _outbound(reply_to_external_id="AAMkAD-r", html="<p>Tot <b>morgen</b></p>")
    )
    assert result.status == "sent"
    attempts = graph.requests_to("/messages/AAMkAD-r/reply", "POST")
    assert len(attempts) == 2
    assert attempts[-1].json()["message"]["body"]["contentType"] == "HTML"
    assert _graph_status().last_success_at is not None

    # A long Retry-After goes back to the job as a retryable error.
    graph.fail_next("/sendMail", 503, headers={"Retry-After": "120"})
    with pytest.raises(TransportError) as unavailable:
        transport.send(_outbound())
    assert unavailable.value.retryable and unavailable.value.retry_after == 120

    monkeypatch.setattr(graph_client, "TIMEOUT", (2, 0.3))
    graph.fail_next("/sendMail", 200, delay=1.0)
    with pytest.raises(TransportError) as timed_out:
        transport.send(_outbound())
    assert timed_out.value.retryable

    graph.fail_next(
        "/sendMail",
        403,
        {"error": {"code": "ErrorAccessDenied", "message": "Access is denied."}},
    )
    with pytest.raises(TransportError) as denied:
        transport.send(_outbound())
    assert not denied.value.retryable and denied.value.code == "ErrorAccessDenied"
    status = _graph_status()
    assert status.unhealthy and "ErrorAccessDenied" in status.last_error_message

    # A wrong secret: the token endpoint refuses, nothing is retried or leaked.
    wrong = GraphTransport({**app.config, "GRAPH_CLIENT_SECRET": "not-the-secret"})
    with pytest.raises(TransportError) as refused:
        wrong.send(_outbound())
    assert not refused.value.retryable and "invalid_client" in str(refused.value)
    assert "not-the-secret" not in _graph_status().last_error_message


def test_a_reply_to_a_deleted_mail_goes_out_as_a_new_mail(app, graph):
    result = GraphTransport(app.config).send(_outbound(reply_to_external_id="AAMkAD-deleted"))
    assert result.external_message_id.startswith("<switchboard.")
    assert len(graph.requests_to("/sendMail", "POST")) == 1
