"""Several Outlook mailboxes, and replies written in Outlook itself.

Against the fake Graph (tests/fakes/graph.py): klantenservice@ is the default
mailbox (GRAPH_MAILBOX), service@ a shared mailbox an admin added with its own
team and signature. Mail into each lands in that mailbox's conversations and
team; a reply goes out from the mailbox the conversation came in on; a reply a
colleague writes in Outlook shows up once as our answer (first response), and
Switchboard's own replies found in Sent Items are never recorded again.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.conversations.channels.outlook.delta import poll_delta
from app.conversations.channels.outlook.mailboxes import MailboxForm, add_mailbox
from app.conversations.channels.outlook.state import default_mailbox
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, OutlookMailbox
from app.platform.models.enums import DeliveryStatus, MessageType, ThreadStatus
from app.platform.transactions import commit
from tests.support import factories
from tests.support.outlook_support import (
    CUSTOMER,
    MAILBOX,
    deliver,
    events_processed,
    graph_fake,
    notify,
    outlook_app,
    settle,
    subscribe,
)

SERVICE = "service@chargecars.nl"
PIET = "piet@example.nl"

graph = pytest.fixture(graph_fake, name="graph")
app = pytest.fixture(outlook_app, name="app")


@pytest.fixture
def service(app):
    team = factories.team("Service")
    mailbox = add_mailbox(
        SERVICE.upper(),
        MailboxForm(display_name="Service", team_id=str(team.id), signature="Team Service"),
    )
    commit()
    return mailbox


def _service_agent(auth, make_user, service):
    """An agent of the service mailbox's team, signed in."""
    make_user("agent", email="agent@switchboard.test", team_id=service.team_id)
    auth.login("agent@switchboard.test")


def _reply_on_page(client, auth, thread, content):
    data = {"content": content, "csrf_token": auth.csrf_token(f"/threads/{thread.id}")}
    response = client.post(f"/threads/{thread.id}/reply", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 200


def _sent_count(expected: int) -> bool:
    count = db.session.scalar(
        sa.select(sa.func.count(CommunicationMessage.id)).where(
            CommunicationMessage.message_type == MessageType.OUTGOING,
            CommunicationMessage.delivery_status == DeliveryStatus.SENT,
        )
    )
    return count == expected


def _outbound_in(thread_id) -> list[CommunicationMessage]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(CommunicationMessage).where(
            CommunicationMessage.thread_id == thread_id,
            CommunicationMessage.message_type == MessageType.OUTGOING,
        )
    ).all()


def test_each_mailbox_has_its_own_subscriptions_team_and_sender(
    app, client, auth, make_user, graph, service
):
    subscribe(client, graph)
    resources = sorted(s["resource"] for s in graph.subscriptions.values())
    assert resources == sorted(
        f"users/{box}/mailFolders('{folder}')/messages"
        for box in (MAILBOX, SERVICE)
        for folder in ("Inbox", "SentItems")
    )
    default = default_mailbox()
    # Each mailbox its own secret: a notification says which mailbox it is about.
    states = {s["resource"].split("/")[1]: s["clientState"] for s in graph.subscriptions.values()}
    assert states[MAILBOX] != states[SERVICE]

    graph.add_message("AAMk-info", sender=CUSTOMER, subject="Offerte", conversation_id="c-info")
    graph.add_message(
        "AAMk-svc", sender=PIET, mailbox=SERVICE, subject="Storing", conversation_id="c-svc"
    )
    info_thread = deliver(app, client, graph, "AAMk-info").thread
    service_thread = deliver(app, client, graph, "AAMk-svc").thread
    db.session.refresh(service)
    assert info_thread.channel_id == default.channel_id
    assert service_thread.channel_id == service.channel_id
    assert service_thread.assigned_team_id == service.team_id
    assert info_thread.assigned_team_id is None
    # Fetched from the mailbox it arrived in.
    assert graph.requests_to(f"/users/{SERVICE}/messages/AAMk-svc", "GET")
    assert not graph.requests_to(f"/users/{MAILBOX}/messages/AAMk-svc")

    _service_agent(auth, make_user, service)
    _reply_on_page(client, auth, service_thread, "We sturen een monteur.")
    _reply_on_page(client, auth, info_thread, "De offerte volgt.")
    assert settle(app, lambda: _sent_count(2))
    (service_reply,) = graph.requests_to("/messages/AAMk-svc/reply", "POST")
    assert service_reply.path == f"/v1.0/users/{SERVICE}/messages/AAMk-svc/reply"
    assert "Team Service" in service_reply.json()["message"]["body"]["content"]
    (info_reply,) = graph.requests_to("/messages/AAMk-info/reply", "POST")
    assert info_reply.path == f"/v1.0/users/{MAILBOX}/messages/AAMk-info/reply"
    assert "Team Service" not in info_reply.json()["message"]["body"]["content"]


