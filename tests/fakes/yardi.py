"""A fake Yardi Voyager ItfServiceRequests gateway, in the JSON defined in
``app/integrations/connectors/yardi.py``.

It keeps service requests (Yardi's work orders), their ``CurrentStatus`` and
the documents imported to them, and counts the status edits it took. The
interface key is a bearer token; a refused call answers 401 with
``{"Message": "…"}``.
"""

from __future__ import annotations

import base64
import threading

from flask import jsonify, request

from tests.fakes import FakeServer

TOKEN = "yardi-interface-key"


class FakeYardi(FakeServer):
    def __init__(self, token: str = TOKEN) -> None:
        super().__init__("fake-yardi")
        self.token = token
        self.service_requests: dict[str, dict] = {}
        self.documents: dict[str, list[dict]] = {}
        self.status_edits: dict[str, list[str]] = {}
        self._lock_store = threading.Lock()

        def refused():
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                return jsonify(Message="Authentication failed."), 401
            return None

        @self.app.post("/ItfServiceRequests/GetServiceRequest_Search")
        def search():
            if (answer := refused()) is not None:
                return answer
            body = request.get_json(silent=True) or {}
            size = max(1, int(body.get("PageSize") or 50))
            page = max(1, int(body.get("PageNumber") or 1))
            ordered = sorted(self.service_requests.values(), key=lambda r: r["ServiceRequestId"])
            pages = max(1, -(-len(ordered) // size))
            chunk = ordered[(page - 1) * size : page * size]
            return jsonify(ServiceRequests={"ServiceRequest": chunk}, TotalPages=pages)

        @self.app.post("/ItfServiceRequests/CreateOrEditServiceRequests")
        def edit():
            if (answer := refused()) is not None:
                return answer
            body = request.get_json(silent=True) or {}
            answered = []
            for item in (body.get("ServiceRequests") or {}).get("ServiceRequest") or []:
                request_id = str(item.get("ServiceRequestId"))
                stored = self.service_requests.get(request_id)
                if stored is None:
                    answered.append({"ServiceRequestId": request_id, "Error": "Not found"})
                    continue
                with self._lock_store:
                    stored["CurrentStatus"] = item.get("CurrentStatus", stored["CurrentStatus"])
                    notes = (item.get("ServiceRequestHistory") or {}).get("Notes")
                    stored.setdefault("History", []).append(notes)
                    self.status_edits.setdefault(request_id, []).append(stored["CurrentStatus"])
                answered.append(
                    {
                        "ServiceRequestId": request_id,
                        "CurrentStatus": stored["CurrentStatus"],
                        "Result": "Success",
                    }
                )
            return jsonify(ServiceRequests={"ServiceRequest": answered})

        @self.app.post("/ItfServiceRequests/ImportWorkOrderDocument")
        def import_document():
            if (answer := refused()) is not None:
                return answer
            body = request.get_json(silent=True) or {}
            request_id = str(body.get("ServiceRequestId"))
            if request_id not in self.service_requests:
                return jsonify(Result="Error", Message="Service request not found"), 200
            with self._lock_store:
                self.documents.setdefault(request_id, []).append(
                    {
                        "FileName": body.get("FileName"),
                        "FileDescription": body.get("FileDescription"),
                        "content": base64.b64decode(body.get("FileData") or ""),
                    }
                )
            return jsonify(Result="Success")

    def add_service_request(self, request_id: str, **fields) -> dict:
        record = {
            "ServiceRequestId": request_id,
            "PropertyCode": "p123",
            "UnitCode": "3",
            "TenantCode": "t0001234",
            "RequestorName": "Petra Bewoner",
            "RequestorEmail": "petra.bewoner@example.nl",
            "RequestorPhoneNumber": "06 8765 4321",
            "ServiceRequestBriefDescription": "Laadpaal laadt niet",
            "ServiceRequestFullDescription": "Sinds gisteren start het laden niet meer.",
            "CurrentStatus": "Open",
            "Address": {
                "AddressLine1": "Hoofdstraat 123",
                "City": "Amsterdam",
                "PostalCode": "1012 AB",
            },
            "ScheduledDate": None,
        }
        record.update(fields)
        self.service_requests[request_id] = record
        return record
