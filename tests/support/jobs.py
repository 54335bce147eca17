"""Running queued jobs in tests, in either queue mode."""

from __future__ import annotations

import time

from rq.registry import StartedJobRegistry

from app.platform.extensions import db
from app.platform.jobs.queues import QUEUE_NAMES
from app.platform.jobs.worker import AppWorker
from app.platform.webhooks.processing import take_waiting


def drain_queues(app, timeout: float = 10.0) -> None:
    """Run every queued job to completion.

    Embedded mode: wait for the in-process worker thread (started for the wait
    when the app was built without it). Real Redis: run a burst worker here, as
    ``worker.py`` would in its own process.
    """
    broker = app.extensions["broker"]
    queues = [broker.queue(name) for name in QUEUE_NAMES]
    if broker.embedded and not broker.embedded_worker_running:
        broker.start_embedded_worker(app)
        try:
            drain_queues(app, timeout)
        finally:
            broker.stop_embedded_worker(wait_if_busy=True)
        return
    if not broker.embedded:
        with app.app_context():
            if db.engine.dialect.name == "postgresql":  # what worker.py's consumer takes
                take_waiting(app.config["WEBHOOK_BATCH_SIZE"])
        AppWorker(queues, connection=broker.connection, app=app).work(
            burst=True, with_scheduler=True, logging_level="WARNING"
        )
        return
    deadline = time.monotonic() + timeout
    quiet_checks = 0
    while time.monotonic() < deadline:
        busy = (
            broker.embedded_worker_busy()
            or any(q.count for q in queues)
            or any(StartedJobRegistry(queue=q).count for q in queues)
        )
        # Twice quiet, 50 ms apart: a job just popped off a queue but not yet
        # marked as started is not mistaken for "done".
        quiet_checks = 0 if busy else quiet_checks + 1
        if quiet_checks >= 2:
            return
        time.sleep(0.05 if not busy else 0.02)
    raise AssertionError("queued jobs did not finish in time")


def wait_for_event(sio_client, name: str, timeout: float = 10.0) -> dict:
    """The first Socket.IO event called ``name`` this client receives (a live
    event inside a numbered ``live`` frame counts, app.platform.live_queues)."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        for event, data in received_events(sio_client):
            seen.append(event)
            if event == name:
                return data
        time.sleep(0.02)
    raise AssertionError(f"no {name!r} event within {timeout}s (saw {seen})")


def received_events(sio_client) -> list[tuple[str, object]]:
    """What a Flask-SocketIO test client received since last asked, as (event, data),
    each live frame's items in their order."""
    events = []
    for packet in sio_client.get_received():
        if packet["name"] == "live":
            events.extend((item[0], item[1]) for item in packet["args"][1:])
        else:
            events.append((packet["name"], packet["args"][0] if packet["args"] else None))
    return events


def drain_until(app, done, timeout: float = 15.0) -> None:
    """Run jobs until ``done()`` holds (retries and scheduled jobs take a few rounds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        drain_queues(app)
        if done():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")
