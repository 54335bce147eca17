"""Snooze wake-ups happen exactly once with two ``worker.py`` processes.

Many conversations fall due at the same moment; two real workers run the
periodic wake-up job (their schedulers, plus extra copies queued on purpose so
both run it at the same time). Each conversation must wake once: one
"Snooze ended" line each, none left snoozed. Needs PostgreSQL and Redis.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.conversations.core import snooze, wake_due_snoozes
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread
from app.platform.models.enums import MessageType
from app.platform.transactions import commit
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, opened
from tests.support import factories
from tests.support.helpers import race, raised
from tests.support.topology import wait_until

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

THREADS = 250  # more than two of the job's batches


@pytest.fixture
def app(make_app):
    with opened(make_app(start_embedded_worker=False)) as app:
        yield app


def _snoozed(make_user, count: int, until, at) -> list:
    agent = make_user("agent")
    channel = factories.channel()
    threads = [factories.thread(channel) for _ in range(count)]
    for thread in threads:
        snooze(thread, agent, until=until, at=at)
    commit()
    return [thread.id for thread in threads]


def _ended_lines() -> Counter:
    db.session.expire_all()
    rows = db.session.scalars(
        sa.select(CommunicationMessage.thread_id).where(
            CommunicationMessage.message_type == MessageType.SYSTEM_NOTIFICATION,
            CommunicationMessage.message_content == "Snooze ended",
        )
    ).all()
    db.session.rollback()
    return Counter(rows)


def _still_snoozed() -> int:
    count = db.session.scalar(
        sa.select(sa.func.count()).where(CommunicationThread.snoozed_at.is_not(None))
    )
    db.session.rollback()
    return count


def test_racing_wake_up_jobs_wake_each_conversation_once(app, make_user):
    now = utcnow()
    ids = _snoozed(make_user, 120, now + timedelta(seconds=1), now)
    wait_until(lambda: utcnow() > now + timedelta(seconds=1), 10, "the snooze time")
    results = race(app, lambda _index: wake_due_snoozes(), 4)
    assert not raised(results), results
    assert sum(results) == len(ids)
    assert _ended_lines() == Counter({thread_id: 1 for thread_id in ids})


def test_two_worker_processes_wake_each_conversation_once(app, make_user, deployment):
    topology = deployment()
    topology.start_worker()
    topology.start_worker()
    now = utcnow()
    due = now + timedelta(seconds=2)
    ids = _snoozed(make_user, THREADS, due, now)
    wait_until(lambda: utcnow() > due, 10, "the snooze time")
    # Beside the schedulers' own runs: copies that the two workers take at once.
    queue = app.extensions["broker"].queue("periodic")
    for _ in range(6):
        queue.enqueue("app.conversations.core.snoozing.wake_due_snoozes")
    wait_until(lambda: _still_snoozed() == 0, 60, "every conversation awake", every=0.5)
    # Let the jobs still running finish, then count.
    wait_until(lambda: queue.count == 0, 30, "the queued wake-ups taken", every=0.2)
    time.sleep(2)
    assert _ended_lines() == Counter({thread_id: 1 for thread_id in ids})
