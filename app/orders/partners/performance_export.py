"""Partner performance as CSV: for spreadsheets and reports.

A header row of machine names, one row per partner, UTF-8, numbers with a
decimal point and no thousands separator, dates as ISO 8601.
"""

from __future__ import annotations

import io

from app.orders.partners.performance import PartnerPerformance, Period
from app.platform.models import PartnerApiUsage
from app.platform.security.spreadsheets import csv_writer

CSV_COLUMNS = (
    "partner",
    "partner_id",
    "period_days",
    "period_first_day",
    "period_last_day",
    "orders",
    "orders_previous_period",
    "orders_change_pct",
    "orders_per_day",
    "orders_per_week",
    "orders_per_month",
    "average_order_value_eur",
    "average_order_value_previous_eur",
    "orders_needing_review",
    "review_share_pct",
    "review_share_previous_pct",
    "api_calls",
    "api_errors",
    "api_error_rate_pct",
    "api_error_rate_previous_pct",
    "api_average_ms",
    "api_p50_ms",
    "api_p95_ms",
    "callbacks_delivered",
    "callbacks_failed",
    "callback_success_pct",
    "callback_success_previous_pct",
)


def performance_csv(rows: list[PartnerPerformance], period: Period) -> str:
    """The figures as CSV text.

    An empty cell is a figure without a base (no orders, no calls); a p50/p95 in the
    slowest bucket is written as -1, since it has no upper bound.
    """
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        now, before = row.current, row.previous
        writer.writerow(
            _cells(
                row.organization.name,
                row.organization.id,
                period.days,
                period.first_day.isoformat(),
                period.last_day.isoformat(),
                now.orders,
                before.orders,
                row.orders_trend.change,
                row.orders_per_day,
                row.orders_per_week,
                row.orders_per_month,
                now.average_order_value,
                before.average_order_value,
                now.needing_review,
                now.review_share,
                before.review_share,
                now.api_requests,
                now.api_errors,
                now.api_error_rate,
                before.api_error_rate,
                now.api_average_ms,
                _bound(now.api_p50_ms),
                _bound(now.api_p95_ms),
                now.callbacks_delivered,
                now.callbacks_failed,
                now.callback_success_rate,
                before.callback_success_rate,
            )
        )
    return out.getvalue()


def _cells(*values) -> list:
    """Figures stay numbers (a -1 or a falling trend is not a formula); names are
    text, which the writer makes inert."""
    return ["" if value is None else value for value in values]


def _bound(ms: int | None) -> int | None:
    return -1 if ms == PartnerApiUsage.SLOWER_BUCKET_MS else ms
