"""Delivery statuses and other quick events a feature applies many at a time.

A burst of answers brings two or three status webhooks each; processed one by one,
each would cost a transaction of its own. A batch applies those a feature declares
as a fold (``webhook_folds``) together, first, in one transaction
(:func:`app.platform.webhooks.processing.process_claimed` calls :func:`fold`).
"""

from __future__ import annotations

import functools
import logging
import uuid

import sqlalchemy as sa
from flask import current_app

from app.platform.database import utcnow, without_waiting_for_disk
from app.platform.extensions import db
from app.platform.features import resolve
from app.platform.jobs.coalescing import flush_if_due
from app.platform.models import InboundWebhookEvent
from app.platform.models.enums import ProcessingState
from app.platform.transactions import commit

log = logging.getLogger(__name__)

EVENTS = InboundWebhookEvent.__table__


def processed_values(now) -> dict:
    """What an event's row says once it is processed."""
    return {
        "processing_state": ProcessingState.PROCESSED,
        "processed_at": now,
        "lease_expires_at": None,
        "last_error": None,
        "updated_at": now,
    }


@functools.cache
def _processed_together_statement(dialect: str) -> sa.Update:
    now = sa.bindparam("now")
    done = (
        sa.update(EVENTS)
        .where(EVENTS.c.id.in_(sa.bindparam("event_ids", expanding=True)))
        .values(processed_values(now))
    )
    return without_waiting_for_disk(done, dialect)


def fold(idents: list[uuid.UUID], claimed: dict[uuid.UUID, InboundWebhookEvent]) -> set[uuid.UUID]:
    """Process together, in one transaction and first, the claimed events a feature
    applies as a fold (``webhook_folds``: delivery statuses), in the order of
    ``idents``; returns their ids, taken out of ``claimed``.

    Each would otherwise cost a transaction of its own, and a burst of answers
    brings two or three each. First: they are quick, and the messages after them
    in the batch do not wait long for them. If the fold fails, nothing of it is
    kept and its events go through one at a time, as any other.
    """
    folds = current_app.extensions["features"].webhook_folds
    groups: dict[str, list[InboundWebhookEvent]] = {}
    for ident in idents:
        event = claimed.get(ident)
        path = event is not None and folds.get((event.source, event.event_type))
        if path:
            groups.setdefault(path, []).append(event)
    done: set[uuid.UUID] = set()
    for path, events in groups.items():
        if len(events) < 2:
            continue  # one alone is processed as any event
        event_ids = [event.id for event in events]
        try:
            # Read as they were claimed, outside the session: a fold that fails and is
            # rolled back leaves them loaded, to be processed one at a time.
            resolve(path)(events)
            db.session.execute(
                _processed_together_statement(db.session.get_bind().dialect.name),
                {"event_ids": event_ids, "now": utcnow()},
            )
            commit()
        except Exception:  # each on its own then, with its own outcome
            db.session.rollback()
            log.exception("folding %d webhook events with %s failed", len(events), path)
            continue
        finally:
            db.session.remove()
            flush_if_due()
        for event_id in event_ids:
            claimed.pop(event_id, None)
        done.update(event_ids)
    return done
