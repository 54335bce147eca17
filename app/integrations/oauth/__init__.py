"""OAuth and tokens: the authorization-code flow, and an integration's credentials and tokens."""

from app.integrations.oauth.flow import (
    STATE_KEY,
    OAuthFailed,
    PendingAuthorization,
    authorization_url,
    claim_state,
    exchange_code,
    redirect_uri,
)
from app.integrations.oauth.tokens import (
    TABLE,
    IntegrationAuthError,
    access_token,
    integration_credentials,
    refresh_expiring_tokens,
    store_tokens,
)

__all__ = [
    "STATE_KEY",
    "TABLE",
    "IntegrationAuthError",
    "OAuthFailed",
    "PendingAuthorization",
    "access_token",
    "authorization_url",
    "claim_state",
    "exchange_code",
    "integration_credentials",
    "redirect_uri",
    "refresh_expiring_tokens",
    "store_tokens",
]
