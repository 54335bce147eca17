"""Partner API usage with two ``worker.py`` processes: every partner call counted once.

A burst of partner API usage records waits in Redis; several flush jobs are
queued before two real workers start taking them together. Each record must
end up in ``partner_api_usage`` exactly once: the buffer is taken in disjoint
batches (LRANGE + LTRIM in one MULTI) and each batch added with one upsert.

Needs PostgreSQL and Redis (``TEST_DATABASE_URL``, ``TEST_REDIS_URL``).
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from datetime import datetime

import pytest
import sqlalchemy as sa

from app.integrations import usage
from app.orders.partners.services import create_partner
from app.platform.extensions import db
from app.platform.models import PartnerApiUsage
from app.platform.ui import DISPLAY_ZONE
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, opened
from tests.support.topology import wait_until

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

RECORDS = 12_000  # more than two flush batches
SETTLE_SECONDS = 120.0


@pytest.fixture
def app(make_app):
    # No worker in this process: the records wait in Redis for the two workers.
    with opened(make_app(start_embedded_worker=False)) as app:
        yield app


@pytest.fixture
def workers(app, deployment):
    return deployment()


def counted() -> int:
    db.session.expire_all()
    total = db.session.scalar(sa.select(sa.func.sum(PartnerApiUsage.request_count)))
    db.session.rollback()
    return int(total or 0)


def test_two_workers_count_each_partner_call_once(app, workers):
    partners = [create_partner(name).organization for name in ("Groendus", "Essent")]
    db.session.commit()
    rng = random.Random(8)  # noqa: S311 - test data
    now = time.time()
    expected: Counter = Counter()
    errors: Counter = Counter()
    records = []
    for _ in range(RECORDS):
        partner = rng.choice(partners)
        stamp = now - rng.choice((0, 86_400))  # today and yesterday
        ms = round(rng.lognormvariate(4.5, 0.8), 2)
        status = rng.choice((200, 200, 200, 201, 404, 429))
        key = (
            datetime.fromtimestamp(stamp, DISPLAY_ZONE).date(),
            partner.id,
            usage.latency_bucket(ms),
        )
        expected[key] += 1
        errors[key] += status >= 400
        records.append(json.dumps([stamp, "POST", "/api/x", status, ms, str(partner.id)]))
    connection = app.extensions["broker"].connection
    for start in range(0, RECORDS, 2_000):
        connection.rpush(usage.BUFFER_KEY, *records[start : start + 2_000])
    periodic = app.extensions["broker"].queue("periodic")
    for _ in range(4):  # a burst of flushes, more than one at a time
        periodic.enqueue("app.integrations.usage.flush_usage")

    workers.start_worker()
    workers.start_worker()
    wait_until(lambda: counted() == RECORDS, SETTLE_SECONDS, "every record counted")
    assert connection.llen(usage.BUFFER_KEY) == 0
    time.sleep(1.0)  # a record counted twice would show by now

    rows = db.session.scalars(sa.select(PartnerApiUsage)).all()
    found = {(r.day, r.partner_organization_id, r.bucket_ms): r for r in rows}
    assert len(found) == len(rows)  # one row per day, partner and bucket
    assert {key: row.request_count for key, row in found.items()} == dict(expected)
    assert {key: row.error_count for key, row in found.items()} == dict(errors)
