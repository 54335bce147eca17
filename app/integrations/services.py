"""Integrations: find, create, change, delete, test and connect them (no commit).

Every change goes through this module, in the caller's transaction, with an
audit entry naming the fields that changed (secrets only as "changed").
Credentials and tokens are :mod:`app.integrations.oauth.tokens`' job; what pages
show of an integration is :mod:`app.integrations.presenters`'.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import gettext as _

from app.integrations import oauth
from app.integrations.connectors import ConnectorError, connector_for, readable
from app.integrations.oauth import (
    TABLE,
    IntegrationAuthError,
    integration_credentials,
    store_tokens,
)
from app.integrations.registry import (
    FREQUENCIES,
    PROVIDERS,
    WEBHOOK_CREDENTIALS,
    Provider,
)
from app.integrations.salesforce_ids import is_organization_id
from app.integrations.sync import check_combination, read_sync_settings
from app.platform.audit.records import field_changes, record_change
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import Integration, User
from app.platform.models.enums import Role
from app.platform.security.outbound import UnsafeTarget, vet_url

MAX_NAME = 120
MAX_SECRET = 4000
# Fields an admin types in, per auth method, besides the provider's webhook
# secret (:func:`secret_fields`). Tokens come only from the OAuth flow.
SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "api_key": ("api_key",),
    "oauth2": ("client_id", "client_secret"),
}
# Where a provider that declares no webhook verification keeps a signing secret.
GENERIC_WEBHOOK_SECRET = "webhook_secret"  # noqa: S105 (a field name)
# Every secret field of any provider: what the form and the API accept.
ALL_SECRET_FIELDS: tuple[str, ...] = tuple(
    sorted(
        {*SECRET_FIELDS["api_key"], *SECRET_FIELDS["oauth2"], GENERIC_WEBHOOK_SECRET}
        | WEBHOOK_CREDENTIALS
    )
)
REQUIRED_SECRETS: dict[str, tuple[str, ...]] = {
    "api_key": ("api_key",),
    "oauth2": ("client_id", "client_secret"),
}
# Non-secret settings kept in ``config``; anything else there (the generic
# connector's endpoints, say) is left as it is.
CONFIG_FIELDS = (
    "base_url",
    "auth_style",
    "auth_header",
    "realm_id",
    "portal_id",
    "account_id",
    "organization_id",
    # Property systems: the technician (e-mail) their work orders are dispatched to.
    "dispatch_technician",
)
AUTH_STYLES = ("bearer", "header")


class IntegrationInvalid(ValueError):
    """Input that cannot be saved; ``errors`` maps each field to its problem."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# --- reading -------------------------------------------------------------------


def list_integrations() -> list[Integration]:
    return list(
        db.session.scalars(sa.select(Integration).order_by(Integration.category, Integration.name))
    )


def get_integration(integration_id: uuid.UUID | str) -> Integration | None:
    try:
        key = integration_id if isinstance(integration_id, uuid.UUID) else uuid.UUID(integration_id)
    except ValueError:
        return None
    return db.session.get(Integration, key)


def provider_of(integration: Integration) -> Provider:
    return PROVIDERS[integration.provider]


def webhook_credential(provider: Provider) -> str:
    """The credential holding ``provider``'s webhook secret."""
    return provider.webhook.credential if provider.webhook else GENERIC_WEBHOOK_SECRET


def secret_fields(provider: Provider) -> tuple[str, ...]:
    """The secrets an admin sets for ``provider``: its auth method's, then its webhook's."""
    fields = SECRET_FIELDS[provider.auth_method]
    webhook = webhook_credential(provider)
    return fields if webhook in fields else (*fields, webhook)


# --- changing ------------------------------------------------------------------


