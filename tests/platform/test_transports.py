"""One interface for every outbound provider, with its sandbox beside the real one."""

from __future__ import annotations

import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import SandboxSend
from app.platform.transports.base import OutboundMessage
from app.platform.transports.registry import is_sandboxed, spec_for, transport_for
from app.platform.transports.sandbox import SandboxTransport


def _recorded(provider: str) -> dict:
    db.session.flush()
    return db.session.scalars(
        sa.select(SandboxSend.request_body).where(SandboxSend.provider == provider)
    ).one()


def test_unconfigured_providers_record_the_body_the_real_one_would_get(app):
    for provider in ("whatsapp", "graph", "sms", "sendgrid", "teams"):
        assert is_sandboxed(provider)
        assert isinstance(transport_for(provider), SandboxTransport)
    transport_for("teams").send(OutboundMessage(None, "teams", "tech", "test"))
    assert _recorded("teams")["type"] == "message"  # an Adaptive Card message
    transport_for("sendgrid").send(OutboundMessage(None, "sendgrid", "jan@example.nl", "Hoi"))
    mail = _recorded("sendgrid")
    assert mail["personalizations"][0]["to"] == [{"email": "jan@example.nl"}]
    assert mail["content"] == [{"type": "text/plain", "value": "Hoi"}]


def test_a_channel_type_names_the_provider_that_sends_for_it(app):
    assert spec_for("whatsapp_business").provider == "whatsapp"
    assert spec_for("email_outlook").provider == "graph"


def test_configured_settings_select_the_real_transport(app):
    app.config.update(SENDGRID_API_KEY="SG.x", MAIL_FROM="info@chargecars.nl")
    assert not is_sandboxed("sendgrid")
    assert type(transport_for("sendgrid")).__name__ == "SendGridTransport"
    app.config.update(TEAMS_WEBHOOK_URLS={"tech": "https://example.invalid/hook"})
    assert type(transport_for("teams")).__name__ == "TeamsTransport"
