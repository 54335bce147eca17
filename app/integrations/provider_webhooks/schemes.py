"""Provider webhook schemes beyond Stripe, HubSpot and QuickBooks, each as documented.

A scheme is a ``verify(raw_body, secret)`` that raises :class:`SignatureRefused`
and a ``split(payload)`` into :class:`ProviderEvent` s, each stored once under
the provider's own id for it (:mod:`app.integrations.provider_webhooks.receiving` receives):

- **Xero** ``x-xero-signature``: base64 HMAC-SHA256 of the body with the app's
  webhooks key. Xero's "intent to receive" posts an empty ``events`` list and
  wants 200 when signed with the key, 401 when not; events carry no id, so
  tenant, category, resource, type and ``eventDateUtc`` together name one.
- **Square** ``x-square-hmacsha256-signature``: base64 HMAC-SHA256 of the
  notification URL followed by the body, keyed with the subscription's
  signature key; ``event_id`` names the event.
- **Pipedrive** does not sign: the webhook carries the HTTP Basic user and
  password set on it in Pipedrive. v1 bodies have ``meta.action``/``object``,
  v2 ``meta.action``/``entity`` and an event id in ``meta.id``.
- **Zoho CRM** sends back in every notification the ``token`` given when
  notifications were enabled; one notification names many record ``ids``.
- **ROVIDA** publishes no documentation: we define ``Rovida-Signature:
  t=<unix>,v1=<hex>``, hex HMAC-SHA256 of ``"{t}.{body}"`` with the
  integration's webhook secret, ``t`` within ``WEBHOOK_TOLERANCE_SECONDS``, and
  the body ``{"id": "evt_…", "type": "work_order.created" | "work_order.updated",
  "data": {"work_order": …}}`` (see :mod:`app.integrations.connectors.rovida`).
- **FreshBooks** posts form fields; ``X-FreshBooks-Hmac-SHA256`` is the base64
  HMAC-SHA256, keyed with the callback's verifier, of the fields as a JSON
  object (Python ``json.dumps``, in the order sent). It sends no event id. The
  verifier comes from the registration handshake (``callback.verify``), which
  :mod:`app.integrations.provider_webhooks.freshbooks` confirms with FreshBooks.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl

from flask import current_app, request

from app.platform.json_api.errors import ApiError
from app.platform.webhooks.freshness import signed_recently, stale_message


class SignatureRefused(Exception):
    """The call is not signed with this secret, or signed too long ago."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ProviderEvent:
    """One event of a call, as stored: the provider's id for it and its own JSON."""

    dedupe_key: str
    event_type: str
    raw: bytes


def b64_hmac(key: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest()).decode()


def same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def compact(value) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def called_urls() -> list[str]:
    """The URL the provider called: as the request arrived, and under ``PUBLIC_BASE_URL``.

    Behind a proxy the two differ; a provider signs the one it was given.
    """
    public = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + request.full_path.rstrip("?")
    return list(dict.fromkeys((request.url, public)))


def verify_timestamped_hex(
    header: str, raw_body: bytes, secret: str, now: float | None = None
) -> None:
    """Stripe's scheme, which ROVIDA's copies: ``t=<unix>,v1=<hex>[,v1=…]`` in ``header``.

    Hex HMAC-SHA256 of ``"{t}.{body}"``; any ``v1`` may match (Stripe sends two
    while a secret is rolled); ``t`` within ``WEBHOOK_TOLERANCE_SECONDS``.
    """
    timestamp, signatures = None, []
    for part in request.headers.get(header, "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureRefused("invalid_signature", f"{header} is missing or malformed.")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256)
    if not any(same(given, expected.hexdigest()) for given in signatures):
        raise SignatureRefused("invalid_signature", f"{header} does not match the body.")
    if not signed_recently(timestamp, now):
        raise SignatureRefused("stale_signature", stale_message(f"{header}'s timestamp"))


def malformed(message: str, fields: dict[str, str]) -> ApiError:
    return ApiError(400, "malformed_event", message, fields)


# --- Xero -------------------------------------------------------------------------


def verify_xero(raw_body: bytes, secret: str) -> None:
    given = request.headers.get("x-xero-signature", "")
    if not given or not same(given, b64_hmac(secret, raw_body)):
        raise SignatureRefused("invalid_signature", "x-xero-signature does not match the body.")


XERO_KEYS = ("tenantId", "eventCategory", "resourceId", "eventType", "eventDateUtc")


def split_xero(payload) -> list[ProviderEvent]:
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list):
        raise malformed("This is not a Xero webhook.", {"events": "a list is required"})
    split = []
    for index, event in enumerate(events):
        if not isinstance(event, dict) or not all(event.get(k) for k in XERO_KEYS):
            raise malformed(
                "Each Xero event needs tenantId, eventCategory, resourceId, eventType "
                "and eventDateUtc.",
                {f"events[{index}]": "incomplete"},
            )
        key = ":".join(str(event[k]) for k in XERO_KEYS)
        kind = f"{event['eventCategory']}.{event['eventType']}"
        split.append(ProviderEvent(key, kind, compact(event)))
    return split


# --- Square -----------------------------------------------------------------------


def verify_square(raw_body: bytes, secret: str) -> None:
    given = request.headers.get("x-square-hmacsha256-signature", "")
    if not given:
        raise SignatureRefused("invalid_signature", "x-square-hmacsha256-signature is missing.")
    if not any(same(given, b64_hmac(secret, url.encode() + raw_body)) for url in called_urls()):
        raise SignatureRefused("invalid_signature", "x-square-hmacsha256-signature does not match.")