def create_integration(data: Mapping[str, Any], user: User | None) -> Integration:
    """Add an integration from form or JSON input (no commit).

    API-key integrations start active; OAuth ones start inactive and become
    active when the authorization flow completes.
    """
    errors: dict[str, str] = {}
    provider = PROVIDERS.get(str(data.get("provider") or ""))
    if provider is None:
        raise IntegrationInvalid({"provider": "choose one of the listed providers"})
    integration = Integration(
        provider=provider.key,
        category=provider.category,
        auth_method=provider.auth_method,
        name=provider.name,
        status="inactive",
        config={},
        credentials={},
        sync_direction="two_way" if "two_way" in provider.directions else provider.directions[0],
        sync_frequency=provider.default_frequency,
        created_by_user_id=user.id if user else None,
    )
    settings = _settings(provider, data, errors, creating=True)
    secrets = _secrets(provider, data, errors, creating=True)
    check_combination(settings, errors)
    if errors:
        raise IntegrationInvalid(errors)
    for name, value in settings.items():
        _assign(integration, name, value)
    integration.credentials = {k: v for k, v in secrets.items() if v is not None}
    if provider.auth_method == "api_key" and "status" not in data:
        integration.status = "active"
    db.session.add(integration)
    db.session.flush()
    record_audit(
        integration,
        "integration_created",
        user,
        field_changes({}, {**settings, **integration.credentials}, secret=secrets),
    )
    return integration


def update_integration(
    integration: Integration, data: Mapping[str, Any], user: User | None
) -> dict[str, Any]:
    """Change the settings and secrets given in ``data`` (no commit); returns the audit changes.

    A blank secret field keeps the stored one, so the form never has to show it.
    """
    provider = provider_of(integration)
    errors: dict[str, str] = {}
    settings = _settings(provider, data, errors, creating=False)
    secrets = _secrets(provider, data, errors, creating=False)
    if settings.get("status") == "active" and provider.is_oauth:
        if not (integration.credentials or {}).get("access_token"):
            errors["status"] = _("connect with OAuth first")
    saved = {
        name: getattr(integration, name)
        for name in ("include_deleted", "modified_since", "modified_until", "sync_filters")
    }
    check_combination({**saved, **settings}, errors)
    if errors:
        raise IntegrationInvalid(errors)
    before = {name: _current(integration, name) for name in settings}
    for name, value in settings.items():
        if before[name] != value:
            _assign(integration, name, value)
    after = dict(settings)
    if secrets:
        credentials = integration_credentials(integration)
        before.update({name: credentials.get(name) for name in secrets})
        after.update(secrets)
        merged = {**credentials, **secrets}
        integration.credentials = {k: v for k, v in merged.items() if v is not None}
    changes = field_changes(before, after, secret=secrets)
    if changes:
        record_audit(integration, "integration_updated", user, changes)
    return changes


def delete_integration(integration: Integration, user: User | None) -> None:
    """Remove an integration with its mappings, jobs and records (no commit)."""
    record_audit(
        integration,
        "integration_deleted",
        user,
        {"provider": integration.provider, "name": integration.name},
    )
    db.session.delete(integration)
    db.session.flush()


def record_audit(
    integration: Integration, action: str, user: User | None, changes: dict[str, Any]
) -> None:
    """Write one audit entry for ``integration`` (no commit); secret values are never kept."""
    record_change(TABLE, integration.id, action, changes, user_id=user.id if user else None)


def readable_outcome(message: str) -> str:
    """A test's outcome as the admin's page shows it (the audit keeps it in English)."""
    return readable(message)


def run_connection_test(
    integration: Integration, user: User | None, check: Callable[[], tuple[bool, str]]
) -> tuple[bool, str]:
    """Run a connector's ``test_connection`` and keep its outcome (no commit).

    A pass clears an error status; a failure is kept as the last error. An
    auth failure raised while getting a token counts as a failed test.
    """
    try:
        ok, message = check()
    except IntegrationAuthError as exc:
        ok, message = False, str(exc)
    now = utcnow()
    if ok:
        if integration.status == "error":
            integration.status = "active"
    else:
        integration.last_error_at = now
        integration.last_error_message = message[:2000]
    record_audit(integration, "integration_tested", user, {"ok": ok, "message": message[:500]})
    return ok, message


