"""Integrations: create, change, delete, test; their credentials and access tokens.

Credentials (API keys, OAuth client secrets and tokens, webhook signing secrets)
live only in ``Integration.credentials``, which the model encrypts. Nothing here
returns them to a page or an API answer, writes them to the audit log, or puts
them in a log line: :func:`credential_summary` says "set …1234" and no more.

Every change goes through this module, in the caller's transaction, with an
audit entry naming the fields that changed (secrets only as "changed").
Token refreshes are the exception: they commit in a session of their own, because
a rotated refresh token must be kept even if the caller's work rolls back.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from app.channels.teams.sender import notify_teams
from app.database import utcnow
from app.extensions import db
from app.integrations import oauth
from app.integrations.registry import (
    FREQUENCIES,
    PROVIDERS,
    Provider,
)
from app.models import AuditLog, Integration, SyncJob, SyncRecord, User, WebhookEndpoint
from app.models.enums import Priority, Role
from app.notifications.services import announce, create_notification
from app.transactions import after_commit

log = logging.getLogger(__name__)

TABLE = "integrations"
# access_token() refreshes a token this close to its expiry; the periodic job
# looks further ahead so that on-use refreshes are rare.
REFRESH_MARGIN = timedelta(minutes=5)
PERIODIC_REFRESH_MARGIN = timedelta(minutes=15)
MAX_NAME = 120
MAX_BATCH_SIZE = 1000
MAX_SECRET = 4000
# Fields an admin types in, per auth method. Tokens come only from the OAuth flow.
SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "api_key": ("api_key", "webhook_secret"),
    "oauth2": ("client_id", "client_secret", "webhook_secret"),
}
REQUIRED_SECRETS: dict[str, tuple[str, ...]] = {
    "api_key": ("api_key",),
    "oauth2": ("client_id", "client_secret"),
}
TOKEN_FIELDS = ("access_token", "refresh_token", "token_type", "expires_at", "scope")
# Non-secret settings kept in ``config``; anything else there (the generic
# connector's endpoints, say) is left as it is.
CONFIG_FIELDS = ("base_url", "auth_style", "auth_header", "realm_id", "portal_id", "account_id")
AUTH_STYLES = ("bearer", "header")
ADMIN_NOTIFICATION_TYPE = "integration_error"


class IntegrationInvalid(ValueError):
    """Input that cannot be saved; ``errors`` maps each field to its problem."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class IntegrationAuthError(RuntimeError):
    """No usable credential: not connected, or the provider refused a refresh."""


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


def integration_credentials(integration: Integration) -> dict[str, Any]:
    """The decrypted credentials (a copy); for connectors, never for display."""
    return dict(integration.credentials or {})


def credential_summary(integration: Integration) -> dict[str, str]:
    """What a page may show of each secret field: "not set", "set" or "set …abcd".

    The last four characters only of long values, so a short secret is not
    half-revealed.
    """
    credentials = integration.credentials or {}
    summary = {}
    for name in SECRET_FIELDS.get(integration.auth_method, ()):
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
    if errors:
        raise IntegrationInvalid(errors)
    for name, value in settings.items():
        _assign(integration, name, value)
    integration.credentials = secrets
    if provider.auth_method == "api_key" and "status" not in data:
        integration.status = "active"
    db.session.add(integration)
    db.session.flush()
    record_audit(integration, "integration_created", user, _audited(settings, secrets))
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
            errors["status"] = "connect with OAuth first"
    if errors:
        raise IntegrationInvalid(errors)
    changes: dict[str, Any] = {}
    for name, value in settings.items():
        before = _current(integration, name)
        if before != value:
            changes[name] = {"from": before, "to": value}
            _assign(integration, name, value)
    if secrets:
        credentials = integration_credentials(integration)
        for name, value in secrets.items():
            if credentials.get(name) != value:
                credentials[name] = value
                changes[name] = "changed"
        integration.credentials = credentials
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
    """Write one audit entry for ``integration`` (no commit). ``changes`` holds no secret."""
    db.session.add(
        AuditLog(
            table_name=TABLE,
            record_id=integration.id,
            action=action,
            changed_by_user_id=user.id if user else None,
            changes=changes,
        )
    )


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


# --- tokens --------------------------------------------------------------------


def access_token(integration: Integration) -> str:
    """A credential to send now: the API key, or a fresh OAuth access token.

    An OAuth token within :data:`REFRESH_MARGIN` of expiry is refreshed first.
    Raises :class:`IntegrationAuthError` when there is none, or when the refresh
    fails (the integration is then marked ``error`` and admins are alerted).
    Call it before changing the integration row in an open transaction: a
    refresh commits from a session of its own.
    """
    credentials = integration_credentials(integration)
    if integration.auth_method == "api_key":
        if not credentials.get("api_key"):
            raise IntegrationAuthError(f"{integration.name}: no API key is set")
        return credentials["api_key"]
    if not credentials.get("access_token"):
        raise IntegrationAuthError(f"{integration.name}: not connected; run the OAuth flow")
    expires_at = credentials.get("expires_at")
    if expires_at and float(expires_at) - time.time() <= REFRESH_MARGIN.total_seconds():
        return refresh_tokens(integration.id)
    return credentials["access_token"]


