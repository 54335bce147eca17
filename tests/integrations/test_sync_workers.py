"""A sync survives the worker running it being killed, with two ``worker.py``.

A HubSpot contacts sync pages slowly through a fake portal; the worker running
it is SIGKILLed a few committed batches in. Once its heartbeat is older than
the lease, the stalled-sync sweep queues the job again and the other worker
claims it, continuing from the last committed cursor. The sync completes once:
every contact exactly once, counts that add up, and no page before the
resumed one asked for again. Needs PostgreSQL and Redis.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter

import pytest
import sqlalchemy as sa
from rq import Worker

from app.integrations.sync import RUN_SYNC, start_sync
from app.platform.extensions import db
from app.platform.models import Contact, Integration, SyncJob, SyncRecord
from app.platform.transactions import commit
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, opened
from tests.fakes.hubspot import TOKEN, FakeHubSpot
from tests.support import factories
from tests.support.helpers import serving
from tests.support.topology import wait_until

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

CONTACTS = 40
BATCH = 4
LEASE_SECONDS = 2


@pytest.fixture
def hubspot():
    yield from serving(FakeHubSpot())


@pytest.fixture
def app(make_app, hubspot):
    with opened(make_app(start_embedded_worker=False, HUBSPOT_API_BASE=hubspot.url)) as app:
        yield app


def _job() -> SyncJob:
    db.session.expire_all()
    job = db.session.scalar(sa.select(SyncJob))
    db.session.rollback()
    return job


def _worker_running_the_sync(app, topology):
    """The topology's worker process whose RQ worker is running the sync job now."""
    connection = app.extensions["broker"].connection
    for rq_worker in Worker.all(connection=connection):
        current = rq_worker.get_current_job()
        if current is not None and current.func_name == RUN_SYNC:
            return next((p for p in topology.workers() if p.pid == rq_worker.pid), None)
    return None


def test_a_worker_killed_mid_sync_leaves_it_to_the_other_to_finish_once(app, hubspot, deployment):
    hubspot.list_delay_seconds = 0.5
    for n in range(CONTACTS):
        hubspot.add("contacts", {"email": f"klant{n:02d}@example.nl", "firstname": f"K{n}"})
    integration = factories.integration(
        "hubspot",
        credentials={"access_token": TOKEN, "expires_at": time.time() + 3600},
        batch_size=BATCH,
    )
    db.session.commit()
    topology = deployment(
        HUBSPOT_API_BASE=hubspot.url,
        SYNC_LEASE_SECONDS=str(LEASE_SECONDS),
        SYNC_RETRY_BASE_SECONDS="0.05",
    )
    topology.start_worker()
    topology.start_worker()

    job_id = start_sync(integration, "contacts", "in", None).id
    commit()  # queues the job on "bulk" for the two workers
    wait_until(lambda: _job().processed >= 3 * BATCH, 60, "three batches committed", every=0.1)
    victim = wait_until(
        lambda: _worker_running_the_sync(app, topology), 10, "the sync's worker found"
    )
    victim.kill()
    at_kill = _job()
    committed = at_kill.processed
    assert at_kill.status == "running" and committed < CONTACTS, topology.report()

    # Past the lease, the sweep (periodic on every worker; queued here not to wait
    # its minute) hands the job to the surviving worker.
    time.sleep(LEASE_SECONDS + 0.5)
    app.extensions["broker"].queue("periodic").enqueue("app.integrations.sync.resume_stalled_syncs")
    wait_until(lambda: _job().status != "running", 90, "the sync finished", every=0.25)

    job = _job()
    assert job.status == "completed", (job.status, job.error, topology.report())
    assert (job.total_records, job.processed, job.succeeded, job.failed) == (
        CONTACTS,
        CONTACTS,
        CONTACTS,
        0,
    )
    assert job.runs == 2 and job.resumed_at_record >= committed
    assert job.resumed_at_record % BATCH == 0  # a committed batch's end
    # Counted once each, though two workers committed them.
    assert db.session.get(Integration, integration.id).records_synced == CONTACTS
    emails = Counter(db.session.scalars(sa.select(Contact.email)))
    assert emails == Counter({f"klant{n:02d}@example.nl": 1 for n in range(CONTACTS)})
    remote_ids = Counter(
        db.session.scalars(
            sa.select(SyncRecord.remote_id).where(SyncRecord.integration_id == integration.id)
        )
    )
    assert len(remote_ids) == CONTACTS and set(remote_ids.values()) == {1}

    # Pages were asked for once each, but the one in flight when the worker died.
    asked = Counter(r.args.get("after") for r in hubspot.requests_to("/crm/v3/objects/contacts"))
    assert asked[None] == 1
    twice = [after for after, times in asked.items() if times > 1]
    assert len(twice) <= 1 and all(times <= 2 for times in asked.values()), asked
    assert uuid.UUID(str(job.id)) == job_id
