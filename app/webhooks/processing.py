"""Processing stored webhook events, in a job, all-or-nothing.

Each source names one processor, a function taking the event and doing its work
in the session without committing. The job commits when the processor returns;
when it raises, everything it wrote is rolled back and the event is marked
failed with the error, to be re-run from the admin events page.
"""

from __future__ import annotations

import importlib
import logging
import uuid
from datetime import timedelta

import sqlalchemy as sa

from app.database import utcnow
from app.extensions import db
from app.models import InboundWebhookEvent
from app.models.enums import ProcessingState
from app.transactions import commit
from app.webhooks.events import enqueue_processing

log = logging.getLogger(__name__)

# source → "module:function". Each channel adds its line here.
PROCESSORS: dict[str, str] = {
    "whatsapp": "app.channels.whatsapp.inbound:process_event",
    "outlook": "app.channels.outlook.inbound:process_event",
    "sms": "app.channels.sms.inbound:process_event",
    "sendgrid": "app.channels.email.events:process_event",
    "partner_status": "app.partners.status_webhook:process_event",
    "fillout": "app.fillout.processing:process_event",
    "make": "app.make.inbound:process_event",
    "stripe": "app.integrations.webhook_routing:process_event",
    "hubspot": "app.integrations.webhook_routing:process_event",
    "quickbooks": "app.integrations.webhook_routing:process_event",
}


class UnprocessableEvent(Exception):
    """The event is well-formed but cannot be handled (kept as failed, not retried)."""


def resolve(path: str):
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def process_event(event_id: str) -> str:
    """Run the event's processor; returns the final processing state."""
    event = db.session.get(InboundWebhookEvent, uuid.UUID(event_id))
    if event is None:
        log.warning("webhook event %s vanished before processing", event_id)
        return "missing"
    if event.processing_state == ProcessingState.PROCESSED:
        return event.processing_state.value
    path = PROCESSORS.get(event.source)
    if path is None:
        return _finish(
            event_id, ProcessingState.IGNORED, f"no processor for source {event.source!r}"
        )
    event.processing_state = ProcessingState.PROCESSING
    event.attempts += 1
    db.session.commit()
    try:
        resolve(path)(event)
        event.processing_state = ProcessingState.PROCESSED
        event.processed_at = utcnow()
        event.last_error = None
        commit()
    except Exception as exc:  # any failure: undo the work, keep the event as failed
        db.session.rollback()
        log.exception("processing webhook event %s (%s) failed", event_id, event.source)
        return _finish(event_id, ProcessingState.FAILED, f"{type(exc).__name__}: {exc}")
    return ProcessingState.PROCESSED.value


def _finish(event_id: str, state: ProcessingState, error: str) -> str:
    event = db.session.get(InboundWebhookEvent, uuid.UUID(event_id))
    event.processing_state = state
    event.last_error = error[:2000]
    db.session.commit()
    return state.value


# Received but not picked up after this long: the hand-off was lost (see events.py).
STALLED_RECEIVED_AFTER = timedelta(minutes=2)
# Processing for this long: the worker died mid-way (jobs time out well before).
STALLED_PROCESSING_AFTER = timedelta(minutes=15)


def requeue_stalled_events() -> int:
    """Periodic job: queue again events whose hand-off or processing was lost."""
    now = utcnow()
    stalled = db.session.scalars(
        sa.select(InboundWebhookEvent.id)
        .where(
            sa.or_(
                sa.and_(
                    InboundWebhookEvent.processing_state == ProcessingState.RECEIVED,
                    InboundWebhookEvent.created_at < now - STALLED_RECEIVED_AFTER,
                ),
                sa.and_(
                    InboundWebhookEvent.processing_state == ProcessingState.PROCESSING,
                    InboundWebhookEvent.updated_at < now - STALLED_PROCESSING_AFTER,
                ),
            )
        )
        .limit(1000)
    ).all()
    for event_id in stalled:
        enqueue_processing(str(event_id))
    if stalled:
        log.warning("re-queued %d stalled webhook events", len(stalled))
    return len(stalled)
