"""HubSpot CRM v3: contacts, companies and deals as ``/crm/v3/objects/{type}``.

Records travel as ``{"id", "properties": {...}}``; field mappings address the
properties as ``properties.email`` and so on. Lists name the mapped properties in
``properties=`` (HubSpot otherwise answers only its defaults) and page with
``limit`` and the ``after`` cursor from ``paging.next.after``. Errors answer
``{"status": "error", "message", "category", "correlationId"}``.

Sync settings: a date range or a lifecycle stage goes through the search API
(``POST …/search`` with ``filterGroups`` on the last-modified date, in epoch
milliseconds, and on ``lifecyclestage``), which pages the same way. Archived
records are only ever answered by ``GET …?archived=true``, which answers
archived ones alone: with "include deleted" on, the live records are listed
first, then the archived ones (cursor ``archived:<after>``), kept to the date
range by their ``archivedAt`` since that list takes no filters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from app.integrations.connectors.base import Connector, ConnectorError, ListScope

DEFAULT_BASE = "https://api.hubapi.com"
# A create of a contact whose e-mail HubSpot already holds answers 409 with
# "Contact already exists. Existing ID: 123"; we update that one instead.
_EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")
# The cursor of the archived records' pass, after the live ones.
ARCHIVED = "archived:"
# Contacts name their last-modified property differently from the other objects.
MODIFIED_PROPERTY = {"contacts": "lastmodifieddate"}


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

    def list_remote(self, object_type, cursor=None, fields=(), scope=None):
        scope = scope or ListScope()
        # Without ``properties`` HubSpot answers its defaults only (e-mail and
        # names): a mapped phone or job title would never arrive.
        properties = property_names(fields)
        if cursor and cursor.startswith(ARCHIVED):
            return self._archived_page(object_type, properties, cursor, scope)
        if scope.has_range or scope.filters.get("lifecycle_stage"):
            records, after = self._search_page(object_type, properties, cursor, scope)
        else:
            records, after = self._list_page(object_type, properties, cursor, archived=False)
        if after is None and scope.include_deleted:
            after = ARCHIVED
        return records, after

    def _list_page(self, object_type, properties, after, archived: bool):
        params = {"limit": self.page_size, "archived": "true" if archived else "false"}
        if properties:
            params["properties"] = ",".join(properties)
        if after:
            params["after"] = after
        body = self.request("GET", self._path(object_type), params=params) or {}
        return list(body.get("results") or []), _next_after(body)

    def _archived_page(self, object_type, properties, cursor, scope: ListScope):
        stage = scope.filters.get("lifecycle_stage")
        if stage and "lifecyclestage" not in properties:
            properties = [*properties, "lifecyclestage"]
        records, after = self._list_page(
            object_type, properties, cursor.removeprefix(ARCHIVED) or None, archived=True
        )
        kept = [
            r
            for r in records
            if scope.within(_moment(r.get("archivedAt")))
            and (not stage or (r.get("properties") or {}).get("lifecyclestage") == stage)
        ]
        return kept, (ARCHIVED + after if after else None)

    def _search_page(self, object_type, properties, after, scope: ListScope):
        modified = MODIFIED_PROPERTY.get(object_type, "hs_lastmodifieddate")
        filters = []
        if scope.modified_since is not None:
            filters.append(_filter(modified, "GTE", _epoch_ms(scope.modified_since)))
        if scope.modified_until is not None:
            filters.append(_filter(modified, "LTE", _epoch_ms(scope.modified_until)))
        if scope.filters.get("lifecycle_stage"):
            filters.append(_filter("lifecyclestage", "EQ", str(scope.filters["lifecycle_stage"])))
        body = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
            "properties": properties,
            "limit": self.page_size,
        }
        if after:
            body["after"] = after
        answer = self.request("POST", self._path(object_type) + "/search", json=body) or {}
        return list(answer.get("results") or []), _next_after(answer)

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


def _next_after(body: dict) -> str | None:
    after = ((body.get("paging") or {}).get("next") or {}).get("after")
    return str(after) if after else None


def _filter(name: str, operator: str, value: str) -> dict:
    return {"propertyName": name, "operator": operator, "value": value}


def _epoch_ms(moment: datetime) -> str:
    # HubSpot compares date-time properties as milliseconds since the epoch.
    return str(int(moment.timestamp() * 1000))


def _moment(value) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def _with_properties(payload: dict) -> dict:
    # Mappings name remote fields "properties.x"; a bare payload is wrapped the same way.
    if "properties" in payload:
        return payload
    return {"properties": payload}
