"""Where a partner's callback goes: the live settings, or the sandbox's for a test order.

A partner has two sets of callback settings: the live ones
(``webhook_url``, ``webhook_events``, ``webhook_secret``), changed with a live
key, and the sandbox's (``sandbox_webhook_url``, ``sandbox_webhook_events``,
``sandbox_webhook_secret``), changed with a test key. A test key must never
choose where a live order's callback (a live customer's name and e-mail
address) is sent, so the two never mix, with one exception the partner asks
for: while the sandbox URL is empty and ``test_callbacks_to_live_url`` is on,
test callbacks go to the live URL, signed with the live secret its receiver
holds. Otherwise a test callback is recorded as not sent, with the reason.

Both the writing of a callback (:mod:`app.orders.deliveries.partner_callbacks`) and
each attempt to send it (:mod:`app.orders.deliveries.targets`) ask here, so a partner
who changes its settings in between is followed by the retry.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.orders.deliveries.outbox import disabled_note
from app.platform.models import PartnerIntegration

NO_SANDBOX_URL = (
    "not sent: test callbacks go to the sandbox webhook URL, which is empty "
    "(set one, or choose to receive test callbacks at the live URL)"
)
SANDBOX_UNSIGNED = (
    "not sent: the sandbox has no signing secret yet (make one: portal, Webhook, "
    "Test (sandbox), New secret)"
)


@dataclass(frozen=True)
class CallbackRoute:
    """Where one order's callbacks go now, with which events and secrets."""

    url: str | None
    events: tuple[str, ...]
    # Current first; a replaced one during its overlap after it.
    secrets: tuple[str, ...]
    # Why nothing is sent (no URL, no secret, an endpoint disabled after a 410).
    not_sent: str | None
    # The live endpoint is addressed: its 410 switches it off.
    live_endpoint: bool


def route_for(integration: PartnerIntegration, *, test: bool) -> CallbackRoute:
    """The route of a live (``test`` False) or a test order's callbacks."""
    if not test:
        return _live(integration, events=integration.webhook_events)
    events = integration.sandbox_webhook_events or []
    sandbox_url = (integration.sandbox_webhook_url or "").strip()
    if sandbox_url:
        secrets = tuple(integration.sandbox_signing_secrets())
        return CallbackRoute(
            url=sandbox_url,
            events=tuple(str(e) for e in events),
            secrets=secrets,
            not_sent=None if secrets else SANDBOX_UNSIGNED,
            live_endpoint=False,
        )
    if integration.test_callbacks_to_live_url and (integration.webhook_url or "").strip():
        return _live(integration, events=events)
    return CallbackRoute(
        url=None,
        events=tuple(str(e) for e in events),
        secrets=(),
        not_sent=NO_SANDBOX_URL,
        live_endpoint=False,
    )


def _live(integration: PartnerIntegration, *, events) -> CallbackRoute:
    url = (integration.webhook_url or "").strip() or None
    secrets = tuple(integration.signing_secrets())
    if integration.webhook_disabled_at is not None:
        not_sent = disabled_note(integration)
    elif url is None:
        not_sent = "not sent: the partner has no webhook URL"
    elif not secrets:
        not_sent = "not sent: the partner has no webhook secret to sign with"
    else:
        not_sent = None
    return CallbackRoute(
        url=url,
        events=tuple(str(e) for e in events or []),
        secrets=secrets,
        not_sent=not_sent,
        live_endpoint=True,
    )
