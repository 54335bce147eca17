"""Prometheus metrics at ``/metrics`` (docs/operations.md names each).

Two kinds:

- what happens, counted where it happens: request latency per endpoint, delivery
  attempts by outcome, connected sockets. Under gunicorn and ``worker.py`` every
  process writes its figures to ``PROMETHEUS_MULTIPROC_DIR`` (set it, the same
  directory for all processes of a machine, emptied at start) and ``/metrics``
  adds them up; without it the one process's figures are served;
- how things stand, read when scraped, from PostgreSQL and Redis: inbound events
  waiting and the oldest one's age, queue depths, failed jobs, deliveries not
  done, disabled endpoints, conversations past their SLA warnings, Graph
  subscriptions near expiry. A scrape is a few indexed queries.

Only a scraper may read them: a request with ``Authorization: Bearer
<METRICS_TOKEN>``, or one from ``METRICS_ALLOWED_NETWORKS`` (loopback unless set).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from app.platform.database import utcnow
from app.platform.extensions import db

log = logging.getLogger(__name__)

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
# Graph subscriptions live three days at most; renewal runs well before this.
SUBSCRIPTION_WARNING = timedelta(hours=24)
# The SLA ladder's steps (app.conversations.sla): 75 % warning, 90 % team lead, breached, 24 h
# overdue.
SLA_STEPS = (1, 2, 3, 4)

REQUEST_SECONDS = Histogram(
    "switchboard_http_request_duration_seconds",
    "Time to answer a request, per endpoint (the Flask endpoint name) and method.",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
RESPONSES = Counter(
    "switchboard_http_responses_total",
    "Answers given, per endpoint and status class (2xx, 4xx, 5xx).",
    ["endpoint", "status"],
)
DELIVERY_ATTEMPTS = Counter(
    "switchboard_delivery_attempts_total",
    "Outgoing callback and webhook attempts, by outcome (delivered, retrying, failed, disabled).",
    ["outcome"],
)
# Shown at 0 before the first attempt, so an alert on a rate has a series to read.
for _outcome in ("delivered", "retrying", "failed", "disabled"):
    DELIVERY_ATTEMPTS.labels(_outcome)
SOCKETS = Gauge(
    "switchboard_sockets_connected",
    "Socket.IO connections open on the web processes.",
    multiprocess_mode="livesum",
)


def record_delivery(outcome: str, count: int = 1) -> None:
    """One or more delivery attempts ended this way (app.orders.deliveries)."""
    DELIVERY_ATTEMPTS.labels(outcome).inc(count)


def _started() -> None:
    g.metrics_started = time.perf_counter()


def _finished(response):
    started = g.pop("metrics_started", None)
    if started is not None:
        endpoint = request.endpoint or "unmatched"
        REQUEST_SECONDS.labels(endpoint, request.method).observe(time.perf_counter() - started)
        RESPONSES.labels(endpoint, f"{response.status_code // 100}xx").inc()
    return response


class DeploymentState:
    """The figures read at scrape time (see the module notes)."""

    def collect(self):
        from app.platform.models import (
            CommunicationThread,
            InboundWebhookEvent,
            OutboundDelivery,
            OutlookMailbox,
            PartnerIntegration,
            SlaAlert,
            WebhookEndpoint,
        )
        from app.platform.models.enums import (
            DeliveryKind,
            OutboundState,
            ProcessingState,
            ThreadStatus,
        )

        now = utcnow()
        pending, oldest = db.session.execute(
            sa.select(sa.func.count(), sa.func.min(InboundWebhookEvent.created_at)).where(
                InboundWebhookEvent.processing_state.in_(
                    (ProcessingState.RECEIVED, ProcessingState.PROCESSING)
                )
            )
        ).one()
        yield _gauge(
            "switchboard_inbound_events_pending", "Inbound events not processed yet.", pending
        )
        yield _gauge(
            "switchboard_inbound_event_oldest_pending_age_seconds",
            "Age of the oldest inbound event not processed yet (0: none waiting).",
            (now - oldest).total_seconds() if oldest else 0,
        )

        backlog = GaugeMetricFamily(
            "switchboard_deliveries",
            "Outgoing deliveries not done, by kind and state (failed: gave up).",
            labels=["kind", "state"],
        )
        open_states = (OutboundState.PENDING, OutboundState.IN_PROGRESS, OutboundState.FAILED)
        counts = {(kind, state): 0 for kind in DeliveryKind for state in open_states}
        for kind, state, count in db.session.execute(
            sa.select(OutboundDelivery.kind, OutboundDelivery.state, sa.func.count())
            .where(OutboundDelivery.state.in_(open_states))
            .group_by(OutboundDelivery.kind, OutboundDelivery.state)
        ):
            counts[(kind, state)] = count
        for (kind, state), count in counts.items():
            backlog.add_metric([kind.value, state.value], count)
        yield backlog

        disabled = GaugeMetricFamily(
            "switchboard_endpoints_disabled",
            "Callback endpoints switched off after failing (partner: a partner's webhook).",
            labels=["kind"],
        )
        disabled.add_metric(
            ["partner"],
            db.session.scalar(
                sa.select(sa.func.count()).where(
                    PartnerIntegration.webhook_disabled_at.is_not(None)
                )
            ),
        )
        disabled.add_metric(
            ["webhook_endpoint"],
            db.session.scalar(
                sa.select(sa.func.count()).where(WebhookEndpoint.disabled_at.is_not(None))
            ),
        )
        yield disabled

        stages = GaugeMetricFamily(
            "switchboard_sla_conversations",
            "Open conversations by SLA ladder step reached "
            "(1: 75 % warning, 2: 90 % team lead, 3: breached, 4: 24 h overdue).",
            labels=["step"],
        )
        reached = dict.fromkeys(SLA_STEPS, 0)
        reached.update(
            db.session.execute(
                sa.select(CommunicationThread.sla_stage, sa.func.count())
                .where(
                    CommunicationThread.sla_stage > 0,
                    CommunicationThread.status.not_in((ThreadStatus.RESOLVED, ThreadStatus.CLOSED)),
                )
                .group_by(CommunicationThread.sla_stage)
            ).all()
        )
        for stage, count in reached.items():
            stages.add_metric([str(stage)], count)
        yield stages
        alerts = GaugeMetricFamily(
            "switchboard_sla_alerts_last_hour",
            "SLA warnings and breaches sent in the last hour, by ladder step.",
            labels=["step"],
        )
        sent = dict.fromkeys(SLA_STEPS, 0)
        sent.update(
            db.session.execute(
                sa.select(SlaAlert.step, sa.func.count())
                .where(SlaAlert.created_at > now - timedelta(hours=1))
                .group_by(SlaAlert.step)
            ).all()
        )
        for step, count in sent.items():
            alerts.add_metric([str(step)], count)
        yield alerts

        expiring = 0
        for subscriptions in db.session.scalars(
            sa.select(OutlookMailbox.subscriptions).where(OutlookMailbox.is_active.is_(True))
        ):
            for subscription in (subscriptions or {}).values():
                expires = _moment((subscription or {}).get("expires_at"))
                if expires is None or expires - now < SUBSCRIPTION_WARNING:
                    expiring += 1
        yield _gauge(
            "switchboard_graph_subscriptions_expiring",
            "Microsoft Graph mail subscriptions ending within 24 hours (or without an end).",
            expiring,
        )
        db.session.rollback()

        depth = GaugeMetricFamily(
            "switchboard_queue_depth", "Jobs waiting in each RQ queue.", labels=["queue"]
        )
        failed = GaugeMetricFamily(
            "switchboard_jobs_failed",
            "Jobs in each queue's failed registry (kept for inspection and requeue).",
            labels=["queue"],
        )
        from app.platform.jobs.queues import QUEUE_NAMES

        broker = current_app.extensions["broker"]
        for name in QUEUE_NAMES:
            queue = broker.queue(name)
            depth.add_metric([name], queue.count)
            failed.add_metric([name], queue.failed_job_registry.count)
        yield depth
        yield failed


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _moment(text):
    from datetime import datetime

    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def exposition() -> bytes:
    """The metrics in Prometheus's text format: every process's, then the state."""
    if os.environ.get(MULTIPROCESS_DIR):
        happened = CollectorRegistry()
        multiprocess.MultiProcessCollector(happened)
    else:
        happened = REGISTRY
    state = CollectorRegistry(auto_describe=False)
    state.register(DeploymentState())
    return generate_latest(happened) + generate_latest(state)


def may_scrape() -> bool:
    """A bearer ``METRICS_TOKEN``, or an address in ``METRICS_ALLOWED_NETWORKS``."""
    token = current_app.config.get("METRICS_TOKEN")
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and given and hmac.compare_digest(given.encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in _networks())


def _networks():
    text = current_app.config.get("METRICS_ALLOWED_NETWORKS") or "127.0.0.0/8,::1/128"
    for part in text.split(","):
        if part.strip():
            yield ipaddress.ip_network(part.strip(), strict=False)


def metrics():
    if not may_scrape():
        abort(404)  # nothing to see for anyone else, not even that it exists
    return Response(exposition(), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    from app.platform.security.access import declare, signed

    app.before_request(_started)
    app.after_request(_finished)
    view = declare(signed("a scraper: METRICS_TOKEN or METRICS_ALLOWED_NETWORKS"))(metrics)
    app.add_url_rule("/metrics", "metrics", view)
