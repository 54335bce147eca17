"""A burst of Graph notifications across two mailboxes, on two ``worker.py`` processes.

Customers write to klantenservice@ (the default mailbox) and service@ at once;
Graph redelivers notifications and a delta walk reports the same mail again,
while two real workers process the events. Then colleagues answer every
conversation from Outlook: each reply reported by the Sent Items notification
(twice) and by a copy in the Inbox. Every mail must be stored once, in its
mailbox's conversation (one per customer, in the mailbox's team), and every
Outlook reply once. Needs PostgreSQL and Redis.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.conversations.channels.outlook.mailboxes import MailboxForm, add_mailbox
from app.conversations.channels.outlook.state import default_mailbox
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread, InboundWebhookEvent
from app.platform.models.enums import MessageType, ProcessingState
from app.platform.transactions import commit
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, opened
from tests.support import factories
from tests.support.outlook_support import (
    MAILBOX,
    PUBLIC_BASE_URL,
    GraphForProcesses,
    keep_outlook_jobs_off_the_clock,
    notify,
    subscribe,
)
from tests.support.topology import wait_until

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

SERVICE = "service@chargecars.nl"
SENDERS_PER_MAILBOX = 3
MAILS_PER_SENDER = 3
TERMINAL = (ProcessingState.PROCESSED, ProcessingState.FAILED, ProcessingState.IGNORED)


@pytest.fixture
def graph(monkeypatch):
    fake = GraphForProcesses(mailbox=MAILBOX).start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle)
    yield fake
    fake.stop()


@pytest.fixture
def app(make_app, graph, monkeypatch):
    keep_outlook_jobs_off_the_clock(monkeypatch)
    settings = {**graph.app_config(), "PUBLIC_BASE_URL": PUBLIC_BASE_URL}
    with opened(make_app(start_embedded_worker=False, **settings)) as app:
        yield app


@pytest.fixture
def topology(app, graph, deployment):
    return deployment(
        **graph.app_config(),
        REQUESTS_CA_BUNDLE=graph.ca_bundle,
        PUBLIC_BASE_URL=PUBLIC_BASE_URL,
    )


def _fresh(statement):
    db.session.expire_all()
    rows = db.session.execute(statement).all()
    db.session.rollback()
    return rows


def _settled() -> bool:
    states = [state for (state,) in _fresh(sa.select(InboundWebhookEvent.processing_state))]
    return bool(states) and all(state in TERMINAL for state in states)


def _count(message_type: MessageType) -> int:
    ((count,),) = _fresh(
        sa.select(sa.func.count(CommunicationMessage.id)).where(
            CommunicationMessage.message_type == message_type
        )
    )
    return count


def test_two_workers_store_each_mail_and_outlook_reply_once(app, client, graph, topology):
    team = factories.team("Service")
    service = add_mailbox(SERVICE, MailboxForm(team_id=str(team.id)))
    commit()
    service_channel, team_id = service.channel_id, team.id
    default_channel = default_mailbox().channel_id
    commit()
    subscribe(client, graph)
    topology.start_worker()
    topology.start_worker()
    try:
        received = datetime.now(timezone.utc) - timedelta(minutes=5)
        customers = {
            f"klant{uuid.uuid4().hex[:8]}@example.nl": box
            for box in (MAILBOX, SERVICE)
            for _ in range(SENDERS_PER_MAILBOX)
        }
        inbox_ids: dict[str, list[str]] = {MAILBOX: [], SERVICE: []}
        payloads = []
        for round_ in range(MAILS_PER_SENDER):
            for sender, box in customers.items():
                graph_id = f"AAMk{uuid.uuid4().hex}"
                graph.add_message(
                    graph_id,
                    sender=sender,
                    mailbox=box,
                    conversation_id=f"conv-{sender}",
                    received=received + timedelta(seconds=round_),
                )
                inbox_ids[box].append(graph_id)
                payloads.append(graph.notification(graph_id))
        # Graph redelivers, and the delta walk reports every mail once more.
        for box, ids in inbox_ids.items():
            graph.queue_delta([[{"id": graph_id} for graph_id in ids]], mailbox=box)
        queue = app.extensions["broker"].queue("bulk")
        for payload in payloads + payloads:
            assert notify(client, payload).status_code == 202
            if payload is payloads[len(payloads) // 2]:
                queue.enqueue("app.conversations.channels.outlook.delta.poll_delta")
        total = len(payloads)
        wait_until(lambda: _count(MessageType.INCOMING) >= total and _settled(), 90, "the burst")
        wait_until(lambda: queue.count == 0, 30, "the delta walk taken", every=0.2)
        time.sleep(1)

        threads = _fresh(
            sa.select(
                CommunicationThread.id,
                CommunicationThread.channel_id,
                CommunicationThread.assigned_team_id,
                CommunicationThread.external_references,
            )
        )
        assert len(threads) == len(customers)
        by_conversation = {row.external_references["conversation_key"]: row for row in threads}
        for sender, box in customers.items():
            row = by_conversation[f"conv-{sender}"]
            assert row.channel_id == (service_channel if box == SERVICE else default_channel)
            assert row.assigned_team_id == (team_id if box == SERVICE else None)
        stored = [
            external_id
            for (external_id,) in _fresh(sa.select(CommunicationMessage.external_message_id))
        ]
        assert Counter(stored) == Counter(inbox_ids[MAILBOX] + inbox_ids[SERVICE])

        # Colleagues answer each conversation from Outlook.
        replies = []
        for sender, box in customers.items():
            message_id = f"<reply-{uuid.uuid4().hex}@chargecars.nl>"
            sent_id, copy_id = f"AAMk{uuid.uuid4().hex}", f"AAMk{uuid.uuid4().hex}"
            fields = {"conversation_id": f"conv-{sender}", "internet_message_id": message_id}
            graph.add_sent_message(sent_id, mailbox=box, to=(sender,), **fields)
            graph.add_message(copy_id, sender=box, mailbox=box, to=(sender,), **fields)
            replies += [graph.notification(sent_id)] * 2 + [graph.notification(copy_id)]
        for payload in replies:
            assert notify(client, payload).status_code == 202
        wait_until(
            lambda: _count(MessageType.OUTGOING) >= len(customers) and _settled(),
            90,
            "the Outlook replies",
        )
        time.sleep(1)
        outbound = _fresh(
            sa.select(CommunicationMessage.thread_id).where(
                CommunicationMessage.message_type == MessageType.OUTGOING
            )
        )
        assert Counter(thread_id for (thread_id,) in outbound) == Counter(
            {row.id: 1 for row in threads}
        )
        answered = _fresh(
            sa.select(sa.func.count(CommunicationThread.id)).where(
                CommunicationThread.first_response_at.is_not(None)
            )
        )
        assert answered[0][0] == len(customers)
        failed = _fresh(
            sa.select(sa.func.count(InboundWebhookEvent.id)).where(
                InboundWebhookEvent.processing_state == ProcessingState.FAILED
            )
        )
        assert failed[0][0] == 0
    except AssertionError:
        print(topology.report())
        raise
