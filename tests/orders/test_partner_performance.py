"""Partner performance on a hand-computed fixture over two periods."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
import sqlalchemy as sa

from app.integrations import usage
from app.orders.partners.performance import partner_performance, period_of
from app.orders.partners.services import create_partner
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import ApiUsageLog, Order, OutboundDelivery, PartnerApiUsage
from app.platform.models.enums import DeliveryKind, OutboundState
from app.platform.ui import DISPLAY_ZONE
from tests.conftest import opened
from tests.support.helpers import reader_language
from tests.support.partner_support import make_partner

_numbers = count(1)
speak = pytest.fixture(reader_language, name="speak")


def _noon(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), DISPLAY_ZONE) + timedelta(hours=12)


def _order(partner, day: date, amount: str, *, review: bool = False) -> None:
    db.session.add(
        Order(
            order_number=f"CC-2026-9{next(_numbers):04d}",
            partner_organization_id=partner.id if partner else None,
            total_amount=Decimal(amount),
            needs_review=review,
            flagged_for_review=review,
            created_at=_noon(day),
        )
    )


def _usage(partner, day: date, bucket: int, requests: int, errors: int, total_ms: float) -> None:
    db.session.add(
        PartnerApiUsage(
            day=day,
            partner_organization_id=partner.id,
            bucket_ms=bucket,
            request_count=requests,
            error_count=errors,
            total_duration_ms=total_ms,
        )
    )


def _callback(integration, day: date, state: OutboundState) -> None:
    db.session.add(
        OutboundDelivery(
            kind=DeliveryKind.PARTNER_CALLBACK,
            partner_integration_id=integration.id,
            event_type="status_changed",
            webhook_id=f"msg_perf_{next(_numbers)}",
            target_url="https://partner.example/hook",
            payload={},
            state=state,
            created_at=_noon(day),
        )
    )


@pytest.fixture
def fixture(app):
    return build_fixture()


def build_fixture() -> dict:
    """Alfa has figures in both 7-day periods; Bèta has none; one order has no partner."""
    alfa = create_partner("Alfa Laadpalen")
    beta = create_partner("Bèta Energie")
    db.session.flush()
    period = period_of(7)
    first, before = period.first_day, period.previous_first_day
    today = period.last_day
    a = alfa.organization
    # Current period: 4 orders, 6000 in all, one needs review.
    _order(a, today, "1000.00", review=True)
    _order(a, today, "1500.00")
    _order(a, first, "2000.00")  # the period's first day counts
    _order(a, first + timedelta(days=3), "1500.00")
    # Previous period: 2 orders, 2400 in all, one needs review.
    _order(a, first - timedelta(days=1), "1000.00", review=True)
    _order(a, before, "1400.00")
    _order(a, before - timedelta(days=1), "9999.00", review=True)  # before both periods
    _order(None, today, "777.00")  # a direct order
    # API calls now: 20 calls, 2 errors, 1840 ms; 10 within 50 ms, 18 within 100 ms.
    _usage(a, today, 50, 10, 0, 400.0)
    _usage(a, first, 100, 8, 1, 640.0)
    _usage(a, today, 500, 2, 1, 800.0)
    # Before: 10 calls, 2 errors.
    _usage(a, first - timedelta(days=1), 100, 10, 2, 700.0)
    _usage(a, before - timedelta(days=1), 5000, 50, 50, 1.0)  # outside
    # Callbacks now: 3 delivered, 1 given up, 1 still retrying; before: 1 and 1.
    for state in (OutboundState.DELIVERED,) * 3 + (OutboundState.FAILED, OutboundState.PENDING):
        _callback(alfa.integration, today, state)
    _callback(alfa.integration, before, OutboundState.DELIVERED)
    _callback(alfa.integration, before + timedelta(days=2), OutboundState.FAILED)
    db.session.commit()
    return {"alfa": a, "beta": beta.organization, "period": period}


def test_each_figure_against_the_hand_computed_fixture(fixture):
    alfa, beta = partner_performance(7)
    assert (alfa.organization.name, beta.organization.name) == ("Alfa Laadpalen", "Bèta Energie")
    now, before = alfa.current, alfa.previous

    assert (now.orders, before.orders) == (4, 2)
    assert alfa.orders_trend.change == 100.0 and alfa.orders_trend.verdict == "good"
    assert (alfa.orders_per_day, alfa.orders_per_week, alfa.orders_per_month) == (0.57, 4.0, 17.1)

    assert (now.average_order_value, before.average_order_value) == (Decimal("1500.00"), 1200)
    assert alfa.order_value_trend.change == 25.0

    assert (now.review_share, before.review_share) == (25.0, 50.0)
    assert alfa.review_trend.change == -25.0 and alfa.review_trend.points
    assert alfa.review_trend.verdict == "good"  # fewer orders needing review

    assert (now.api_requests, now.api_errors, now.api_error_rate) == (20, 2, 10.0)
    assert now.api_average_ms == 92.0
    assert (now.api_p50_ms, now.api_p95_ms) == (50, 500)
    assert (before.api_requests, before.api_error_rate) == (10, 20.0)
    assert alfa.api_error_trend.change == -10.0 and alfa.api_error_trend.verdict == "good"

    assert (now.callbacks_delivered, now.callbacks_failed) == (3, 1)
    assert (now.callback_success_rate, before.callback_success_rate) == (75.0, 50.0)
    assert alfa.callback_trend.change == 25.0 and alfa.callback_trend.verdict == "good"

    assert beta.current.orders == 0 and beta.orders_trend.change is None
    assert beta.current.average_order_value is None
    assert beta.current.api_p95_ms is None and beta.current.callback_success_rate is None


def test_longer_period_takes_in_the_earlier_days(fixture):
    [alfa, _] = partner_performance(30)
    assert (alfa.current.orders, alfa.previous.orders) == (7, 0)
    assert alfa.current.average_order_value == Decimal("2628.43")  # 18399 / 7
    assert alfa.orders_trend.change is None  # nothing to compare with
    assert (alfa.current.api_requests, alfa.current.api_errors) == (80, 54)
    assert alfa.current.api_p95_ms == 5000


def test_one_query_per_figure_family(fixture, app):
    for extra in range(5):
        create_partner(f"Extra {extra}")
    db.session.commit()
    statements = []

    def count_statement(*_args):
        statements.append(1)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count_statement)
    try:
        rows = partner_performance(30)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count_statement)
    assert len(rows) == 7
    assert len(statements) == 4  # partners, orders, API usage, callbacks


def _admin(client, auth, make_user):
    user = make_user("admin")
    auth.login(user.email)


def test_page_shows_figures_in_dutch(fixture, client, auth, make_user, speak):
    _admin(client, auth, make_user)
    speak("nl")
    html = client.get("/partners/?days=7").get_data(as_text=True)
    assert 'data-testid="partner-performance"' in html
    assert "€\u00a01.500,00" in html  # Babel: a no-break space after the sign
    assert "25,0 %" in html  # review share and the order value trend
    assert "+100,0 %" in html
    assert "≤ 50 ms" in html and "≤ 500 ms" in html
    assert "75,0 %" in html
    assert "Prestaties" in html and "Orders" in html
    assert 'data-days="7"' in html and 'aria-current="true" data-days="7"' in html
    # The share of orders to review links to those orders on the desk.
    link = re.search(r'href="([^"]+)" data-testid="partner-review-link">Openen in Orders<', html)
    assert link and "/orders?" in link[1] and "tab=review" in link[1] and "partner=" in link[1]


def test_csv_export(fixture, client, auth, make_user):
    _admin(client, auth, make_user)
    response = client.get("/partners/performance.csv?days=7")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8"))))
    alfa = next(row for row in rows if row["partner"] == "Alfa Laadpalen")
    beta = next(row for row in rows if row["partner"] == "Bèta Energie")
    period = fixture["period"]
    assert alfa["period_days"] == "7"
    assert alfa["period_first_day"] == period.first_day.isoformat()
    expected = {
        "orders": "4",
        "orders_previous_period": "2",
        "orders_change_pct": "100.0",
        "orders_per_day": "0.57",
        "orders_per_week": "4.0",
        "orders_per_month": "17.1",
        "average_order_value_eur": "1500.00",
        "average_order_value_previous_eur": "1200.00",
        "orders_needing_review": "1",
        "review_share_pct": "25.0",
        "review_share_previous_pct": "50.0",
        "api_calls": "20",
        "api_errors": "2",
        "api_error_rate_pct": "10.0",
        "api_error_rate_previous_pct": "20.0",
        "api_average_ms": "92.0",
        "api_p50_ms": "50",
        "api_p95_ms": "500",
        "callbacks_delivered": "3",
        "callbacks_failed": "1",
        "callback_success_pct": "75.0",
        "callback_success_previous_pct": "50.0",
    }
    assert {key: alfa[key] for key in expected} == expected
    assert (beta["orders"], beta["orders_change_pct"], beta["average_order_value_eur"]) == (
        "0",
        "",
        "",
    )


def test_only_admins_see_the_figures(fixture, client, auth, make_user):
    user = make_user("manager")
    auth.login(user.email)
    assert client.get("/partners/performance.csv").status_code == 403


@pytest.fixture
def quiet_app(make_app):
    """No embedded worker: its periodic usage flush would empty the buffer mid-test."""
    with opened(make_app(start_embedded_worker=False)) as app:
        yield app


def test_partner_calls_are_buffered_then_counted_per_partner(quiet_app):
    client = quiet_app.test_client()
    partner = make_partner("Gamma")
    other = make_partner("Delta")
    path = f"/api/v1/partners/{partner.id}/orders/NOPE/status"
    answers = [client.get(path, headers=partner.headers).status_code for _ in range(2)]
    # The other partner's key on this partner's URL: a refusal counted for the key's owner.
    answers.append(client.get(path, headers=other.headers).status_code)
    answers.append(client.get(path).status_code)  # no key: nobody's call
    assert answers[2:] == [403, 401]

    # Nothing written on the request path: the records wait in Redis.
    assert db.session.scalar(sa.select(sa.func.count(PartnerApiUsage.id))) == 0
    assert usage.flush_usage() == 4
    rows = db.session.scalars(sa.select(PartnerApiUsage)).all()
    by_partner: dict[str, list[int]] = {}
    for row in rows:
        total = by_partner.setdefault(str(row.partner_organization_id), [0, 0])
        total[0] += row.request_count
        total[1] += row.error_count
        assert row.bucket_ms in PartnerApiUsage.BUCKETS_MS + (PartnerApiUsage.SLOWER_BUCKET_MS,)
        assert row.day == utcnow().astimezone(DISPLAY_ZONE).date()
    assert by_partner[partner.id][0] == 2
    assert by_partner[partner.id][1] == sum(code >= 400 for code in answers[:2])
    assert by_partner[other.id] == [1, 1]

    # A later flush adds to the same day's bucket rows.
    stamp = time.time()
    connection = quiet_app.extensions["broker"].connection
    record = [stamp, "GET", "/api/x", 200, 20.0, partner.id]
    connection.rpush(usage.BUFFER_KEY, json.dumps(record), json.dumps(record))
    assert usage.flush_usage() == 2
    fast = db.session.scalar(
        sa.select(PartnerApiUsage).where(
            PartnerApiUsage.partner_organization_id == partner.organization.id,
            PartnerApiUsage.bucket_ms == 25,
        )
    )
    db.session.refresh(fast)
    assert fast.request_count >= 2 and fast.error_count >= 0


def test_latency_buckets():
    assert usage.latency_bucket(0.4) == 25
    assert usage.latency_bucket(25) == 25
    assert usage.latency_bucket(25.01) == 50
    assert usage.latency_bucket(5000) == 5000
    assert usage.latency_bucket(5000.1) == PartnerApiUsage.SLOWER_BUCKET_MS


def test_the_open_ended_bucket_reads_as_more_than(app, client, auth, make_user, speak):
    slow = create_partner("Traag B.V.").organization
    today = period_of(7).last_day
    _usage(slow, today, PartnerApiUsage.SLOWER_BUCKET_MS, 3, 0, 21_000.0)
    db.session.commit()
    _admin(client, auth, make_user)
    speak("nl")
    html = client.get("/partners/?days=7").get_data(as_text=True)
    assert "> 5.000 ms / > 5.000 ms" in html  # the slowest bucket has no upper bound
    rows = list(csv.DictReader(io.StringIO(client.get("/partners/performance.csv").text)))
    assert (rows[0]["api_p50_ms"], rows[0]["api_p95_ms"], rows[0]["api_average_ms"]) == (
        "-1",
        "-1",
        "7000.0",
    )


def test_calls_of_a_partner_deleted_before_the_flush_are_dropped(quiet_app):
    connection = quiet_app.extensions["broker"].connection
    record = [time.time(), "GET", "/api/x", 200, 12.0, str(uuid.uuid4())]
    connection.rpush(usage.BUFFER_KEY, json.dumps(record))
    assert usage.flush_usage() == 1
    assert db.session.scalar(sa.select(sa.func.count(PartnerApiUsage.id))) == 0
    assert db.session.scalar(sa.select(sa.func.sum(ApiUsageLog.request_count))) == 1
