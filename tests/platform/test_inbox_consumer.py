"""Workers take webhook events straight from PostgreSQL, woken by the insert's NOTIFY.

The process-level checks (two ``worker.py``, a burst, a worker killed mid-way, a
database restart) are in ``test_scale_out.py`` and ``test_database_restart.py``;
here the pieces: the insert notifies once per new event and never for a
duplicate, an event stored inside a larger transaction notifies when it commits,
the consumer's claim takes events oldest first and leaves those another worker
holds, and takes up a dead worker's once its lease has run out.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import psycopg
import pytest
import sqlalchemy as sa

from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.jobs.broker import Broker
from app.platform.jobs.consumer import InboxConsumer
from app.platform.models import CommunicationMessage, InboundWebhookEvent
from app.platform.models.enums import ChannelType, ProcessingState
from app.platform.webhooks import processing
from app.platform.webhooks.processing import claim_waiting, claimant, take_waiting
from app.platform.webhooks.recording import NOTIFY_CHANNEL, body_digest, record_event, store_event
from tests.conftest import TEST_DATABASE_URL
from tests.fakes import whatsapp as wa
from tests.support import factories
from tests.support.topology import wait_until

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs TEST_DATABASE_URL")


@pytest.fixture
def listener(app):
    """A connection listening as a worker's consumer does."""
    with app.app_context():
        url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = psycopg.connect(url, autocommit=True)
    connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
    yield connection
    connection.close()


def _heard(connection, wait: float = 0.5) -> int:
    return len(list(connection.notifies(timeout=wait)))


@pytest.fixture
def deployed(app, monkeypatch):
    """The deployed mode: a Redis broker and workers of their own (none runs here)."""
    import fakeredis

    broker = Broker(fakeredis.FakeRedis(server=fakeredis.FakeServer()), embedded=False)
    monkeypatch.setitem(app.extensions, "broker", broker)
    return broker


def _consumer(app, **settings) -> InboxConsumer:
    """A worker's consumer as ``worker.py`` builds it."""
    return InboxConsumer(app, channel=NOTIFY_CHANNEL, take=take_waiting, **settings)


def _text(wamid: str, phone: str = "31612340000", text: str = "Hallo daar", at: int = 0):
    payload = wa.webhook(
        contacts=[wa.contact(phone, "Jan")],
        messages=[wa.text_message(phone, text, wamid, at or int(time.time()))],
    )
    raw, _ = wa.signed(payload, "unused")
    return raw


def test_a_stored_event_notifies_once_and_a_duplicate_not_at_all(app, deployed, listener):
    raw = _text("wamid.n1")
    with app.test_request_context("/api/v1/webhooks/whatsapp", method="POST", data=raw):
        event_id, new = store_event("whatsapp", "wamid.n1", raw)
        assert new and event_id
        assert _heard(listener) == 1
        assert store_event("whatsapp", "wamid.n1", raw) == ("", False)
        assert _heard(listener) == 0
    # Nothing went through Redis, no job either: the notification is the hand-off.
    assert deployed.connection.dbsize() == 0


def test_an_event_stored_in_a_transaction_notifies_when_it_commits(app, deployed, listener):
    raw = _text("wamid.tx")
    record_event("whatsapp", body_digest(raw), raw, headers={})
    assert _heard(listener, 0.2) == 0  # not before the commit: the row is not visible yet
    db.session.commit()
    assert _heard(listener) == 1


def _stored(wamid: str, *, age_seconds: float, state=ProcessingState.RECEIVED, lease_in=None):
    now = utcnow()
    event = InboundWebhookEvent(
        id=uuid.uuid4(),
        source="whatsapp",
        dedupe_key=wamid,
        raw_body=_text(wamid, text=f"Bericht {wamid}", at=int(time.time() - age_seconds)),
        processing_state=state,
        attempts=1 if state == ProcessingState.PROCESSING else 0,
        lease_expires_at=now + lease_in if lease_in is not None else None,
        claimed_by="elsewhere:1" if state == ProcessingState.PROCESSING else None,
        created_at=now - timedelta(seconds=age_seconds),
    )
    db.session.add(event)
    db.session.commit()
    return event.id


