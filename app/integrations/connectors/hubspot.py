"""HubSpot CRM v3: contacts, companies and deals as ``/crm/v3/objects/{type}``.

Records travel as ``{"id", "properties": {...}}``; field mappings address the
properties as ``properties.email`` and so on. Lists name the mapped properties in
``properties=`` (HubSpot otherwise answers only its defaults) and page with
``limit`` and the ``after`` cursor from ``paging.next.after``. Errors answer
``{"status": "error", "message", "category", "correlationId"}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.integrations.connectors.base import Connector, ConnectorError

DEFAULT_BASE = "https://api.hubapi.com"
# A create of a contact whose e-mail HubSpot already holds answers 409 with
# "Contact already exists. Existing ID: 123"; we update that one instead.
_EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")


class HubSpotConnector(Connector):
    objects = ("contacts", "companies", "deals")
    max_page_size = 100

    def _path(self, object_type: str, remote_id: str | None = None) -> str:
        self.check_object(object_type)
        path = f"/crm/v3/objects/{object_type}"
        return f"{path}/{remote_id}" if remote_id else path

    def test_connection(self) -> tuple[bool, str]:
        try:
            self.request("GET", self._path("contacts"), params={"limit": 1})
        except ConnectorError as exc:
            return False, exc.message
        return True, "HubSpot answered: the token can read contacts."

    def list_remote(self, object_type, cursor=None, fields=()):
        params = {"limit": self.page_size, "archived": "false"}
        # Without ``properties`` HubSpot answers its defaults only (e-mail and
        # names): a mapped phone or job title would never arrive.
        properties = property_names(fields)
        if properties:
            params["properties"] = ",".join(properties)
        if cursor:
            params["after"] = cursor
        body = self.request("GET", self._path(object_type), params=params) or {}
        next_cursor = ((body.get("paging") or {}).get("next") or {}).get("after")
        return list(body.get("results") or []), next_cursor

    def create_remote(self, object_type, payload, idempotency_key=None):
        body = _with_properties(payload)
        try:
            answer = self.request("POST", self._path(object_type), json=body) or {}
        except ConnectorError as exc:
            existing = _EXISTING_ID.search(exc.message) if exc.status == 409 else None
            if not existing:
                raise
            self.update_remote(object_type, existing.group(1), payload)
            return existing.group(1)
        if "id" not in answer:
            raise ConnectorError("HubSpot created the record but sent no id", status=201)
        return str(answer["id"])

    def update_remote(self, object_type, remote_id, payload):
        self.request("PATCH", self._path(object_type, remote_id), json=_with_properties(payload))

    def error_message(self, response) -> str:
        try:
            body = response.json()
        except ValueError:
            return super().error_message(response)
        if isinstance(body, dict) and body.get("message"):
            category = f" ({body['category']})" if body.get("category") else ""
            return f"HTTP {response.status_code}{category}: {body['message']}"[:400]
        return super().error_message(response)


def property_names(fields: Iterable[str]) -> list[str]:
    """The HubSpot property names among mapped remote paths (``properties.phone`` → ``phone``),
    in order and once each; paths outside ``properties`` (``id``) are not properties."""
    names: list[str] = []
    for path in fields:
        head, _, name = str(path).partition(".")
        name = name.split(".", 1)[0]
        if head == "properties" and name and name not in names:
            names.append(name)
    return names


def _with_properties(payload: dict) -> dict:
    # Mappings name remote fields "properties.x"; a bare payload is wrapped the same way.
    if "properties" in payload:
        return payload
    return {"properties": payload}
