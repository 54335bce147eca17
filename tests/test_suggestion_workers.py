"""Issue 33.1 with two ``worker.py`` processes: one suggestion set per customer message.

Customers ask about their installation; each message's job is queued three
times (as the listener does, a duplicate delivery, a retried job) before two real
workers start taking them from Redis together. Every message must end with
exactly one ``open`` and one ``approved`` set, and no rank twice.

Needs PostgreSQL and Redis (``TEST_DATABASE_URL``, ``TEST_REDIS_URL``).
"""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa
from rq.registry import StartedJobRegistry

from app.extensions import db
from app.models import ReplySuggestion, SuggestionSet
from app.suggestions.compute import enqueue_compute
from tests import suggestion_support as support
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, opened
from tests.topology import wait_until

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

CUSTOMERS = 8
DELIVERIES = 3
SETTLE_SECONDS = 90.0


@pytest.fixture
def app(make_app):
    # No worker in this process: the jobs wait in Redis for the two workers.
    with opened(make_app(start_embedded_worker=False)) as app:
        yield app


def _asked(found) -> list:
    messages = []
    for n in range(CUSTOMERS):
        contact, order = support.customer(found, name=f"Klant Nummer{n}",
                                          phone=f"+3161300{n:04d}", number=f"CC-2026-0{n:04d}")
        _, message = support.asking(found, contact, order,
                                    "Wanneer komt de monteur de laadpaal installeren?")
        for _ in range(DELIVERIES):
            enqueue_compute(message.id)  # the listener's, a duplicate delivery, a retry
        messages.append(message.id)
    return messages


def _stored(message_ids) -> dict:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(SuggestionSet.message_id, SuggestionSet.set_name, ReplySuggestion.rank)
        .join(ReplySuggestion, ReplySuggestion.set_id == SuggestionSet.id)
        .where(SuggestionSet.message_id.in_(message_ids))
    ).all()
    db.session.rollback()
    return Counter((message_id, set_name, rank) for message_id, set_name, rank in rows)


def test_two_workers_store_one_set_per_message_despite_duplicate_deliveries(
    app, make_user, deployment
):
    found = support.desk(make_user)
    message_ids = _asked(found)
    queue = app.extensions["broker"].queue("default")
    assert queue.count >= CUSTOMERS * DELIVERIES

    workers = deployment()
    workers.start_worker()
    workers.start_worker()
    wait_until(
        lambda: queue.count == 0 and StartedJobRegistry(queue=queue).count == 0,
        SETTLE_SECONDS,
        "every suggestion job done",
        every=0.2,
    )

    stored = _stored(message_ids)
    assert set(stored.values()) == {1}, stored  # no (message, set, rank) twice
    for message_id in message_ids:
        ranks = sorted((name, rank) for (mid, name, rank) in stored if mid == message_id)
        assert ranks == [("approved", 1), ("open", 1), ("open", 2), ("open", 3)]
    sets = db.session.scalar(sa.select(sa.func.count()).select_from(SuggestionSet))
    assert sets == 2 * CUSTOMERS