def refresh_tokens(integration_id: uuid.UUID, margin: timedelta = REFRESH_MARGIN) -> str:
    """Refresh one integration's OAuth tokens unless they outlive ``margin``; returns the token.

    Runs in its own session with the row locked, so two workers do not both spend
    a rotating refresh token: the second finds the fresh token and uses it.
    """
    with so.Session(db.engine, expire_on_commit=False) as session:
        integration = session.scalar(
            sa.select(Integration)
            .where(Integration.id == integration_id)
            .options(so.undefer(Integration.credentials))
            .with_for_update()
        )
        if integration is None:
            raise IntegrationAuthError("the integration no longer exists")
        credentials = dict(integration.credentials or {})
        expires_at = float(credentials.get("expires_at") or 0)
        if credentials.get("access_token") and expires_at - time.time() > margin.total_seconds():
            session.commit()
            return credentials["access_token"]
        provider = PROVIDERS[integration.provider]
        try:
            token = oauth.refresh(
                provider, credentials, timeout=current_app.config.get("OAUTH_TIMEOUT", 10)
            )
        except oauth.OAuthFailed as exc:
            message = f"Token refresh failed: {exc}"
            _mark_error(session, integration, message)
            session.commit()
            _forget_loaded_credentials(integration_id)
            raise IntegrationAuthError(f"{integration.name}: {message}") from exc
        store_tokens(integration, token)
        session.add(
            AuditLog(
                table_name=TABLE,
                record_id=integration.id,
                action="integration_token_refreshed",
                changes={"token_expires_at": _iso(integration.token_expires_at)},
            )
        )
        session.commit()
        _forget_loaded_credentials(integration_id)
        log.info("integration %s: OAuth token refreshed", integration_id)
        return token["access_token"]


def refresh_expiring_tokens() -> int:
    """Periodic job: refresh connected OAuth tokens expiring soon; returns how many were tried."""
    horizon = utcnow() + PERIODIC_REFRESH_MARGIN
    due = db.session.scalars(
        sa.select(Integration.id).where(
            Integration.auth_method == "oauth2",
            Integration.status == "active",
            Integration.token_expires_at.is_not(None),
            Integration.token_expires_at <= horizon,
        )
    ).all()
    db.session.rollback()  # hold no transaction while calling providers
    for integration_id in due:
        try:
            refresh_tokens(integration_id, margin=PERIODIC_REFRESH_MARGIN)
        except IntegrationAuthError as exc:
            # Already marked, logged and alerted; the other integrations still refresh.
            log.warning("integration %s: periodic refresh failed: %s", integration_id, exc)
    return len(due)


def store_tokens(integration: Integration, token: Mapping[str, Any]) -> None:
    """Keep an OAuth token response on the integration (no commit, no audit).

    A provider that does not rotate refresh tokens leaves it out of the
    answer; the one we had stays.
    """
    credentials = dict(integration.credentials or {})
    for name in TOKEN_FIELDS:
        if token.get(name) is not None:
            credentials[name] = token[name]
    integration.credentials = credentials
    expires_at = token.get("expires_at")
    integration.token_expires_at = (
        datetime.fromtimestamp(float(expires_at), tz=timezone.utc) if expires_at else None
    )


def mark_error(integration: Integration, message: str) -> None:
    """Mark ``integration`` broken and alert admins, in the caller's transaction (no commit)."""
    _mark_error(db.session, integration, message)


def _mark_error(session: so.Session, integration: Integration, message: str) -> None:
    was_error = integration.status == "error"
    integration.status = "error"
    integration.last_error_at = utcnow()
    integration.last_error_message = message[:2000]
    session.add(
        AuditLog(
            table_name=TABLE,
            record_id=integration.id,
            action="integration_error",
            changes={"status": "error", "error": message[:500]},
        )
    )
    log.error("integration %s (%s): %s", integration.id, integration.provider, message)
    if was_error:
        return  # admins heard already; one alert per breakage
    _alert_admins(session, integration, message)


