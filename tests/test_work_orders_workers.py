"""Issue 18 point 5 with two ``worker.py`` processes: a burst of syncs, one order each.

Several inbound syncs of the same ROVIDA work orders are queued before two real
workers start taking them together (a manual sync and a scheduled one, say,
each retried). Every work order must become exactly one order: the intake takes
a transaction advisory lock per remote work order and ``work_order_links`` is
unique on (integration, remote id).

Needs PostgreSQL and Redis (``TEST_DATABASE_URL``, ``TEST_REDIS_URL``).
"""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.integrations.sync import RUN_SYNC
from app.models import Order, SyncJob, WorkOrderLink
from tests import factories
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, opened
from tests.fakes.pdok import FakePdok
from tests.fakes.rovida import API_KEY, FakeRovida
from tests.helpers import serving
from tests.topology import wait_until

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

WORK_ORDERS = 8
SYNCS = 6
SETTLE_SECONDS = 180.0


@pytest.fixture
def rovida():
    yield from serving(FakeRovida())


@pytest.fixture
def pdok():
    yield from serving(FakePdok())


@pytest.fixture
def app(make_app, rovida, pdok):
    # No worker in this process: the syncs wait in Redis for the two workers.
    built = make_app(
        start_embedded_worker=False, ROVIDA_API_BASE=rovida.url, PDOK_API_BASE=pdok.url
    )
    with opened(built) as app:
        yield app


def _finished(job_ids) -> bool:
    db.session.expire_all()
    statuses = db.session.scalars(sa.select(SyncJob.status).where(SyncJob.id.in_(job_ids))).all()
    db.session.rollback()
    return all(s not in ("pending", "running") for s in statuses)


def test_a_burst_of_syncs_of_the_same_work_orders_gives_one_order_each(
    app, deployment, rovida, pdok
):
    for n in range(WORK_ORDERS):
        rovida.add_work_order(f"wo_{100 + n}")
    integration = factories.integration("rovida", credentials={"api_key": API_KEY})
    jobs = [
        SyncJob(
            integration_id=integration.id,
            object_type="work_orders",
            direction="in",
            status="pending",
        )
        for _ in range(SYNCS)
    ]
    db.session.add_all(jobs)
    db.session.commit()
    job_ids = [job.id for job in jobs]
    bulk = app.extensions["broker"].queue("bulk")
    for job_id in job_ids:
        bulk.enqueue(RUN_SYNC, str(job_id))

    workers = deployment(ROVIDA_API_BASE=rovida.url, PDOK_API_BASE=pdok.url)
    workers.start_worker()
    workers.start_worker()
    wait_until(lambda: _finished(job_ids), SETTLE_SECONDS, "every sync finished")

    statuses = db.session.scalars(sa.select(SyncJob.status).where(SyncJob.id.in_(job_ids)))
    assert set(statuses) == {"completed"}, workers.report()
    links = db.session.scalars(sa.select(WorkOrderLink)).all()
    assert Counter(link.remote_id for link in links) == {
        f"wo_{100 + n}": 1 for n in range(WORK_ORDERS)
    }
    orders = db.session.scalars(sa.select(Order)).all()
    assert len(orders) == WORK_ORDERS
    assert {o.partner_external_references["work_order_id"] for o in orders} == {
        link.remote_id for link in links
    }
    # Gap-free numbers: the placeholders of the attempts that lost were never kept.
    assert sorted(o.order_number for o in orders) == [
        f"CC-{orders[0].order_number[3:7]}-{n:05d}" for n in range(1, WORK_ORDERS + 1)
    ]
