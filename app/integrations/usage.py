"""API usage logs (seed 000 "usage analytics"): every ``/api/*`` request, per endpoint.

The webhook endpoints answer thousands of calls a second, so the request
itself only appends a compact record to the process's batched Redis pusher
(:mod:`app.jobs.list_pusher`). :func:`flush_usage`, a periodic job, moves the
buffered records into ``api_usage_logs`` in one bulk insert; :func:`usage_summary` gives the
/integrations page count, success rate and average response time per endpoint.
A Redis outage loses usage records, never a request.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask import Flask, current_app, g, request
from sqlalchemy.exc import SQLAlchemyError

from app.database import utcnow
from app.extensions import db
from app.models import ApiUsageLog

log = logging.getLogger(__name__)

BUFFER_KEY = "switchboard:api-usage"
# Past this many unflushed records (no worker for a long while) the oldest go.
MAX_BUFFERED = 200_000
FLUSH_BATCH = 5_000
RETENTION = timedelta(days=30)
SUMMARY_WINDOW = timedelta(days=7)
# Route arguments with few, known values: worth telling apart in the summary.
NAMED_ARGUMENTS = ("provider", "scenario")


def init_usage_logging(app: Flask) -> None:
    """Time every ``/api/`` request and buffer one usage record when it is answered."""

    @app.before_request
    def _start_clock():
        if request.path.startswith("/api/"):
            g.usage_started = time.perf_counter()

    @app.after_request
    def _buffer_usage(response):
        started = g.pop("usage_started", None)
        if started is not None:
            buffer_record(usage_record(response.status_code, started))
        return response


def usage_record(status_code: int, started: float) -> list:
    """The compact record of the current request (a JSON list, cheap to build)."""
    rule = request.url_rule.rule if request.url_rule is not None else "(no route)"
    if status_code < 400:
        for name in NAMED_ARGUMENTS:
            value = (request.view_args or {}).get(name)
            if isinstance(value, str):
                rule = rule.replace(f"<{name}>", value)
    user = g.get("_login_user")  # only if this request already loaded one: no query here
    user_id = (
        str(user.id) if user is not None and getattr(user, "is_authenticated", False) else None
    )
    return [
        time.time(),
        request.method,
        rule[:200],
        request.path[:500],
        status_code,
        round((time.perf_counter() - started) * 1000, 2),
        user_id,
        (request.remote_addr or "")[:45] or None,
    ]


def buffer_record(record: list) -> None:
    current_app.extensions["broker"].lists.push(
        BUFFER_KEY, json.dumps(record, separators=(",", ":")), max_length=MAX_BUFFERED
    )


def flush_usage(limit: int = FLUSH_BATCH * 10) -> int:
    """Periodic job: move buffered records into ``api_usage_logs``; returns how many."""
    broker = current_app.extensions["broker"]
    broker.lists.flush()  # this process's records not pushed yet
    connection = broker.connection
    moved = 0
    while moved < limit:
        pipe = connection.pipeline(transaction=True)
        pipe.lrange(BUFFER_KEY, 0, FLUSH_BATCH - 1)
        pipe.ltrim(BUFFER_KEY, FLUSH_BATCH, -1)
        raw, _ = pipe.execute()
        if not raw:
            break
        rows = [_row(item) for item in raw]
        rows = [row for row in rows if row is not None]
        if rows:
            try:
                db.session.execute(sa.insert(ApiUsageLog), rows)
                db.session.commit()
            except SQLAlchemyError:
                db.session.rollback()
                connection.lpush(BUFFER_KEY, *reversed(raw))  # back in front, for the next run
                raise
        moved += len(raw)
        if len(raw) < FLUSH_BATCH:
            break
    _prune_once_an_hour(connection)
    return moved


def _row(item) -> dict | None:
    try:
        stamp, method, endpoint, path, status, ms, user_id, ip = json.loads(item)
        created = datetime.fromtimestamp(stamp, timezone.utc)
        return {
            "id": uuid.uuid4(),
            "created_at": created,
            "updated_at": created,
            "method": method,
            "endpoint": endpoint,
            "path": path,
            "status_code": int(status),
            "duration_ms": float(ms),
            "user_id": uuid.UUID(user_id) if user_id else None,
            "client_ip": ip,
        }
    except (ValueError, TypeError) as exc:
        log.warning("unreadable API usage record skipped: %s", exc)
        return None


def _prune_once_an_hour(connection) -> None:
    slot = int(time.time() // 3600)
    if not connection.set(f"switchboard:api-usage-pruned:{slot}", "1", nx=True, ex=7200):
        return
    expired = ApiUsageLog.created_at < utcnow() - RETENTION
    # Look before deleting: a read takes no write lock, and there is usually nothing.
    if db.session.scalar(sa.select(ApiUsageLog.id).where(expired).limit(1)) is not None:
        db.session.execute(sa.delete(ApiUsageLog).where(expired))
        db.session.commit()
    else:
        db.session.rollback()


@dataclass(frozen=True)
class EndpointUsage:
    method: str
    endpoint: str
    requests: int
    succeeded: int
    avg_ms: float

    @property
    def success_rate(self) -> float:
        """Percentage of answers below 400."""
        return round(self.succeeded * 100 / self.requests, 1) if self.requests else 0.0


def usage_summary(
    window: timedelta = SUMMARY_WINDOW, now: datetime | None = None
) -> list[EndpointUsage]:
    """Per endpoint over ``window``: requests, success rate, average response time."""
    since = (now or utcnow()) - window
    rows = db.session.execute(
        sa.select(
            ApiUsageLog.method,
            ApiUsageLog.endpoint,
            sa.func.count(ApiUsageLog.id),
            sa.func.count(ApiUsageLog.id).filter(ApiUsageLog.status_code < 400),
            sa.func.avg(ApiUsageLog.duration_ms),
        )
        .where(ApiUsageLog.created_at >= since)
        .group_by(ApiUsageLog.method, ApiUsageLog.endpoint)
        .order_by(sa.func.count(ApiUsageLog.id).desc(), ApiUsageLog.endpoint)
    ).all()
    return [
        EndpointUsage(method, endpoint, count, ok, round(float(avg or 0), 1))
        for method, endpoint, count, ok, avg in rows
    ]
