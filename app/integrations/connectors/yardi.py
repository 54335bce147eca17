"""Yardi Voyager's service requests (its work orders), through the ItfServiceRequests interface.

Yardi documents the interface only to its partners: the operation names are
public (``GetServiceRequest_Search``, ``CreateOrEditServiceRequests``,
``ImportWorkOrderDocument``, served as ``/ItfServiceRequests/<operation>`` by
Yardi's REST gateway), the element names are those of Yardi's ServiceRequest
schema, and the JSON rendering below is what Switchboard expects; the fake in
``tests/fakes/yardi.py`` speaks exactly this. The interface key goes as a
bearer token; the base URL is the tenant's own (``base_url``, else
``YARDI_API_BASE``).

``POST /ItfServiceRequests/GetServiceRequest_Search`` with ``{"PageNumber": n,
"PageSize": k}`` answers::

    {"ServiceRequests": {"ServiceRequest": [<request>, ...]}, "TotalPages": m}

    <request> = {
      "ServiceRequestId": 4711, "PropertyCode": "p123", "UnitCode": "12",
      "TenantCode": "t0001234", "RequestorName": "…", "RequestorEmail": "…",
      "RequestorPhoneNumber": "…",
      "ServiceRequestBriefDescription": "…", "ServiceRequestFullDescription": "…",
      "CurrentStatus": "Open" | "Scheduled" | "In Progress" | "On Hold"
                       | "Work Completed" | "Completed" | "Canceled",
      "Address": {"AddressLine1": "Kerkstraat 12", "City": "…", "PostalCode": "…"},
      "ScheduledDate": "2026-11-30" | null}

``POST /ItfServiceRequests/CreateOrEditServiceRequests`` with
``{"ServiceRequests": {"ServiceRequest": [{"ServiceRequestId": 4711,
"CurrentStatus": "Work Completed", "ServiceRequestHistory": {"Notes": "…"}}]}}``
answers the requests with ``"Result": "Success"`` or ``"Error": "…"``.

``POST /ItfServiceRequests/ImportWorkOrderDocument`` with ``{"ServiceRequestId",
"FileName", "FileDescription", "FileData": <base64>}`` answers ``{"Result":
"Success"}``; Yardi returns no id for the document.
"""

from __future__ import annotations

import base64

from app.integrations.connectors.base import ConnectorError
from app.integrations.connectors.property import (
    PhotoUpload,
    RemoteWorkOrder,
    WorkOrderConnector,
    date_of,
    text_of,
)

SEARCH = "/ItfServiceRequests/GetServiceRequest_Search"
EDIT = "/ItfServiceRequests/CreateOrEditServiceRequests"
IMPORT_DOCUMENT = "/ItfServiceRequests/ImportWorkOrderDocument"
OPEN_STATUSES = ("open", "scheduled", "in progress", "on hold")
CLOSED = "Work Completed"


class YardiConnector(WorkOrderConnector):
    max_page_size = 200

    def list_remote(self, object_type, cursor=None, fields=(), scope=None):
        self.check_object(object_type)
        page = int(cursor or 1)
        body = self.request("POST", SEARCH, json={"PageNumber": page, "PageSize": self.page_size})
        requests = ((body or {}).get("ServiceRequests") or {}).get("ServiceRequest")
        if isinstance(requests, dict):  # one request comes as an object, not a list
            requests = [requests]
        if not isinstance(requests, list):
            requests = []
        total = int((body or {}).get("TotalPages") or page)
        return [r for r in requests if isinstance(r, dict)], (
            str(page + 1) if page < total else None
        )

    @staticmethod
    def remote_id_of(record: dict) -> str | None:
        return text_of(record.get("ServiceRequestId"))

    def work_order_of(self, record: dict) -> RemoteWorkOrder:
        remote_id = text_of(record.get("ServiceRequestId"))
        if remote_id is None:
            raise ConnectorError("a service request without a ServiceRequestId")
        address = record.get("Address") if isinstance(record.get("Address"), dict) else {}
        brief = text_of(record.get("ServiceRequestBriefDescription"))
        full = text_of(record.get("ServiceRequestFullDescription"))
        parts = [brief] if brief else []
        if full and full != brief:
            parts.append(full)
        description = "\n\n".join(parts)
        if not description:
            raise ConnectorError(f"service request {remote_id} has no description")
        status = str(record.get("CurrentStatus") or "")
        line = ", ".join(
            p
            for p in (
                text_of(address.get("AddressLine1")),
                text_of(address.get("PostalCode")),
                text_of(address.get("City")),
            )
            if p
        )
        return RemoteWorkOrder(
            remote_id=remote_id,
            status=status,
            is_open=status.lower() in OPEN_STATUSES,
            description=description,
            address_line=line or None,
            postal_code=text_of(address.get("PostalCode")),
            city=text_of(address.get("City")),
            unit=text_of(record.get("UnitCode")),
            tenant_name=text_of(record.get("RequestorName")),
            tenant_email=text_of(record.get("RequestorEmail")),
            tenant_phone=text_of(record.get("RequestorPhoneNumber")),
            preferred_date=date_of(record.get("ScheduledDate")),
            reference=remote_id,
        )

    def close_work_order(self, remote_id: str, resolution: str) -> None:
        body = self.request(
            "POST",
            EDIT,
            json={
                "ServiceRequests": {
                    "ServiceRequest": [
                        {
                            "ServiceRequestId": remote_id,
                            "CurrentStatus": CLOSED,
                            "ServiceRequestHistory": {"Notes": resolution},
                        }
                    ]
                }
            },
        )
        answered = ((body or {}).get("ServiceRequests") or {}).get("ServiceRequest") or []
        if isinstance(answered, dict):
            answered = [answered]
        errors = [str(r["Error"]) for r in answered if isinstance(r, dict) and r.get("Error")]
        if errors:
            raise ConnectorError(f"Yardi refused to close {remote_id}: {errors[0]}")

    def attach_photo(self, remote_id: str, photo: PhotoUpload, idempotency_key: str) -> str | None:
        body = self.request(
            "POST",
            IMPORT_DOCUMENT,
            json={
                "ServiceRequestId": remote_id,
                "FileName": photo.filename,
                "FileDescription": photo.caption or photo.filename,
                "FileData": base64.b64encode(photo.data).decode(),
            },
        )
        if (body or {}).get("Result") != "Success":
            raise ConnectorError(f"Yardi did not import the document: {body!r:.200}")
        return None
