"""Queries and actions behind the admin events page."""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.audit.records import field_changes, record_change, snapshot
from app.platform.extensions import db
from app.platform.models import InboundWebhookEvent
from app.platform.models.enums import ProcessingState
from app.platform.transactions import after_commit
from app.platform.webhooks.recording import enqueue_processing

PAGE_SIZE = 50
RERUN_FIELDS = ("processing_state", "last_error")


def list_events(source: str | None, state: str | None, before: str | None = None):
    """Newest events first, optionally by source and state; keyset on created_at."""
    query = (
        sa.select(InboundWebhookEvent)
        .options(so.defer(InboundWebhookEvent.raw_body))
        .order_by(InboundWebhookEvent.created_at.desc(), InboundWebhookEvent.id.desc())
        .limit(PAGE_SIZE + 1)
    )
    if source:
        query = query.where(InboundWebhookEvent.source == source)
    if state:
        query = query.where(InboundWebhookEvent.processing_state == ProcessingState(state))
    if before:
        anchor = db.session.get(InboundWebhookEvent, uuid.UUID(before))
        if anchor is not None:
            query = query.where(
                sa.tuple_(InboundWebhookEvent.created_at, InboundWebhookEvent.id)
                < sa.tuple_(anchor.created_at, anchor.id)
            )
    rows = list(db.session.scalars(query))
    return rows[:PAGE_SIZE], (str(rows[PAGE_SIZE - 1].id) if len(rows) > PAGE_SIZE else None)


def sources() -> list[str]:
    return list(
        db.session.scalars(
            sa.select(InboundWebhookEvent.source).distinct().order_by(InboundWebhookEvent.source)
        )
    )


def state_counts() -> dict[str, int]:
    rows = db.session.execute(
        sa.select(InboundWebhookEvent.processing_state, sa.func.count()).group_by(
            InboundWebhookEvent.processing_state
        )
    ).all()
    return {state.value: count for state, count in rows}


def pretty_body(event: InboundWebhookEvent) -> str:
    """The body for reading: indented JSON when it is JSON, else text as received."""
    text = event.raw_body.decode("utf-8", errors="replace")
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def rerun(event: InboundWebhookEvent) -> None:
    """Queue the event for processing again (after a fix); the caller commits."""
    before = snapshot(event, RERUN_FIELDS)
    event.processing_state = ProcessingState.RECEIVED
    event.last_error = None
    record_change(
        InboundWebhookEvent.__tablename__,
        event.id,
        "WEBHOOK_EVENT_RERUN",
        # The error text is kept like a secret (only "removed"): it quotes what the
        # provider sent (a validation error's input, a failed INSERT's parameters),
        # which is customer data the audit log has no business keeping.
        {
            "source": event.source,
            **field_changes(before, snapshot(event, RERUN_FIELDS), secret=("last_error",)),
        },
    )
    event_id = str(event.id)
    after_commit(lambda: enqueue_processing(event_id))
