"""Picks the transport for a channel type from configuration.

Real transports register here as the channels feature adds them; until a
provider's credentials are configured its sandbox is used.
"""

from __future__ import annotations

import importlib

from flask import current_app

from app.channels.sandbox import SandboxTransport
from app.channels.transport import Transport

# channel type → (provider name, config keys that must all be set for the real one)
PROVIDERS = {
    "whatsapp_business": ("whatsapp", ("WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_ACCESS_TOKEN")),
    "email_outlook": (
        "graph",
        ("GRAPH_TENANT_ID", "GRAPH_CLIENT_ID", "GRAPH_CLIENT_SECRET", "GRAPH_MAILBOX"),
    ),
    "sms": ("sms", ("SMS_ACCOUNT_SID", "SMS_AUTH_TOKEN", "SMS_FROM")),
}

# provider name → "module:Class" of the real transport, built with the app config.
# Imported only when that provider is configured, so a sandbox deployment never
# loads a provider client it does not use.
REAL_TRANSPORTS: dict[str, str] = {
    "whatsapp": "app.channels.whatsapp.transport:WhatsAppTransport",
    "graph": "app.channels.outlook.transport:GraphTransport",
    "sms": "app.channels.sms.transport:SmsTransport",
}

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
    module, _, name = REAL_TRANSPORTS[provider].partition(":")
    return getattr(importlib.import_module(module), name)(current_app.config)