def test_the_consumer_takes_waiting_events_oldest_first_and_leaves_held_ones(app, deployed):
    factories.channel(ChannelType.WHATSAPP_BUSINESS)
    db.session.commit()
    second = _stored("wamid.b", age_seconds=5)
    first = _stored("wamid.a", age_seconds=9)
    held = _stored(
        "wamid.h", age_seconds=20, state=ProcessingState.PROCESSING, lease_in=timedelta(seconds=30)
    )
    orphaned = _stored(
        "wamid.o", age_seconds=30, state=ProcessingState.PROCESSING, lease_in=-timedelta(seconds=1)
    )

    assert take_waiting(batch_size=2) == 3  # a full batch, then one more: it claims again
    db.session.expire_all()
    states = dict(
        db.session.execute(
            sa.select(InboundWebhookEvent.id, InboundWebhookEvent.processing_state)
        ).all()
    )
    assert states[held] == ProcessingState.PROCESSING  # another worker's, lease running
    assert {states[i] for i in (first, second, orphaned)} == {ProcessingState.PROCESSED}
    taken = db.session.scalars(
        sa.select(InboundWebhookEvent).where(InboundWebhookEvent.id.in_([first, second, orphaned]))
    ).all()
    assert {event.claimed_by for event in taken} == {claimant()}
    orphan = next(event for event in taken if event.id == orphaned)
    assert orphan.attempts == 2  # the dead worker's try and this one
    # Stored in the order the webhooks came in (the orphan's is the oldest).
    texts = db.session.scalars(
        sa.select(CommunicationMessage.message_content).order_by(CommunicationMessage.created_at)
    ).all()
    assert texts == ["Bericht wamid.o", "Bericht wamid.a", "Bericht wamid.b"]
    assert take_waiting(batch_size=2) == 0


def test_a_claim_on_the_consumers_connection_loads_events_as_a_query_does(app, listener):
    stored = _stored("wamid.c", age_seconds=3)
    expected = {
        column.key: getattr(db.session.get(InboundWebhookEvent, stored), column.key)
        for column in InboundWebhookEvent.__table__.columns
    }
    db.session.rollback()

    [event] = claim_waiting(5, connection=listener)
    # Its values converted as SQLAlchemy converts them: the state an enum, the
    # times aware, the headers a dict, the body bytes.
    claimed = {key: getattr(event, key) for key in expected}
    changed = {"processing_state", "attempts", "lease_expires_at", "claimed_by", "updated_at"}
    assert {key: value for key, value in claimed.items() if key not in changed} == {
        key: value for key, value in expected.items() if key not in changed
    }
    assert claimed["processing_state"] is ProcessingState.PROCESSING
    assert claimed["attempts"] == 1 and claimed["claimed_by"] == claimant()
    assert claimed["lease_expires_at"] > utcnow() and claimed["lease_expires_at"].tzinfo
    assert isinstance(claimed["raw_body"], bytes) and claimed["headers"] == {}
    # As stored: another look finds it held.
    assert claim_waiting(5, connection=listener) == []
    db.session.expire_all()
    row = db.session.get(InboundWebhookEvent, stored)
    assert (row.processing_state, row.lease_expires_at) == (
        ProcessingState.PROCESSING,
        claimed["lease_expires_at"],
    )


def test_a_running_consumer_processes_an_event_as_soon_as_it_is_stored(app, deployed):
    factories.channel(ChannelType.WHATSAPP_BUSINESS)
    db.session.commit()
    # It looks on its own only every 60 s: an event processed well before that was
    # found through its notification. (Processing itself may take seconds on a
    # loaded machine: the process's first message loads the language models.)
    consumer = _consumer(app, batch_size=20, poll_seconds=60)
    consumer.start()
    try:
        time.sleep(0.5)  # listening
        raw = _text("wamid.live")
        with app.test_request_context("/api/v1/webhooks/whatsapp", method="POST", data=raw):
            event_id, _ = store_event("whatsapp", "wamid.live", raw)
        deadline = time.monotonic() + 30
        state = None
        while time.monotonic() < deadline:
            db.session.expire_all()
            state = db.session.get(InboundWebhookEvent, uuid.UUID(event_id)).processing_state
            if state == ProcessingState.PROCESSED:
                break
            time.sleep(0.05)
        assert state == ProcessingState.PROCESSED
    finally:
        consumer.stop()
        consumer.join(timeout=10)


def _wait_processed(event_ids) -> None:
    def processed():
        db.session.expire_all()
        states = db.session.scalars(
            sa.select(InboundWebhookEvent.processing_state).where(
                InboundWebhookEvent.id.in_([uuid.UUID(i) for i in event_ids])
            )
        ).all()
        return len(states) == len(event_ids) and set(states) == {ProcessingState.PROCESSED}

    wait_until(processed, 30, f"{len(event_ids)} events processed", every=0.02)


