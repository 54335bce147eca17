"""Which transport sends for a provider: its real one when configured, else the sandbox.

The channels declare their transports in their ``FEATURE`` (a
:class:`~app.platform.features.TransportSpec` each: the provider's name, the channel
type it sends for, the settings it needs and its real class); this module is
the one place that chooses between real and sandbox. Callers name a provider
(``whatsapp``, ``graph``, ``sms``, ``sendgrid``, ``teams``) or a conversation's
channel type (``whatsapp_business``, ``email_outlook``, ``sms``).
"""

from __future__ import annotations

from flask import current_app

from app.platform.features import TransportSpec, resolve
from app.platform.transports.base import Transport
from app.platform.transports.sandbox import SandboxTransport


def specs() -> dict[str, TransportSpec]:
    """Every provider's transport, by provider name, in the features' order."""
    return current_app.extensions["features"].transports


def spec_for(name: str) -> TransportSpec:
    """The transport of a provider, or of the provider sending for a channel type."""
    known = specs()
    if name in known:
        return known[name]
    for spec in known.values():
        if spec.channel_type == name:
            return spec
    raise ValueError(f"{name!r} cannot send messages")


def sendable_channel_types() -> tuple[str, ...]:
    return tuple(spec.channel_type for spec in specs().values() if spec.channel_type)


def provider_for(name: str) -> str:
    return spec_for(name).provider


def is_sandboxed(name: str) -> bool:
    """Whether sends for ``name`` go to the sandbox (a setting it needs is unset)."""
    config = current_app.config
    return not all(config.get(key) for key in spec_for(name).requires)


def transport_for(name: str) -> Transport:
    spec = spec_for(name)
    if is_sandboxed(name):
        shape = resolve(spec.shape) if spec.shape else None
        return SandboxTransport(spec.provider, shape=shape, config=current_app.config)
    return resolve(spec.real)(current_app.config)
