"""``make up``: the real topology in one command.

Runs the command itself, as an operator does on a fresh clone with PostgreSQL
and Redis running: the ``Procfile``'s web process (gunicorn), two workers and the
clock, under honcho. A customer's WhatsApp message posted to the webhook reaches
the inbox (the agent's API lists its conversation), processed by one of the two
workers, and every process stops with ``make up``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess

import pytest
import requests
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from app.platform.auth.services import create_user
from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models import CommunicationMessage
from app.platform.models.enums import ChannelType, TokenKind
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL
from tests.fakes import whatsapp as wa
from tests.support import factories
from tests.support.topology import ROOT, free_port, wait_until
from tests.support.whatsapp_support import fake_whatsapp_server, whatsapp_settings

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="make up needs PostgreSQL and Redis (TEST_DATABASE_URL, TEST_REDIS_URL)",
)

fake_whatsapp = pytest.fixture(fake_whatsapp_server, name="fake_whatsapp")
CUSTOMER = "31687654321"
METRICS_TOKEN = "scraper-token-for-the-test"  # noqa: S105


@pytest.fixture
def make_up(app, fake_whatsapp, tmp_path):
    """``make up`` started in its own process group; its output; stopped after."""
    factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    db.session.commit()
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TEST_", "PYTEST_", "MAKE", "MFLAGS"))
    }
    env.update(
        {
            "DATABASE_URL": TEST_DATABASE_URL,
            "REDIS_URL": TEST_REDIS_URL,
            "PORT": str(port),
            "UP_ENV": str(tmp_path / "up.env"),
            "SWITCHBOARD_INSTANCE_PATH": str(tmp_path / "instance"),
            "ATTACHMENTS_DIR": str(tmp_path / "attachments"),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "PYTHONUNBUFFERED": "1",
            "METRICS_TOKEN": METRICS_TOKEN,
            "METRICS_DIR": str(tmp_path / "metrics"),
            **whatsapp_settings(fake_whatsapp),
        }
    )
    output = tmp_path / "make-up.log"
    with output.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603
            ["make", "up"],  # noqa: S607
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield f"http://127.0.0.1:{port}", output
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        print(output.read_text(errors="replace")[-4000:])


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=5).status_code == 200
    except requests.RequestException:  # not listening yet, or still loading the app
        return False


def test_make_up_serves_the_app_with_two_workers_and_the_clock(app, make_up):
    url, output = make_up
    wait_until(lambda: _answers(url), 90, "make up answering /healthz")
    for process, says in (
        ("worker.1", "listening on"),
        ("worker.2", "listening on"),
        ("clock.1", "keeping the clock"),
    ):
        line = re.compile(rf"{re.escape(process)}\s+\|.*{says}")
        wait_until(
            lambda line=line: line.search(output.read_text(errors="replace")),
            60,
            f"{process} saying '{says}'",
        )

    payload = wa.webhook(
        contacts=[wa.contact(CUSTOMER, "Jan")],
        messages=[wa.text_message(CUSTOMER, "Mijn laadpaal doet het niet", "wamid.up1", 1)],
    )
    raw, headers = wa.signed(payload)
    posted = requests.post(f"{url}/api/v1/webhooks/whatsapp", data=raw, headers=headers, timeout=10)
    assert posted.status_code == 200, posted.text

    def stored():
        db.session.rollback()
        return db.session.scalar(
            sa.select(CommunicationMessage).where(
                CommunicationMessage.external_message_id == "wamid.up1"
            )
        )

    message = wait_until(stored, 60, "the message stored by a worker")
    agent = create_user("agent@switchboard.test", "Agent", "manager", "password-for-the-test")
    _, token = issue_token(TokenKind.PERSONAL, "desk", user_id=agent.id)
    db.session.commit()
    inbox = requests.get(
        f"{url}/api/communication/threads",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert inbox.status_code == 200, inbox.text
    assert str(message.thread_id) in inbox.text

    # The processes' figures, added up from the metrics directory make up gives them.
    scraped = requests.get(
        f"{url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10
    )
    assert scraped.status_code == 200
    webhook_requests = [
        sample
        for family in text_string_to_metric_families(scraped.text)
        for sample in family.samples
        if sample.name == "switchboard_http_request_duration_seconds_count"
        and "whatsapp" in sample.labels["endpoint"]
    ]
    assert webhook_requests and webhook_requests[0].value >= 1, scraped.text[:2000]
    assert any((output.parent / "metrics").iterdir()), "no process wrote its metrics there"
