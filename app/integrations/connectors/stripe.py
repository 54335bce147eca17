"""Stripe's REST API: customers, invoices and payment intents under ``/v1``.

Requests are form-encoded with bracketed nesting (``metadata[order_id]=…``),
authenticated with the secret key as a bearer token, and every create carries an
``Idempotency-Key`` so a retried create never makes a second customer. Lists
answer ``{"object": "list", "data", "has_more"}`` and page with ``starting_after``
(the last id seen). Errors answer ``{"error": {"type", "message", "param"}}``.

Sync settings: Stripe's lists filter on when an object was created
(``created[gte]``/``created[lte]``, Unix seconds), not when it last changed, so
the date range is a creation range here; the customers list also takes
``email`` (exact match). Deleted objects are never listed.
"""

from __future__ import annotations

import hashlib
import json

from app.integrations.connectors.base import Connector, ConnectorError, ListScope

DEFAULT_BASE = "https://api.stripe.com"


class StripeConnector(Connector):
    objects = ("customers", "invoices", "payment_intents")
    max_page_size = 100

    def _path(self, object_type: str, remote_id: str | None = None) -> str:
        self.check_object(object_type)
        return f"/v1/{object_type}/{remote_id}" if remote_id else f"/v1/{object_type}"

    def test_connection(self) -> tuple[bool, str]:
        try:
            self.request("GET", self._path("customers"), params={"limit": 1})
        except ConnectorError as exc:
            return False, exc.message
        return True, "Stripe answered: the key can read customers."

    def list_remote(self, object_type, cursor=None, fields=(), scope=None):
        scope = scope or ListScope()
        params: dict[str, object] = {"limit": self.page_size}
        if scope.modified_since is not None:
            params["created[gte]"] = int(scope.modified_since.timestamp())
        if scope.modified_until is not None:
            params["created[lte]"] = int(scope.modified_until.timestamp())
        if object_type == "customers" and scope.filters.get("email"):
            params["email"] = str(scope.filters["email"])
        if cursor:
            params["starting_after"] = cursor
        body = self.request("GET", self._path(object_type), params=params) or {}
        records = list(body.get("data") or [])
        next_cursor = records[-1]["id"] if body.get("has_more") and records else None
        return records, next_cursor

    def create_remote(self, object_type, payload, idempotency_key=None):
        key = idempotency_key or _payload_key(object_type, payload)
        answer = self.request(
            "POST",
            self._path(object_type),
            data=form_encode(payload),
            headers={"Idempotency-Key": key},
        )
        if not answer or "id" not in answer:
            raise ConnectorError("Stripe created the object but sent no id", status=200)
        return str(answer["id"])

    def update_remote(self, object_type, remote_id, payload):
        self.request("POST", self._path(object_type, remote_id), data=form_encode(payload))

    def error_message(self, response) -> str:
        try:
            error = (response.json() or {}).get("error") or {}
        except (ValueError, AttributeError):
            return super().error_message(response)
        if not error.get("message"):
            return super().error_message(response)
        param = f" ({error['param']})" if error.get("param") else ""
        return f"HTTP {response.status_code}{param}: {error['message']}"[:400]


def form_encode(payload: dict, prefix: str = "") -> list[tuple[str, str]]:
    """Stripe's form encoding: nested dicts as ``a[b]``, lists as ``a[0]``, booleans as words."""
    pairs: list[tuple[str, str]] = []
    for key, value in payload.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, dict):
            pairs.extend(form_encode(value, name))
        elif isinstance(value, (list, tuple)):
            pairs.extend(form_encode(dict(enumerate(value)), name))
        elif isinstance(value, bool):
            pairs.append((name, "true" if value else "false"))
        else:
            pairs.append((name, str(value)))
    return pairs


def _payload_key(object_type: str, payload: dict) -> str:
    # The same create sent twice (a retry after a timeout) carries the same key.
    canonical = json.dumps([object_type, payload], sort_keys=True, default=str)
    return "switchboard-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]