# --- OAuth ---------------------------------------------------------------------


def start_oauth(integration: Integration, user: User) -> str:
    """The provider's authorize URL for ``integration``, its state and PKCE verifier kept."""
    provider = provider_of(integration)
    if not provider.is_oauth:
        raise IntegrationInvalid({"auth_method": f"{provider.name} uses an API key, not OAuth"})
    credentials = integration_credentials(integration)
    missing = [name for name in REQUIRED_SECRETS["oauth2"] if not credentials.get(name)]
    if missing:
        raise IntegrationInvalid({name: "required before connecting" for name in missing})
    try:
        return oauth.authorization_url(provider, credentials, integration.id, str(user.id))
    except oauth.OAuthFailed as exc:
        raise IntegrationInvalid({"oauth": str(exc)}) from exc


def complete_oauth(
    pending: oauth.PendingAuthorization,
    code: str,
    user: User,
    callback_args: Mapping[str, str],
) -> Integration:
    """Exchange the callback's code for tokens and activate the integration (no commit).

    QuickBooks names the company in ``realmId`` on the callback; it is kept in
    ``config`` because every API path needs it. A refused exchange is kept as
    the last error and raised as :class:`IntegrationAuthError`.
    """
    integration = db.session.get(
        Integration, pending.integration_id, options=[so.undefer(Integration.credentials)]
    )
    if integration is None:
        raise IntegrationAuthError("the integration was deleted while connecting")
    provider = provider_of(integration)
    try:
        token = oauth.exchange_code(
            provider, integration_credentials(integration), code, pending.code_verifier
        )
    except oauth.OAuthFailed as exc:
        integration.last_error_at = utcnow()
        integration.last_error_message = f"OAuth connection failed: {exc}"
        record_audit(integration, "integration_oauth_failed", user, {"error": str(exc)})
        raise IntegrationAuthError(f"{integration.name}: {exc}") from exc
    store_tokens(integration, token)
    changes: dict[str, Any] = {"status": {"from": integration.status, "to": "active"}}
    integration.status = "active"
    realm_id = str(callback_args.get("realmId") or "").strip()
    if realm_id and len(realm_id) <= 120:
        integration.config = {**(integration.config or {}), "realm_id": realm_id}
        changes["realm_id"] = realm_id
    changes["token_expires_at"] = _iso(integration.token_expires_at)
    record_audit(integration, "integration_oauth_connected", user, changes)
    return integration


# --- input ---------------------------------------------------------------------


def _settings(
    provider: Provider, data: Mapping[str, Any], errors: dict[str, str], *, creating: bool
) -> dict[str, Any]:
    """The non-secret fields present in ``data``, validated."""
    settings: dict[str, Any] = {}
    if "name" in data or creating:
        name = str(data.get("name") or "").strip() or provider.name
        if len(name) > MAX_NAME:
            errors["name"] = _("at most %(count)s characters", count=MAX_NAME)
        settings["name"] = name
    if "status" in data:
        status = str(data.get("status") or "")
        if status not in ("active", "inactive"):
            errors["status"] = _("must be active or inactive")
        settings["status"] = status
    if data.get("sync_direction") not in (None, ""):
        direction = str(data["sync_direction"])
        if direction not in provider.directions:
            errors["sync_direction"] = _(
                "must be one of %(values)s", values=", ".join(provider.directions)
            )
        settings["sync_direction"] = direction
    if data.get("sync_frequency") not in (None, ""):
        frequency = str(data["sync_frequency"])
        if frequency not in FREQUENCIES:
            errors["sync_frequency"] = _("must be one of %(values)s", values=", ".join(FREQUENCIES))
        settings["sync_frequency"] = frequency
    settings.update(read_sync_settings(provider, data, errors))
    if "webhooks_enabled" in data:
        settings["webhooks_enabled"] = _truthy(data["webhooks_enabled"])
    elif creating:
        settings["webhooks_enabled"] = False
    for name in CONFIG_FIELDS:
        if name not in data:
            continue
        value = str(data.get(name) or "").strip()
        if name == "base_url" and value:
            # The hub calls it with the customer's credentials: the outbound URL check.
            try:
                value = vet_url(value)
            except UnsafeTarget as exc:
                errors["base_url"] = (
                    _("must not point at a private or local address")
                    if exc.private
                    else _("must be an https:// URL")
                )
            if len(value) > 2000:
                errors["base_url"] = _("must be an https:// URL")
        elif name == "auth_style" and value and value not in AUTH_STYLES:
            errors[name] = _("must be bearer or header")
        elif name == "organization_id" and value and not is_organization_id(value):
            errors[name] = _("must be a Salesforce organization ID: 00D…, 15 or 18 characters")
        elif name == "dispatch_technician" and value and not _is_technician(value):
            errors[name] = _("must be the e-mail address of an active technician")
        elif len(value) > 120:
            errors[name] = _("at most 120 characters")
        settings["config." + name] = value or None
    needs_base = provider.api_base_key and not current_app.config.get(provider.api_base_key)
    if creating and needs_base and not settings.get("config.base_url"):
        errors["base_url"] = _(
            "required: %(provider)s is hosted per customer", provider=provider.name
        )
    return settings


