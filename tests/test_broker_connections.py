"""The web process's Redis connections under a burst: more threads than the pool
holds wait their turn instead of failing (200 agents' tabs closing at once each
leave the presence board; redis-py 8 refused the 101st with MaxConnectionsError)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.jobs.broker import POOL_SIZE, Broker
from tests.conftest import TEST_REDIS_URL

pytestmark = pytest.mark.skipif(not TEST_REDIS_URL, reason="needs TEST_REDIS_URL (Redis)")


def test_more_threads_at_once_than_the_pool_holds_all_get_their_answer():
    broker = Broker.from_url(TEST_REDIS_URL)
    empty_list = f"switchboard:test:empty:{uuid.uuid4()}"
    callers = POOL_SIZE + 50

    def hold_a_connection(_: int) -> object:
        # BLPOP on an empty list keeps its connection for the whole timeout.
        return broker.connection.blpop([empty_list], timeout=1)

    with ThreadPoolExecutor(max_workers=callers) as pool:
        answers = list(pool.map(hold_a_connection, range(callers)))

    assert answers == [None] * callers
    broker.connection.close()
