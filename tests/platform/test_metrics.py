"""``/metrics`` for an authorised scraper only, in Prometheus's text format.

The state figures are checked against rows made for them; the request histogram
against requests made. Across processes (gunicorn and workers writing to one
``PROMETHEUS_MULTIPROC_DIR``) it is tests/platform/test_make_up.py that reads them.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.jobs.queues import enqueue
from app.platform.models import InboundWebhookEvent, WebhookEndpoint
from app.platform.models.enums import ChannelType, ProcessingState
from tests.support import factories
from tests.support.helpers import customer_writes

TOKEN = "scraper-token-for-the-test"  # noqa: S105

NAMES = (
    "switchboard_http_request_duration_seconds",
    "switchboard_http_responses",
    "switchboard_inbound_events_pending",
    "switchboard_inbound_event_oldest_pending_age_seconds",
    "switchboard_queue_depth",
    "switchboard_jobs_failed",
    "switchboard_delivery_attempts",
    "switchboard_deliveries",
    "switchboard_endpoints_disabled",
    "switchboard_sla_conversations",
    "switchboard_sla_alerts_last_hour",
    "switchboard_sockets_connected",
    "switchboard_graph_subscriptions_expiring",
)


@pytest.fixture
def scraped(app, client):
    app.config["METRICS_TOKEN"] = TOKEN

    def scrape() -> dict:
        answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 200
        assert answer.mimetype == "text/plain"
        samples = {}
        for family in text_string_to_metric_families(answer.get_data(as_text=True)):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return samples

    return scrape


def test_no_one_else_learns_the_metrics_exist(app, client):
    app.config["METRICS_TOKEN"] = TOKEN
    assert client.get("/metrics").status_code == 404
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 404


def test_a_scraper_on_an_allowed_network_needs_no_token(app, client):
    app.config["METRICS_ALLOWED_NETWORKS"] = "10.0.0.0/8, 127.0.0.0/8"
    assert client.get("/metrics").status_code == 200


def test_every_metric_is_there_and_says_how_things_stand(app, client, scraped):
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    jan = factories.contact(display_name="Jan Jansen", phone="+31612345678")
    db.session.commit()
    thread = customer_writes(whatsapp, jan, "wamid.m1", "Hallo").thread
    thread.sla_stage = 3  # breached
    db.session.add(
        InboundWebhookEvent(
            source="whatsapp",
            dedupe_key="m-1",
            raw_body=b"{}",
            processing_state=ProcessingState.RECEIVED,
            created_at=utcnow() - timedelta(seconds=90),
        )
    )
    db.session.add(
        WebhookEndpoint(
            url="https://example.nl/hook", events=["*"], is_active=False, disabled_at=utcnow()
        )
    )
    db.session.commit()
    enqueue("app.conversations.notifications.jobs.send_test_notification", "nobody")
    client.get("/login")

    samples = scraped()

    names = {name for name, _ in samples}
    for name in NAMES:
        assert any(n == name or n.startswith(name + "_") for n in names), f"{name} missing"
    assert samples[("switchboard_inbound_events_pending", ())] == 1
    assert samples[("switchboard_inbound_event_oldest_pending_age_seconds", ())] >= 90
    assert samples[("switchboard_sla_conversations", (("step", "3"),))] == 1
    assert samples[("switchboard_endpoints_disabled", (("kind", "webhook_endpoint"),))] == 1
    assert samples[("switchboard_queue_depth", (("queue", "default"),))] >= 1
    login = (("endpoint", "auth.login"), ("method", "GET"))
    assert samples[("switchboard_http_request_duration_seconds_count", login)] >= 1
