"""Provider status with two ``worker.py`` processes: every send notes the provider's
last success, and a burst of sends makes one ``provider_status`` row, with no job lost
to a duplicate-key error (the row is written by a conditional UPDATE, else an
``INSERT … ON CONFLICT DO NOTHING``, never select-then-insert).

Needs PostgreSQL and Redis (``TEST_DATABASE_URL``, ``TEST_REDIS_URL``).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from rq.registry import FailedJobRegistry

from app.platform.extensions import db
from app.platform.jobs.queues import enqueue
from app.platform.models import Notification, ProviderStatus, SandboxSend
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, opened
from tests.support.topology import wait_until

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

SENDS = 24
SETTLE_SECONDS = 90.0


@pytest.fixture
def app(make_app):
    # No worker in this process: the jobs wait in Redis for the two workers.
    with opened(make_app(start_embedded_worker=False)) as app:
        yield app


@pytest.fixture
def workers(app, deployment):
    return deployment()


def _count(model) -> int:
    db.session.expire_all()
    count = db.session.scalar(sa.select(sa.func.count()).select_from(model))
    db.session.rollback()
    return count


def test_a_burst_of_sandbox_sends_on_two_workers_notes_one_success(app, make_user, workers):
    admin = make_user("admin", email="admin@switchboard.test")
    # Both workers wait first, so the first sends reach them at the same moment
    # and both find no provider_status row yet.
    workers.start_worker()
    workers.start_worker()
    assert _count(ProviderStatus) == 0
    for n in range(SENDS):
        enqueue(
            "app.conversations.channels.testing.send_test", "sms", f"+316120{n:05d}", str(admin.id)
        )
    wait_until(lambda: _count(Notification) == SENDS, SETTLE_SECONDS, "every send reported")

    assert _count(SandboxSend) == SENDS
    titles = db.session.scalars(sa.select(Notification.title)).all()
    assert set(titles) == {"Test via sms sent"}, titles
    (status,) = db.session.scalars(sa.select(ProviderStatus)).all()
    assert status.provider == "sms" and status.last_success_at is not None
    assert status.consecutive_failures == 0 and not status.unhealthy
    broker = app.extensions["broker"]
    assert FailedJobRegistry(queue=broker.queue("default")).count == 0
    for worker in workers.workers():  # nothing failed and was retried quietly either
        assert "UniqueViolation" not in worker.output() and "Traceback" not in worker.output()
