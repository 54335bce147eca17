"""The batched Redis list pusher behind the API usage records."""

from __future__ import annotations

import os
import time

import fakeredis
import pytest
import redis

from app.platform.jobs.list_pusher import ListPusher


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
        pusher.push("calls", f"call-{n}")
        pusher.push("usage", f"record-{n}")

    wait_for(lambda: connection.llen("calls") == 20 and connection.llen("usage") == 20)

    assert CountingRedis.pipelines_sent == 1
    # At the tail, in the order pushed.
    assert connection.lrange("calls", 0, 2) == [b"call-0", b"call-1", b"call-2"]
    assert connection.lrange("usage", 0, 1) == [b"record-0", b"record-1"]


def test_a_capped_list_keeps_only_the_newest_values(connection):
    pusher = ListPusher(connection, synchronous=True)
    for n in range(10):
        pusher.push("usage", str(n), max_length=4)

    assert connection.lrange("usage", 0, -1) == [b"6", b"7", b"8", b"9"]


def test_flush_sends_what_is_buffered_at_once(connection):
    pusher = ListPusher(connection, linger=60)  # the thread would wait a minute
    pusher.push("calls", "call-1")
    pusher.push("calls", "call-2")

    assert pusher.flush() == 2
    assert connection.lrange("calls", 0, -1) == [b"call-1", b"call-2"]
    assert pusher.flush() == 0


def test_redis_trouble_drops_the_batch_without_raising(connection, caplog):
    pusher = ListPusher(connection, synchronous=True)

    def broken(*args, **kwargs):
        raise redis.ConnectionError("Redis is down")

    connection.pipeline = broken
    pusher.push("calls", "call-1")  # must not raise into the request

    assert "dropped 1 buffered Redis list values" in caplog.text
    del connection.pipeline
    pusher.push("calls", "call-2")
    assert connection.lrange("calls", 0, -1) == [b"call-2"]


def test_a_forked_process_starts_its_own_thread_with_an_empty_buffer(connection, monkeypatch):
    pusher = ListPusher(connection, linger=0)
    pusher.push("calls", "parent")
    wait_for(lambda: connection.llen("calls") == 1)
    parent_thread = pusher._thread

    # What a gunicorn worker sees after the fork: another pid, the parent's
    # buffer content (copied memory) and no running thread.
    pusher._buffer.append(("calls", "copied-from-parent"))
    monkeypatch.setattr(os, "getpid", lambda: -1)
    pusher.push("calls", "child")

    wait_for(lambda: connection.llen("calls") == 2)
    assert pusher._thread is not parent_thread
    assert connection.lrange("calls", 0, -1) == [b"parent", b"child"]
