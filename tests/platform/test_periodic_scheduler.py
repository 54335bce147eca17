"""worker.py's periodic scheduler asks Redis for a job's slot once per slot, not every tick."""

from __future__ import annotations

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from app.platform.jobs.periodic import PeriodicJob, enqueue_due_periodic_jobs, slot_key

MINUTELY = PeriodicJob("test-minutely", "app.conversations.tasks.jobs.send_due_reminders", 60)
EVERY_5 = PeriodicJob("test-every-5", "app.conversations.tasks.jobs.send_due_reminders", 5)
# A fixed moment far in the past: no tick of the test's own worker uses its slots.
START = 1_000_000_020.0  # a minute's slot starts at 1_000_000_020


class CountingConnection:
    """The broker's Redis connection, counting the slot claims asked of it."""

    def __init__(self, connection, fail_next: int = 0) -> None:
        self._connection = connection
        self.asked: list[str] = []
        self.fail_next = fail_next

    def set(self, key, *args, **kwargs):
        self.asked.append(key)
        if self.fail_next:
            self.fail_next -= 1
            raise RedisConnectionError("Redis is restarting")
        return self._connection.set(key, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._connection, name)


@pytest.fixture
def counted(app, monkeypatch):
    broker = app.extensions["broker"]
    counting = CountingConnection(broker.connection)
    monkeypatch.setattr(broker, "connection", counting)
    return broker, counting


def test_a_slot_is_asked_for_once_and_the_next_slot_again(counted):
    broker, counting = counted
    asked: dict[str, int] = {}
    jobs = [MINUTELY, EVERY_5]

    first = enqueue_due_periodic_jobs(broker, now=START, jobs=jobs, asked=asked)
    for second in range(1, 60):
        enqueue_due_periodic_jobs(broker, now=START + second, jobs=jobs, asked=asked)
    following = enqueue_due_periodic_jobs(broker, now=START + 60, jobs=jobs, asked=asked)

    assert first == ["test-minutely", "test-every-5"]
    assert following == ["test-minutely", "test-every-5"]
    # A tick a second for a minute: the minutely job's slot asked twice (this minute
    # and the next), the five-second job's once per slot (13), not 61 times each.
    assert counting.asked.count(slot_key(MINUTELY, START)) == 1
    assert len([k for k in counting.asked if "test-minutely" in k]) == 2
    assert len([k for k in counting.asked if "test-every-5" in k]) == 13


def test_a_slot_another_worker_claimed_is_not_asked_for_again(counted):
    broker, counting = counted
    broker.connection.set(slot_key(MINUTELY, START), "1", ex=180)  # the other worker's
    asked: dict[str, int] = {}

    assert enqueue_due_periodic_jobs(broker, now=START + 1, jobs=[MINUTELY], asked=asked) == []
    assert enqueue_due_periodic_jobs(broker, now=START + 2, jobs=[MINUTELY], asked=asked) == []
    assert len(counting.asked) == 2  # the other worker's SET, and ours once


def test_a_claim_redis_did_not_answer_is_asked_again_on_the_next_tick(counted):
    broker, counting = counted
    counting.fail_next = 1
    asked: dict[str, int] = {}

    with pytest.raises(RedisConnectionError):
        enqueue_due_periodic_jobs(broker, now=START, jobs=[MINUTELY], asked=asked)
    assert enqueue_due_periodic_jobs(broker, now=START + 1, jobs=[MINUTELY], asked=asked) == [
        "test-minutely"
    ]