def split_square(payload) -> list[ProviderEvent]:
    if not isinstance(payload, dict):
        raise malformed("A Square event is a JSON object.", {"": "object required"})
    fields = {}
    for name in ("event_id", "type"):
        if not isinstance(payload.get(name), str) or not payload[name]:
            fields[name] = "required"
    if not isinstance(payload.get("data"), dict):
        fields["data"] = "required"
    if fields:
        raise malformed("This is not a Square event.", fields)
    return [ProviderEvent(payload["event_id"], payload["type"], b"")]


# --- Pipedrive --------------------------------------------------------------------


def verify_basic_auth(raw_body: bytes, secret: str) -> None:
    """``secret`` is ``user:password``, as the webhook was created with in Pipedrive."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    try:
        given = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        given = ""
    if scheme.lower() != "basic" or not given or not same(given, secret):
        raise SignatureRefused(
            "invalid_credentials", "The webhook's HTTP Basic user and password do not match."
        )


def pipedrive_event_id(meta: dict) -> str:
    """v2 (``meta.entity``) names the event in ``meta.id``; v1 has no event id, so
    webhook, object, id, action and ``timestamp_micro`` together name one change."""
    if meta.get("entity"):
        return str(meta.get("id") or "")
    return ":".join(
        str(meta.get(k, "")) for k in ("webhook_id", "object", "id", "action", "timestamp_micro")
    )


def split_pipedrive(payload) -> list[ProviderEvent]:
    meta = payload.get("meta") if isinstance(payload, dict) else None
    if not isinstance(meta, dict) or not meta.get("action"):
        raise malformed("This is not a Pipedrive webhook.", {"meta.action": "required"})
    kind = meta.get("entity") or meta.get("object")
    key = pipedrive_event_id(meta)
    if not kind or not key or (not meta.get("entity") and meta.get("id") in (None, "")):
        raise malformed(
            "A Pipedrive webhook names its object and event.", {"meta": "object or entity and id"}
        )
    return [ProviderEvent(key, f"{meta['action']}.{kind}", b"")]


# --- Zoho CRM ---------------------------------------------------------------------


def verify_zoho_token(raw_body: bytes, secret: str) -> None:
    try:
        token = json.loads(raw_body).get("token")
    except (ValueError, AttributeError, UnicodeDecodeError):
        token = None
    if not isinstance(token, str) or not same(token, secret):
        raise SignatureRefused("invalid_token", "The notification's token does not match.")


def split_zoho(payload) -> list[ProviderEvent]:
    ids = payload.get("ids") if isinstance(payload, dict) else None
    if not isinstance(ids, list) or not payload.get("module") or not payload.get("operation"):
        raise malformed(
            "This is not a Zoho CRM notification.", {"ids": "module, operation and ids required"}
        )
    events = []
    for record_id in ids:
        if not isinstance(record_id, str | int) or record_id == "":
            raise malformed("Zoho record ids are strings.", {"ids": "ids must be strings"})
        change = {
            "channel_id": str(payload.get("channel_id", "")),
            "module": payload["module"],
            "operation": payload["operation"],
            "id": str(record_id),
            "server_time": payload.get("server_time"),
            "affected_fields": payload.get("affected_fields"),
        }
        key = ":".join(
            str(change[k]) for k in ("channel_id", "module", "operation", "id", "server_time")
        )
        events.append(
            ProviderEvent(key, f"{payload['module']}.{payload['operation']}", compact(change))
        )
    return events


# --- FreshBooks -------------------------------------------------------------------


def form_fields(raw_body: bytes) -> dict[str, str]:
    try:
        return dict(parse_qsl(raw_body.decode(), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError as exc:
        raise malformed("The form is not UTF-8.", {"": str(exc)}) from exc


def verify_freshbooks(raw_body: bytes, secret: str) -> None:
    given = request.headers.get("X-FreshBooks-Hmac-SHA256", "")
    signed = json.dumps(form_fields(raw_body)).encode()
    if not given or not same(given, b64_hmac(secret, signed)):
        raise SignatureRefused(
            "invalid_signature", "X-FreshBooks-Hmac-SHA256 does not match the form."
        )


def split_freshbooks(fields) -> list[ProviderEvent]:
    """One event per call. FreshBooks gives no event id and no time, so nothing tells a
    retried call from a second change to the same object: every call is kept (a
    retry shows twice) rather than a later change being dropped as a repeat."""
    missing = {k: "required" for k in ("name", "object_id") if not fields.get(k)}
    if missing:
        raise malformed("This is not a FreshBooks webhook.", missing)
    return [ProviderEvent(f"{fields['name']}:{uuid.uuid4()}", fields["name"], compact(fields))]


# --- ROVIDA -----------------------------------------------------------------------


def verify_rovida(raw_body: bytes, secret: str) -> None:
    verify_timestamped_hex("Rovida-Signature", raw_body, secret)


def split_rovida(payload) -> list[ProviderEvent]:
    if not isinstance(payload, dict):
        raise malformed("A ROVIDA event is a JSON object.", {"": "object required"})
    fields = {}
    for name in ("id", "type"):
        if not isinstance(payload.get(name), str) or not payload[name]:
            fields[name] = "required"
    if not isinstance((payload.get("data") or {}).get("work_order"), dict):
        fields["data.work_order"] = "required"
    if fields:
        raise malformed("This is not a ROVIDA event.", fields)
    return [ProviderEvent(payload["id"], payload["type"], b"")]  # b"": the body itself is stored
