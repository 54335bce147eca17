"""A fake Stripe API: ``/v1/customers``, ``/v1/invoices``, ``/v1/payment_intents``.

Bodies are form-encoded with bracketed keys (``metadata[order_id]``), the secret
key is a bearer token, lists answer ``{"object": "list", "data", "has_more",
"url"}`` and page with ``starting_after``; ``created[gte|gt|lte|lt]`` (Unix
seconds) narrow a list, and the customers list takes ``email`` (exact,
case-sensitive). Deleted objects are never listed. An ``Idempotency-Key`` seen before
replays the first answer. Errors are ``{"error": {"type", "message", "param"}}``.
"""

from __future__ import annotations

import itertools
import re
import time
from urllib.parse import parse_qsl

from flask import jsonify, request

from tests.fakes import FakeServer

SECRET_KEY = "sk_test_fake_123"
PREFIXES = {"customers": "cus", "invoices": "in", "payment_intents": "pi"}
_BRACKETS = re.compile(r"\[([^\]]*)\]")


class FakeStripe(FakeServer):
    def __init__(self, secret_key: str = SECRET_KEY) -> None:
        super().__init__("fake-stripe")
        self.secret_key = secret_key
        self.objects: dict[str, dict[str, dict]] = {name: {} for name in PREFIXES}
        self.reject_emails: set[str] = set()
        self.idempotent: dict[str, tuple[dict, int]] = {}
        self._ids = itertools.count(1)

        def refused():
            if request.headers.get("Authorization") != f"Bearer {self.secret_key}":
                return _error(401, "authentication_error", "Invalid API Key provided")
            return None

        @self.app.get("/v1/<name>")
        def list_objects(name):
            if (answer := refused()) is not None:
                return answer
            if name not in self.objects:
                return _error(
                    404, "invalid_request_error", f"Unrecognized request URL (/v1/{name})"
                )
            records = list(reversed(self.objects[name].values()))  # newest first
            try:
                records = [r for r in records if _created_within(r, request.args)]
            except ValueError as exc:
                return _error(400, "invalid_request_error", str(exc), "created")
            if name == "customers" and "email" in request.args:
                records = [r for r in records if r.get("email") == request.args["email"]]
            after = request.args.get("starting_after")
            if after:
                ids = [r["id"] for r in records]
                records = records[ids.index(after) + 1 :] if after in ids else []
            limit = min(int(request.args.get("limit", 10)), 100)
            body = {
                "object": "list",
                "data": records[:limit],
                "has_more": len(records) > limit,
                "url": f"/v1/{name}",
            }
            return jsonify(body)

        @self.app.post("/v1/<name>")
        def create(name):
            if (answer := refused()) is not None:
                return answer
            key = request.headers.get("Idempotency-Key")
            if key and key in self.idempotent:
                body, status = self.idempotent[key]
                return jsonify(body), status, {"Idempotent-Replayed": "true"}
            fields = parse_form(request.get_data(as_text=True))
            body, status = self._create(name, fields)
            if key:
                self.idempotent[key] = (body, status)
            return jsonify(body), status

        @self.app.post("/v1/<name>/<object_id>")
        def update(name, object_id):
            if (answer := refused()) is not None:
                return answer
            record = self.objects.get(name, {}).get(object_id)
            if record is None:
                return _error(404, "invalid_request_error", f"No such object: '{object_id}'")
            fields = parse_form(request.get_data(as_text=True))
            metadata = {**record.get("metadata", {}), **fields.pop("metadata", {})}
            record.update(fields, metadata=metadata)
            return jsonify(record)

    def add(self, name: str, fields: dict, created: int | None = None) -> dict:
        """Put an object in as if made in Stripe's dashboard, ``created`` at that time."""
        body, _status = self._create(name, fields)
        if created is not None:
            body["created"] = created
        return body

    def _create(self, name: str, fields: dict) -> tuple[dict, int]:
        if name not in self.objects:
            return _error_body(
                "invalid_request_error", f"Unrecognized request URL (/v1/{name})"
            ), 404
        if name == "customers" and fields.get("email") in self.reject_emails:
            body = _error_body(
                "invalid_request_error", f"Invalid email address: {fields['email']}", "email"
            )
            return body, 400
        if name == "invoices" and fields.get("customer") not in self.objects["customers"]:
            return _error_body("invalid_request_error", "No such customer", "customer"), 400
        if name == "payment_intents" and not str(fields.get("amount", "")).isdigit():
            return _error_body(
                "invalid_request_error", "Missing required param: amount.", "amount"
            ), 400
        object_id = f"{PREFIXES[name]}_{next(self._ids):014d}"
        record = {
            "id": object_id,
            "object": name[:-1],
            "created": int(time.time()),
            "livemode": False,
            "metadata": {},
            **fields,
        }
        self.objects[name][object_id] = record
        return record, 200


def _created_within(record: dict, args) -> bool:
    for bound, keep in (
        ("gte", lambda c, v: c >= v),
        ("gt", lambda c, v: c > v),
        ("lte", lambda c, v: c <= v),
        ("lt", lambda c, v: c < v),
    ):
        value = args.get(f"created[{bound}]")
        if value is None:
            continue
        if not value.isdigit():
            raise ValueError(f"Invalid integer: {value}")
        if not keep(int(record["created"]), int(value)):
            return False
    return True


def parse_form(body: str) -> dict:
    """``a[b][c]=v`` pairs back into nested dicts, as Stripe reads them."""
    result: dict = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        head = key.split("[", 1)[0]
        path = [head, *_BRACKETS.findall(key)]
        node = result
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return result


def _error_body(kind: str, message: str, param: str | None = None) -> dict:
    error = {"type": kind, "message": message}
    if param:
        error["param"] = param
    return {"error": error}


def _error(status: int, kind: str, message: str, param: str | None = None):
    return jsonify(_error_body(kind, message, param)), status
