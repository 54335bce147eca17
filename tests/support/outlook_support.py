"""Shared by the Outlook tests: an app wired to the fake Graph, and small steps.

``graph_fake``, ``outlook_app`` and ``jans_mail_for_anouk`` are fixture bodies (their
parameters are fixture names); a test module binds them under the names its tests
ask for, as in ``graph = pytest.fixture(graph_fake, name="graph")``.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import request as flask_request

from app.conversations.channels.outlook.state import outlook_channel
from app.conversations.channels.outlook.subscriptions import renew_subscriptions
from app.conversations.signatures.services import save_mailbox_signature
from app.platform.extensions import db
from app.platform.features import collect
from app.platform.jobs import broker as broker_module
from app.platform.jobs.periodic import enqueue_due_periodic_jobs
from app.platform.models import CommunicationMessage, InboundWebhookEvent
from app.platform.models.enums import ProcessingState
from tests.conftest import opened
from tests.fakes.graph import GraphFake
from tests.support.jobs import drain_queues

MAILBOX = "klantenservice@chargecars.nl"
CUSTOMER = "jan@example.nl"
WEBHOOK = "/api/v1/webhooks/outlook"
PUBLIC_BASE_URL = "https://switchboard.chargecars.nl"
AGENT_SIGNATURE = "Anouk de Vries\nKlantenservice"
MAILBOX_SIGNATURE = "ChargeCars · 020 123 4567"


class GraphForProcesses(GraphFake):
    """The fake Graph accepting every token it issued (the test and each worker hold one)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        gates = self.app.before_request_funcs[None]
        index = next(i for i, f in enumerate(gates) if f.__name__ == "_graph_gate")
        newest_only = gates[index]

        def any_issued_token():
            given = flask_request.headers.get("Authorization", "").removeprefix("Bearer ")
            if given in self.tokens_issued:
                flask_request.environ["HTTP_AUTHORIZATION"] = f"Bearer {self.tokens_issued[-1]}"
            return newest_only()

        gates[index] = any_issued_token


def graph_fake(monkeypatch):
    """Yield a running fake Graph that the app's HTTPS clients trust."""
    fake = GraphFake(mailbox=MAILBOX).start()
    # MSAL and the Graph client both verify TLS through requests' CA bundle.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle)
    yield fake
    fake.stop()


def keep_outlook_jobs_off_the_clock(monkeypatch) -> None:
    """Leave the subscription, delta and calendar jobs off the embedded worker's schedule.

    Its clock would start them at any moment; the tests run them themselves.
    """
    unscheduled = tuple(
        job
        for job in collect().periodic_jobs
        if ".outlook." not in job.func_path and ".calendar_sync." not in job.func_path
    )
    monkeypatch.setattr(
        broker_module,
        "enqueue_due_periodic_jobs",
        lambda broker: enqueue_due_periodic_jobs(broker, jobs=unscheduled),
    )


def outlook_app(make_app, graph: GraphFake, monkeypatch, **overrides):
    """Yield an app configured for Graph against ``graph`` (as conftest's ``app`` does),
    the Outlook jobs off the clock; ``overrides`` are further settings."""
    keep_outlook_jobs_off_the_clock(monkeypatch)
    app = make_app(**graph.app_config(), PUBLIC_BASE_URL=PUBLIC_BASE_URL, **overrides)
    with opened(app) as app:
        yield app


def subscribe(client, graph: GraphFake) -> dict:
    """Create the subscription, Graph checking our webhook with a validationToken."""

    def validate(url):
        # Graph calls the notificationUrl; here it reaches the app's test client.
        parts = urlsplit(url)
        response = client.post(f"{parts.path}?{parts.query}", content_type="text/plain")
        return response.status_code, response.mimetype, response.get_data(as_text=True)

    graph.validator = validate
    # Inbox and Sent Items of every active mailbox.
    assert renew_subscriptions() >= 2
    return graph.active_subscription()


def notify(client, payload):
    return client.post(WEBHOOK, data=json.dumps(payload), content_type="application/json")


def settle(app, done, timeout: float = 10.0):
    """Run queued jobs until ``done()`` holds (a job may queue another as it ends)."""
    deadline = time.monotonic() + timeout
    while True:
        drain_queues(app)
        db.session.expire_all()
        result = done()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def events_processed() -> bool:
    states = db.session.scalars(sa.select(InboundWebhookEvent.processing_state)).all()
    return all(state == ProcessingState.PROCESSED for state in states)


def stored(graph_message_id: str) -> CommunicationMessage | None:
    return db.session.scalar(
        sa.select(CommunicationMessage).where(
            CommunicationMessage.external_message_id == graph_message_id
        )
    )


def deliver(app, client, graph: GraphFake, graph_message_id: str) -> CommunicationMessage | None:
    """Notify a message Graph holds and run the processing; the stored message."""
    assert notify(client, graph.notification(graph_message_id)).status_code == 202
    assert settle(app, events_processed)
    return stored(graph_message_id)


def jans_mail_for_anouk(app, client, auth, make_user, graph: GraphFake):
    """Jan's mail (Reply-To his work address, CC Piet and our own mailbox), through the
    webhook; its thread, open to Anouk, signed in. Both she and the mailbox sign."""
    subscribe(client, graph)
    make_user("agent", email="anouk@switchboard.test", email_signature=AGENT_SIGNATURE)
    auth.login("anouk@switchboard.test")
    graph.add_message(
        "AAMkAD-jan",
        sender=CUSTOMER,
        name="Jan Jansen",
        subject="Offerte laadpaal",
        html="<p>Kunnen jullie de offerte opnieuw sturen?</p>",
        cc=("piet@example.nl", MAILBOX),
        reply_to=("jan.werk@example.nl",),
    )
    thread = deliver(app, client, graph, "AAMkAD-jan").thread
    save_mailbox_signature(outlook_channel(), MAILBOX_SIGNATURE)
    db.session.commit()
    return thread


def aware(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
