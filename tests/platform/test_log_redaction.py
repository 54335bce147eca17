"""Secrets sent in query strings never reach the access log.

Meta's handshake sends ``hub.verify_token`` and Fillout may send ``?secret=``;
both were printed with the request line. Checked on the two servers the app
runs under: Werkzeug's (``python wsgi.py``, ``make run``) with a real request
to the live server, and gunicorn (the deployment) as a real process with its
access log on stdout.
"""

from __future__ import annotations

import logging
import os
import sys

import pytest
import requests

from app.platform.security.redaction import redact_query_secrets
from tests.conftest import TEST_REDIS_URL, base_config, database_url, opened
from tests.support.topology import Process, free_port, wait_until

VERIFY_TOKEN = "meta-verify-7f3a9c"  # noqa: S105
FILLOUT_SECRET = "fillout-shared-51be0d"  # noqa: S105


@pytest.fixture
def app(make_app):
    with opened(
        make_app(WHATSAPP_VERIFY_TOKEN=VERIFY_TOKEN, FILLOUT_WEBHOOK_SECRET=FILLOUT_SECRET)
    ) as app:
        yield app


def secret_bearing_requests(base_url: str) -> None:
    handshake = requests.get(
        f"{base_url}/api/v1/webhooks/whatsapp",
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158"},
        timeout=10,
    )
    assert handshake.status_code == 200 and handshake.text == "1158"
    # Refused (not a form submission), but its request line is logged all the same.
    requests.post(
        f"{base_url}/api/v1/webhooks/fillout?secret={FILLOUT_SECRET}", json={}, timeout=10
    )


def assert_redacted(log: str) -> None:
    assert "/api/v1/webhooks/whatsapp?" in log and "/api/v1/webhooks/fillout?" in log
    assert VERIFY_TOKEN not in log
    assert FILLOUT_SECRET not in log
    assert "hub.verify_token=[redacted]" in log
    assert "secret=[redacted]" in log
    assert "hub.challenge=1158" in log  # what is no secret stays readable


def test_the_werkzeug_request_log_is_redacted(live_server, caplog):
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        secret_bearing_requests(live_server.url)
    assert_redacted(caplog.text)


CSAT_TOKEN = "csat-link-token-9d2e"  # noqa: S105
OAUTH_STATE = "oauth-state-4c1b"


def test_path_tokens_and_oauth_state_are_redacted_in_the_request_log(live_server, caplog):
    """The customer's rating link and the sign-in state."""
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        requests.get(f"{live_server.url}/csat/{CSAT_TOKEN}", timeout=10)
        requests.get(
            f"{live_server.url}/login/microsoft/callback",
            params={"code": "c0de", "state": OAUTH_STATE, "session_state": OAUTH_STATE},
            timeout=10,
        )
    assert "/csat/[redacted]" in caplog.text and "/login/microsoft/callback?" in caplog.text
    assert CSAT_TOKEN not in caplog.text
    assert OAUTH_STATE not in caplog.text


def test_the_gunicorn_access_log_is_redacted(app, tmp_path):
    port = free_port()
    config = base_config()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PYTEST_"))},
        "DATABASE_URL": database_url(),
        "SECRET_KEY": config["SECRET_KEY"],
        "ENCRYPTION_KEYS": config["ENCRYPTION_KEYS"],
        "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "FILLOUT_WEBHOOK_SECRET": FILLOUT_SECRET,
        "SWITCHBOARD_INSTANCE_PATH": str(tmp_path / "instance"),
        "PYTHONUNBUFFERED": "1",
    }
    if TEST_REDIS_URL:
        env["REDIS_URL"] = TEST_REDIS_URL
    # As docs/deployment.md deploys it: gunicorn reads gunicorn.conf.py from the checkout.
    argv = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
    argv += ["--access-logfile", "-", "wsgi:app"]
    gunicorn = Process("gunicorn", argv, env, tmp_path / "gunicorn.log")
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(base_url, gunicorn), 60, "gunicorn answering /healthz")
        secret_bearing_requests(base_url)
    finally:
        gunicorn.stop()
    assert_redacted(gunicorn.output())


def _answers(base_url: str, process: Process) -> bool:
    assert process.alive(), process.tail()
    try:
        return requests.get(f"{base_url}/healthz", timeout=5).status_code == 200
    except (requests.ConnectionError, requests.Timeout):  # still starting
        return False


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            '"GET /api/v1/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=abc&hub.challenge=9'
            ' HTTP/1.1" 200 -',
            '"GET /api/v1/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=[redacted]'
            '&hub.challenge=9 HTTP/1.1" 200 -',
        ),
        ("POST /x?secret=s3 HTTP/1.1", "POST /x?secret=[redacted] HTTP/1.1"),
        ("GET /cb?code=xyz&state=abc", "GET /cb?code=[redacted]&state=[redacted]"),
        ("GET /cb?session_state=s1&x=1", "GET /cb?session_state=[redacted]&x=1"),
        ('"GET /csat/tok.en-1 HTTP/1.1" 200', '"GET /csat/[redacted] HTTP/1.1" 200'),
        ("GET /csat/tok?score=5", "GET /csat/[redacted]?score=5"),
        ("GET /calendar/f33d.ics HTTP/1.1", "GET /calendar/[redacted].ics HTTP/1.1"),
        ("POST /portal/welcome/w3lc0me HTTP/1.1", "POST /portal/welcome/[redacted] HTTP/1.1"),
        ("GET /settings/calendar HTTP/1.1", "GET /settings/calendar HTTP/1.1"),
        ("GET /x?hub%2Everify_token=abc", "GET /x?hub%2Everify_token=[redacted]"),
        ("GET /x?Access_Token=abc;key=k", "GET /x?Access_Token=[redacted];key=[redacted]"),
        (
            "GET /x?validationToken=Validation%3A+Testing",
            "GET /x?validationToken=Validation%3A+Testing",
        ),
        ("GET /x?secret=", "GET /x?secret="),
        ("no query string here: a=b", "no query string here: a=b"),
    ],
)
def test_secret_parameters_are_recognised(line, expected):
    assert redact_query_secrets(line) == expected
