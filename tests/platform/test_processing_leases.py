"""A worker that dies mid-job costs seconds: leases on inbound events and on sends.

The process-level version (a ``worker.py`` killed with SIGKILL) is in
``test_scale_out.py``; here the same rules are checked on the rows: a claim
keeps other workers off until its lease runs out, then the 10-second sweeps
hand the work to someone else.
"""

from __future__ import annotations

import time
from datetime import timedelta

import sqlalchemy as sa

from app.conversations.core import sending
from app.conversations.core.sending import requeue_stalled_sends, send_message
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.features import collect
from app.platform.models import CommunicationMessage, InboundWebhookEvent, SandboxSend
from app.platform.models.enums import ChannelType, DeliveryStatus, MessageType, ProcessingState
from app.platform.webhooks import processing
from app.platform.webhooks.processing import process_event, requeue_stalled_events
from tests.fakes import whatsapp as wa
from tests.support import factories


def _event(state: ProcessingState, lease_in: timedelta | None, age=timedelta(seconds=5)):
    payload = wa.webhook(
        contacts=[wa.contact("31612340000", "Jan")],
        messages=[wa.text_message("31612340000", "Hallo", "wamid.lease", 1_790_000_000)],
    )
    raw, _ = wa.signed(payload, "unused")
    now = utcnow()
    event = InboundWebhookEvent(
        source="whatsapp",
        dedupe_key="wamid.lease",
        raw_body=raw,
        processing_state=state,
        attempts=1 if state == ProcessingState.PROCESSING else 0,
        lease_expires_at=now + lease_in if lease_in is not None else None,
        created_at=now - age,
    )
    db.session.add(event)
    db.session.commit()
    return event


def _queued(monkeypatch, module) -> list:
    queued: list = []
    monkeypatch.setattr(module, "enqueue_processing", queued.append)
    monkeypatch.setattr(module, "enqueue_batch", queued.extend)
    return queued


def test_an_event_held_by_a_live_worker_is_left_alone(app, monkeypatch):
    event = _event(ProcessingState.PROCESSING, lease_in=timedelta(seconds=30))
    queued = _queued(monkeypatch, processing)
    assert requeue_stalled_events() == 0 and queued == []
    assert process_event(str(event.id)) == "skipped"
    db.session.expire_all()
    assert db.session.get(InboundWebhookEvent, event.id).attempts == 1


def test_an_event_whose_worker_died_is_taken_up_once_its_lease_runs_out(app, monkeypatch):
    event = _event(ProcessingState.PROCESSING, lease_in=-timedelta(seconds=1))
    queued = _queued(monkeypatch, processing)
    assert requeue_stalled_events() == 1 and queued == [str(event.id)]
    assert process_event(str(event.id)) == "processed"
    db.session.expire_all()
    stored = db.session.get(InboundWebhookEvent, event.id)
    assert stored.attempts == 2 and stored.lease_expires_at is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CommunicationMessage)) == 1
    # A late duplicate job finds nothing left to do.
    assert process_event(str(event.id)) == "processed"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CommunicationMessage)) == 1


def test_a_lost_hand_off_is_queued_again_after_a_minute_not_before(app, monkeypatch):
    fresh = _event(ProcessingState.RECEIVED, lease_in=None, age=timedelta(seconds=20))
    queued = _queued(monkeypatch, processing)
    assert requeue_stalled_events() == 0
    fresh.created_at = utcnow() - timedelta(seconds=61)
    db.session.commit()
    assert requeue_stalled_events() == 1 and queued == [str(fresh.id)]


def test_the_sweeps_run_every_ten_seconds():
    every = {job.name: job.every_seconds for job in collect().periodic_jobs}
    assert every["stalled-webhook-events"] == 10 and every["stalled-sends"] == 10


def _pending_reply(**fields) -> CommunicationMessage:
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    thread = factories.thread(channel, factories.contact())
    return factories.message(
        thread,
        "Wij komen morgen",
        message_type=MessageType.OUTGOING,
        delivery_status=DeliveryStatus.PENDING,
        recipient_external={"phone": "+31612345678"},
        **fields,
    )


def test_a_retry_that_starts_before_its_own_lease_ends_waits_for_it_and_sends_once(app):
    # RQ schedules in whole seconds, so a retry may start while its own lease holds.
    # Timed from before the lease is set: a busy machine's slow commit then
    # cannot eat into the wait measured.
    started = time.monotonic()
    early = _pending_reply(send_lease_expires_at=utcnow() + timedelta(seconds=1.5))
    db.session.commit()
    assert send_message(str(early.id)) is not None
    assert time.monotonic() - started >= 1.45  # not before its lease ran out
    assert send_message(str(early.id)) is None  # sent: nothing left to claim
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SandboxSend)) == 1


