"""The address look-up with two ``worker.py`` processes: each address asked once.

Many live orders wait without coordinates; two real workers run the periodic
look-up (their schedulers, plus copies queued on purpose so both run it at once).
Each address must be asked of PDOK once and placed once. Needs PostgreSQL and Redis.
"""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import Address
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, opened
from tests.fakes.pdok import FakePdok, address_doc
from tests.support.planning_support import approved_order
from tests.support.topology import wait_until

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

ORDERS = 60  # more than two of the job's batches


@pytest.fixture
def app(make_app):
    with opened(make_app(start_embedded_worker=False)) as app:
        yield app


def _unlocated() -> int:
    count = db.session.scalar(
        sa.select(sa.func.count()).select_from(Address).where(Address.latitude.is_(None))
    )
    db.session.rollback()
    return count


def test_two_worker_processes_ask_pdok_once_per_address(app, deployment):
    pdok = FakePdok(
        [
            address_doc(
                "3511AB",
                n,
                "Oudegracht",
                "Utrecht",
                "Utrecht",
                5.12,
                52.09,
                bag_id=f"03442{n:011d}",
            )
            for n in range(1, ORDERS + 1)
        ]
    ).start()
    try:
        for n in range(1, ORDERS + 1):
            order = approved_order(number=f"CC-2026-{n:05d}", brand=None)
            address = order.installation_address
            address.postal_code, address.house_number = "3511AB", str(n)
            address.house_number_addition = None
            address.latitude = address.longitude = None
        db.session.commit()
        topology = deployment(PDOK_API_BASE=pdok.url)
        topology.start_worker()
        topology.start_worker()
        queue = app.extensions["broker"].queue("periodic")
        for _ in range(6):
            queue.enqueue("app.orders.addresses.locating.locate_waiting_addresses")
        wait_until(lambda: _unlocated() == 0, 60, "every address placed", every=0.5)
        wait_until(lambda: queue.count == 0, 30, "the queued look-ups taken", every=0.2)
        time.sleep(1)
        asked = Counter(
            request.args.get("q") for request in pdok.requests if request.path.endswith("/free")
        )
        # A look-up the worker gave up on (no answer within its timeout, as on a loaded
        # machine) is PDOK unavailable to it: that address is rightly asked again.
        gave_up = Counter(
            f"postcode:3511AB and huisnummer:{number}"
            for worker in topology.workers()
            for number in re.findall(r"PDOK lookup for 3511AB (\d+) failed", worker.output())
        )
        assert len(asked) == ORDERS, asked.most_common(3)
        twice = {q: n for q, n in asked.items() if n != 1 + gave_up[q]}
        assert twice == {}, (twice, gave_up)
    finally:
        pdok.stop()