def test_events_stored_soon_after_a_claim_are_gathered_into_the_next_one(
    app, deployed, monkeypatch
):
    """A busy moment's events are claimed and processed together (fewer claims, one
    live update for them all); the first after a quiet spell is claimed at once."""
    factories.channel(ChannelType.WHATSAPP_BUSINESS)
    db.session.commit()
    claims: list[tuple[float, set]] = []
    claim = processing.claim_waiting

    def counted(*args, **kwargs):
        events = claim(*args, **kwargs)
        if events:
            claims.append((time.monotonic(), {event.id for event in events}))
        return events

    monkeypatch.setattr(processing, "claim_waiting", counted)
    consumer = _consumer(app, batch_size=20, poll_seconds=60, gather_seconds=1.5)
    consumer.start()
    try:
        time.sleep(0.5)  # listening

        def store(wamid):
            raw = _text(wamid, phone=f"3161234{len(claims)}{wamid[-1]}")
            with app.test_request_context("/api/v1/webhooks/whatsapp", method="POST", data=raw):
                return store_event("whatsapp", wamid, raw)[0]

        # The language models load on the first message; the window starts after it.
        _wait_processed([store("wamid.first")])
        time.sleep(2.0)  # a quiet spell, longer than the window
        stored_at = time.monotonic()
        first = store("wamid.quiet")
        _wait_processed([first])
        assert claims[-1][0] - stored_at < 1.0  # claimed at once, not after the window
        busy = [store(f"wamid.busy{n}") for n in range(4)]
        _wait_processed(busy)
    finally:
        consumer.stop()
        consumer.join(timeout=10)
    # The four stored inside the window of the last claim went in one claim, at its end.
    assert [len(ids) for _, ids in claims[:3]] == [1, 1, 4]
    assert claims[2][0] - claims[1][0] >= 1.4
    # On a machine so loaded that the batch outran its time budget, what it gave back
    # is claimed again; no event of the four was claimed on its own before that.
    for _, again in claims[3:]:
        assert again <= claims[2][1]


def test_notifications_piled_up_during_a_round_do_not_hold_the_next_one_back(app, deployed):
    """After a burst, psycopg hands over every notification that came while the claims
    ran at once; the consumer once waited its linger for each (seconds for hundreds)."""
    with app.app_context():
        url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    rounds: list[float] = []

    def a_round_during_a_burst(batch_size, *, orphans, connection):
        rounds.append(time.monotonic())
        if len(rounds) == 1:
            with psycopg.connect(url, autocommit=True) as other:
                for n in range(400):
                    other.execute(f"NOTIFY {NOTIFY_CHANNEL}, 'burst{n}'")
            connection.execute("SELECT 1")  # they arrive meanwhile: psycopg's backlog
        return 0

    consumer = InboxConsumer(
        app, channel=NOTIFY_CHANNEL, take=a_round_during_a_burst, batch_size=20, poll_seconds=60
    )
    consumer.start()
    try:
        deadline = time.monotonic() + 10
        while len(rounds) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        consumer.stop()
        consumer.join(timeout=10)
    assert len(rounds) >= 2
    # One linger (5 ms), not 400 of them (2 s).
    assert rounds[1] - rounds[0] < 0.5


def test_a_batch_past_its_time_gives_the_rest_back_to_the_table(app, deployed, monkeypatch):
    """Not to an RQ job as a batch job does: the consumer claims them again."""
    factories.channel(ChannelType.WHATSAPP_BUSINESS)
    db.session.commit()
    ids = [_stored(f"wamid.g{n}", age_seconds=10 - n) for n in range(3)]
    monkeypatch.setattr(processing, "BATCH_SECONDS", 0.0)  # one event per claim
    handed: list = []
    monkeypatch.setattr(processing, "enqueue_batch", handed.append)
    releases: list[int] = []
    release = processing._release
    monkeypatch.setattr(
        processing, "_release", lambda events: (releases.append(len(events)), release(events))
    )

    assert take_waiting(batch_size=5) == 3
    assert handed == []
    assert releases == [2, 1]  # given back after the first, then after the second
    db.session.expire_all()
    events = db.session.scalars(
        sa.select(InboundWebhookEvent).where(InboundWebhookEvent.id.in_(ids))
    ).all()
    assert {event.processing_state for event in events} == {ProcessingState.PROCESSED}
    assert {event.attempts for event in events} == {1}  # a give-back is no attempt
    texts = db.session.scalars(
        sa.select(CommunicationMessage.message_content).order_by(CommunicationMessage.created_at)
    ).all()
    assert texts == ["Bericht wamid.g0", "Bericht wamid.g1", "Bericht wamid.g2"]
