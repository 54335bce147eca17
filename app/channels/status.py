"""What the channels page shows: each provider's mode, health and recent sandbox sends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from app.channels.health import PROVIDERS, statuses
from app.channels.registry import PROVIDERS as CHANNEL_PROVIDERS
from app.channels.registry import is_sandboxed
from app.extensions import db
from app.models import SandboxSend

LABELS = {
    "whatsapp": "WhatsApp Business",
    "graph": "Outlook (Microsoft Graph)",
    "sms": "SMS",
    "teams": "Microsoft Teams",
    "sendgrid": "SendGrid e-mail",
}
# What a test send needs as its recipient.
RECIPIENT_HINTS = {
    "whatsapp": "phone number, e.g. 06 12345678",
    "graph": "e-mail address",
    "sms": "phone number, e.g. 06 12345678",
    "teams": "team: operations, management or tech",
    "sendgrid": "e-mail address",
}
CHANNEL_TYPE_OF = {provider: channel for channel, (provider, _) in CHANNEL_PROVIDERS.items()}


@dataclass
class ProviderState:
    provider: str
    label: str
    mode: str  # real, sandbox, failing, unhealthy
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error_message: str | None
    recipient_hint: str


def _configured(provider: str) -> bool:
    config = current_app.config
    if provider in CHANNEL_TYPE_OF:
        return not is_sandboxed(CHANNEL_TYPE_OF[provider])
    if provider == "teams":
        return bool(config.get("TEAMS_WEBHOOK_URLS"))
    if provider == "sendgrid":
        return bool(config.get("SENDGRID_API_KEY") and config.get("MAIL_FROM"))
    return False


def provider_states() -> list[ProviderState]:
    known = statuses()
    states = []
    for provider in PROVIDERS:
        status = known.get(provider)
        mode = "real" if _configured(provider) else "sandbox"
        if status is not None and status.unhealthy:
            mode = "unhealthy"
        elif status is not None and status.consecutive_failures:
            mode = "failing"
        states.append(
            ProviderState(
                provider=provider,
                label=LABELS[provider],
                mode=mode,
                last_success_at=status.last_success_at if status else None,
                last_error_at=status.last_error_at if status else None,
                last_error_message=status.last_error_message if status else None,
                recipient_hint=RECIPIENT_HINTS[provider],
            )
        )
    return states


def recent_sandbox_sends(limit: int = 25) -> list[SandboxSend]:
    return list(
        db.session.scalars(
            sa.select(SandboxSend).order_by(SandboxSend.created_at.desc()).limit(limit)
        )
    )
