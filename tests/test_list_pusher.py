"""The batched Redis list pusher behind webhook hand-offs and API usage records."""

from __future__ import annotations

import os
import time

import fakeredis
import pytest
import redis

from app.jobs.list_pusher import ListPusher
from app.webhooks import events


class CountingRedis(fakeredis.FakeRedis):
    """A fake Redis that counts pipelines sent, to see the batching."""

    pipelines_sent = 0

    def pipeline(self, *args, **kwargs):
        pipe = super().pipeline(*args, **kwargs)
        execute = pipe.execute

        def counted(*a, **kw):
            type(self).pipelines_sent += 1
            return execute(*a, **kw)

        pipe.execute = counted
        return pipe


@pytest.fixture
def connection():
    CountingRedis.pipelines_sent = 0
    return CountingRedis(server=fakeredis.FakeServer())


def wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)


def test_values_pushed_together_share_one_round_trip(connection):
    pusher = ListPusher(connection, linger=0.05)
    for n in range(20):
        pusher.push("inbox", f"event-{n}", left=True)
        pusher.push("usage", f"record-{n}")

    wait_for(lambda: connection.llen("inbox") == 20 and connection.llen("usage") == 20)

    assert CountingRedis.pipelines_sent == 1
    # LPUSH at the head and RPOP at the tail: first in, first out.
    assert [connection.rpop("inbox").decode() for _ in range(3)] == [
        "event-0",
        "event-1",
        "event-2",
    ]
    assert connection.lrange("usage", 0, 1) == [b"record-0", b"record-1"]


def test_a_capped_list_keeps_only_the_newest_values(connection):
    pusher = ListPusher(connection, synchronous=True)
    for n in range(10):
        pusher.push("usage", str(n), max_length=4)

    assert connection.lrange("usage", 0, -1) == [b"6", b"7", b"8", b"9"]


def test_flush_sends_what_is_buffered_at_once(connection):
    pusher = ListPusher(connection, linger=60)  # the thread would wait a minute
    pusher.push("inbox", "event-1", left=True)
    pusher.push("inbox", "event-2", left=True)

    assert pusher.flush() == 2
    assert connection.lrange("inbox", 0, -1) == [b"event-2", b"event-1"]
    assert pusher.flush() == 0


def test_redis_trouble_drops_the_batch_without_raising(connection, caplog):
    pusher = ListPusher(connection, synchronous=True)

    def broken(*args, **kwargs):
        raise redis.ConnectionError("Redis is down")

    connection.pipeline = broken
    pusher.push("inbox", "event-1", left=True)  # must not raise into the request

    assert "dropped 1 buffered Redis list values" in caplog.text
    del connection.pipeline
    pusher.push("inbox", "event-2", left=True)
    assert connection.lrange("inbox", 0, -1) == [b"event-2"]


def test_a_forked_process_starts_its_own_thread_with_an_empty_buffer(connection, monkeypatch):
    pusher = ListPusher(connection, linger=0)
    pusher.push("inbox", "parent", left=True)
    wait_for(lambda: connection.llen("inbox") == 1)
    parent_thread = pusher._thread

    # What a gunicorn worker sees after the fork: another pid, the parent's
    # buffer content (copied memory) and no running thread.
    pusher._buffer.append(("inbox", "copied-from-parent"))
    monkeypatch.setattr(os, "getpid", lambda: -1)
    pusher.push("inbox", "child", left=True)

    wait_for(lambda: connection.llen("inbox") == 2)
    assert pusher._thread is not parent_thread
    assert connection.lrange("inbox", 0, -1) == [b"child", b"parent"]


def test_the_webhook_hand_off_reaches_the_inbox_list_through_the_pusher(app, monkeypatch):
    from app.jobs.broker import Broker
    from app.webhooks.events import INBOX_KEY, hand_to_workers, pump_inbox

    # A database without LISTEN/NOTIFY (on PostgreSQL the insert's notification
    # hands the event on: tests/test_inbox_consumer.py).
    monkeypatch.setattr(events, "_consumers_listen", lambda: False)

    # The deployed mode: a real Redis and separate worker processes (here a fake
    # Redis standing in, so the test runs the same in every mode).
    broker = Broker(fakeredis.FakeRedis(server=fakeredis.FakeServer()), embedded=False)
    broker.lists.linger = 60  # only an explicit flush sends: the pump must do it
    monkeypatch.setitem(app.extensions, "broker", broker)
    with app.app_context():
        hand_to_workers("event-id-1")
        hand_to_workers("event-id-2")
        assert broker.connection.llen(INBOX_KEY) == 0  # buffered, not yet sent

        assert pump_inbox(broker) == 2

    # Ids that waited together travel as one job, in the order they arrived.
    jobs = broker.queue("webhooks").get_jobs()
    assert [job.func_name for job in jobs] == ["app.webhooks.processing.process_events"]
    assert [job.args for job in jobs] == [(["event-id-1", "event-id-2"],)]


def test_a_burst_of_hand_offs_goes_out_in_batches_the_workers_share(app, monkeypatch):
    from app.jobs.broker import Broker
    from app.webhooks.events import INBOX_KEY, hand_to_workers, pump_inbox

    # A database without LISTEN/NOTIFY (on PostgreSQL the insert's notification
    # hands the event on: tests/test_inbox_consumer.py).
    monkeypatch.setattr(events, "_consumers_listen", lambda: False)

    broker = Broker(fakeredis.FakeRedis(server=fakeredis.FakeServer()), embedded=False)
    monkeypatch.setitem(app.extensions, "broker", broker)
    monkeypatch.setitem(app.config, "WEBHOOK_BATCH_SIZE", 20)
    with app.app_context():
        for number in range(45):
            hand_to_workers(f"event-{number:02d}")
        assert pump_inbox(broker) == 45
        assert broker.connection.llen(INBOX_KEY) == 0

    jobs = broker.queue("webhooks").get_jobs()
    batches = [job.args[0] for job in jobs]
    assert [len(batch) for batch in batches] == [20, 20, 5]
    assert sum(batches, []) == [f"event-{number:02d}" for number in range(45)]