def test_a_send_is_claimed_once_and_a_dead_workers_send_is_swept(app, monkeypatch):
    sent_ids: list = []
    monkeypatch.setattr(sending, "enqueue_send", lambda mid, delay=0: sent_ids.append(str(mid)))
    held = _pending_reply(send_lease_expires_at=utcnow() + timedelta(seconds=30))
    db.session.commit()
    # Another worker holds it: this job does nothing and the sweep leaves it.
    assert send_message(str(held.id)) is None
    assert requeue_stalled_sends() == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SandboxSend)) == 0

    held.send_lease_expires_at = utcnow() - timedelta(seconds=1)  # that worker died
    db.session.commit()
    assert requeue_stalled_sends() == 1 and sent_ids == [str(held.id)]
    assert send_message(str(held.id)) is not None
    assert send_message(str(held.id)) is None  # already sent: never twice
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SandboxSend)) == 1


def test_a_send_whose_job_was_lost_is_swept_after_a_minute(app, monkeypatch):
    sent_ids: list = []
    monkeypatch.setattr(sending, "enqueue_send", lambda mid, delay=0: sent_ids.append(str(mid)))
    recent = _pending_reply(created_at=utcnow() - timedelta(seconds=10))
    lost = _pending_reply(created_at=utcnow() - timedelta(seconds=90))
    db.session.commit()
    assert requeue_stalled_sends() == 1
    assert sent_ids == [str(lost.id)] and str(recent.id) not in sent_ids


def _text_event(wamid: str, phone: str, text: str, at: int, *, raw: bytes | None = None):
    payload = wa.webhook(
        contacts=[wa.contact(phone, "Jan")], messages=[wa.text_message(phone, text, wamid, at)]
    )
    body, _ = wa.signed(payload, "unused")
    event = InboundWebhookEvent(
        source="whatsapp", dedupe_key=wamid, raw_body=raw if raw is not None else body
    )
    db.session.add(event)
    db.session.commit()
    return str(event.id)


def test_a_batch_processes_each_event_on_its_own_in_order(app, monkeypatch):
    # Whatsapp is configured as in the other inbound tests (the sandbox signs nothing here).
    first = _text_event("wamid.b1", "31612340001", "Eerste", 1_790_000_000)
    broken = _text_event("wamid.b2", "31612340001", "x", 1_790_000_001, raw=b"{not json")
    second = _text_event("wamid.b3", "31612340001", "Tweede", 1_790_000_002)
    other = _text_event("wamid.b4", "31612340002", "Ander", 1_790_000_003)
    outcomes = processing.process_events([first, broken, second, other])
    assert outcomes == {"processed": 3, "failed": 1}
    states = dict(
        db.session.execute(
            sa.select(InboundWebhookEvent.dedupe_key, InboundWebhookEvent.processing_state)
        ).all()
    )
    assert states["wamid.b2"] == ProcessingState.FAILED  # only the broken one
    texts = db.session.scalars(
        sa.select(CommunicationMessage.message_content)
        .where(CommunicationMessage.message_type == MessageType.INCOMING)
        .order_by(CommunicationMessage.created_at, CommunicationMessage.id)
    ).all()
    assert texts == ["Eerste", "Tweede", "Ander"]
    # Run again (a duplicate job): nothing is done twice.
    assert processing.process_events([first, second]) == {"processed": 2}
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(CommunicationMessage)
            .where(CommunicationMessage.message_type == MessageType.INCOMING)
        )
        == 3
    )


def test_a_batch_over_its_time_hands_the_rest_to_a_job_of_their_own(app, monkeypatch):
    ids = [
        _text_event(f"wamid.t{n}", "31612340003", f"Bericht {n}", 1_790_000_000 + n)
        for n in range(3)
    ]
    handed: list = []
    monkeypatch.setattr(processing, "enqueue_batch", handed.append)
    monkeypatch.setattr(processing, "BATCH_SECONDS", 0.0)
    # The first event always goes through (a batch never only hands itself on).
    assert processing.process_events(ids) == {"processed": 1, "handed on": 2}
    assert handed == [ids[1:]]
    assert processing.process_events(ids[1:]) == {"processed": 1, "handed on": 1}
