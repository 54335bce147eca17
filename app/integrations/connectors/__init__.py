"""Connectors: one provider's API behind the :class:`Connector` interface.

:func:`connector_for` picks the class the registry names for the integration's
provider (``hubspot``, ``quickbooks``, ``stripe``, otherwise the generic REST
connector) and points it at the configured base URL, so tests and staging aim
every call at a fake server by configuration alone.
"""

from __future__ import annotations

from flask import current_app

from app.integrations import oauth
from app.integrations.connectors.base import Connector, ConnectorError, ListScope, readable
from app.integrations.connectors.generic import GenericRestConnector
from app.integrations.connectors.hubspot import HubSpotConnector
from app.integrations.connectors.quickbooks import QuickBooksConnector
from app.integrations.connectors.rovida import RovidaConnector
from app.integrations.connectors.stripe import StripeConnector
from app.integrations.connectors.yardi import YardiConnector
from app.integrations.registry import get_provider
from app.platform.models import Integration

__all__ = [
    "Connector",
    "ConnectorError",
    "ListScope",
    "connector_class",
    "connector_for",
    "readable",
    "CONNECTORS",
]

CONNECTORS: dict[str, type[Connector]] = {
    "hubspot": HubSpotConnector,
    "quickbooks": QuickBooksConnector,
    "stripe": StripeConnector,
    "rovida": RovidaConnector,
    "yardi": YardiConnector,
    "generic": GenericRestConnector,
}
# The real providers' documented API hosts, used when config does not say.
DEFAULT_BASES = {
    "HUBSPOT_API_BASE": "https://api.hubapi.com",
    "QUICKBOOKS_API_BASE": "https://quickbooks.api.intuit.com",
    "STRIPE_API_BASE": "https://api.stripe.com",
}


def connector_class(provider_key: str) -> type[Connector]:
    """The connector class a provider's integrations use (its page limit, its objects)."""
    provider = get_provider(provider_key)
    return CONNECTORS.get(provider.connector if provider else "", GenericRestConnector)


def connector_for(integration: Integration) -> Connector:
    """The connector that talks to ``integration``'s provider with its credentials.

    ConnectorError when the provider is unknown or the generic connector has no
    base URL to call.
    """
    provider = get_provider(integration.provider)
    if provider is None:
        raise ConnectorError(f"unknown provider {integration.provider!r}")
    config = dict(integration.config or {})
    cls = CONNECTORS.get(provider.connector, GenericRestConnector)
    per_tenant = cls is GenericRestConnector or provider.category == "property"
    base_url = _base_url(provider.api_base_key, config, generic=per_tenant)
    if not base_url:
        raise ConnectorError(f"no API base URL is configured for {provider.name}")
    return cls(
        base_url,
        _token_source(integration),
        config=config,
        page_size=integration.batch_size or 100,
    )


def _token_source(integration: Integration):
    def token() -> str:
        try:
            return oauth.access_token(integration)
        except oauth.IntegrationAuthError as exc:
            # Same as the provider refusing the token: the run stops, nothing retries.
            raise ConnectorError(str(exc), retryable=False, status=401) from exc

    return token


def _base_url(config_key: str | None, integration_config: dict, generic: bool) -> str:
    # A generic integration's own base_url wins (each tenant of Yardi has its own
    # host); the real connectors always use the configured provider host.
    if generic and integration_config.get("base_url"):
        return str(integration_config["base_url"])
    if not config_key:
        return ""
    return str(current_app.config.get(config_key) or DEFAULT_BASES.get(config_key, ""))
