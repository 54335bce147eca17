"""Outlook through Microsoft Graph: webhook, subscription, inbound mail, delta catch-up.

Against a fake identity platform + Graph served over HTTPS (tests/fakes/graph.py).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.conversations.channels.outlook import subscriptions
from app.conversations.channels.outlook.delta import poll_delta
from app.conversations.channels.outlook.state import default_mailbox, outlook_channel
from app.conversations.channels.outlook.subscriptions import renew_subscriptions
from app.platform.extensions import db
from app.platform.features import collect
from app.platform.models import CommunicationMessage, InboundWebhookEvent
from app.platform.models.enums import ProcessingState
from tests.support.outlook_support import (
    CUSTOMER,
    MAILBOX,
    WEBHOOK,
    aware,
    deliver,
    events_processed,
    graph_fake,
    notify,
    outlook_app,
    settle,
    stored,
    subscribe,
)

INBOX_DELTA = "mailFolders('Inbox')/messages/delta"

graph = pytest.fixture(graph_fake, name="graph")
app = pytest.fixture(outlook_app, name="app")


@pytest.fixture
def subscribed(app, client, graph):
    return subscribe(client, graph)


def test_validation_token_is_echoed_as_plain_text(client):
    token = "Validation: Testing client application reachability for subscription Request-Id: 1"
    response = client.post(WEBHOOK, query_string={"validationToken": token})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == token
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_subscription_is_created_then_renewed_before_expiry(app, graph, subscribed, monkeypatch):
    created, sent_created = graph.requests_to("/v1.0/subscriptions", "POST")
    body = created.json()
    # Sent Items too: replies colleagues write in Outlook itself.
    assert sent_created.json()["resource"] == f"users/{MAILBOX}/mailFolders('SentItems')/messages"
    assert sent_created.json()["clientState"] == body["clientState"]
    assert body["changeType"] == "created"
    assert body["resource"] == f"users/{MAILBOX}/mailFolders('Inbox')/messages"
    url = "https://switchboard.chargecars.nl/api/v1/webhooks/outlook"
    assert body["notificationUrl"] == body["lifecycleNotificationUrl"] == url
    assert len(body["clientState"]) >= 32
    channel = outlook_channel()
    assert default_mailbox().subscriptions["inbox"]["id"] == subscribed["id"]
    assert channel.credentials["graph_client_state"] == body["clientState"]
    # The secret is encrypted at rest and absent from the readable settings.
    raw = db.session.execute(
        sa.text("SELECT configuration, credentials FROM communication_channel")
    ).one()
    assert body["clientState"] not in str(raw.configuration) + str(raw.credentials)

    assert renew_subscriptions() == 0  # nothing due: no Graph call
    assert len(graph.requests_to("/v1.0/subscriptions")) == 2

    first_expiry = subscribed["expirationDateTime"]
    later = aware(first_expiry) - timedelta(hours=11)
    monkeypatch.setattr(subscriptions, "utcnow", lambda: later)
    graph.now = lambda: later
    assert renew_subscriptions() == 2  # Inbox and Sent Items
    (renewal,) = graph.requests_to(f"/v1.0/subscriptions/{subscribed['id']}", "PATCH")
    new_expiry = renewal.json()["expirationDateTime"]
    assert aware(new_expiry) > aware(first_expiry)
    db.session.expire_all()
    assert default_mailbox().subscriptions["inbox"]["expires_at"] == new_expiry

    # Graph dropped it: the next renewal gets 404 and subscribes anew, same secret.
    graph.subscriptions.clear()
    evening = aware(new_expiry) - timedelta(hours=1)
    monkeypatch.setattr(subscriptions, "utcnow", lambda: evening)
    graph.now = lambda: evening
    assert renew_subscriptions() == 2
    assert len(graph.requests_to("/v1.0/subscriptions", "POST")) == 4
    replacement = graph.active_subscription()
    assert replacement["clientState"] == body["clientState"]
    db.session.expire_all()
    assert default_mailbox().subscriptions["inbox"]["id"] == replacement["id"]


def test_sandbox_mode_makes_no_graph_calls(app, graph):
    app.config["GRAPH_CLIENT_SECRET"] = None
    assert renew_subscriptions() == 0
    assert poll_delta() == 0
    assert graph.requests == []


def test_notified_mail_is_fetched_sanitised_and_threaded(app, client, graph, subscribed):
    graph.add_message(
        "AAMkAD-1",
        sender=CUSTOMER,
        name="Jan Jansen",
        subject="Laadpaal knippert rood",
        conversation_id="conv-1",
        internet_message_id="<first@example.nl>",
        html='<p>Hallo,</p><script>alert("x")</script>'
        '<p onclick="steal()">Mijn laadpaal <b>knippert</b> rood.</p>',
        unique_html="<p>Hallo,</p><p>Mijn laadpaal <b>knippert</b> rood.</p>",
    )
    graph.add_attachment("AAMkAD-1", "foto.jpg", "image/jpeg", 52344)

    response = notify(client, graph.notification("AAMkAD-1"))
    assert response.status_code == 202
    event = db.session.scalar(sa.select(InboundWebhookEvent))
    assert event.source == "outlook" and event.event_type == "created"
    assert graph.requests_to("/messages/AAMkAD-1") == []  # never fetched inline

    message = settle(app, lambda: stored("AAMkAD-1"))
    assert message.subject == "Laadpaal knippert rood"
    assert message.message_content == "Hallo,\n\nMijn laadpaal knippert rood."
    assert "<script" not in message.message_html and "onclick" not in message.message_html
    assert "<b>knippert</b>" in message.message_html
    assert message.attachments == [
        {
            "name": "foto.jpg",
            "content_type": "image/jpeg",
            "size": 52344,
            "inline": False,
            "graph_attachment_id": graph.attachments["AAMkAD-1"][0]["id"],
        }
    ]
    assert message.extra["internet_message_id"] == "<first@example.nl>"
    assert message.sender_contact.email == CUSTOMER
    assert message.sender_contact.display_name == "Jan Jansen"
    thread = message.thread
    assert thread.thread_subject == "Laadpaal knippert rood"
    assert thread.external_references == {"conversation_key": "conv-1"}
    (fetch,) = graph.requests_to("/messages/AAMkAD-1", "GET")[:1]
    assert "internetMessageHeaders" in fetch.args["$select"]

    # Same conversation: same thread.
    graph.add_message("AAMkAD-2", sender=CUSTOMER, conversation_id="conv-1")
    assert deliver(app, client, graph, "AAMkAD-2").thread_id == thread.id
    # Another conversation that quotes the first mail (References): same thread.
    graph.add_message(
        "AAMkAD-3",
        sender=CUSTOMER,
        conversation_id="conv-other",
        references="<unrelated@example.nl> <first@example.nl>",
    )
    assert deliver(app, client, graph, "AAMkAD-3").thread_id == thread.id
    # A new subject in a new conversation: a new thread.
    graph.add_message("AAMkAD-4", sender=CUSTOMER, conversation_id="conv-4", subject="Factuur")
    assert deliver(app, client, graph, "AAMkAD-4").thread_id != thread.id


def test_the_same_notification_twice_stores_one_message(app, client, graph, subscribed):
    graph.add_message("AAMkAD-dup", sender=CUSTOMER)
    payload = graph.notification("AAMkAD-dup")
    assert notify(client, payload).status_code == 202
    assert settle(app, events_processed)
    assert db.session.scalar(sa.select(sa.func.count(InboundWebhookEvent.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(CommunicationMessage.id))) == 1


def test_mail_from_our_own_mailbox_is_not_threaded(app, client, graph, subscribed):
    graph.add_message("AAMkAD-self", sender=MAILBOX.upper())
    assert deliver(app, client, graph, "AAMkAD-self") is None
    event = db.session.scalar(sa.select(InboundWebhookEvent))
    assert event.processing_state == ProcessingState.PROCESSED


def test_wrong_client_state_is_401_and_nothing_isstored(client, graph, subscribed):
    graph.add_message("AAMkAD-x", sender=CUSTOMER)
    forged = graph.notification("AAMkAD-x", client_state="guessed")
    good = graph.notification("AAMkAD-x")["value"][0]
    forged["value"].insert(0, good)  # one bad notification spoils the batch
    response = notify(client, forged)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_client_state"
    assert db.session.scalar(sa.select(sa.func.count(InboundWebhookEvent.id))) == 0


def test_malformed_and_oversized_bodies(client, subscribed):
    response = client.post(WEBHOOK, data=b"{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_json"
    assert notify(client, {"value": "nope"}).status_code == 400
    huge = b'{"value": [' + b" " * (1024 * 1024) + b"]}"
    response = client.post(WEBHOOK, data=huge, content_type="application/json")
    assert response.status_code == 413
    assert db.session.scalar(sa.select(sa.func.count(InboundWebhookEvent.id))) == 0


def test_lifecycle_notifications(app, client, graph, subscribed):
    assert notify(client, graph.lifecycle("reauthorizationRequired")).status_code == 202
    assert settle(app, events_processed)
    assert len(graph.requests_to(f"/v1.0/subscriptions/{subscribed['id']}", "PATCH")) == 1

    graph.subscriptions.pop(subscribed["id"])  # Graph removed it and says so
    removed = graph.lifecycle("subscriptionRemoved", subscription_id=subscribed["id"])
    assert notify(client, removed).status_code == 202
    assert settle(app, events_processed)
    replacement = graph.active_subscription()
    assert replacement["id"] != subscribed["id"]
    db.session.expire_all()
    assert default_mailbox().subscriptions["inbox"]["id"] == replacement["id"]

    # The same notice about the replaced subscription again does not subscribe twice.
    again = graph.lifecycle("subscriptionRemoved", subscription_id=subscribed["id"])
    again["value"][0]["subscriptionExpirationDateTime"] = "2030-01-01T00:00:00Z"
    assert notify(client, again).status_code == 202
    assert settle(app, events_processed)
    assert len(graph.subscriptions) == 2  # Inbox and Sent Items

    graph.add_message("AAMkAD-missed", sender=CUSTOMER)
    graph.queue_delta([[{"id": "AAMkAD-missed"}]])
    assert notify(client, graph.lifecycle("missed")).status_code == 202
    assert settle(app, lambda: stored("AAMkAD-missed"))  # found by the delta walk
    events = db.session.scalars(sa.select(InboundWebhookEvent)).all()
    assert {e.processing_state for e in events} == {ProcessingState.PROCESSED}


def test_delta_catch_up_stores_missed_mail_once_and_keeps_the_delta_link(
    app, client, graph, subscribed
):
    for graph_id in ("AAMkAD-a", "AAMkAD-b", "AAMkAD-c"):
        graph.add_message(graph_id, sender=CUSTOMER, conversation_id=f"conv-{graph_id}")
    deliver(app, client, graph, "AAMkAD-a")  # this one was notified
    graph.queue_delta(
        [
            [{"id": "AAMkAD-a"}, {"id": "AAMkAD-b"}],
            [{"id": "AAMkAD-c"}, {"id": "AAMkAD-gone", "@removed": {"reason": "deleted"}}],
        ]
    )
    assert poll_delta() == 2
    first = graph.requests_to(INBOX_DELTA, "GET")
    assert first[0].args["$filter"].startswith("receivedDateTime ge ")
    assert first[1].args["$skiptoken"] == "1"
    assert graph.requests_to("/messages/AAMkAD-a", "GET")[1:] == []  # not fetched again
    ids = db.session.scalars(sa.select(CommunicationMessage.external_message_id)).all()
    assert sorted(ids) == ["AAMkAD-a", "AAMkAD-b", "AAMkAD-c"]
    db.session.expire_all()
    state = default_mailbox().delta_state["inbox"]
    assert state["mailbox"] == MAILBOX and "$deltatoken=walk-1" in state["delta_link"]

    assert poll_delta() == 0  # from the deltaLink: nothing new
    assert graph.requests_to(INBOX_DELTA, "GET")[-1].args["$deltatoken"] == "walk-1"

    # An expired delta token (410) starts a fresh walk.
    graph.fail_next(
        "/messages/delta", 410, {"error": {"code": "SyncStateNotFound", "message": "x"}}
    )
    assert poll_delta() == 0
    assert "$filter" in graph.requests_to(INBOX_DELTA, "GET")[-1].args
    assert db.session.scalar(sa.select(sa.func.count(CommunicationMessage.id))) == 3


def test_the_outlook_jobs_are_on_the_clock():
    scheduled = {job.func_path: job.every_seconds for job in collect().periodic_jobs}
    assert (
        scheduled["app.conversations.channels.outlook.subscriptions.renew_subscriptions"] <= 15 * 60
    )
    assert scheduled["app.conversations.channels.outlook.delta.poll_delta"] <= 5 * 60
