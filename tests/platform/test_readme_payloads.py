"""The README's "See a message arrive": its two curl bodies, posted as written, reach the inbox.

The payloads and addresses are read out of README.md, so the README cannot
drift from what the webhooks accept.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import sqlalchemy as sa

from app.platform.auth.services import create_user
from app.platform.extensions import db
from app.platform.models import InboundWebhookEvent
from app.platform.models.enums import ProcessingState, Role
from app.platform.webhooks import processing
from tests.support.helpers import PASSWORD

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
CURL = re.compile(
    r"curl -sS -X POST http://127\.0\.0\.1:5000(?P<path>\S+) \\\n.*?<<EOF\n(?P<body>.*?)\nEOF",
    re.S,
)


def readme_posts() -> list[tuple[str, str]]:
    """(path, body) of each curl in the section, with the shell's ``$(date +%s)`` done."""
    section = README.split("## See a message arrive", 1)[1].split("\n## ", 1)[0]
    now = str(int(time.time()))
    return [(m["path"], m["body"].replace("$(date +%s)", now)) for m in CURL.finditer(section)]


def test_the_readme_messages_arrive_in_the_inbox(app, client, auth):
    posts = readme_posts()
    assert [path for path, _body in posts] == [
        "/api/v1/webhooks/whatsapp",
        "/sandbox/outlook/mail",
    ]
    for path, body in posts:
        json.loads(body)  # valid JSON once the shell has filled in the time
        response = client.post(path, data=body, content_type="application/json")
        assert response.status_code in (200, 202), response.get_data(as_text=True)
        assert response.get_json()["status"] == "received"
    # The worker's part, as `make run`'s in-process worker does it.
    for event_id in db.session.scalars(sa.select(InboundWebhookEvent.id)).all():
        processing.process_event(str(event_id))
    db.session.expire_all()
    states = set(db.session.scalars(sa.select(InboundWebhookEvent.processing_state)))
    assert states == {ProcessingState.PROCESSED}, states

    create_user("anouk@switchboard.test", "Anouk", Role.ADMIN, PASSWORD)
    db.session.commit()
    assert auth.login("anouk@switchboard.test").status_code == 302
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "Mijn laadpaal knippert rood sinds vanochtend" in inbox
    assert "Offerte laadpaal bij zonnepanelen" in inbox
    assert "Sanne Visser" in inbox and "Pieter Dekker" in inbox


def test_the_sandbox_mail_address_names_what_is_wrong_and_closes_outside_the_sandbox(app, client):
    bad = client.post("/sandbox/outlook/mail", json={"from": {}, "body": {}})
    assert bad.status_code == 422
    assert "from.emailAddress.address" in bad.get_data(as_text=True)
    app.config.update(
        GRAPH_TENANT_ID="t", GRAPH_CLIENT_ID="c", GRAPH_CLIENT_SECRET="s", GRAPH_MAILBOX="m@x.nl"
    )
    _path, body = readme_posts()[1]
    closed = client.post(
        "/sandbox/outlook/mail", data=body, content_type="application/json"
    )
    assert closed.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(InboundWebhookEvent.id))) == 0


def test_a_deployment_takes_no_posted_mail_unless_asked(app, client):
    """Outlook unused is not a demo: on a deployment the address is shut by default."""
    _path, body = readme_posts()[1]
    app.config["SANDBOX_MAIL_INTAKE"] = False
    closed = client.post(
        "/sandbox/outlook/mail", data=body, content_type="application/json"
    )
    assert closed.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(InboundWebhookEvent.id))) == 0


def test_posted_mail_keeps_only_what_a_demo_mail_needs(app, client):
    """Headers, a conversation id or recipients could thread it into someone's conversation."""
    _path, body = readme_posts()[1]
    message = json.loads(body)
    message.update(
        conversationId="AAQk-someone-elses",
        toRecipients=[{"emailAddress": {"address": "orders@partner.example"}}],
        internetMessageHeaders=[{"name": "In-Reply-To", "value": "<x@y>"}],
    )
    assert client.post("/sandbox/outlook/mail", json=message).status_code == 202
    stored = json.loads(db.session.scalars(sa.select(InboundWebhookEvent.raw_body)).one())
    assert set(stored) <= {"from", "subject", "body", "id"}
    too_long = dict(message, subject="x" * 999)
    refused = client.post("/sandbox/outlook/mail", json=too_long)
    assert refused.status_code == 422 and "subject" in refused.get_data(as_text=True)
