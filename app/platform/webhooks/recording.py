"""Recording an inbound webhook durably before anything else happens.

Every provider endpoint does the same three things: check the signature over the
raw body, store the body and headers with a dedupe key, answer quickly. The
processing happens in a job (:mod:`app.platform.webhooks.processing`), so a slow or
failing step never makes the provider retry, and a failure leaves the raw event
on record to be re-run.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid

import psycopg
import redis
import sqlalchemy as sa
from flask import current_app, request
from psycopg.types.json import Jsonb

from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.jobs.queues import enqueue
from app.platform.json_api.errors import ApiError
from app.platform.models import InboundWebhookEvent
from app.platform.models.enums import ProcessingState
from app.platform.security.bodies import loads as untrusted_json
from app.platform.transactions import after_commit

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
# What a stored event notifies on PostgreSQL; the workers' consumers listen.
NOTIFY_CHANNEL = "switchboard_inbound"
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
        payload = untrusted_json(raw_body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "malformed_json", f"The body is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise ApiError(400, "malformed_json", "The body must be a JSON object.")
    return payload


def body_digest(raw_body: bytes) -> str:
    return hashlib.sha256(raw_body).hexdigest()


_KEPT = frozenset(KEPT_HEADERS)


def kept_headers() -> dict[str, str]:
    # One pass over the request's headers: werkzeug's per-name lookup scans the
    # whole list each time, which adds up on the hot path.
    return {name.lower(): value for name, value in request.headers if name.lower() in _KEPT}


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
    statement = _insert_statement()
    if db.session.execute(statement, values).scalar() is None:
        existing = db.session.scalar(
            sa.select(InboundWebhookEvent).where(
                InboundWebhookEvent.source == source,
                InboundWebhookEvent.dedupe_key == values["dedupe_key"],
            )
        )
        return existing, False
    if process:
        if _consumers_listen():
            # Heard by the workers' consumers when this transaction commits.
            notify = sa.text("SELECT pg_notify(:channel, '')")
            db.session.execute(notify, {"channel": NOTIFY_CHANNEL})
        else:
            event_id = str(values["id"])
            after_commit(lambda: hand_to_workers(event_id))
    return InboundWebhookEvent(**values), True


def store_event(
    source: str, dedupe_key: str, raw_body: bytes, *, event_type: str | None = None
) -> tuple[str, bool]:
    """Store an event on its own and hand it to the workers; returns (id, is_new).

    The webhook endpoints' hot path. The insert runs as a single-statement
    transaction on an autocommit connection: it is durable when the statement
    returns, with none of the BEGIN/COMMIT round trips or session bookkeeping of
    :func:`record_event`, which is for storing an event inside a larger unit of work.
    """
    now = utcnow()
    event_id = uuid.uuid4()
    values = {
        "id": event_id,
        "created_at": now,
        "updated_at": now,
        "source": source,
        "dedupe_key": dedupe_key[:255],
        "raw_body": raw_body,
        "headers": kept_headers(),
        "event_type": event_type,
        "processing_state": ProcessingState.RECEIVED,
        "attempts": 0,
    }
    if db.engine.dialect.name == "postgresql":
        inserted = _insert_with_psycopg(values)
    else:
        with db.engine.connect() as connection:
            inserted = (
                connection.execution_options(isolation_level="AUTOCOMMIT")
                .execute(_insert_statement(), values)
                .scalar()
            )
    if inserted is None:
        return "", False
    hand_to_workers(str(event_id))
    return str(event_id), True


# The notification wakes the workers' consumers (app.platform.jobs.consumer) once the row
# is committed, and only for a new row: a duplicate returns nothing and notifies no one.
_PG_INSERT = (
    "WITH stored AS (INSERT INTO inbound_webhook_events (id, created_at, updated_at, source, "
    "dedupe_key, raw_body, headers, event_type, processing_state, attempts) "
    "VALUES (%(id)s, %(created_at)s, %(updated_at)s, %(source)s, %(dedupe_key)s, %(raw_body)s, "
    "%(headers)s, %(event_type)s, %(processing_state)s, %(attempts)s) "
    "ON CONFLICT (source, dedupe_key) DO NOTHING RETURNING id) "
    "SELECT id, pg_notify(%(channel)s, '') FROM stored"
)
_local = threading.local()


def _insert_with_psycopg(values: dict):
    """The PostgreSQL insert straight through psycopg: autocommit, prepared.

    SQLAlchemy's pool checkout (with its liveness ping) and execution layer cost
    more CPU per call than the insert itself, so on the hottest path of the
    system each web thread keeps one autocommit connection of its own. A broken
    connection is replaced and the insert tried once more.
    """
    params = dict(
        values,
        headers=Jsonb(values["headers"]),
        processing_state=values["processing_state"].value,
        channel=NOTIFY_CHANNEL,
    )
    for attempt in (1, 2):
        connection = thread_connection()
        try:
            with connection.cursor() as cursor:
                cursor.execute(_PG_INSERT, params, prepare=True)
                row = cursor.fetchone()
            return row[0] if row else None
        except psycopg.OperationalError:
            _local.__dict__.pop("connection", None)
            connection.close()
            if attempt == 2:
                raise
    return None


def thread_connection() -> psycopg.Connection:
    """This thread's own autocommit psycopg connection to the app's PostgreSQL."""
    connection = getattr(_local, "connection", None)
    if connection is None or connection.closed:
        url = db.engine.url.set(drivername="postgresql")
        connection = psycopg.connect(
            url.render_as_string(hide_password=False), autocommit=True, connect_timeout=5
        )
        _local.connection = connection
    return connection


_INSERT_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "source",
    "dedupe_key",
    "raw_body",
    "headers",
    "event_type",
    "processing_state",
    "attempts",
)
_insert_statement_cache: list[sa.TextClause] = []


def _insert_statement() -> sa.TextClause:
    """The insert as SQL text, which both PostgreSQL and SQLite (3.35+) accept.

    Written out rather than built with the dialect ``insert()`` constructs,
    because those are not cached by SQLAlchemy 2.0 and compiling the statement
    on every webhook costs more than everything else on the request. Typed bind
    parameters keep UUIDs, timestamps, JSON and the enum converted as in the ORM.
    """
    if not _insert_statement_cache:
        table = InboundWebhookEvent.__table__
        names = ", ".join(_INSERT_COLUMNS)
        params = ", ".join(f":{name}" for name in _INSERT_COLUMNS)
        statement = (
            sa.text(
                f"INSERT INTO {table.name} ({names}) VALUES ({params}) "  # noqa: S608
                "ON CONFLICT (source, dedupe_key) DO NOTHING RETURNING id"
            )
            .bindparams(*(sa.bindparam(n, type_=table.c[n].type) for n in _INSERT_COLUMNS))
            .columns(table.c.id)
        )
        _insert_statement_cache.append(statement)
    return _insert_statement_cache[0]


# --- from the web process to the workers ---------------------------------------
#
# The webhook answers as soon as the event is committed, so handing it on must be
# cheap. Production (PostgreSQL, Redis, worker.py): the insert's own notification
# wakes every worker.py's consumer, which claims the event from the table
# (app.platform.jobs.consumer); nothing goes through Redis. Without that (the embedded mode
# of `make run`, whose web process is its own worker, or SQLite with Redis, a set-up
# for trying things, not for production) each event is a processing job of its
# own, queued here. A job lost with Redis is found again by
# ``requeue_stalled_events``, as an event no consumer took is.


def _consumers_listen() -> bool:
    """Whether workers take events from the database (``worker.py`` on PostgreSQL),
    woken by the notification that stored them, rather than as queued jobs."""
    broker = current_app.extensions["broker"]
    return not broker.embedded and db.engine.dialect.name == "postgresql"


def hand_to_workers(event_id: str) -> None:
    """Hand a committed event on: nothing to do where consumers listen, else its job."""
    if _consumers_listen():
        return  # the insert's notification (or the consumers' next look) hands it on
    try:
        enqueue_processing(event_id)
    except redis.RedisError:
        log.warning("could not queue webhook event %s now; the sweeper will", event_id)


def in_batches(event_ids: list[str]) -> list[list[str]]:
    """``event_ids`` in jobs of ``WEBHOOK_BATCH_SIZE`` (see ``process_events``)."""
    size = max(1, int(current_app.config["WEBHOOK_BATCH_SIZE"]))
    return [event_ids[start : start + size] for start in range(0, len(event_ids), size)]


def enqueue_processing(event_id: str):
    return enqueue("app.platform.webhooks.processing.process_event", event_id, queue="webhooks")


def enqueue_batch(event_ids: list[str]):
    return enqueue("app.platform.webhooks.processing.process_events", event_ids, queue="webhooks")
