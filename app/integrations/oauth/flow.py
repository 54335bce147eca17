"""OAuth 2.0 authorization-code flow with ``state`` and PKCE (S256), via Authlib.

Protocol only: building the authorize URL, keeping the flow's state and code
verifier server-side, exchanging the code and refreshing tokens. Storing the
tokens and marking integrations is :mod:`app.integrations.oauth.tokens`' job.

The state and code verifier sit in Redis for ten minutes under the state value,
bound to the admin who started the flow; a callback claims them once, so a
replayed or forged callback finds nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from flask import current_app

from app.integrations.registry import Provider

STATE_TTL_SECONDS = 600
STATE_KEY = "switchboard:integrations:oauth-state:{}"
DEFAULT_TIMEOUT = 10
# Fixed rather than url_for(): workers refreshing tokens have no request to build from.
CALLBACK_PATH = "/integrations/oauth/callback"


class OAuthFailed(RuntimeError):
    """The provider refused or could not be reached; the message holds no secret."""


@dataclass(frozen=True)
class PendingAuthorization:
    integration_id: uuid.UUID
    user_id: str
    code_verifier: str


def redirect_uri() -> str:
    """PUBLIC_BASE_URL + the callback path: what the provider must send the admin back to."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return base + CALLBACK_PATH


def authorization_url(
    provider: Provider, credentials: Mapping[str, Any], integration_id: uuid.UUID, user_id: str
) -> str:
    """Remember a new state + code verifier and return the provider's authorize URL."""
    state = generate_token(40)
    code_verifier = generate_token(64)
    pending = {
        "integration_id": str(integration_id),
        "user_id": str(user_id),
        "code_verifier": code_verifier,
    }
    _redis().set(STATE_KEY.format(state), json.dumps(pending), ex=STATE_TTL_SECONDS)
    session = _session(provider, credentials)
    url, _ = session.create_authorization_url(
        _config_url(provider.oauth_authorize_url_key),
        state=state,
        code_verifier=code_verifier,
        **provider.oauth_extra_params,
    )
    return url


def claim_state(state: str, user_id: str) -> PendingAuthorization | None:
    """The flow ``state`` belongs to, once; None if unknown, expired, used or someone else's."""
    if not state or len(state) > 200:
        return None
    key = STATE_KEY.format(state)
    pipe = _redis().pipeline()
    pipe.get(key)
    pipe.delete(key)
    raw, deleted = pipe.execute()
    if not raw or not deleted:
        return None
    pending = json.loads(raw)
    if pending["user_id"] != str(user_id):
        return None
    return PendingAuthorization(
        integration_id=uuid.UUID(pending["integration_id"]),
        user_id=pending["user_id"],
        code_verifier=pending["code_verifier"],
    )


def exchange_code(
    provider: Provider, credentials: Mapping[str, Any], code: str, code_verifier: str
) -> dict[str, Any]:
    """Trade the authorization code (with its PKCE verifier) for tokens."""
    session = _session(provider, credentials)
    try:
        token = session.fetch_token(
            _config_url(provider.oauth_token_url_key),
            grant_type="authorization_code",
            code=code,
            code_verifier=code_verifier,
        )
    except (OAuthError, requests.RequestException, ValueError) as exc:
        raise OAuthFailed(_describe(exc)) from exc
    return _checked(token)


def refresh(provider: Provider, credentials: Mapping[str, Any], timeout: float) -> dict[str, Any]:
    """Spend the refresh token for a new access token (and maybe a new refresh token)."""
    refresh_token = credentials.get("refresh_token")
    if not refresh_token:
        raise OAuthFailed("there is no refresh token; reconnect the integration")
    session = _session(provider, credentials, timeout=timeout)
    try:
        token = session.refresh_token(
            _config_url(provider.oauth_token_url_key), refresh_token=refresh_token
        )
    except (OAuthError, requests.RequestException, ValueError) as exc:
        raise OAuthFailed(_describe(exc)) from exc
    return _checked(token)


def _session(
    provider: Provider, credentials: Mapping[str, Any], timeout: float = DEFAULT_TIMEOUT
) -> OAuth2Session:
    return OAuth2Session(
        client_id=credentials.get("client_id"),
        client_secret=credentials.get("client_secret"),
        token_endpoint_auth_method=f"client_secret_{provider.client_auth}",
        scope=" ".join(provider.oauth_scopes) or None,
        redirect_uri=redirect_uri(),
        code_challenge_method="S256",
        default_timeout=timeout,
    )


def _checked(token: Mapping[str, Any]) -> dict[str, Any]:
    if not token.get("access_token"):
        raise OAuthFailed("the token endpoint answered without an access_token")
    return dict(token)


def _describe(exc: Exception) -> str:
    """A reason fit for a page and a log line: the OAuth error code, never a body."""
    if isinstance(exc, OAuthError):
        return f"the provider refused: {exc.error}"
    if isinstance(exc, requests.Timeout):
        return "the token endpoint did not answer in time"
    if isinstance(exc, requests.RequestException):
        return "the token endpoint could not be reached"
    return "the token endpoint's answer was not understood"


def _config_url(key: str | None) -> str:
    url = current_app.config.get(key) if key else None
    if not url:
        raise OAuthFailed(f"{key or 'an OAuth URL'} is not configured")
    return url


def _redis():
    return current_app.extensions["broker"].connection
