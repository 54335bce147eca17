"""Integration credentials and OAuth access tokens: reading, refreshing, keeping.

Credentials (API keys, OAuth client secrets and tokens, webhook signing secrets)
live only in ``Integration.credentials``, which the model encrypts; connectors
get them from :func:`integration_credentials` and :func:`access_token`.

Token refreshes commit in a session of their own, because a rotated refresh
token must be kept even if the caller's work rolls back. A refused refresh
marks the integration ``error`` and alerts the admins once per breakage.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from app.conversations.channels.teams.sender import notify_teams
from app.conversations.notifications.services import announce, create_notification
from app.integrations.oauth import flow
from app.integrations.registry import PROVIDERS
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import AuditLog, Integration, User
from app.platform.models.enums import Priority, Role
from app.platform.system_texts import text
from app.platform.transactions import after_commit

log = logging.getLogger(__name__)

# The audit log's table name for integration rows.
TABLE = "integrations"
# access_token() refreshes a token this close to its expiry; the periodic job
# looks further ahead so that on-use refreshes are rare.
REFRESH_MARGIN = timedelta(minutes=5)
PERIODIC_REFRESH_MARGIN = timedelta(minutes=15)
TOKEN_FIELDS = ("access_token", "refresh_token", "token_type", "expires_at", "scope")
ADMIN_NOTIFICATION_TYPE = "integration_error"


class IntegrationAuthError(RuntimeError):
    """No usable credential: not connected, or the provider refused a refresh."""


def integration_credentials(integration: Integration) -> dict[str, Any]:
    """The decrypted credentials (a copy); for connectors, never for display."""
    return dict(integration.credentials or {})


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
            token = flow.refresh(
                provider, credentials, timeout=current_app.config.get("OAUTH_TIMEOUT", 10)
            )
        except flow.OAuthFailed as exc:
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
    title = text("notification.integration_broken", integration=integration.name)
    admins = session.scalars(
        sa.select(User).where(User.role == Role.ADMIN, User.is_active_account.is_(True))
    ).all()
    notifications = []
    for admin in admins:
        notification = create_notification(
            admin.id,
            ADMIN_NOTIFICATION_TYPE,
            title,
            text("notification.integration_reconnect", problem=message),
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


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
