"""What Switchboard remembers about its Graph connection, on the Outlook channel.

The subscription id, its expiry and the delta link are settings (readable, in
``configuration``); the subscription's ``clientState`` is a shared secret and
lives in the encrypted ``credentials``. JSON columns are replaced, never mutated
in place, so SQLAlchemy sees every change.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app

from app.conversations import channel_of_type
from app.models import CommunicationChannel
from app.models.enums import ChannelType

SUBSCRIPTION = "graph_subscription"
DELTA = "graph_delta"
CLIENT_STATE = "graph_client_state"


def outlook_channel() -> CommunicationChannel:
    """The e-mail channel Graph mail arrives on (created on first use)."""
    return channel_of_type(ChannelType.EMAIL_OUTLOOK)


def subscription_of(channel: CommunicationChannel) -> dict | None:
    return (channel.configuration or {}).get(SUBSCRIPTION)


def save_subscription(channel: CommunicationChannel, subscription: dict | None) -> None:
    settings = dict(channel.configuration or {})
    if subscription is None:
        settings.pop(SUBSCRIPTION, None)
    else:
        settings[SUBSCRIPTION] = subscription
    channel.configuration = settings


def delta_of(channel: CommunicationChannel) -> dict | None:
    return (channel.configuration or {}).get(DELTA)


def save_delta(channel: CommunicationChannel, delta: dict | None) -> None:
    settings = dict(channel.configuration or {})
    if delta is None:
        settings.pop(DELTA, None)
    else:
        settings[DELTA] = delta
    channel.configuration = settings


def client_state_of(channel: CommunicationChannel) -> str | None:
    return (channel.credentials or {}).get(CLIENT_STATE)


def save_client_state(channel: CommunicationChannel, value: str) -> None:
    channel.credentials = {**(channel.credentials or {}), CLIENT_STATE: value}


@contextmanager
def exclusive(name: str, ttl_seconds: int) -> Iterator[bool]:
    """Yield True when this process may do ``name`` now, False when another is at it.

    Several workers may run the same periodic job or lifecycle handling at once;
    two delta walks would store the same messages concurrently and two subscription
    creations would leave Graph notifying twice. The lock expires by itself, so a
    crashed worker cannot hold it for longer than ``ttl_seconds``.
    """
    connection = current_app.extensions["broker"].connection
    key = f"switchboard:outlook:{name}"
    token = uuid.uuid4().hex
    acquired = bool(connection.set(key, token, nx=True, ex=ttl_seconds))
    try:
        yield acquired
    finally:
        if acquired and _as_text(connection.get(key)) == token:
            connection.delete(key)


def _as_text(value) -> str | None:
    return value.decode() if isinstance(value, bytes) else value
