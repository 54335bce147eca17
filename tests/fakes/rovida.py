"""A fake ROVIDA: work orders under ``/v1/work-orders``, in the JSON defined in
``app/integrations/connectors/rovida.py`` (ROVIDA publishes no API reference).

It keeps work orders, their status and their attachments, and signs the
notices ROVIDA sends about them (:meth:`FakeRovida.notice`). The API key is read
from ``X-API-Key``; errors answer ``{"error": {"code", "message"}}``. Closing a
closed work order answers it unchanged; an upload repeating an
``Idempotency-Key`` answers the attachment made the first time.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time

from flask import jsonify, request

from tests.fakes import FakeServer

API_KEY = "rovida-api-key"


class FakeRovida(FakeServer):
    def __init__(self, api_key: str = API_KEY) -> None:
        super().__init__("fake-rovida")
        self.api_key = api_key
        self.work_orders: dict[str, dict] = {}
        self.attachments: dict[str, list[dict]] = {}
        self.closes: dict[str, int] = {}
        self._by_key: dict[str, dict] = {}
        # Set to n: the n-th upload call answers 503 (an outage in the middle of a job).
        self.upload_outage_at: int | None = None
        self.upload_calls = 0
        self._ids = itertools.count(1)
        self._lock_store = threading.Lock()

        def refused():
            if request.headers.get("X-API-Key") != self.api_key:
                return _error(401, "unauthorized", "Invalid API key.")
            return None

        def found(work_order_id):
            work_order = self.work_orders.get(work_order_id)
            if work_order is None:
                return None, _error(404, "not_found", f"No work order {work_order_id}.")
            return work_order, None

        @self.app.get("/v1/work-orders")
        def list_work_orders():
            if (answer := refused()) is not None:
                return answer
            ordered = sorted(self.work_orders.values(), key=lambda w: w["id"])
            limit = min(int(request.args.get("limit", 50)), 100)
            after = request.args.get("cursor", "")
            page = [w for w in ordered if w["id"] > after][:limit]
            more = page and page[-1]["id"] < ordered[-1]["id"]
            return jsonify(data=page, next_cursor=page[-1]["id"] if more else None)

        @self.app.post("/v1/work-orders/<work_order_id>/close")
        def close(work_order_id):
            if (answer := refused()) is not None:
                return answer
            work_order, missing = found(work_order_id)
            if missing is not None:
                return missing
            if work_order["status"] == "cancelled":
                return _error(409, "conflict", "A cancelled work order cannot be closed.")
            body = request.get_json(silent=True) or {}
            with self._lock_store:
                self.closes[work_order_id] = self.closes.get(work_order_id, 0) + 1
                if work_order["status"] != "closed":
                    work_order["status"] = "closed"
                    work_order["resolution"] = body.get("resolution")
            return jsonify(data=work_order)

        @self.app.post("/v1/work-orders/<work_order_id>/attachments")
        def attach(work_order_id):
            if (answer := refused()) is not None:
                return answer
            _, missing = found(work_order_id)
            if missing is not None:
                return missing
            with self._lock_store:
                self.upload_calls += 1
                outage = self.upload_calls == self.upload_outage_at
            if outage:
                return _error(503, "unavailable", "ROVIDA is down for maintenance, try later.")
            upload = request.files.get("file")
            if upload is None:
                return _error(422, "validation_error", "file is required.")
            key = request.headers.get("Idempotency-Key")
            with self._lock_store:
                if key and key in self._by_key:
                    return jsonify(data=self._by_key[key]), 201
                data = upload.read()
                attachment = {
                    "id": f"att_{next(self._ids)}",
                    "filename": upload.filename,
                    "content_type": upload.mimetype,
                    "size": len(data),
                    "description": request.form.get("description", ""),
                    "content": data,
                }
                self.attachments.setdefault(work_order_id, []).append(attachment)
                if key:
                    self._by_key[key] = attachment
            shown = {k: v for k, v in attachment.items() if k != "content"}
            return jsonify(data=shown), 201

    def add_work_order(self, work_order_id: str, **fields) -> dict:
        """A work order as a tenant's request makes one at ROVIDA."""
        record = {
            "id": work_order_id,
            "number": f"RV-{work_order_id.removeprefix('wo_')}",
            "status": "open",
            "title": "Laadpaal doet het niet",
            "description": "De laadpaal in de garage geeft een rood lampje.",
            "property": {
                "id": "p_7",
                "name": "Residentie Kerkstraat",
                "address": {
                    "street": "Hoofdstraat",
                    "civic_number": "123",
                    "unit": None,
                    "postal_code": "1012AB",
                    "city": "Amsterdam",
                },
            },
            "tenant": {
                "id": "t_9",
                "name": "Jan Huurder",
                "email": "jan.huurder@example.nl",
                "phone": "06 1234 5678",
            },
            "preferred_date": None,
            "created_at": "2026-11-23T08:00:00Z",
        }
        record.update(fields)
        self.work_orders[work_order_id] = record
        return record

    def notice(
        self,
        work_order_id: str,
        event_id: str,
        secret: str,
        event_type: str = "",
        timestamp: int | None = None,
    ) -> tuple[bytes, dict]:
        """The body and headers of ROVIDA's notice about a work order, signed with
        ``secret`` as its webhooks are (``Rovida-Signature: t=…,v1=…``)."""
        body = json.dumps(
            {
                "id": event_id,
                "type": event_type or "work_order.created",
                "created_at": "2026-11-23T08:00:00Z",
                "data": {"work_order": self.work_orders[work_order_id]},
            }
        ).encode()
        stamp = int(time.time()) if timestamp is None else timestamp
        digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
        headers = {
            "Rovida-Signature": f"t={stamp},v1={digest.hexdigest()}",
            "Content-Type": "application/json",
        }
        return body, headers


def _error(status: int, code: str, message: str):
    return jsonify(error={"code": code, "message": message}), status
