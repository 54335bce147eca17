"""Provider webhooks of the integration hub: each checked with the provider's own scheme.

``POST /api/v1/webhooks/<provider>`` for every provider whose registry entry
declares a ``webhook`` (its scheme and the credential holding its secret); the
schemes of Xero, Square, Pipedrive, Zoho CRM, FreshBooks and ROVIDA are in
:mod:`app.integrations.provider_webhooks.schemes`. Stripe, HubSpot and QuickBooks Online:

- **Stripe** ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]``: hex HMAC-SHA256 of
  ``"{t}.{body}"`` with the endpoint's signing secret (``whsec_…``, used as
  text); any ``v1`` may match (Stripe sends two while a secret is rolled);
  ``t`` within ``WEBHOOK_TOLERANCE_SECONDS`` (300 s).
- **HubSpot v3** ``X-HubSpot-Signature-v3``: base64 HMAC-SHA256, keyed with the
  app's client secret, of ``method + uri + body + timestamp`` where the
  timestamp is ``X-HubSpot-Request-Timestamp`` (milliseconds), at most
  ``WEBHOOK_TOLERANCE_SECONDS`` (5 minutes) away. The URI is the one HubSpot
  called, so both the URL as the request arrived and the same path under
  ``PUBLIC_BASE_URL`` (behind a proxy) are tried.
- **QuickBooks** ``intuit-signature``: base64 HMAC-SHA256 of the body keyed
  with the app's verifier token.

The signing secret belongs to an active :class:`Integration` of that provider
(``credentials[provider.webhook.credential]``: ``webhook_secret``,
``client_secret``, ``verifier_token``, …); with several, the one whose secret verifies the call
is the one it came from. A verified call is split into the provider's events
(HubSpot and QuickBooks send batches), each stored once under the provider's
own event id, and answered at once; :mod:`app.integrations.provider_webhooks.routing`
turns them into platform events in the webhook job.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import request

from app.integrations.provider_webhooks.freshbooks import split_verification
from app.integrations.provider_webhooks.schemes import (
    ProviderEvent,
    SignatureRefused,
    b64_hmac,
    called_urls,
    compact,
    form_fields,
    same,
    split_freshbooks,
    split_pipedrive,
    split_rovida,
    split_square,
    split_xero,
    split_zoho,
    verify_basic_auth,
    verify_freshbooks,
    verify_rovida,
    verify_square,
    verify_timestamped_hex,
    verify_xero,
    verify_zoho_token,
)
from app.integrations.registry import get_provider
from app.platform.extensions import db
from app.platform.json_api.errors import ApiError
from app.platform.models import InboundWebhookEvent, Integration
from app.platform.security.bodies import loads as untrusted_json
from app.platform.webhooks.freshness import signed_recently, stale_message
from app.platform.webhooks.processing import UnprocessableEvent
from app.platform.webhooks.recording import kept_headers, parse_json, read_raw_body, record_event

# The stored event names the integration it was verified for, for the job.
INTEGRATION_HEADER = "x-switchboard-integration-id"


def integration_of(event: InboundWebhookEvent) -> Integration:
    """The integration a stored event was verified for (its processor's first step).

    Deleted since the call came in: the event cannot be processed, and retrying
    will not bring the integration back.
    """
    raw_id = (event.headers or {}).get(INTEGRATION_HEADER)
    try:
        integration = db.session.get(Integration, uuid.UUID(raw_id)) if raw_id else None
    except ValueError:
        integration = None
    if integration is None:
        raise UnprocessableEvent("the integration this event was verified for no longer exists")
    return integration


# HubSpot signs the URI with these characters decoded (its validation docs).
HUBSPOT_DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}


# --- Stripe ---------------------------------------------------------------------


def verify_stripe(raw_body: bytes, secret: str, now: float | None = None) -> None:
    verify_timestamped_hex("Stripe-Signature", raw_body, secret, now)


def split_stripe(payload) -> list[ProviderEvent]:
    if not isinstance(payload, dict):
        raise ApiError(400, "malformed_event", "A Stripe event is a JSON object.")
    event_id, event_type = payload.get("id"), payload.get("type")
    fields = {}
    if not isinstance(event_id, str) or not event_id.startswith("evt_"):
        fields["id"] = "must be a Stripe event id (evt_…)"
    if not isinstance(event_type, str) or not event_type:
        fields["type"] = "required"
    if not isinstance((payload.get("data") or {}).get("object"), dict):
        fields["data.object"] = "required"
    if fields:
        raise ApiError(400, "malformed_event", "This is not a Stripe event.", fields)
    return [ProviderEvent(event_id, event_type, b"")]  # b"": the body itself is stored


# --- HubSpot --------------------------------------------------------------------


def hubspot_uri_candidates() -> list[str]:
    candidates = []
    for uri in called_urls():
        for encoded, plain in HUBSPOT_DECODED.items():
            uri = uri.replace(encoded, plain).replace(encoded.lower(), plain)
        if uri not in candidates:
            candidates.append(uri)
    return candidates


def verify_hubspot(raw_body: bytes, secret: str, now_ms: int | None = None) -> None:
    given = request.headers.get("X-HubSpot-Signature-v3", "")
    timestamp = request.headers.get("X-HubSpot-Request-Timestamp", "").strip()
    if not given or not timestamp.isdigit():
        raise SignatureRefused(
            "invalid_signature",
            "X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp is missing.",
        )
    signed_tail = raw_body + timestamp.encode()
    if not any(
        same(given, b64_hmac(secret, f"{request.method}{uri}".encode() + signed_tail))
        for uri in hubspot_uri_candidates()
    ):
        raise SignatureRefused("invalid_signature", "X-HubSpot-Signature-v3 does not match.")
    now = None if now_ms is None else now_ms / 1000
    if not signed_recently(int(timestamp) / 1000, now):
        raise SignatureRefused("stale_signature", stale_message("X-HubSpot-Request-Timestamp"))


def split_hubspot(payload) -> list[ProviderEvent]:
    items = payload if isinstance(payload, list) else [payload]
    events = []
    for index, item in enumerate(items):
        if (
            not isinstance(item, dict)
            or item.get("eventId") in (None, "")
            or not item.get("subscriptionType")
        ):
            raise ApiError(
                400,
                "malformed_event",
                "Every HubSpot event needs eventId and subscriptionType.",
                {f"[{index}]": "eventId and subscriptionType are required"},
            )
        events.append(
            ProviderEvent(str(item["eventId"]), str(item["subscriptionType"]), compact(item))
        )
    return events


# --- QuickBooks Online ----------------------------------------------------------


def verify_quickbooks(raw_body: bytes, secret: str) -> None:
    given = request.headers.get("intuit-signature", "")
    if not given:
        raise SignatureRefused("invalid_signature", "intuit-signature is missing.")
    if not same(given, b64_hmac(secret, raw_body)):
        raise SignatureRefused("invalid_signature", "intuit-signature does not match the body.")


def split_quickbooks(payload) -> list[ProviderEvent]:
    """One stored event per changed entity of ``eventNotifications[].dataChangeEvent``.

    QuickBooks gives no event id: realm, entity, id, operation and
    ``lastUpdated`` together name one change, and a redelivery repeats them.
    """
    notifications = payload.get("eventNotifications") if isinstance(payload, dict) else None
    if not isinstance(notifications, list) or not notifications:
        raise ApiError(
            400,
            "malformed_event",
            "This is not a QuickBooks notification.",
            {"eventNotifications": "a non-empty list is required"},
        )
    events = []
    for n, notification in enumerate(notifications):
        realm = (notification or {}).get("realmId")
        entities = ((notification or {}).get("dataChangeEvent") or {}).get("entities")
        if not realm or not isinstance(entities, list):
            raise ApiError(
                400,
                "malformed_event",
                "Each notification needs realmId and dataChangeEvent.entities.",
                {f"eventNotifications[{n}]": "realmId and dataChangeEvent.entities required"},
            )
        for e, entity in enumerate(entities):
            keys = ("name", "id", "operation")
            if not isinstance(entity, dict) or not all(entity.get(k) for k in keys):
                raise ApiError(
                    400,
                    "malformed_event",
                    "Each entity needs name, id and operation.",
                    {f"eventNotifications[{n}].dataChangeEvent.entities[{e}]": "incomplete"},
                )
            change = {"realmId": str(realm), **entity}
            key = ":".join(
                str(change.get(k, ""))
                for k in ("realmId", "name", "id", "operation", "lastUpdated")
            )
            events.append(
                ProviderEvent(key, f"{entity['name']}.{entity['operation']}", compact(change))
            )
    return events


@dataclass(frozen=True)
class Scheme:
    verify: Callable[[bytes, str], None]
    split: Callable[[Any], list[ProviderEvent]]
    parse: Callable[[bytes], Any] | None = None  # None: the body is JSON
    # A registration handshake the provider cannot sign yet: its events, or None
    # for an ordinary call (FreshBooks' callback.verify, see provider_webhooks.freshbooks).
    handshake: Callable[[Any], list[ProviderEvent] | None] | None = None


# By the ``scheme`` a provider declares in the registry (``Provider.webhook``).
SCHEMES: dict[str, Scheme] = {
    "stripe": Scheme(verify_stripe, split_stripe),
    "hubspot_v3": Scheme(verify_hubspot, split_hubspot),
    "intuit": Scheme(verify_quickbooks, split_quickbooks),
    "xero": Scheme(verify_xero, split_xero),
    "square": Scheme(verify_square, split_square),
    "basic_auth": Scheme(verify_basic_auth, split_pipedrive),
    "zoho_token": Scheme(verify_zoho_token, split_zoho),
    "freshbooks": Scheme(
        verify_freshbooks, split_freshbooks, parse=form_fields, handshake=split_verification
    ),
    "rovida": Scheme(verify_rovida, split_rovida),
}


# --- receiving --------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    integration_id: str
    stored: int
    duplicates: int


def receive(provider: str) -> Received:
    """Verify, split and store one provider call in the session (the route commits)."""
    declared = get_provider(provider)
    verification = declared.webhook if declared else None
    scheme = SCHEMES.get(verification.scheme) if verification else None
    if scheme is None:
        raise ApiError(404, "unknown_provider", f"No webhook receiver for {provider!r}.")
    raw_body = read_raw_body()
    events = scheme.handshake((scheme.parse or _parse)(raw_body)) if scheme.handshake else None
    if events is not None:
        # Unsigned by nature; nothing is trusted until the provider confirms it
        # in the job (app.integrations.provider_webhooks.freshbooks says why that is safe).
        integration = _active_integrations(provider)[0]
    else:
        integration = _verified_integration(provider, scheme, verification.credential, raw_body)
        events = scheme.split((scheme.parse or _parse)(raw_body))
    headers = kept_headers()
    headers[INTEGRATION_HEADER] = str(integration.id)
    stored = 0
    for event in events:
        _, is_new = record_event(
            provider,
            event.dedupe_key,
            event.raw or raw_body,
            event_type=event.event_type[:120],
            headers=headers,
        )
        stored += is_new
    return Received(str(integration.id), stored, len(events) - stored)


def _parse(raw_body: bytes):
    try:
        return untrusted_json(raw_body)
    except (ValueError, UnicodeDecodeError):
        return parse_json(raw_body)  # raises the shared 400 with the parser's words


def _active_integrations(provider: str) -> list[Integration]:
    integrations = db.session.scalars(
        sa.select(Integration)
        .where(Integration.provider == provider, Integration.status == "active")
        .options(so.undefer(Integration.credentials))
        .order_by(Integration.created_at)
    ).all()
    if not integrations:
        raise ApiError(404, "no_integration", f"There is no active {provider} integration.")
    return list(integrations)


def _verified_integration(
    provider: str, scheme: Scheme, credential: str, raw_body: bytes
) -> Integration:
    refusal = None
    for integration in _active_integrations(provider):
        secret = (integration.credentials or {}).get(credential)
        if not secret:
            continue
        try:
            scheme.verify(raw_body, secret)
        except SignatureRefused as exc:
            # A stale but genuine call says more than another secret's mismatch.
            if refusal is None or exc.code == "stale_signature":
                refusal = exc
            continue
        return integration
    if refusal is None:
        raise ApiError(
            401, "not_configured", f"No {provider} integration has a secret to verify calls with."
        )
    raise ApiError(401, refusal.code, refusal.message)
