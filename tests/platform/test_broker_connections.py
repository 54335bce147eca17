"""The web process's Redis connections under a burst: more threads than the pool
holds wait their turn instead of failing (200 agents' tabs closing at once each
leave the presence board; redis-py 8 refused the 101st with MaxConnectionsError)."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from app.platform.jobs.broker import POOL_SIZE, Broker
from app.platform.realtime import PipelinedRedisManager
from tests.conftest import TEST_REDIS_URL

pytestmark = pytest.mark.skipif(not TEST_REDIS_URL, reason="needs TEST_REDIS_URL (Redis)")


def test_more_threads_at_once_than_the_pool_holds_all_get_their_answer():
    broker = Broker.from_url(TEST_REDIS_URL)
    empty_list = f"switchboard:test:empty:{uuid.uuid4()}"
    callers = POOL_SIZE + 50

    def hold_a_connection(_: int) -> object:
        # BLPOP on an empty list keeps its connection for the whole timeout.
        return broker.connection.blpop([empty_list], timeout=1)

    try:
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=callers) as pool:
            answers = list(pool.map(hold_a_connection, range(callers)))
        waited = time.monotonic() - started
    finally:
        broker.connection.connection_pool.disconnect()

    assert answers == [None] * callers
    assert waited >= 2  # the last 50 waited for a connection the first 100 gave back


def test_socketio_events_between_processes_use_a_waiting_pool_too():
    """Each closing tab publishes its presence; the message queue's client waits as well."""
    manager = PipelinedRedisManager(TEST_REDIS_URL, channel="switchboard-test", write_only=True)
    manager._redis_connect()
    try:
        assert isinstance(manager.redis.connection_pool, redis.BlockingConnectionPool)
        assert manager.redis.connection_pool.max_connections == POOL_SIZE
        assert manager.redis.publish("switchboard-test", "{}") == 0
    finally:
        manager.redis.connection_pool.disconnect()
