"""Meta's status webhooks (sent, delivered, read), two or three per message we send,
applied a batch at a time in one transaction instead of one event each."""

from __future__ import annotations

import time

import sqlalchemy as sa

from app.conversations.channels.whatsapp.payloads import event_type
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, InboundWebhookEvent
from app.platform.models.enums import ChannelType, DeliveryStatus, MessageType, ProcessingState
from app.platform.webhooks import processing
from tests.fakes import whatsapp as wa
from tests.support import factories


def _event(key: str, payload: dict) -> str:
    body, _ = wa.signed(payload, "unused")
    event = InboundWebhookEvent(
        source="whatsapp", dedupe_key=key, raw_body=body, event_type=event_type(payload)
    )
    db.session.add(event)
    db.session.commit()
    return str(event.id)


def _status(key: str, wamid: str, state: str) -> str:
    at = int(time.time())
    return _event(key, wa.webhook(statuses=[wa.status(wamid, state, at, "31612345678")]))


def _ours(thread, wamid: str) -> CommunicationMessage:
    return factories.message(
        thread,
        "Wij zijn gesloten.",
        message_type=MessageType.AUTO_RESPONSE,
        external_message_id=wamid,
        delivery_status=DeliveryStatus.PENDING,
    )


def _commits_during(action) -> int:
    commits: list[object] = []
    listener = lambda conn: commits.append(conn)  # noqa: E731
    sa.event.listen(db.engine, "commit", listener)
    try:
        action()
    finally:
        sa.event.remove(db.engine, "commit", listener)
    return len(commits)


def test_a_batchs_statuses_are_applied_together_in_their_order(app):
    thread = factories.thread(factories.channel(ChannelType.WHATSAPP_BUSINESS))
    first, second = _ours(thread, "wamid.out1"), _ours(thread, "wamid.out2")
    db.session.commit()
    first_id, second_id = first.id, second.id
    at = int(time.time())
    ids = [
        _status("s1", "wamid.out1", "sent"),
        _status("s2", "wamid.out2", "sent"),
        # A customer's message between them: processed on its own, as ever.
        _event(
            "m1",
            wa.webhook(
                contacts=[wa.contact("31600000001", "Jan")],
                messages=[wa.text_message("31600000001", "Hallo", "wamid.in1", at)],
            ),
        ),
        _status("s3", "wamid.out1", "delivered"),
        _status("s4", "wamid.out1", "read"),
        # A late "delivered" never takes "read" back.
        _status("s5", "wamid.out1", "delivered"),
        _status("s6", "wamid.out2", "delivered"),
        _status("s7", "wamid.unknown", "read"),
    ]
    db.session.remove()

    outcomes: dict = {}
    # One transaction for the seven statuses: with the claim's, the message's and its
    # listeners' own, fewer commits than statuses (eleven one event at a time).
    commits = _commits_during(lambda: outcomes.update(processing.process_events(ids)))

    assert outcomes == {"processed": 8}
    assert commits <= 5
    assert db.session.get(CommunicationMessage, first_id).delivery_status == DeliveryStatus.READ
    second = db.session.get(CommunicationMessage, second_id)
    assert second.delivery_status == DeliveryStatus.DELIVERED
    assert second.sent_at is not None and second.delivered_at is not None
    states = db.session.scalars(sa.select(InboundWebhookEvent.processing_state)).all()
    assert set(states) == {ProcessingState.PROCESSED}
    assert db.session.scalar(
        sa.select(CommunicationMessage.id).where(
            CommunicationMessage.external_message_id == "wamid.in1"
        )
    )


def test_a_fold_that_fails_leaves_each_status_to_its_own_transaction(app, monkeypatch):
    thread = factories.thread(factories.channel(ChannelType.WHATSAPP_BUSINESS))
    message_id = _ours(thread, "wamid.out3").id
    db.session.commit()
    ids = [_status("f1", "wamid.out3", "sent"), _status("f2", "wamid.out3", "delivered")]
    db.session.remove()

    def broken(events):
        raise RuntimeError("a fold that fails")

    from app.conversations.channels.whatsapp import inbound

    monkeypatch.setattr(inbound, "apply_statuses", broken)

    assert processing.process_events(ids) == {"processed": 2}
    message = db.session.get(CommunicationMessage, message_id)
    assert message.delivery_status == DeliveryStatus.DELIVERED
