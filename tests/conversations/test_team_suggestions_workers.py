"""Two ``worker.py`` processes route a burst of new conversations by suggestion, once each.

A model trained on the generated history is stored and auto-routing is on
before the workers start. A burst of WhatsApp messages from new customers
(installation complaints and invoice questions) is stored as webhook events,
each queued twice, and the two workers take them together. Every conversation
gets one suggestion and one routing: installation complaints to Techniek by
the suggestion, invoice questions to Klantenservice by the rules (which the
suggestion agreed with), and each assignee hears of each conversation once.
Needs PostgreSQL and Redis.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import sqlalchemy as sa
from rq.registry import StartedJobRegistry

from app.conversations.assignment.suggestions import save_settings
from app.platform.extensions import db
from app.platform.models import (
    CommunicationThread,
    InboundWebhookEvent,
    Notification,
    RoutingOutcome,
    RoutingSuggestion,
)
from app.platform.models.enums import ProcessingState, ThreadStatus
from app.platform.transactions import commit
from app.platform.webhooks.recording import enqueue_processing
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, opened
from tests.fakes import whatsapp as wa
from tests.support.routing_support import INSTALLATION_COMPLAINT, desk, trained_model
from tests.support.topology import wait_until

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

CONVERSATIONS = 24
INVOICE_QUESTION = "Ik heb een vraag over mijn factuur, het bedrag klopt volgens mij niet."


@pytest.fixture
def app(make_app):
    # No worker in this process: the jobs wait in Redis for the two workers.
    with opened(make_app(start_embedded_worker=False)) as app:
        yield app


def _burst() -> list[str]:
    """One new customer's first message per conversation, stored as webhook events."""
    ids = []
    for n in range(CONVERSATIONS):
        phone = f"3169{n:07d}"
        text = INSTALLATION_COMPLAINT if n % 2 == 0 else INVOICE_QUESTION
        payload = wa.webhook(
            contacts=[wa.contact(phone, f"Klant {n}")],
            messages=[wa.text_message(phone, text, f"wamid.burst{n}", int(time.time()))],
        )
        body, _headers = wa.signed(payload, "unused")
        event = InboundWebhookEvent(source="whatsapp", dedupe_key=f"wamid.burst{n}", raw_body=body)
        db.session.add(event)
        db.session.flush()
        ids.append(str(event.id))
    db.session.commit()
    return ids


def _unfinished() -> int:
    count = db.session.scalar(
        sa.select(sa.func.count()).where(
            InboundWebhookEvent.processing_state != ProcessingState.PROCESSED
        )
    )
    db.session.rollback()
    return count


def test_two_worker_processes_route_each_new_conversation_once(app, make_user, deployment):
    the_desk = desk(make_user)
    trained_model(the_desk)
    save_settings(True, 0.6, None)
    commit()
    event_ids = _burst()
    for event_id in event_ids * 2:  # each queued twice: both workers may take one
        enqueue_processing(event_id)
    topology = deployment()
    topology.start_worker()
    topology.start_worker()
    wait_until(lambda: _unfinished() == 0, 90, "every event processed", every=0.5)
    queue = app.extensions["broker"].queue("webhooks")
    running = StartedJobRegistry(queue=queue)
    wait_until(
        lambda: queue.count == 0 and running.count == 0, 30, "the second copies done", every=0.2
    )

    db.session.expire_all()
    # The burst's conversations (the history, if this test trained, is all resolved).
    threads = db.session.scalars(
        sa.select(CommunicationThread).where(CommunicationThread.status == ThreadStatus.OPEN)
    ).all()
    assert len(threads) == CONVERSATIONS
    suggestions = db.session.scalars(sa.select(RoutingSuggestion)).all()
    assert Counter(s.thread_id for s in suggestions) == Counter({t.id: 1 for t in threads})
    by_thread = {s.thread_id: s for s in suggestions}
    teams = Counter()
    for thread in threads:
        suggestion = by_thread[thread.id]
        teams[thread.assigned_team.name] += 1
        if thread.assigned_team.name == "Techniek":
            assert suggestion.auto_routed and suggestion.outcome == RoutingOutcome.ACCEPTED
            assert thread.assignment_reason.startswith("Team suggestion → Techniek")
        else:
            assert suggestion.outcome == RoutingOutcome.AGREED_WITH_RULES
            assert thread.assignment_reason.startswith("Customer support → Klantenservice")
    assert teams == {"Techniek": CONVERSATIONS // 2, "Klantenservice": CONVERSATIONS // 2}
    told = Counter(
        db.session.scalars(
            sa.select(Notification.link).where(Notification.notification_type == "thread_assigned")
        )
    )
    assert told == Counter({f"/threads/{thread.id}": 1 for thread in threads})
