"""Errors reported, scrubbed; structured logs; a request id followed into its jobs.
Sentry is a fake speaking its envelope protocol."""

from __future__ import annotations

import json
import logging

import pytest
import sentry_sdk

from app.platform.extensions import csrf
from app.platform.jobs.queues import enqueue
from app.platform.logs import JobIdFilter, JsonFormatter, begin_request, current_request_id
from app.platform.security.access import declare, public
from tests.conftest import opened
from tests.fakes.sentry import FakeSentry
from tests.support.helpers import serving
from tests.support.jobs import drain_queues

SEEN_IN_JOBS: list[str | None] = []


def remember_the_request_id() -> None:
    """A job: notes the request id it runs under."""
    SEEN_IN_JOBS.append(current_request_id())


def test_a_request_names_itself_and_its_jobs(app, client):
    answer = client.get("/login", headers={"X-Request-ID": "partner-call-0001"})
    assert answer.headers["X-Request-ID"] == "partner-call-0001"
    forged = client.get("/login", headers={"X-Request-ID": "x] 2026 ERROR forged <line>"})
    assert forged.headers["X-Request-ID"] != "x] 2026 ERROR forged <line>"
    assert len(forged.headers["X-Request-ID"]) == 32

    SEEN_IN_JOBS.clear()
    with app.test_request_context("/"):
        begin_request("agent-click-0002")
        job = enqueue(f"{__name__}.remember_the_request_id")
    assert job.meta["request_id"] == "agent-click-0002"
    drain_queues(app)
    assert SEEN_IN_JOBS == ["agent-click-0002"]


def test_json_logs_carry_both_ids():
    record = logging.LogRecord(
        "app.conversations.workspace", logging.WARNING, __file__, 1, "reply %s", ("sent",), None
    )
    JobIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "reply sent"
    assert line["level"] == "WARNING" and line["logger"] == "app.conversations.workspace"
    assert {"request_id", "job_id", "time"} <= set(line)


@pytest.fixture
def sentry(make_app):
    fake = FakeSentry()
    yield from serving(fake)
    sentry_sdk.init()  # the reports go nowhere again for the other tests


def test_an_error_goes_to_sentry_without_the_customers_words_or_numbers(make_app, sentry):
    app = make_app(SENTRY_DSN=sentry.dsn)

    def fails():
        raise ValueError("Klant jan@example.nl (06-12345678) kreeg geen antwoord")

    csrf.exempt(fails)  # a form post from outside, as a provider's would be
    app.add_url_rule(
        "/boom", "boom", declare(public("a test's failing page"))(fails), methods=["POST"]
    )
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with opened(app):
        answer = app.test_client().post(
            "/boom",
            data={"content": "Mijn laadpaal is kapot", "phone": "+31612345678"},
            headers={"X-Request-ID": "boom-request-01"},
        )
        assert answer.status_code == 500
    sentry_sdk.flush(timeout=5)

    [event] = sentry.events()
    sent = json.dumps(event)
    assert "ValueError" in sent and "fails" in sent  # what a developer needs
    assert event["tags"]["request_id"] == "boom-request-01"
    # The form's words and numbers, and the contact details in the exception's text.
    for private in ("jan@example.nl", "06-12345678", "612345678", "Mijn laadpaal is kapot"):
        assert private not in sent, f"{private!r} left the machine"
    assert "[e-mail]" in sent and "[phone]" in sent
