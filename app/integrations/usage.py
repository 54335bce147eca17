"""API usage logs (usage analytics): every ``/api/*`` request, per endpoint.

The webhook endpoints answer thousands of calls a second, so the request
itself only appends a compact record to the process's batched Redis pusher
(:mod:`app.platform.jobs.list_pusher`), which sends a second's records at once.
:func:`flush_usage`, a periodic job, sums the
buffered records per day, method and endpoint and adds them to
``api_usage_logs`` with one upsert, so the table grows by a row a day per
endpoint, not a row per call; :func:`usage_summary` gives the /integrations page
count, success rate and average response time per endpoint. A Redis outage
loses usage records, never a request.

Calls made with a partner key also count for that partner:
the partner API's authentication names the partner in ``g.api_partner_id``,
the record carries it, and the same flush adds the calls to
``partner_api_usage`` per Dutch day and response-time bucket, a small
histogram from which p50 and p95 are read.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from flask import Flask, current_app, g, request
from sqlalchemy.exc import SQLAlchemyError

from app.platform.database import upsert_insert, utcnow
from app.platform.extensions import db
from app.platform.models import ApiUsageLog, Organization, PartnerApiUsage
from app.platform.transactions import commit
from app.platform.ui import DISPLAY_ZONE

log = logging.getLogger(__name__)

BUFFER_KEY = "switchboard:api-usage"
# Past this many unflushed records (no worker for a long while) the oldest go.
MAX_BUFFERED = 200_000
FLUSH_BATCH = 5_000
# A row a day per endpoint is small: keep a year and a month, for year-on-year figures.
RETENTION = timedelta(days=400)
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
    record = [
        time.time(),
        request.method,
        rule[:200],
        status_code,
        round((time.perf_counter() - started) * 1000, 2),
    ]
    partner_id = g.get("api_partner_id")
    if partner_id:
        record.append(str(partner_id))
    return record


def buffer_record(record: list) -> None:
    current_app.extensions["broker"].usage.push(
        BUFFER_KEY, json.dumps(record, separators=(",", ":")), max_length=MAX_BUFFERED
    )


def flush_usage(limit: int = FLUSH_BATCH * 10) -> int:
    """Periodic job: add buffered records to the daily sums; returns how many records."""
    broker = current_app.extensions["broker"]
    broker.usage.flush()  # this process's records not pushed yet
    connection = broker.connection
    moved = 0
    while moved < limit:
        pipe = connection.pipeline(transaction=True)
        pipe.lrange(BUFFER_KEY, 0, FLUSH_BATCH - 1)
        pipe.ltrim(BUFFER_KEY, FLUSH_BATCH, -1)
        raw, _ = pipe.execute()
        if not raw:
            break
        sums = _daily_sums(raw)
        partner_sums = _partner_sums(raw)
        if sums:
            try:
                _add_to_daily_rows(sums)
                if partner_sums:
                    _add_to_partner_rows(partner_sums)
                commit()
            except SQLAlchemyError:
                db.session.rollback()
                connection.lpush(BUFFER_KEY, *reversed(raw))  # back in front, for the next run
                raise
        moved += len(raw)
        if len(raw) < FLUSH_BATCH:
            break
    _prune_once_an_hour(connection)
    return moved


def _daily_sums(raw: list) -> dict[tuple[date, str, str], list]:
    """Records summed per (day, method, endpoint): [requests, succeeded, total ms]."""
    sums: dict[tuple[date, str, str], list] = defaultdict(lambda: [0, 0, 0.0])
    for item in raw:
        try:
            fields = json.loads(item)
            if len(fields) == 8:  # the per-request layout of earlier releases
                stamp, method, endpoint, _, status, ms, _, _ = fields
            else:
                stamp, method, endpoint, status, ms = fields[:5]
            day = datetime.fromtimestamp(stamp, timezone.utc).date()
            status, ms = int(status), float(ms)
        except (ValueError, TypeError) as exc:
            log.warning("unreadable API usage record skipped: %s", exc)
            continue
        total = sums[(day, str(method)[:8], str(endpoint)[:200])]
        total[0] += 1
        total[1] += status < 400
        total[2] += ms
    return sums


def latency_bucket(ms: float) -> int:
    """The upper bound of the response-time bucket ``ms`` falls in."""
    for bound in PartnerApiUsage.BUCKETS_MS:
        if ms <= bound:
            return bound
    return PartnerApiUsage.SLOWER_BUCKET_MS


def _partner_sums(raw: list) -> dict[tuple[date, uuid.UUID, int], list]:
    """Partner calls summed per (Dutch day, partner, bucket): [requests, errors, total ms]."""
    sums: dict[tuple[date, uuid.UUID, int], list] = defaultdict(lambda: [0, 0, 0.0])
    for item in raw:
        try:
            fields = json.loads(item)
            if len(fields) != 6:  # not a partner's call
                continue
            stamp, _, _, status, ms, partner_id = fields
            day = datetime.fromtimestamp(stamp, DISPLAY_ZONE).date()
            status, ms, partner = int(status), float(ms), uuid.UUID(partner_id)
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("unreadable partner usage record skipped: %s", exc)
            continue
        total = sums[(day, partner, latency_bucket(ms))]
        total[0] += 1
        total[1] += status >= 400
        total[2] += ms
    return sums


def _add_to_partner_rows(sums: dict[tuple[date, uuid.UUID, int], list]) -> None:
    """One upsert, like :func:`_add_to_daily_rows`; a partner deleted meanwhile is skipped."""
    now = utcnow()
    rows = [
        {
            "id": uuid.uuid4(),
            "created_at": now,
            "updated_at": now,
            "day": day,
            "partner_organization_id": partner_id,
            "bucket_ms": bucket,
            "request_count": requests,
            "error_count": errors,
            "total_duration_ms": round(total_ms, 2),
        }
        # In key order, so two flushes adding to the same rows lock them in the same order.
        for (day, partner_id, bucket), (requests, errors, total_ms) in sorted(sums.items())
    ]
    known = set(
        db.session.scalars(
            sa.select(Organization.id).where(
                Organization.id.in_({row["partner_organization_id"] for row in rows})
            )
        )
    )
    rows = [row for row in rows if row["partner_organization_id"] in known]
    if not rows:
        return
    _add_counts(
        PartnerApiUsage,
        rows,
        keys=("day", "partner_organization_id", "bucket_ms"),
        counts=("request_count", "error_count", "total_duration_ms"),
    )


def _add_to_daily_rows(sums: dict[tuple[date, str, str], list]) -> None:
    """One upsert: new (day, method, endpoint) rows inserted, existing ones added to."""
    now = utcnow()
    rows = [
        {
            "id": uuid.uuid4(),
            "created_at": now,
            "updated_at": now,
            "day": day,
            "method": method,
            "endpoint": endpoint,
            "request_count": requests,
            "success_count": succeeded,
            "total_duration_ms": round(total_ms, 2),
        }
        for (day, method, endpoint), (requests, succeeded, total_ms) in sums.items()
    ]
    _add_counts(
        ApiUsageLog,
        rows,
        keys=("day", "method", "endpoint"),
        counts=("request_count", "success_count", "total_duration_ms"),
    )


def _add_counts(model, rows: list[dict], *, keys: tuple[str, ...], counts: tuple[str, ...]) -> None:
    """Insert the rows; where one with the same ``keys`` exists, add to its ``counts``."""
    insert = upsert_insert(model, db.session.get_bind().dialect.name)
    table = model.__table__.c
    db.session.execute(
        insert.values(rows).on_conflict_do_update(
            index_elements=[table[key] for key in keys],
            set_={
                **{count: table[count] + insert.excluded[count] for count in counts},
                "updated_at": insert.excluded.updated_at,
            },
        )
    )


def _prune_once_an_hour(connection) -> None:
    slot = int(time.time() // 3600)
    if not connection.set(f"switchboard:api-usage-pruned:{slot}", "1", nx=True, ex=7200):
        return
    cutoff = (utcnow() - RETENTION).date()
    for model in (ApiUsageLog, PartnerApiUsage):
        expired = model.day < cutoff
        # Look before deleting: a read takes no write lock, and there is usually nothing.
        if db.session.scalar(sa.select(model.id).where(expired).limit(1)) is not None:
            db.session.execute(sa.delete(model).where(expired))
            commit()
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
    """Per endpoint over the last ``window`` of days (today included): requests,
    success rate, average response time."""
    since = ((now or utcnow()) - window + timedelta(days=1)).date()
    requests = sa.func.sum(ApiUsageLog.request_count)
    rows = db.session.execute(
        sa.select(
            ApiUsageLog.method,
            ApiUsageLog.endpoint,
            requests,
            sa.func.sum(ApiUsageLog.success_count),
            sa.func.sum(ApiUsageLog.total_duration_ms),
        )
        .where(ApiUsageLog.day >= since)
        .group_by(ApiUsageLog.method, ApiUsageLog.endpoint)
        .order_by(requests.desc(), ApiUsageLog.endpoint)
    ).all()
    return [
        EndpointUsage(method, endpoint, int(count), int(ok), round(float(total) / count, 1))
        for method, endpoint, count, ok, total in rows
        if count
    ]
