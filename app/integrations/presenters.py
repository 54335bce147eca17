"""What the integration pages and API show: hub counts, JSON shapes, audit log.

Read-only helpers. Secrets never leave here: :func:`credential_summary` says
"set …1234" and no more, and :func:`integration_to_dict` carries only that.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.integrations.oauth import TABLE
from app.integrations.registry import PROVIDERS, Provider
from app.integrations.services import GENERIC_WEBHOOK_SECRET, SECRET_FIELDS, secret_fields
from app.integrations.sync import settings_to_dict
from app.platform.audit.presenters import ChangeLine, action_label, change_lines
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import AuditLog, Integration, SyncJob, SyncRecord, WebhookEndpoint


def credential_summary(integration: Integration) -> dict[str, str]:
    """What a page may show of each secret field: "not set", "set" or "set …abcd".

    The last four characters only of long values, so a short secret is not
    half-revealed.
    """
    credentials = integration.credentials or {}
    summary = {}
    provider = PROVIDERS.get(integration.provider)
    fields = (
        secret_fields(provider)
        if provider
        else (*SECRET_FIELDS.get(integration.auth_method, ()), GENERIC_WEBHOOK_SECRET)
    )
    for name in fields:
        value = credentials.get(name)
        if not value:
            summary[name] = "not set"
        elif len(str(value)) >= 16:
            summary[name] = f"set …{str(value)[-4:]}"
        else:
            summary[name] = "set"
    if integration.auth_method == "oauth2":
        summary["connected"] = "yes" if credentials.get("access_token") else "no"
    return summary


# The settings form's fields by the name an error is filed under, as the form labels
# them: an admin reads "Batch size: a whole number…", not "batch_size: …".
FIELD_LABELS = {
    "name": _l("Name"),
    "status": _l("Status"),
    "client_id": _l("Client ID"),
    "client_secret": _l("Client secret"),
    "api_key": _l("API key"),
    "base_url": _l("API base URL"),
    "auth_style": _l("Send the credential as"),
    "auth_header": _l("Header name"),
    "dispatch_technician": _l("Dispatch technician"),
    "sync_direction": _l("Sync direction"),
    "sync_frequency": _l("Frequency"),
    "batch_size": _l("Batch size"),
    "include_deleted": _l("Include deleted and archived records"),
    GENERIC_WEBHOOK_SECRET: _l("Webhook signing secret"),
}


def field_labels(provider: Provider | None) -> dict[str, Any]:
    """Error keys of the integration forms and the labels the form shows them under."""
    labels: dict[str, Any] = dict(FIELD_LABELS)
    created = provider is not None and provider.date_range_basis == "created"
    labels["modified_since"] = _l("Created since") if created else _l("Changed since")
    labels["modified_until"] = _l("Created until") if created else _l("Changed until")
    if provider is None:
        return labels
    if provider.webhook is not None:
        labels[provider.webhook.credential] = provider.webhook.label
    labels.update({setting.name: setting.label for setting in provider.settings})
    labels.update({f"filters.{spec.key}": spec.label for spec in provider.sync_filters})
    return labels


def hub_stats(now: datetime | None = None) -> dict[str, int]:
    """The four cards of /integrations."""
    now = now or utcnow()
    midnight = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    count = sa.func.count()
    return {
        "active_integrations": db.session.scalar(
            sa.select(count).select_from(Integration).where(Integration.status == "active")
        )
        or 0,
        "syncs_today": db.session.scalar(
            sa.select(count).select_from(SyncJob).where(SyncJob.created_at >= midnight)
        )
        or 0,
        "records_synced": db.session.scalar(
            sa.select(count).select_from(SyncRecord).where(SyncRecord.status == "synced")
        )
        or 0,
        "active_webhooks": db.session.scalar(
            sa.select(count)
            .select_from(WebhookEndpoint)
            .where(WebhookEndpoint.is_active, WebhookEndpoint.disabled_at.is_(None))
        )
        or 0,
    }


def failed_record_counts() -> dict[uuid.UUID, int]:
    """Failed sync records per integration, for the cards' error counts."""
    rows = db.session.execute(
        sa.select(SyncRecord.integration_id, sa.func.count())
        .where(SyncRecord.status == "failed")
        .group_by(SyncRecord.integration_id)
    )
    return {integration_id: total for integration_id, total in rows}


def integration_to_dict(integration: Integration) -> dict[str, Any]:
    """The JSON shape of an integration; credentials only as their summary."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": str(integration.id),
        "provider": integration.provider,
        "name": integration.name,
        "category": integration.category,
        "auth_method": integration.auth_method,
        "status": integration.status,
        "sync_direction": integration.sync_direction,
        "sync_frequency": integration.sync_frequency,
        "batch_size": integration.batch_size,
        **settings_to_dict(integration),
        "webhooks_enabled": integration.webhooks_enabled,
        # ``config`` is never secret (the model keeps secrets in ``credentials``).
        "config": dict(integration.config or {}),
        "credentials": credential_summary(integration),
        "token_expires_at": iso(integration.token_expires_at),
        "last_sync_at": iso(integration.last_sync_at),
        "last_success_at": iso(integration.last_success_at),
        "last_error_at": iso(integration.last_error_at),
        "last_error_message": integration.last_error_message,
        "records_synced": integration.records_synced,
        "created_at": iso(integration.created_at),
    }


@dataclass(frozen=True)
class ChangeLogEntry:
    """One line of the settings page's change log, in the reader's words."""

    created_at: datetime
    action: str
    changes: list[ChangeLine]


def change_log(integration_id: uuid.UUID, limit: int = 20) -> list[ChangeLogEntry]:
    """The audit log's words for the integration's newest entries (the page showed its JSON)."""
    return [
        ChangeLogEntry(entry.created_at, action_label(entry.action), change_lines(entry.changes))
        for entry in audit_entries(integration_id, limit)
    ]


def audit_entries(integration_id: uuid.UUID, limit: int = 50) -> list[AuditLog]:
    """The newest audit entries of one integration (its log)."""
    return list(
        db.session.scalars(
            sa.select(AuditLog)
            .where(AuditLog.table_name == TABLE, AuditLog.record_id == integration_id)
            .order_by(AuditLog.created_at.desc())
            .limit(limit)
        )
    )
