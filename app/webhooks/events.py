"""Recording an inbound webhook durably before anything else happens.

Every provider endpoint does the same three things: check the signature over the
raw body, store the body and headers with a dedupe key, answer quickly. The
processing happens in a job (:mod:`app.webhooks.processing`), so a slow or
failing step never makes the provider retry, and a failure leaves the raw event
on record to be re-run.
"""

from __future__ import annotations

import hashlib
import json
import uuid

import sqlalchemy as sa
from flask import request
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.api.errors import ApiError
from app.database import utcnow
from app.extensions import db
from app.jobs.queues import enqueue
from app.models import InboundWebhookEvent
from app.models.enums import ProcessingState
from app.transactions import after_commit

MAX_BODY_BYTES = 1024 * 1024
# Headers worth keeping with the event; signatures are kept for audits, cookies never.
KEPT_HEADERS = (
    "content-type",
    "user-agent",
    "x-hub-signature-256",
    "x-twilio-signature",
    "x-make-signature",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "stripe-signature",
    "x-hubspot-signature-v3",
    "intuit-signature",
    "x-twilio-email-event-webhook-signature",
    "x-twilio-email-event-webhook-timestamp",
)


def read_raw_body(limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body exactly as sent; 413 when it is over ``limit`` bytes."""
    length = request.content_length
    if length is not None and length > limit:
        raise ApiError(413, "payload_too_large", f"The body is over {limit} bytes.")
    body = request.stream.read(limit + 1) if length is None else request.get_data(cache=True)
    if len(body) > limit:
        raise ApiError(413, "payload_too_large", f"The body is over {limit} bytes.")
    return body


def parse_json(raw_body: bytes) -> dict:
    """The body as a JSON object; 400 naming the problem otherwise."""
    try:
        payload = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "malformed_json", f"The body is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise ApiError(400, "malformed_json", "The body must be a JSON object.")
    return payload


def body_digest(raw_body: bytes) -> str:
    return hashlib.sha256(raw_body).hexdigest()


def kept_headers() -> dict[str, str]:
    return {name: request.headers[name] for name in KEPT_HEADERS if name in request.headers}


def record_event(
    source: str,
    dedupe_key: str,
    raw_body: bytes,
    *,
    event_type: str | None = None,
    headers: dict[str, str] | None = None,
    process: bool = True,
) -> tuple[InboundWebhookEvent, bool]:
    """Store an event once per ``(source, dedupe_key)``; returns it and whether it is new.

    Safe when the same event arrives twice at the same moment: the insert does
    nothing on conflict and the existing row is returned. A new event is queued
    for processing once the caller commits.
    """
    now = utcnow()
    values = {
        "id": uuid.uuid4(),
        "created_at": now,
        "updated_at": now,
        "source": source,
        "dedupe_key": dedupe_key[:255],
        "raw_body": raw_body,
        "headers": headers if headers is not None else kept_headers(),
        "event_type": event_type,
        "processing_state": ProcessingState.RECEIVED,
        "attempts": 0,
    }
    # One INSERT … ON CONFLICT DO NOTHING: no savepoint, no extra round trip on
    # the hot path, and two copies arriving together still make one row.
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(InboundWebhookEvent.__table__)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["source", "dedupe_key"])
        .returning(InboundWebhookEvent.__table__.c.id)
    )
    if db.session.execute(statement).scalar() is None:
        existing = db.session.scalar(
            sa.select(InboundWebhookEvent).where(
                InboundWebhookEvent.source == source,
                InboundWebhookEvent.dedupe_key == values["dedupe_key"],
            )
        )
        return existing, False
    if process:
        event_id = str(values["id"])
        after_commit(lambda: enqueue_processing(event_id))
    return InboundWebhookEvent(**values), True


def enqueue_processing(event_id: str):
    return enqueue("app.webhooks.processing.process_event", event_id, queue="webhooks")
