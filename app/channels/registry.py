"""Picks the transport for a channel type from configuration.

Real transports register here as the channels feature adds them; until a
provider's credentials are configured its sandbox is used.
"""

from __future__ import annotations

from flask import current_app

from app.channels.sandbox import SandboxTransport
from app.channels.transport import Transport

# channel type → (provider name, config keys that must all be set for the real one)
PROVIDERS = {
    "whatsapp_business": ("whatsapp", ("WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_ACCESS_TOKEN")),
    "email_outlook": ("graph", ("GRAPH_TENANT_ID", "GRAPH_CLIENT_ID", "GRAPH_CLIENT_SECRET")),
    "sms": ("sms", ("SMS_ACCOUNT_SID", "SMS_AUTH_TOKEN", "SMS_FROM")),
}

# provider name → factory(app config) for real transports; filled by later features.
REAL_TRANSPORTS: dict = {}

SENDABLE_CHANNELS = tuple(PROVIDERS)


def provider_for(channel_type: str) -> str:
    if channel_type not in PROVIDERS:
        raise ValueError(f"channel {channel_type!r} cannot send messages")
    return PROVIDERS[channel_type][0]


def is_sandboxed(channel_type: str) -> bool:
    provider, keys = PROVIDERS[channel_type]
    configured = all(current_app.config.get(key) for key in keys)
    return not (configured and provider in REAL_TRANSPORTS)


def transport_for(channel_type: str) -> Transport:
    provider = provider_for(channel_type)
    if is_sandboxed(channel_type):
        return SandboxTransport(provider)
    return REAL_TRANSPORTS[provider](current_app.config)