def _alert_admins(session: so.Session, integration: Integration, message: str) -> None:
    link = "/integrations/"
    title = f"{integration.name} stopped working"
    admins = session.scalars(
        sa.select(User).where(User.role == Role.ADMIN, User.is_active_account.is_(True))
    ).all()
    notifications = []
    for admin in admins:
        notification = create_notification(
            admin.id,
            ADMIN_NOTIFICATION_TYPE,
            title,
            f"{message} Reconnect it on the integrations page.",
            priority=Priority.URGENT,
            source_table=TABLE,
            source_record_id=integration.id,
            link=link,
            flush=False,
        )
        # create_notification adds to db.session; move it to ours when they differ.
        if session is not db.session():
            db.session.expunge(notification)
            session.add(notification)
        notifications.append(notification)
    teams_data = {
        "component": f"Integration {integration.name}",
        "error": message,
        "since": _iso(integration.last_error_at),
        "failure_count": 1,
        "path": link,
    }

    def tell() -> None:
        for notification in notifications:
            announce(notification)
        notify_teams("system_error", teams_data)

    if session is db.session():
        after_commit(tell)
    else:
        session.info.setdefault("integration_after_commit", []).append(tell)
        sa.event.listen(session, "after_commit", _run_after_commit, once=True)


def _run_after_commit(session: so.Session) -> None:
    for callback in session.info.pop("integration_after_commit", []):
        try:
            callback()
        except Exception:
            # The error is stored and the admins' rows exist; a missed push
            # or Teams card is logged, not raised into the failing call.
            log.exception("announcing an integration error failed")


def _forget_loaded_credentials(integration_id: uuid.UUID) -> None:
    """Make the request's session read the credentials and status again."""
    loaded = db.session.identity_map.get(so.Session.identity_key(Integration, integration_id))
    if loaded is not None:
        db.session.expire(
            loaded,
            ["credentials", "token_expires_at", "status", "last_error_at", "last_error_message"],
        )


# --- input ---------------------------------------------------------------------


def _settings(
    provider: Provider, data: Mapping[str, Any], errors: dict[str, str], *, creating: bool
) -> dict[str, Any]:
    """The non-secret fields present in ``data``, validated."""
    settings: dict[str, Any] = {}
    if "name" in data or creating:
        name = str(data.get("name") or "").strip() or provider.name
        if len(name) > MAX_NAME:
            errors["name"] = f"at most {MAX_NAME} characters"
        settings["name"] = name
    if "status" in data:
        status = str(data.get("status") or "")
        if status not in ("active", "inactive"):
            errors["status"] = "must be active or inactive"
        settings["status"] = status
    if data.get("sync_direction") not in (None, ""):
        direction = str(data["sync_direction"])
        if direction not in provider.directions:
            errors["sync_direction"] = "must be one of " + ", ".join(provider.directions)
        settings["sync_direction"] = direction
    if data.get("sync_frequency") not in (None, ""):
        frequency = str(data["sync_frequency"])
        if frequency not in FREQUENCIES:
            errors["sync_frequency"] = "must be one of " + ", ".join(FREQUENCIES)
        settings["sync_frequency"] = frequency
    if data.get("batch_size") not in (None, ""):
        try:
            batch_size = int(data["batch_size"])
        except (TypeError, ValueError):
            batch_size = 0
        if not 1 <= batch_size <= MAX_BATCH_SIZE:
            errors["batch_size"] = f"a whole number from 1 to {MAX_BATCH_SIZE}"
        settings["batch_size"] = batch_size
    if "webhooks_enabled" in data:
        settings["webhooks_enabled"] = _truthy(data["webhooks_enabled"])
    elif creating:
        settings["webhooks_enabled"] = False
    for name in CONFIG_FIELDS:
        if name not in data:
            continue
        value = str(data.get(name) or "").strip()
        if name == "base_url" and value:
            parts = urlsplit(value)
            schemes = (
                ("https", "http")
                if current_app.config["ALLOW_PRIVATE_WEBHOOK_URLS"]
                else ("https",)
            )
            if parts.scheme not in schemes or not parts.hostname or len(value) > 2000:
                errors["base_url"] = "must be an https:// URL"
        elif name == "auth_style" and value and value not in AUTH_STYLES:
            errors[name] = "must be bearer or header"
        elif len(value) > 120:
            errors[name] = "at most 120 characters"
        settings["config." + name] = value or None
    needs_base = provider.api_base_key and not current_app.config.get(provider.api_base_key)
    if creating and needs_base and not settings.get("config.base_url"):
        errors["base_url"] = f"required: {provider.name} is hosted per customer"
    return settings


def _secrets(
    provider: Provider, data: Mapping[str, Any], errors: dict[str, str], *, creating: bool
) -> dict[str, str]:
    secrets = {}
    for name in SECRET_FIELDS[provider.auth_method]:
        value = str(data.get(name) or "").strip()
        if len(value) > MAX_SECRET:
            errors[name] = f"at most {MAX_SECRET} characters"
        elif value:
            secrets[name] = value
        elif creating and name in REQUIRED_SECRETS[provider.auth_method]:
            errors[name] = "required"
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


def _audited(settings: dict[str, Any], secrets: dict[str, str]) -> dict[str, Any]:
    changes: dict[str, Any] = {k: v for k, v in settings.items() if v is not None}
    changes.update({name: "set" for name in secrets})
    return changes


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "on", "yes")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
