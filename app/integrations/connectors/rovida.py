"""ROVIDA's work-order API, as Switchboard expects it (ROVIDA publishes no API docs).

ROVIDA has no public API reference, so this docstring is the one place the
JSON we speak is defined (the fake in ``tests/fakes/rovida.py`` speaks
exactly this). The API key goes in the
``X-API-Key`` header; the base URL is the integration's ``base_url`` or
``ROVIDA_API_BASE``.

``GET /v1/work-orders?limit=<n>&cursor=<c>`` answers one page::

    {"data": [<work order>, ...], "next_cursor": "<c>" | null}

    <work order> = {
      "id": "wo_1042", "number": "RV-1042",
      "status": "open" | "assigned" | "in_progress" | "closed" | "cancelled",
      "title": "Borne de recharge hors service", "description": "…",
      "property": {"id": "p_7", "name": "…",
                   "address": {"street": "…", "civic_number": "12", "unit": "3B",
                               "postal_code": "…", "city": "…"}},
      "tenant": {"id": "t_9", "name": "…", "email": "…", "phone": "…"} | null,
      "preferred_date": "2026-11-30" | null,
      "created_at": "2026-11-23T08:00:00Z"}

``POST /v1/work-orders/<id>/close`` with ``{"resolution": "…"}`` answers
``{"data": <work order>}`` with status ``closed``; closing a closed work order
answers the same (ROVIDA treats it as done), a cancelled one 409.

``POST /v1/work-orders/<id>/attachments`` (multipart: ``file``, ``description``;
header ``Idempotency-Key``) answers 201 ``{"data": {"id": "att_…", "filename",
"content_type", "size"}}``; the same key again answers the attachment made the
first time. Errors answer ``{"error": {"code": "…", "message": "…"}}``.
"""

from __future__ import annotations

from urllib.parse import quote

from app.integrations.connectors.base import ConnectorError
from app.integrations.connectors.property import (
    PhotoUpload,
    RemoteWorkOrder,
    WorkOrderConnector,
    date_of,
    text_of,
)

OPEN_STATUSES = ("open", "assigned", "in_progress")


class RovidaConnector(WorkOrderConnector):
    max_page_size = 100

    def auth_headers(self) -> dict[str, str]:
        return {"X-API-Key": self._token()}

    def _work_order_path(self, remote_id: str, action: str) -> str:
        return f"/v1/work-orders/{quote(str(remote_id), safe='')}/{action}"

    def list_remote(self, object_type, cursor=None, fields=(), scope=None):
        self.check_object(object_type)
        params = {"limit": self.page_size}
        if cursor:
            params["cursor"] = cursor
        body = self.request("GET", "/v1/work-orders", params=params) or {}
        records = body.get("data")
        if not isinstance(records, list):
            raise ConnectorError("ROVIDA answered a work-order list without data", status=200)
        next_cursor = body.get("next_cursor")
        return [r for r in records if isinstance(r, dict)], (
            str(next_cursor) if next_cursor else None
        )

    def work_order_of(self, record: dict) -> RemoteWorkOrder:
        remote_id = text_of(record.get("id"))
        if remote_id is None:
            raise ConnectorError("a work order without an id")
        prop = record.get("property") if isinstance(record.get("property"), dict) else {}
        address = prop.get("address") if isinstance(prop.get("address"), dict) else {}
        tenant = record.get("tenant") if isinstance(record.get("tenant"), dict) else {}
        status = str(record.get("status") or "").lower()
        title, details = text_of(record.get("title")), text_of(record.get("description"))
        description = "\n\n".join(p for p in (title, details) if p)
        if not description:
            raise ConnectorError(f"work order {remote_id} has no title or description")
        return RemoteWorkOrder(
            remote_id=remote_id,
            status=status,
            is_open=status in OPEN_STATUSES,
            description=description,
            street=text_of(address.get("street")),
            house_number=text_of(address.get("civic_number")),
            postal_code=text_of(address.get("postal_code")),
            city=text_of(address.get("city")),
            unit=text_of(address.get("unit")),
            tenant_name=text_of(tenant.get("name")),
            tenant_email=text_of(tenant.get("email")),
            tenant_phone=text_of(tenant.get("phone")),
            preferred_date=date_of(record.get("preferred_date")),
            reference=text_of(record.get("number")),
        )

    def close_work_order(self, remote_id: str, resolution: str) -> None:
        self.request(
            "POST", self._work_order_path(remote_id, "close"), json={"resolution": resolution}
        )

    def attach_photo(self, remote_id: str, photo: PhotoUpload, idempotency_key: str) -> str | None:
        answer = self.request(
            "POST",
            self._work_order_path(remote_id, "attachments"),
            files={"file": (photo.filename, photo.data, photo.mime_type)},
            data={"description": photo.caption or ""},
            headers={"Idempotency-Key": idempotency_key},
        )
        data = (answer or {}).get("data") or {}
        return text_of(data.get("id"))
