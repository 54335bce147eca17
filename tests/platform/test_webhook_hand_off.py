"""Where no worker's consumer listens, a stored webhook event is a job of its own.

Production (PostgreSQL, Redis, ``worker.py``) hands events on with the insert's
NOTIFY (``test_inbox_consumer.py``). Everywhere else, the embedded mode of
``make run`` and SQLite with Redis, the web process queues the event's
processing job itself, once the event is stored.
"""

from __future__ import annotations

import fakeredis
import pytest

from app.platform.jobs.broker import Broker
from app.platform.transactions import commit
from app.platform.webhooks import recording
from app.platform.webhooks.recording import body_digest, record_event, store_event


@pytest.fixture
def without_consumers(app, monkeypatch):
    """A Redis broker (a fake one, so this runs in every mode) and no consumer listening."""
    broker = Broker(fakeredis.FakeRedis(server=fakeredis.FakeServer()), embedded=False)
    monkeypatch.setitem(app.extensions, "broker", broker)
    monkeypatch.setattr(recording, "_consumers_listen", lambda: False)
    return broker


def _queued(broker) -> list[tuple[str, tuple]]:
    return [(job.func_name, job.args) for job in broker.queue("webhooks").get_jobs()]


def test_a_stored_event_is_queued_as_its_own_processing_job(app, without_consumers):
    with app.test_request_context("/api/v1/webhooks/whatsapp", method="POST", data=b"{}"):
        event_id, new = store_event("whatsapp", "wamid.hand-off", b"{}")
        assert new
        assert store_event("whatsapp", "wamid.hand-off", b"{}") == ("", False)

    # One job for the new event, none for the duplicate; no list in Redis to pump.
    assert _queued(without_consumers) == [
        ("app.platform.webhooks.processing.process_event", (event_id,))
    ]
    assert without_consumers.connection.keys("*inbox*") == []


def test_an_event_stored_in_a_transaction_is_queued_when_it_commits(app, without_consumers):
    event, new = record_event("whatsapp", body_digest(b"{}"), b"{}", headers={})
    assert new
    assert _queued(without_consumers) == []  # not before the commit: no job finds no row
    commit()

    assert _queued(without_consumers) == [
        ("app.platform.webhooks.processing.process_event", (str(event.id),))
    ]
