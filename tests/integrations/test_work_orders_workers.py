"""Work orders with two ``worker.py`` processes: bursts of syncs and of notices of
the same ROVIDA work orders, one order each.

Several inbound syncs of the same work orders (a manual sync and a scheduled one,
say), or many signed notices about them (created, updated, redelivered), wait in
Redis before two real workers start taking them together. Every work order must
become exactly one order: the intake takes a transaction advisory lock per remote
work order and ``work_order_links`` is unique on (integration, remote id).

Needs PostgreSQL and Redis (``TEST_DATABASE_URL``, ``TEST_REDIS_URL``).
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import sqlalchemy as sa

from app.integrations.sync import RUN_SYNC
from app.platform.extensions import db
from app.platform.models import InboundWebhookEvent, Order, SyncJob, WorkOrderLink
from app.platform.models.enums import ProcessingState
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, opened
from tests.fakes.pdok import FakePdok
from tests.fakes.rovida import API_KEY, FakeRovida
from tests.support import factories
from tests.support.helpers import serving
from tests.support.topology import wait_until

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

WORK_ORDERS = 8
SYNCS = 6
NOTICES_PER_WORK_ORDER = 5
SECRET = "rovida-webhook-secret-0000"  # noqa: S105
SETTLE_SECONDS = 180.0
PDOK_SECONDS = 0.3


@pytest.fixture
def rovida():
    yield from serving(FakeRovida())


@pytest.fixture
def pdok():
    server = FakePdok()

    # A slow address check (PDOK on a bad day) keeps both workers between "not
    # known yet" and "created" for the same work order at once.
    @server.app.before_request
    def _slowly():
        time.sleep(PDOK_SECONDS)

    yield from serving(server)


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
    # Both workers listening first, so they take the syncs together.
    workers = deployment(ROVIDA_API_BASE=rovida.url, PDOK_API_BASE=pdok.url)
    workers.start_worker()
    workers.start_worker()
    bulk = app.extensions["broker"].queue("bulk")
    for job_id in job_ids:
        bulk.enqueue(RUN_SYNC, str(job_id))
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
    _assert_one_gap_free_order_each(orders)


def _assert_one_gap_free_order_each(orders):
    # Gap-free numbers: the placeholders of the attempts that lost were never kept.
    assert sorted(o.order_number for o in orders) == [
        f"CC-{orders[0].order_number[3:7]}-{n:05d}" for n in range(1, WORK_ORDERS + 1)
    ]


def _all_processed(expected: int) -> bool:
    db.session.expire_all()
    states = db.session.scalars(sa.select(InboundWebhookEvent.processing_state)).all()
    db.session.rollback()
    return len(states) == expected and all(
        s in (ProcessingState.PROCESSED, ProcessingState.FAILED) for s in states
    )


def test_a_burst_of_notices_of_the_same_work_orders_gives_one_order_each(
    app, client, deployment, rovida, pdok
):
    integration = factories.integration(
        "rovida", credentials={"api_key": API_KEY, "webhook_secret": SECRET}
    )
    db.session.commit()
    ids = [f"wo_{200 + n}" for n in range(WORK_ORDERS)]
    for remote_id in ids:
        rovida.add_work_order(remote_id)
    workers = deployment(ROVIDA_API_BASE=rovida.url, PDOK_API_BASE=pdok.url)
    workers.start_worker()
    workers.start_worker()
    stored = 0
    for round_ in range(NOTICES_PER_WORK_ORDER):
        for remote_id in ids:
            kind = "work_order.created" if round_ == 0 else "work_order.updated"
            body, headers = rovida.notice(remote_id, f"evt_{remote_id}_{round_}", SECRET, kind)
            answer = client.post("/api/v1/webhooks/rovida", data=body, headers=headers)
            assert answer.status_code == 200, answer.get_json()
            stored += answer.get_json()["data"]["received"]
            again = client.post("/api/v1/webhooks/rovida", data=body, headers=headers)
            assert again.get_json()["data"] == {"received": 0, "duplicates": 1}
    assert stored == WORK_ORDERS * NOTICES_PER_WORK_ORDER
    wait_until(lambda: _all_processed(stored), SETTLE_SECONDS, "every notice processed")

    states = db.session.scalars(sa.select(InboundWebhookEvent.processing_state)).all()
    assert set(states) == {ProcessingState.PROCESSED}, workers.report()
    links = db.session.scalars(
        sa.select(WorkOrderLink).where(WorkOrderLink.integration_id == integration.id)
    ).all()
    assert Counter(link.remote_id for link in links) == dict.fromkeys(ids, 1)
    _assert_one_gap_free_order_each(db.session.scalars(sa.select(Order)).all())
