"""Teams behind the transport interface: an Adaptive Card posted to a team's webhook.

The recipient is the team's name (operations, management, tech); its URL comes
from ``TEAMS_WEBHOOK_URLS``. A team without a URL is sandboxed on its own, so
one configured team does not make the others fail. A message carries its card
(``payload``); a plain one (the channels page's test) gets the test card.

The URLs carry their own signature (``sig=``) and are secrets: they are never
logged, only the team's name is.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import requests

from app.conversations.channels.teams.cards import TEAMS, build_test_message
from app.platform.transports.base import OutboundMessage, SendResult, TransportError
from app.platform.transports.health import record_failure, record_success
from app.platform.transports.ratelimit import take_send_slot
from app.platform.transports.sandbox import SandboxTransport

PROVIDER = "teams"
TIMEOUT = (5, 15)  # (connect, read) seconds


class TeamsTransport:
    provider = PROVIDER

    def __init__(self, config: Mapping) -> None:
        self.config = config

    def send(self, message: OutboundMessage) -> SendResult:
        team = message.recipient
        if team not in TEAMS:
            raise TransportError(
                f"Unknown team {team!r}; use one of {', '.join(TEAMS)}.", retryable=False
            )
        card = message.payload or plain_card(message, self.config)
        url = (self.config.get("TEAMS_WEBHOOK_URLS") or {}).get(team)
        if not url:
            return SandboxTransport(PROVIDER).send(
                OutboundMessage(None, "teams", team, message.body, payload=card)
            )
        take_send_slot(PROVIDER)
        _post(url, card, team)
        record_success(PROVIDER)
        return SendResult(external_message_id=f"teams.{uuid.uuid4().hex}", status="delivered")


def plain_card(message: OutboundMessage, config: Mapping) -> dict:
    """The card for a message without one: the channels page's test card."""
    return build_test_message(message.recipient, config["PUBLIC_BASE_URL"])


def _post(url: str, card: dict, team: str) -> None:
    try:
        response = requests.post(url, json=card, timeout=TIMEOUT)
    except requests.RequestException as exc:
        # Not str(exc): it would contain the URL, and the URL is the secret.
        error = f"unreachable ({type(exc).__name__})"
        record_failure(PROVIDER, f"{team}: {error}")
        raise TransportError(error, retryable=True) from exc
    if 200 <= response.status_code < 300:
        return
    status = response.status_code
    error = f"HTTP {status}: {response.text[:200].strip() or response.reason}"
    record_failure(PROVIDER, f"{team}: {error}")
    raise TransportError(
        error,
        retryable=status in (408, 429) or status >= 500,
        retry_after=_retry_after(response) if status == 429 else None,
    )


def _retry_after(response: requests.Response) -> float | None:
    try:
        return max(float(response.headers.get("Retry-After", "")), 0.0) or None
    except ValueError:  # an HTTP date instead of seconds: fall back to the caller's backoff
        return None
