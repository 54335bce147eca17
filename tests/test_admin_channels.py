"""Admin pages for channels and inbound events."""

from __future__ import annotations

import sys

import sqlalchemy as sa

from app.extensions import db
from app.models import InboundWebhookEvent, Notification, SandboxSend
from app.models.enums import ProcessingState
from app.transactions import commit
from app.transports.health import record_failure, record_success
from app.webhooks.events import record_event
from tests.jobs import drain_queues


def _admin(auth, make_user):
    user = make_user("admin", email="admin@switchboard.test")
    auth.login("admin@switchboard.test")
    return user


def test_channels_page_shows_modes_and_health(client, auth, make_user):
    _admin(auth, make_user)
    record_success("whatsapp")
    record_failure("sms", "401 Unauthorized: check SMS_AUTH_TOKEN")
    db.session.commit()
    html = client.get("/admin/channels/").get_data(as_text=True)
    assert 'data-testid="mode-whatsapp">sandbox' in html
    assert 'data-testid="mode-sms">failing' in html
    assert "check SMS_AUTH_TOKEN" in html


def test_channels_page_is_admin_only(client, auth, make_user):
    make_user("manager", email="m@switchboard.test")
    auth.login("m@switchboard.test")
    assert client.get("/admin/channels/").status_code == 403
    assert client.get("/admin/events/").status_code == 403


def test_send_test_through_the_sandbox(app, client, auth, make_user):
    admin = _admin(auth, make_user)
    token = auth.csrf_token("/admin/channels/")
    bad = client.post(
        "/admin/channels/test",
        data={"provider": "whatsapp", "recipient": "not a number", "csrf_token": token},
    )
    assert bad.status_code == 422
    assert "Enter a phone number" in bad.get_data(as_text=True)
    ok = client.post(
        "/admin/channels/test",
        data={"provider": "whatsapp", "recipient": "06 12345678", "csrf_token": token},
    )
    assert ok.status_code == 303
    drain_queues(app)
    db.session.expire_all()
    sent = db.session.scalar(sa.select(SandboxSend).where(SandboxSend.provider == "whatsapp"))
    assert sent.recipient == "+31612345678"
    note = db.session.scalar(sa.select(Notification).where(Notification.user_id == admin.id))
    assert note.title == "Test via whatsapp sent"


def test_events_page_lists_and_reruns_a_failed_event(app, client, auth, make_user, monkeypatch):
    _admin(auth, make_user)
    calls = []

    def failing_then_fine(event):
        calls.append(event.id)
        if len(calls) == 1:
            raise RuntimeError("downstream hiccup")

    monkeypatch.setitem(
        app.extensions["features"].webhook_processors, "test", "tests.test_admin_channels:PROCESSOR"
    )
    monkeypatch.setattr(sys.modules[__name__], "PROCESSOR", failing_then_fine, raising=False)
    event, created = record_event("test", "evt-1", b'{"hello": "world"}', headers={})
    again, created_again = record_event("test", "evt-1", b'{"hello": "world"}', headers={})
    assert created and not created_again and again.id == event.id
    commit()
    drain_queues(app)
    db.session.expire_all()
    stored = db.session.get(InboundWebhookEvent, event.id)
    assert stored.processing_state == ProcessingState.FAILED
    assert "downstream hiccup" in stored.last_error

    page = client.get("/admin/events/?state=failed").get_data(as_text=True)
    assert "downstream hiccup" in page
    detail = client.get(f"/admin/events/{event.id}").get_data(as_text=True)
    assert "&#34;hello&#34;: &#34;world&#34;" in detail or '"hello": "world"' in detail
    response = client.post(
        f"/admin/events/{event.id}/rerun",
        data={"csrf_token": auth.csrf_token(f"/admin/events/{event.id}")},
    )
    assert response.status_code == 303
    drain_queues(app)
    db.session.expire_all()
    assert (
        db.session.get(InboundWebhookEvent, event.id).processing_state == ProcessingState.PROCESSED
    )
    assert len(calls) == 2
