"""A batch of inbound events: claimed at once, its listeners' follow-ups done together.

Each event is still processed and committed on its own and in order
(``test_processing_leases.py``); what changes is what the batch pays once: one
claim, one live-update pipeline after one saved-view mark, one analytics upsert.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.analytics import listeners as analytics_listeners
from app.conversations.core import sending, threads
from app.conversations.inbox import view_counts
from app.platform import realtime
from app.platform.database import utcnow, without_waiting_for_disk
from app.platform.extensions import db
from app.platform.jobs import coalescing
from app.platform.models import (
    CommunicationMessage,
    CommunicationThread,
    Contact,
    InboundWebhookEvent,
)
from app.platform.models.analytics import AnalyticsDirtyDay
from app.platform.models.enums import ChannelType, DeliveryStatus, MessageType, ProcessingState
from app.platform.webhooks import processing
from tests.conftest import TEST_REDIS_URL
from tests.fakes import whatsapp as wa
from tests.support import factories
from tests.support.helpers import PASSWORD
from tests.support.live_server import signed_in_session, socket_client


def _text_event(wamid: str, phone: str, text: str, at: int) -> str:
    payload = wa.webhook(
        contacts=[wa.contact(phone, "Jan")], messages=[wa.text_message(phone, text, wamid, at)]
    )
    body, _ = wa.signed(payload, "unused")
    event = InboundWebhookEvent(source="whatsapp", dedupe_key=wamid, raw_body=body)
    db.session.add(event)
    db.session.commit()
    return str(event.id)


def _message_ids_by_wamid() -> dict[str, str]:
    rows = db.session.execute(
        sa.select(CommunicationMessage.external_message_id, CommunicationMessage.id).where(
            CommunicationMessage.message_type == MessageType.INCOMING
        )
    ).all()
    return {wamid: str(message_id) for wamid, message_id in rows}


@pytest.fixture
def journal(monkeypatch) -> list[tuple]:
    """What happened, in order: events processed, saved-view marks, live updates."""
    seen: list[tuple] = []
    process = processing._process_claimed

    def processed(event):
        state = process(event)
        seen.append(("processed", event.dedupe_key))
        return state

    monkeypatch.setattr(processing, "_process_claimed", processed)
    monkeypatch.setattr(view_counts, "_bump_generation", lambda held=None: seen.append(("mark",)))
    monkeypatch.setattr(
        realtime.socketio,
        "emit",
        lambda event, data, to: seen.append(
            ("live", event, data.get("message", {}).get("external_message_id"))
        ),
    )
    return seen


def test_a_batch_sends_its_live_updates_together_after_one_saved_view_mark(
    app, monkeypatch, journal
):
    monkeypatch.setattr(coalescing, "FLUSH_AFTER_SECONDS", 60.0)
    at = int(time.time())
    ids = [
        _text_event("wamid.c1", "31612340011", "Eerste", at),
        _text_event("wamid.c2", "31612340012", "Ander", at + 1),
        _text_event("wamid.c3", "31612340011", "Tweede", at + 2),
    ]
    assert processing.process_events(ids) == {"processed": 3}

    kinds = [entry[0] for entry in journal]
    assert kinds[:3] == ["processed"] * 3  # nothing went out while the batch ran
    assert kinds[3] == "mark" and kinds.count("mark") == 1  # before any live update
    new_messages = [entry[2] for entry in journal if entry[:2] == ("live", "message:new")]
    assert new_messages == ["wamid.c1", "wamid.c2", "wamid.c3"]  # in the order committed


def test_live_updates_wait_at_most_their_flush_time(app, monkeypatch, journal):
    monkeypatch.setattr(coalescing, "FLUSH_AFTER_SECONDS", 0.0)
    at = int(time.time())
    ids = [_text_event(f"wamid.f{n}", "31612340013", f"Bericht {n}", at + n) for n in range(2)]
    processing.process_events(ids)

    first_live = journal.index(("live", "message:new", "wamid.f0"))
    assert first_live < journal.index(("processed", "wamid.f1"))


def test_a_batch_on_an_older_conversation_marks_its_day_once(app, monkeypatch):
    opened = utcnow() - timedelta(days=2)
    processing.process_event(
        _text_event("wamid.d0", "31612340014", "Vorige week", int(opened.timestamp()))
    )
    db.session.execute(sa.delete(AnalyticsDirtyDay))
    db.session.commit()
    calls: list[list] = []
    mark = analytics_listeners.mark_dirty

    def counted(moments, now=None):
        calls.append(list(moments))
        return mark(moments, now)

    monkeypatch.setattr(analytics_listeners, "mark_dirty", counted)
    at = int(time.time())
    ids = [_text_event(f"wamid.d{n}", "31612340014", f"Nu {n}", at + n) for n in range(1, 4)]
    assert processing.process_events(ids) == {"processed": 3}

    assert len(calls) == 1  # one upsert for the three messages' marks
    marked = set(db.session.scalars(sa.select(AnalyticsDirtyDay.day)))
    assert len(marked) == 1 and min(marked) < utcnow().date()


def test_a_batch_claims_its_events_in_one_statement(app):
    at = int(time.time())
    ids = [_text_event(f"wamid.k{n}", f"3161234002{n}", "Hallo", at + n) for n in range(3)]
    claims: list[str] = []

    def statement(conn, cursor, text, parameters, context, executemany):
        if threading.get_ident() != this_thread:  # the embedded worker's periodic jobs
            return
        if text.startswith("UPDATE inbound_webhook_events") and "attempts" in text:
            claims.append(text)

    this_thread = threading.get_ident()
    sa.event.listen(db.engine, "before_cursor_execute", statement)
    try:
        assert processing.process_events(ids) == {"processed": 3}
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", statement)
    assert len(claims) == 1


def test_events_handed_on_are_given_back_unclaimed(app, monkeypatch):
    at = int(time.time())
    ids = [_text_event(f"wamid.h{n}", "31612340030", f"Bericht {n}", at + n) for n in range(3)]
    monkeypatch.setattr(processing, "enqueue_batch", lambda batch: None)
    monkeypatch.setattr(processing, "BATCH_SECONDS", 0.0)
    assert processing.process_events(ids) == {"processed": 1, "handed on": 2}

    db.session.expire_all()
    rest = db.session.scalars(
        sa.select(InboundWebhookEvent).where(
            InboundWebhookEvent.id.in_([uuid.UUID(i) for i in ids[1:]])
        )
    ).all()
    # Claimable at once by the job they were handed to, and no attempt counted.
    assert {(e.processing_state, e.lease_expires_at, e.attempts) for e in rest} == {
        (ProcessingState.RECEIVED, None, 0)
    }


def test_a_known_senders_message_reads_contact_thread_and_duplicate_at_once(app):
    at = int(time.time())
    processing.process_event(_text_event("wamid.s0", "31612340040", "Eerste", at))
    reads: list[str] = []

    def statement(conn, cursor, text, parameters, context, executemany):
        if threading.get_ident() != this_thread:  # the embedded worker's periodic jobs
            return
        if text.lstrip().startswith("SELECT") and "advisory" not in text:
            reads.append(text)

    this_thread = threading.get_ident()
    sa.event.listen(db.engine, "before_cursor_execute", statement)
    try:
        processing.process_event(_text_event("wamid.s1", "31612340040", "Tweede", at + 1))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", statement)
    sender_reads = [text for text in reads if "contact_identities" in text]
    assert len(sender_reads) == 1
    assert "communication_thread" in sender_reads[0] and "EXISTS" in sender_reads[0]
    separate_duplicate_checks = [
        t
        for t in reads
        if t.lstrip().startswith("SELECT communication_message.id") and "external_message_id" in t
    ]
    assert separate_duplicate_checks == []
    assert set(_message_ids_by_wamid()) == {"wamid.s0", "wamid.s1"}


def test_a_new_senders_first_message_looks_for_no_conversation_of_theirs(app):
    """Made in the same transaction, the contact has none: no read for an open or a
    merged conversation, no duplicate check or contact look-up of its own, no
    savepoint, and the language goes in with the contact."""
    statements: list[str] = []

    def statement(conn, cursor, text, parameters, context, executemany):
        if threading.get_ident() == this_thread:  # not the embedded worker's periodic jobs
            statements.append(text.lstrip())

    this_thread = threading.get_ident()
    sa.event.listen(db.engine, "before_cursor_execute", statement)
    try:
        processing.process_event(
            _text_event("wamid.n1", "31612340041", "Wanneer komt de monteur morgen?", 1_790_000_000)
        )
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", statement)
    # Between the event's claim and its mark as processed: the message's own work.
    marks = [
        i
        for i, t in enumerate(statements)
        if t.startswith("UPDATE") and "inbound_webhook_events" in t
    ]
    storing = statements[marks[0] + 1 : marks[1]]
    assert any(t.startswith("INSERT INTO communication_message") for t in storing)
    # The sender's look-up: contact, open thread and duplicate in one statement.
    look_up, *other_contact_reads = [t for t in storing if t.startswith("SELECT contacts.")]
    assert "EXISTS (SELECT communication_message.id" in look_up
    # Whether a contact has the number in its own field is asked in the same look-up.
    assert other_contact_reads == []
    thread_reads = [t for t in storing if t.startswith("SELECT communication_thread")]
    assert thread_reads == []
    duplicate_checks = [t for t in storing if t.startswith("SELECT communication_message.id")]
    assert duplicate_checks == []
    assert not any(t.startswith("SAVEPOINT") for t in storing)
    assert not any(t.startswith("UPDATE contacts") for t in storing)
    contact = db.session.scalar(sa.select(Contact).where(Contact.phone == "+31612340041"))
    assert contact.detected_language == "nl"
    assert set(_message_ids_by_wamid()) == {"wamid.n1"}


def test_held_work_runs_once_per_key_and_a_failure_spares_the_rest(app):
    done: list = []

    def broken(items):
        raise RuntimeError("Redis away")

    assert coalescing.hold("k", done.append, 1) is False  # nothing held: do it now
    with coalescing.held():
        assert coalescing.hold("broken", broken, 1)
        assert coalescing.hold("k", done.append, 2)
        assert coalescing.hold("k", done.append, 3)
        assert done == []
    assert done == [[2, 3]]


@pytest.mark.skipif(not TEST_REDIS_URL, reason="needs Redis (TEST_REDIS_URL)")
def test_gathered_socketio_publishes_go_out_in_order_when_the_block_ends(app):
    channel = f"switchboard-test-{uuid.uuid4().hex[:8]}"
    manager = realtime.PipelinedRedisManager(TEST_REDIS_URL, channel=channel, write_only=True)
    listener = app.extensions["broker"].connection.pubsub(ignore_subscribe_messages=True)
    listener.subscribe(channel)
    try:
        listener.get_message(timeout=1.0)  # the subscription's confirmation
        with manager.together():
            for n in range(3):
                manager.emit("message:new", {"n": n}, room="role:admin")
            assert listener.get_message(timeout=0.2) is None
        received = []
        deadline = time.monotonic() + 5
        while len(received) < 3 and time.monotonic() < deadline:
            message = listener.get_message(timeout=0.5)
            if message is not None:
                received.append(manager.json.loads(message["data"])["data"][0]["n"])
    finally:
        listener.close()
    assert received == [0, 1, 2]


def test_the_jobs_own_statements_turn_off_waiting_for_the_disk_for_their_transaction(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL setting")
    event_id = uuid.UUID(_text_event("wamid.w0", "31612340050", "Hallo", int(time.time())))
    touch = sa.update(InboundWebhookEvent).where(InboundWebhookEvent.id == event_id)
    db.session.execute(without_waiting_for_disk(touch.values(attempts=1), "postgresql"))
    assert db.session.scalar(sa.text("SHOW synchronous_commit")) == "off"
    db.session.commit()
    # Only that transaction: the next one waits for the disk again.
    assert db.session.scalar(sa.text("SHOW synchronous_commit")) == "on"
    db.session.rollback()
    # A send's claim says so too (its result's commit still waits for the disk).
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    reply = factories.message(
        factories.thread(whatsapp, factories.contact()),
        "Wij komen morgen",
        message_type=MessageType.OUTGOING,
        delivery_status=DeliveryStatus.PENDING,
    )
    db.session.commit()
    now = utcnow()
    claimed = db.session.execute(
        sending._claim_statement("postgresql"),
        {"message_id": reply.id, "now": now, "lease_until": now},
    )
    assert claimed.rowcount == 1
    assert db.session.scalar(sa.text("SHOW synchronous_commit")) == "off"
    db.session.rollback()


def test_a_batch_starts_no_event_after_half_its_lease(app, monkeypatch):
    at = int(time.time())
    ids = [_text_event(f"wamid.l{n}", "31612340060", f"Bericht {n}", at + n) for n in range(2)]
    handed: list = []
    monkeypatch.setattr(processing, "enqueue_batch", handed.append)
    monkeypatch.setitem(app.config, "PROCESSING_LEASE_SECONDS", 0.0)
    assert processing.process_events(ids) == {"processed": 1, "handed on": 1}
    assert handed == [ids[1:]]


def test_inbound_keeps_its_channel_row_while_configuration_is_cached(app, monkeypatch):
    monkeypatch.setitem(app.config, "CONFIGURATION_CACHE_SECONDS", 5)
    monkeypatch.setattr(threads, "_channels", {})  # nothing kept from another test's database
    at = int(time.time())
    processing.process_event(_text_event("wamid.ch0", "31612340070", "Eerste", at))  # makes it
    processing.process_event(_text_event("wamid.ch1", "31612340071", "Tweede", at + 1))  # keeps it
    channel_reads: list[str] = []

    def statement(conn, cursor, text, parameters, context, executemany):
        if threading.get_ident() != this_thread:  # the embedded worker's periodic jobs
            return
        if text.lstrip().startswith("SELECT communication_channel."):
            channel_reads.append(text)

    this_thread = threading.get_ident()
    sa.event.listen(db.engine, "before_cursor_execute", statement)
    try:
        processing.process_event(_text_event("wamid.ch2", "31612340072", "Derde", at + 2))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", statement)
    assert channel_reads == []
    channels = set(
        db.session.scalars(
            sa.select(CommunicationMessage.channel_id).where(
                CommunicationMessage.message_type == MessageType.INCOMING
            )
        )
    )
    assert len(channels) == 1 and None not in channels


def test_new_conversations_keep_calendar_and_policies_while_configuration_is_cached(
    app, monkeypatch
):
    """A new conversation's SLA clock reads the channel's calendar and the policies;
    with settings kept, a worker reads them once, and the deadline is the same."""
    from app.conversations.business_time import clock, policies

    at = int(time.time())
    processing.process_event(_text_event("wamid.sl0", "31612340090", "Eerste", at))
    uncached = db.session.scalar(
        sa.select(CommunicationThread.sla_target_seconds).order_by(CommunicationThread.created_at)
    )
    monkeypatch.setitem(app.config, "CONFIGURATION_CACHE_SECONDS", 5)
    clock._schedules.clear()
    policies._kept.clear()
    processing.process_event(_text_event("wamid.sl1", "31612340091", "Tweede", at + 1))
    reads: list[str] = []

    def statement(conn, cursor, text, parameters, context, executemany):
        if threading.get_ident() == this_thread and (
            "FROM business_calendars" in text or "FROM sla_policies" in text
        ):
            reads.append(text)

    this_thread = threading.get_ident()
    sa.event.listen(db.engine, "before_cursor_execute", statement)
    try:
        processing.process_event(_text_event("wamid.sl2", "31612340092", "Derde", at + 2))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", statement)
    assert reads == []
    targets = db.session.scalars(sa.select(CommunicationThread.sla_target_seconds)).all()
    assert len(targets) == 3 and set(targets) == {uncached}
    due = db.session.scalars(sa.select(CommunicationThread.response_due_at)).all()
    assert None not in due


def test_an_event_named_twice_in_a_batch_is_processed_once(app, monkeypatch):
    event_id = _text_event("wamid.t2", "31612340080", "Hallo", int(time.time()))
    runs: list[str] = []
    process = processing._process_claimed

    def counted(event):
        runs.append(str(event.id))
        return process(event)

    monkeypatch.setattr(processing, "_process_claimed", counted)
    assert processing.process_events([event_id, event_id]) == {"processed": 2}
    assert runs == [event_id]


def test_a_batchs_messages_reach_a_signed_in_browser(app, live_server, make_user):
    make_user("manager", email="batch-boss@switchboard.test")
    browser = signed_in_session(live_server.url, "batch-boss@switchboard.test", PASSWORD)
    at = int(time.time())
    ids = [_text_event(f"wamid.e{n}", f"3161234009{n}", f"Bericht {n}", at + n) for n in range(3)]
    with socket_client(live_server.url, browser) as manager:
        assert processing.process_events(ids) == {"processed": 3}
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            contents = [
                data["message"]["content"]
                for event, data in list(manager.received)
                if event == "message:new"
            ]
            if len(contents) == 3:
                break
            time.sleep(0.05)
    assert contents == ["Bericht 0", "Bericht 1", "Bericht 2"]