def _secrets(
    provider: Provider, data: Mapping[str, Any], errors: dict[str, str], *, creating: bool
) -> dict[str, str | None]:
    """The secrets present in ``data``, validated; ``None`` clears the webhook secret.

    A blank value keeps what is stored. Only the webhook secret may be cleared
    (JSON ``null``, or the form's "clear" box): the others are needed to connect.
    """
    secrets: dict[str, str | None] = {}
    fields = secret_fields(provider)
    webhook = webhook_credential(provider)
    for name in sorted(set(ALL_SECRET_FIELDS) - set(fields)):
        if name in WEBHOOK_CREDENTIALS and str(data.get(name) or "").strip():
            errors[name] = _("%(provider)s does not use this field", provider=provider.name)
    for name in fields:
        if name in data and data[name] is None:
            if name == webhook and name not in SECRET_FIELDS[provider.auth_method]:
                secrets[name] = None
            else:
                errors[name] = _("cannot be cleared; enter a new value instead")
            continue
        value = str(data.get(name) or "").strip()
        if len(value) > MAX_SECRET:
            errors[name] = _("at most %(count)s characters", count=MAX_SECRET)
        elif value and name == webhook and provider.webhook:
            if not re.fullmatch(provider.webhook.pattern, value):
                errors[name] = str(provider.webhook.pattern_hint)
            else:
                secrets[name] = value
        elif value:
            secrets[name] = value
        elif creating and name in REQUIRED_SECRETS[provider.auth_method]:
            errors[name] = _("required")
    return secrets


def _assign(integration: Integration, name: str, value: Any) -> None:
    if name.startswith("config."):
        config = dict(integration.config or {})
        key = name.removeprefix("config.")
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
        integration.config = config
    else:
        setattr(integration, name, value)


def _current(integration: Integration, name: str) -> Any:
    if name.startswith("config."):
        return (integration.config or {}).get(name.removeprefix("config."))
    return getattr(integration, name)


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "on", "yes")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def check_connection(integration: Integration, user: User) -> tuple[bool, str]:
    """Test ``integration`` through its connector and keep the outcome (no commit)."""
    try:
        connector = connector_for(integration)
    except ConnectorError as exc:
        failure = exc.message
        return run_connection_test(integration, user, lambda: (False, failure))
    return run_connection_test(integration, user, connector.test_connection)


def _is_technician(email: str) -> bool:
    return (
        db.session.scalar(
            sa.select(User.id).where(
                sa.func.lower(User.email) == email.lower(),
                User.role == Role.TECHNICIAN,
                User.is_active_account.is_(True),
            )
        )
        is not None
    )
