"""Customer ratings with two ``worker.py`` processes: one rating question per resolution.

Many conversations are resolved at once, and each resolution's ask job is
queued three times (the resolve's own event, a duplicate event, a retried
job) before two real workers start taking them from Redis together. The fake
WhatsApp Cloud API must then have received exactly one rating list per
customer, and the database one survey row per conversation.

Needs PostgreSQL and Redis (``TEST_DATABASE_URL``, ``TEST_REDIS_URL``).
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.conversations.csat.asking import enqueue_ask
from app.conversations.workspace.editing import update_thread
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread, CsatResponse
from app.platform.models.enums import ChannelType, DeliveryStatus
from app.platform.transactions import commit
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL
from tests.support import factories
from tests.support.topology import wait_until
from tests.support.whatsapp_support import (
    fake_whatsapp_server,
    whatsapp_app_without_worker,
    whatsapp_settings,
)

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

CONVERSATIONS = 12
ASKS_PER_RESOLUTION = 3
SETTLE_SECONDS = 90.0

fake_whatsapp = pytest.fixture(fake_whatsapp_server, name="fake_whatsapp")


app = pytest.fixture(whatsapp_app_without_worker, name="app")


@pytest.fixture
def workers(app, fake_whatsapp, deployment):
    return deployment(**whatsapp_settings(fake_whatsapp))


def resolved_conversations(make_user) -> list[CommunicationThread]:
    agent = make_user("agent", email="anouk@switchboard.test")
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    wrote_at = utcnow() - timedelta(hours=1)
    threads = []
    for n in range(CONVERSATIONS):
        customer = factories.contact(display_name=f"Klant {n}", phone=f"+3161200{n:04d}")
        thread = factories.thread(
            channel, customer, assigned_to_user_id=agent.id, last_customer_message_at=wrote_at
        )
        factories.message(thread, "Vraag", sender_contact_id=customer.id, created_at=wrote_at)
        threads.append(thread)
    db.session.commit()
    for thread in threads:
        thread = db.session.get(CommunicationThread, thread.id)
        update_thread(
            thread, agent, expected_version=thread.lock_version, changes={"status": "resolved"}
        )
        commit()  # the listener queues the ask job
        for _ in range(ASKS_PER_RESOLUTION - 1):
            enqueue_ask(thread.id)  # a duplicate event, a retried job
    return threads


def rating_lists(fake) -> Counter:
    return Counter(
        body["to"] for body in fake.sent() if body.get("interactive", {}).get("type") == "list"
    )


def questions_sent() -> int:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(CsatResponse.id, CommunicationMessage.delivery_status).join(
            CommunicationMessage, CommunicationMessage.id == CsatResponse.message_id
        )
    ).all()
    db.session.rollback()
    return sum(status != DeliveryStatus.PENDING for _, status in rows)


def test_two_workers_ask_each_resolved_conversation_exactly_once(
    app, make_user, workers, fake_whatsapp
):
    threads = resolved_conversations(make_user)
    queued = app.extensions["broker"].queue("default").count
    assert queued >= CONVERSATIONS * ASKS_PER_RESOLUTION

    workers.start_worker()
    workers.start_worker()
    wait_until(lambda: questions_sent() == CONVERSATIONS, SETTLE_SECONDS, "every question sent")
    wait_until(
        lambda: app.extensions["broker"].queue("default").count == 0,
        SETTLE_SECONDS,
        "the ask jobs taken",
    )
    time.sleep(1.0)  # a second send, if any, would have reached the fake by now

    sent = rating_lists(fake_whatsapp)
    assert len(sent) == CONVERSATIONS
    assert set(sent.values()) == {1}, sent
    surveys = db.session.scalars(sa.select(CsatResponse)).all()
    assert sorted(s.thread_id for s in surveys) == sorted(t.id for t in threads)
    assert {s.state for s in surveys} == {"asked"}