def test_a_reply_written_in_outlook_appears_once_as_the_first_response(
    app, client, graph, service, make_user
):
    subscribe(client, graph)
    colleague = make_user("agent", email="sanne@chargecars.nl")
    customer_mail = graph.add_message(
        "AAMk-q", sender=PIET, mailbox=SERVICE, subject="Laadpaal", conversation_id="c-q"
    )
    thread = deliver(app, client, graph, "AAMk-q").thread
    assert thread.first_response_at is None and thread.response_due_at is not None

    sent_at = utcnow().replace(microsecond=0) + timedelta(seconds=1)
    graph.add_sent_message(
        "AAMk-sent",
        mailbox=SERVICE,
        to=(PIET,),
        subject="RE: Laadpaal",
        html="<p>Morgen komt de monteur.</p>",
        conversation_id="c-q",
        internet_message_id="<outlook-reply-1@chargecars.nl>",
        in_reply_to=customer_mail["internetMessageId"],
        received=sent_at,
        colleague="sanne@chargecars.nl",
    )
    # Reported by the Sent Items notification (twice: Graph redelivers) ...
    notification = graph.notification("AAMk-sent")
    assert (
        notification["value"][0]["subscriptionId"]
        == (graph.active_subscription(SERVICE, "SentItems")["id"])
    )
    assert notify(client, notification).status_code == 202
    assert notify(client, notification).status_code == 202
    assert settle(app, events_processed)
    # ... by the delta walk of Sent Items, and as a copy in the Inbox.
    graph.queue_delta([[{"id": "AAMk-sent"}]], mailbox=SERVICE, folder="SentItems")
    poll_delta()
    graph.add_message(
        "AAMk-copy",
        sender=SERVICE,
        mailbox=SERVICE,
        to=(PIET,),
        conversation_id="c-q",
        internet_message_id="<outlook-reply-1@chargecars.nl>",
    )
    notify(client, graph.notification("AAMk-copy"))
    assert settle(app, events_processed)

    (reply,) = _outbound_in(thread.id)
    assert reply.external_message_id == "<outlook-reply-1@chargecars.nl>"
    assert reply.channel_id == service.channel_id
    assert reply.delivery_status == DeliveryStatus.SENT
    assert reply.message_content == "Morgen komt de monteur."
    assert reply.sender_user_id == colleague.id
    assert reply.recipient_external["to"] == [PIET]
    db.session.refresh(thread)
    assert thread.first_response_at == sent_at
    assert thread.status == ThreadStatus.IN_PROGRESS
    assert thread.last_message_preview == "Morgen komt de monteur."


def test_switchboards_own_replies_in_sent_items_are_not_recorded_again(
    app, client, auth, make_user, graph, service
):
    subscribe(client, graph)
    graph.add_message("AAMk-z", sender=PIET, mailbox=SERVICE, conversation_id="c-z")
    thread = deliver(app, client, graph, "AAMk-z").thread
    _service_agent(auth, make_user, service)
    _reply_on_page(client, auth, thread, "Komt goed.")
    assert settle(app, lambda: _sent_count(1))
    (ours,) = _outbound_in(thread.id)
    (request,) = graph.requests_to(f"/users/{SERVICE}/messages/AAMk-z/reply", "POST")
    message_id = request.json()["message"]["internetMessageId"]
    assert ours.external_message_id == message_id

    # Graph puts our reply in Sent Items and notifies it, like any other.
    graph.add_sent_message(
        "AAMk-ours",
        mailbox=SERVICE,
        to=(PIET,),
        conversation_id="c-z",
        internet_message_id=message_id,
    )
    assert notify(client, graph.notification("AAMk-ours")).status_code == 202
    assert settle(app, events_processed)
    assert [m.id for m in _outbound_in(thread.id)] == [ours.id]


def test_a_mail_sent_in_outlook_that_answers_no_conversation_is_left_out(
    app, client, graph, service
):
    subscribe(client, graph)
    graph.add_sent_message(
        "AAMk-private", mailbox=SERVICE, to=("leverancier@example.nl",), conversation_id="c-x"
    )
    assert notify(client, graph.notification("AAMk-private")).status_code == 202
    assert settle(app, events_processed)
    assert db.session.scalar(sa.select(sa.func.count(CommunicationMessage.id))) == 0


def test_a_disabled_mailbox_is_not_read_and_its_replies_leave_from_the_default(
    app, client, graph, service
):
    from app.conversations.channels.outlook.mailboxes import set_active
    from app.conversations.channels.outlook.state import mailbox_address

    subscribe(client, graph)
    set_active(service, False)
    commit()
    graph.add_message("AAMk-late", sender=PIET, mailbox=SERVICE)
    assert notify(client, graph.notification("AAMk-late")).status_code == 202
    assert settle(app, events_processed)
    assert db.session.scalar(sa.select(sa.func.count(CommunicationMessage.id))) == 0
    assert mailbox_address(service.channel_id) == MAILBOX
    assert db.session.get(OutlookMailbox, service.id).subscriptions == {}


def test_mail_from_another_of_our_mailboxes_is_no_customer_mail(app, client, graph, service):
    subscribe(client, graph)
    graph.add_message("AAMk-fwd", sender=SERVICE.upper(), subject="FW: Storing")
    assert deliver(app, client, graph, "AAMk-fwd") is None
    assert db.session.scalar(sa.select(sa.func.count(CommunicationMessage.id))) == 0
