"""Migrations that move data, run on whichever database the suite uses."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app.extensions import db
from app.models import ApiUsageLog


def test_0007_sums_the_per_request_usage_log_into_daily_rows(app):
    downgrade(revision="0006")
    try:
        insert = sa.text(
            "INSERT INTO api_usage_logs (id, created_at, updated_at, method, endpoint, path, "
            "status_code, duration_ms) VALUES (:id, :at, :at, :method, :endpoint, :endpoint, "
            ":status, :ms)"
        ).bindparams(
            sa.bindparam("id", type_=sa.Uuid()),
            sa.bindparam("at", type_=sa.DateTime(timezone=True)),
        )
        for at, method, endpoint, status, ms in (
            (datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc), "POST", "/api/v1/a", 200, 10.0),
            (datetime(2026, 11, 20, 23, 59, tzinfo=timezone.utc), "POST", "/api/v1/a", 500, 30.0),
            (datetime(2026, 11, 21, 0, 1, tzinfo=timezone.utc), "POST", "/api/v1/a", 201, 5.0),
            (datetime(2026, 11, 21, 8, 0, tzinfo=timezone.utc), "GET", "/api/v1/a", 200, 1.0),
        ):
            db.session.execute(
                insert,
                {
                    "id": uuid.uuid4(),
                    "at": at,
                    "method": method,
                    "endpoint": endpoint,
                    "status": status,
                    "ms": ms,
                },
            )
        db.session.commit()
    finally:
        upgrade()

    rows = db.session.scalars(
        sa.select(ApiUsageLog).order_by(ApiUsageLog.day, ApiUsageLog.method)
    ).all()
    assert [
        (str(r.day), r.method, r.request_count, r.success_count, r.total_duration_ms) for r in rows
    ] == [
        ("2026-11-20", "POST", 2, 1, 40.0),
        ("2026-11-21", "GET", 1, 1, 1.0),
        ("2026-11-21", "POST", 1, 1, 5.0),
    ]
