"""What the channels page shows: each provider's mode, health and recent sandbox sends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.conversations.channels.presenters import Field, readable_fields, setting_fields, summary
from app.platform.extensions import db
from app.platform.models import SandboxSend
from app.platform.transports.health import statuses
from app.platform.transports.registry import is_sandboxed, specs

# What a test send needs as its recipient, by the kind a transport declares.
RECIPIENT_HINTS = {
    "phone": _l("phone number, e.g. 06 12345678"),
    "email": _l("e-mail address"),
    "team": _l("team: operations, management or tech"),
}


@dataclass
class ProviderState:
    provider: str
    label: str
    mode: str  # real, sandbox, failing, unhealthy
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error_message: str | None
    recipient_hint: str
    # The settings the real transport needs, readable, secrets masked.
    settings: list[Field]


def provider_states() -> list[ProviderState]:
    known = statuses()
    states = []
    for provider, spec in specs().items():
        status = known.get(provider)
        mode = "sandbox" if is_sandboxed(provider) else "real"
        if status is not None and status.unhealthy:
            mode = "unhealthy"
        elif status is not None and status.consecutive_failures:
            mode = "failing"
        states.append(
            ProviderState(
                provider=provider,
                label=spec.label,
                mode=mode,
                last_success_at=status.last_success_at if status else None,
                last_error_at=status.last_error_at if status else None,
                last_error_message=status.last_error_message if status else None,
                recipient_hint=RECIPIENT_HINTS[spec.recipient],
                settings=setting_fields(spec.requires, current_app.config),
            )
        )
    return states


def recent_sandbox_sends(limit: int = 25) -> list[SandboxSend]:
    return list(
        db.session.scalars(
            sa.select(SandboxSend).order_by(SandboxSend.created_at.desc()).limit(limit)
        )
    )


@dataclass
class OutboxRow:
    """One sandbox send as the page shows it: what was sent, not the raw JSON."""

    send: SandboxSend
    summary: str
    fields: list[Field]


def sandbox_outbox(limit: int = 25) -> list[OutboxRow]:
    return [
        OutboxRow(send, summary(send.request_body), readable_fields(send.request_body))
        for send in recent_sandbox_sends(limit)
    ]
