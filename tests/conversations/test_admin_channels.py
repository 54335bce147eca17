"""Admin pages for channels and inbound events."""

from __future__ import annotations

import sys
import threading

import sqlalchemy as sa

from app.conversations.channels.presenters import readable_fields, summary
from app.platform.extensions import db
from app.platform.models import InboundWebhookEvent, Notification, ProviderStatus, SandboxSend
from app.platform.models.enums import ProcessingState
from app.platform.transactions import commit
from app.platform.transports.health import record_failure, record_success
from app.platform.webhooks.recording import record_event
from tests.support.jobs import drain_queues


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
        app.extensions["features"].webhook_processors,
        "test",
        "tests.conversations.test_admin_channels:PROCESSOR",
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


def test_a_sandbox_send_fills_last_success_and_reads_without_json(app, client, auth, make_user):
    """Once, "Last success" stayed "—" because the sandbox recorded nothing;
    the outbox showed the raw request JSON."""
    _admin(auth, make_user)
    token = auth.csrf_token("/admin/channels/")
    client.post(
        "/admin/channels/test",
        data={"provider": "sms", "recipient": "06 12345678", "csrf_token": token},
    )
    drain_queues(app)
    db.session.expire_all()
    status = db.session.scalar(sa.select(ProviderStatus).where(ProviderStatus.provider == "sms"))
    assert status.last_success_at is not None and status.consecutive_failures == 0
    html = client.get("/admin/channels/").get_data(as_text=True)
    card = html.split('data-provider="sms"', 1)[1].split("</section>", 1)[0]
    assert "Last success: —" not in card
    outbox = html.split("<main", 1)[1]
    assert "{&#34;" not in outbox and '{"' not in outbox  # no JSON shown
    assert "+31612345678" in outbox
    # The recorded status reads in the reader's language, not as its stored value.
    dutch = client.get("/admin/channels/", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    row = dutch.split("+31612345678", 1)[1].split("</tr>", 1)[0]
    assert "<td>verstuurd</td>" in row and "<td>sent</td>" not in row


def test_a_second_success_is_race_safe_and_resets_failures(app):
    record_failure("teams", "500 from the webhook")
    db.session.commit()
    record_success("teams")
    record_success("teams")
    db.session.commit()
    rows = db.session.scalars(sa.select(ProviderStatus).where(ProviderStatus.provider == "teams"))
    (status,) = rows.all()
    assert status.consecutive_failures == 0 and status.last_success_at is not None


def test_a_busy_providers_successes_are_not_written_again_until_a_failure(app):
    """Every send notes a success; a process that noted one a moment ago asks nothing."""
    record_success("whatsapp")
    commit()
    statements = []
    this_thread = threading.get_ident()

    def count(connection, cursor, statement, *rest):
        if threading.get_ident() == this_thread:  # not an embedded worker's
            statements.append(statement.split()[0])

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        record_success("whatsapp")
        commit()
        assert statements == []
        record_failure("whatsapp", "500 from Meta")
        commit()
        record_success("whatsapp")
        commit()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    status = db.session.scalars(sa.select(ProviderStatus)).one()
    assert status.consecutive_failures == 0 and not status.unhealthy


def test_a_failure_noted_before_a_successes_commit_is_cleared_by_the_next_success(app):
    record_success("whatsapp")
    record_failure("whatsapp", "500 from Meta")
    commit()
    record_success("whatsapp")
    commit()
    status = db.session.scalars(sa.select(ProviderStatus)).one()
    assert status.consecutive_failures == 0


def test_provider_settings_are_fields_with_secrets_masked(app, client, auth, make_user):
    _admin(auth, make_user)
    app.config.update(
        WHATSAPP_PHONE_NUMBER_ID="1234567890", WHATSAPP_ACCESS_TOKEN="EAAG-very-secret"
    )
    html = client.get("/admin/channels/").get_data(as_text=True)
    settings = html.split('data-testid="settings-whatsapp"', 1)[1].split("</dl>", 1)[0]
    assert "WHATSAPP_PHONE_NUMBER_ID" in settings and "1234567890" in settings
    assert "WHATSAPP_ACCESS_TOKEN" in settings and "••••••" in settings
    assert "EAAG-very-secret" not in html


def test_request_bodies_read_as_fields():
    body = {
        "to": "+31612345678",
        "text": {"body": "Hallo"},
        "personalizations": [{"to": [{"email": "a@b.nl"}]}],
        "headers": {"Authorization": "Bearer x"},
        "categories": ["visit", "reminder"],
    }
    fields = {field.label: field.value for field in readable_fields(body)}
    assert fields["text · body"] == "Hallo"
    assert fields["personalizations 1 · to 1 · email"] == "a@b.nl"
    assert fields["headers · Authorization"] == "••••••"
    assert fields["categories"] == "visit, reminder"
    assert summary(body) == "Hallo"
