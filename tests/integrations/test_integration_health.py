"""The integration health checks and API usage logs.

Providers answer from a local fake that speaks their error format; nothing
leaves the machine.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale

from app.integrations import health, usage
from app.platform.auth.services import create_user
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import ApiUsageLog, Integration, Notification, ProviderStatus
from tests.conftest import opened
from tests.fakes import FakeServer
from tests.integrations.test_provider_webhooks import make_integration, post_stripe, stripe_event
from tests.support.helpers import serving

WHATSAPP_TOKEN = "EAAG-secret-token"  # noqa: S105
SENDGRID_KEY = "SG.secret-key"  # noqa: S105
PDOK_OK = {"response": {"numFound": 1, "docs": [{"id": "adr-1"}]}}


@pytest.fixture
def provider():
    yield from serving(FakeServer("fake-providers"))


@pytest.fixture
def configured(make_app, provider):
    """An app whose WhatsApp, SendGrid and PDOK are 'real' and point at the fake."""
    app = make_app(
        start_embedded_worker=False,
        WHATSAPP_API_BASE=provider.url,
        WHATSAPP_ACCESS_TOKEN=WHATSAPP_TOKEN,
        WHATSAPP_PHONE_NUMBER_ID="106742025925718",
        SENDGRID_API_BASE=provider.url,
        SENDGRID_API_KEY=SENDGRID_KEY,
        MAIL_FROM="noreply@chargecars.nl",
        PDOK_API_BASE=provider.url + "/pdok",
    )
    with opened(app):
        yield app


def by_name(results) -> dict:
    return {r.name: r for r in results}


def answer_all_ok(provider):
    provider.answer_next(
        200, {"display_phone_number": "+31 6 1234 5678", "quality_rating": "GREEN"}
    )
    provider.answer_next(200, {"scopes": ["mail.send", "templates.read"]})
    provider.answer_next(200, PDOK_OK)


def test_sandbox_providers_are_reported_not_checked(make_app, provider):
    app = make_app(start_embedded_worker=False, PDOK_API_BASE=provider.url + "/pdok")
    with opened(app):
        provider.answer_next(200, PDOK_OK)
        results = by_name(health.run_health_checks())
        assert {n: r.state for n, r in results.items()} == {
            "whatsapp": "sandbox",
            "sendgrid": "sandbox",
            "teams": "sandbox",
            "make": "sandbox",
            "pdok": "ok",
        }
        assert [r.path for r in provider.requests] == ["/pdok/free"]
        statuses = db.session.scalars(sa.select(ProviderStatus.provider)).all()
        assert statuses == ["health:pdok"]
        assert [r.name for r in health.latest_results()] == list(results)


def test_real_providers_are_asked_cheaply(configured, provider):
    answer_all_ok(provider)
    results = by_name(health.run_health_checks())
    assert results["whatsapp"].state == "ok" and "GREEN" in results["whatsapp"].message
    assert results["sendgrid"].state == "ok"
    whatsapp, sendgrid, pdok = provider.requests
    assert (whatsapp.method, whatsapp.path) == ("GET", "/v18.0/106742025925718")
    assert whatsapp.headers["Authorization"] == f"Bearer {WHATSAPP_TOKEN}"
    assert (sendgrid.method, sendgrid.path) == ("GET", "/v3/scopes")
    assert pdok.args["rows"] == "1"


def user(role: str, n: int):
    made = create_user(f"{role}{n}@switchboard.test", f"{role} {n}", role, "pw-123456789")
    db.session.commit()
    return made


def test_failure_alerts_admins_once_per_streak(configured, provider):
    # Users made in this app (the make_user fixture would open the default one).
    admins = [user("admin", 1), user("admin", 2)]
    user("agent", 3)

    def run(whatsapp_status):
        if whatsapp_status == 200:
            provider.answer_next(200, {"display_phone_number": "+31", "quality_rating": "GREEN"})
        else:
            provider.answer_next(
                401, {"error": {"message": "Error validating access token", "code": 190}}
            )
        provider.answer_next(200, {"scopes": ["mail.send"]})
        provider.answer_next(200, PDOK_OK)
        return by_name(health.run_health_checks())["whatsapp"]

    for _ in range(3):  # three runs, one streak
        result = run(401)
    assert result.state == "failed"
    assert "Error validating access token" in result.message
    notes = db.session.scalars(sa.select(Notification)).all()
    assert sorted(n.user_id for n in notes) == sorted(a.id for a in admins)
    assert notes[0].title == "WhatsApp health check failed"
    assert WHATSAPP_TOKEN not in (notes[0].message or "")
    status = db.session.scalar(
        sa.select(ProviderStatus).where(ProviderStatus.provider == "health:whatsapp")
    )
    assert status.consecutive_failures == 3

    run(200)  # recovered: the streak ends
    db.session.refresh(status)
    assert status.consecutive_failures == 0
    run(401)  # a new streak: a new alert
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 4


def test_teams_and_make_are_judged_without_posting(make_app, provider):
    app = make_app(
        start_embedded_worker=False,
        TEAMS_WEBHOOK_URLS={"operations": provider.url + "/teams"},
        MAKE_WEBHOOK_URLS={"order-created": provider.url + "/make"},
        PDOK_API_BASE=provider.url + "/pdok",
    )
    with opened(app):
        provider.answer_next(200, PDOK_OK)
        results = by_name(health.run_health_checks())
        assert results["teams"].state == "ok"
        assert results["make"].state == "ok"
        db.session.add(
            ProviderStatus(
                provider="teams",
                consecutive_failures=2,
                unhealthy=False,
                last_error_message="operations: HTTP 404",
            )
        )
        db.session.commit()
        provider.answer_next(200, PDOK_OK)
        results = by_name(health.run_health_checks())
        assert results["teams"].state == "failed"
        assert "HTTP 404" in results["teams"].message
        assert [r.path for r in provider.requests] == ["/pdok/free", "/pdok/free"]


def test_each_active_integration_is_tested_through_its_connector(configured, provider, monkeypatch):
    good = make_integration("stripe", {"api_key": "sk_test_1"})
    bad = make_integration("hubspot", {"access_token": "expired"})
    make_integration("quickbooks", {}, status="inactive")
    outcomes = {good.id: (True, "Stripe answered."), bad.id: (False, "HTTP 401: expired token")}

    class Stub:
        def __init__(self, integration):
            self.integration = integration

        def test_connection(self):
            return outcomes[self.integration.id]

    monkeypatch.setattr(health, "connector_for", Stub)
    answer_all_ok(provider)
    results = by_name(health.run_health_checks())
    assert results[f"stripe:{good.id.hex[:8]}"].state == "ok"
    failed = results[f"hubspot:{bad.id.hex[:8]}"]
    assert (failed.state, failed.message) == ("failed", "HTTP 401: expired token")
    assert not any(name.startswith("quickbooks") for name in results)


def test_the_scheduled_job_lets_a_fresh_system_settle(configured, provider):
    assert health.scheduled_health_checks() == []
    assert health.scheduled_health_checks() == []  # still inside the first interval
    assert provider.requests == []


# --- usage logs ------------------------------------------------------------------------


@pytest.fixture
def quiet_app(make_app):
    """No embedded worker: its periodic usage flush would empty the buffer mid-test."""
    with opened(make_app(start_embedded_worker=False)) as app:
        yield app


def test_usage_is_buffered_then_flushed_per_endpoint(quiet_app):
    client = quiet_app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/openapi.json").status_code == 200
    for _ in range(2):
        assert post_stripe(client, stripe_event()).status_code == 404  # no integration yet
    make_integration("stripe", {"webhook_secret": "whsec_usage"})
    assert post_stripe(client, stripe_event(), secret="whsec_usage").status_code == 200  # noqa: S106
    assert client.get("/inbox").status_code in (200, 302)  # not an API call: not logged

    # Nothing written on the request path: the records wait in Redis.
    assert db.session.scalar(sa.select(sa.func.count(ApiUsageLog.id))) == 0
    assert usage.flush_usage() == 6
    rows = {f"{r.method} {r.endpoint}": r for r in db.session.scalars(sa.select(ApiUsageLog))}
    assert set(rows) == {  # a row a day per endpoint, not a row per call
        "GET /api/v1/openapi.json",
        "POST /api/v1/webhooks/<provider>",
        "POST /api/v1/webhooks/stripe",
    }
    docs_row = rows["GET /api/v1/openapi.json"]
    assert (docs_row.day, docs_row.request_count, docs_row.success_count) == (
        utcnow().date(),
        3,
        3,
    )
    assert docs_row.total_duration_ms > 0
    summary = {f"{u.method} {u.endpoint}": u for u in usage.usage_summary()}
    assert set(summary) == set(rows)
    docs = summary["GET /api/v1/openapi.json"]
    assert (docs.requests, docs.success_rate) == (3, 100.0)
    assert docs.avg_ms == pytest.approx(docs_row.total_duration_ms / 3, abs=0.1)
    refused = summary["POST /api/v1/webhooks/<provider>"]
    assert (refused.requests, refused.success_rate) == (2, 0.0)
    assert usage.flush_usage() == 0

    # The next flush adds to the day's row.
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert usage.flush_usage() == 1
    db.session.refresh(docs_row)
    assert (docs_row.request_count, docs_row.success_count) == (4, 4)
    assert db.session.scalar(sa.select(sa.func.count(ApiUsageLog.id))) == 3


def test_usage_figures_and_panel(app):
    today = utcnow().date()
    for day, requests, succeeded, total_ms in (
        (today, 2, 1, 300.0),
        (today - timedelta(days=6), 1, 1, 300.0),  # the window's first day
    ):
        db.session.add(
            ApiUsageLog(
                day=day,
                method="POST",
                endpoint="/api/v1/external/send-whatsapp",
                request_count=requests,
                success_count=succeeded,
                total_duration_ms=total_ms,
            )
        )
    db.session.add(
        ApiUsageLog(
            day=today - timedelta(days=7),  # outside the window
            method="GET",
            endpoint="/api/v1/openapi.json",
            request_count=5,
            success_count=5,
            total_duration_ms=25.0,
        )
    )
    db.session.commit()
    [row] = usage.usage_summary()
    assert (row.requests, row.success_rate, row.avg_ms) == (3, 66.7, 200.0)
    sandbox = health.check_whatsapp({})[1]
    results = [
        health.CheckResult("pdok", "PDOK", "ok", "1 address", "now"),  # kept by an earlier release
        health.CheckResult(
            "whatsapp", "WhatsApp", "sandbox", sandbox.english(), "now", [sandbox.to_json()]
        ),
    ]
    pages = {}
    for language in ("nl", "en"):
        with app.test_request_context("/integrations"), force_locale(language):
            pages[language] = render_template(
                "integrations/_usage.html", usage=[row], health=results
            )
    assert "POST /api/v1/external/send-whatsapp" in pages["nl"]
    # In the reader's number format, as every other percentage.
    assert "66,7 %" in pages["nl"] and "66.7 %" in pages["en"] and "200 ms" in pages["nl"]
    assert 'data-check="pdok"' in pages["nl"] and "1 address" in pages["nl"]
    assert "geen toegangstoken of telefoonnummer-ID" in pages["nl"]
    assert "no access token or phone number ID" in pages["en"]


def test_a_redis_outage_costs_the_record_not_the_request(app, client, monkeypatch):
    import redis

    class Broken:
        def pipeline(self, **_):
            raise redis.ConnectionError("down")

    broker = app.extensions["broker"]
    monkeypatch.setattr(broker, "connection", Broken())
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_unreadable_records_are_skipped(app):
    connection = app.extensions["broker"].connection
    connection.rpush(usage.BUFFER_KEY, "not json")
    connection.rpush(usage.BUFFER_KEY, json.dumps([time.time(), "GET", "/api/x", 200, 1.5]))
    # A record in the per-request layout of earlier releases, still in Redis at upgrade.
    earlier = [time.time(), "GET", "/api/x", "/api/x", 500, 2.5, None, "127.0.0.1"]
    connection.rpush(usage.BUFFER_KEY, json.dumps(earlier))
    assert usage.flush_usage() == 3
    [row] = db.session.scalars(sa.select(ApiUsageLog)).all()
    assert (row.request_count, row.success_count, row.total_duration_ms) == (2, 1, 4.0)


def test_integration_model_untouched_by_checks(configured, provider):
    integration = make_integration("stripe", {"api_key": "sk"}, status="inactive")
    answer_all_ok(provider)
    health.run_health_checks()
    db.session.refresh(integration)
    assert isinstance(integration, Integration) and integration.status == "inactive"
