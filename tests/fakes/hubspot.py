"""A fake HubSpot CRM v3: ``/crm/v3/objects/{contacts,companies,deals}``.

Records are ``{"id", "properties", "createdAt", "updatedAt", "archived"}``; lists
page with ``limit``/``after`` and answer ``paging.next.after``. As HubSpot does, a
list answers only the default properties (e-mail, names and the system ones)
unless ``properties=`` (comma-separated) names others; a named property the
record has no value for comes back as null; errors are
``{"status": "error", "message", "correlationId", "category"}``. A contact whose
e-mail is already held answers 409 "Contact already exists. Existing ID: n".
Tests list e-mails in :attr:`reject_emails` to have those creates refused.

Archived records are answered only by ``GET …?archived=true`` (and then only
they), with ``archivedAt``. ``POST /crm/v3/objects/{type}/search`` takes
``filterGroups`` (groups OR'ed, filters AND'ed; EQ, NEQ, GT, GTE, LT, LTE,
HAS_PROPERTY, NOT_HAS_PROPERTY), ``properties``, ``limit`` (at most 200) and
``after`` (an offset), never finds archived records, and compares date
properties (``lastmodifieddate``, ``hs_lastmodifieddate``, ``createdate``) as
epoch milliseconds, as HubSpot documents.
"""

from __future__ import annotations

import itertools
import time
import uuid
from datetime import datetime, timezone

from flask import jsonify, request

from tests.fakes import FakeServer

TOKEN = "hubspot-access-token"
OBJECTS = ("contacts", "companies", "deals")
# What GET /crm/v3/objects/{type} answers without ``properties=``.
DEFAULT_PROPERTIES = {
    "contacts": ("email", "firstname", "lastname"),
    "companies": ("name", "domain"),
    "deals": ("dealname", "amount", "closedate", "pipeline", "dealstage"),
}


class FakeHubSpot(FakeServer):
    def __init__(self, token: str = TOKEN) -> None:
        super().__init__("fake-hubspot")
        self.token = token
        self.records: dict[str, dict[str, dict]] = {name: {} for name in OBJECTS}
        self.reject_emails: set[str] = set()
        self.delay_seconds = 0.0
        # Seconds each list or search page takes (a slow portal; a worker killed mid-sync).
        self.list_delay_seconds = 0.0
        self._ids = itertools.count(501)

        def refused():
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                return _error(
                    401, "Authentication credentials not found.", "INVALID_AUTHENTICATION"
                )
            return None

        @self.app.get("/crm/v3/objects/<object_type>")
        def list_objects(object_type):
            if (answer := refused()) is not None:
                return answer
            time.sleep(self.list_delay_seconds)
            archived = request.args.get("archived", "false") == "true"
            records = [
                r
                for r in sorted(
                    self.records.get(object_type, {}).values(), key=lambda r: int(r["id"])
                )
                if r["archived"] is archived
            ]
            limit = min(int(request.args.get("limit", 10)), 100)
            after = int(request.args.get("after", 0))
            page = [r for r in records if int(r["id"]) > after][:limit]
            asked = [p for p in request.args.get("properties", "").split(",") if p.strip()]
            wanted = [*DEFAULT_PROPERTIES.get(object_type, ()), *(p.strip() for p in asked)]
            body = {"results": [_answered(r, wanted) for r in page]}
            if page and int(page[-1]["id"]) < int(records[-1]["id"]):
                body["paging"] = {"next": {"after": page[-1]["id"], "link": "..."}}
            return jsonify(body)

        @self.app.post("/crm/v3/objects/<object_type>/search")
        def search(object_type):
            if (answer := refused()) is not None:
                return answer
            time.sleep(self.list_delay_seconds)
            body = request.get_json(silent=True) or {}
            groups = body.get("filterGroups") or []
            try:
                found = [
                    r
                    for r in sorted(
                        self.records.get(object_type, {}).values(), key=lambda r: int(r["id"])
                    )
                    if not r["archived"]
                    and (not groups or any(_matches(r, g.get("filters") or []) for g in groups))
                ]
            except ValueError as exc:
                return _error(400, str(exc), "VALIDATION_ERROR")
            limit = min(int(body.get("limit", 10)), 200)
            start = int(body.get("after") or 0)
            page = found[start : start + limit]
            wanted = [*DEFAULT_PROPERTIES.get(object_type, ()), *(body.get("properties") or [])]
            answer = {"total": len(found), "results": [_answered(r, wanted) for r in page]}
            if start + limit < len(found):
                answer["paging"] = {"next": {"after": str(start + limit)}}
            return jsonify(answer)

        @self.app.post("/crm/v3/objects/<object_type>")
        def create(object_type):
            if (answer := refused()) is not None:
                return answer
            if self.delay_seconds:
                time.sleep(self.delay_seconds)
            properties = (request.get_json(silent=True) or {}).get("properties")
            if not isinstance(properties, dict):
                return _error(400, "Invalid input JSON: properties is required", "VALIDATION_ERROR")
            email = properties.get("email")
            if object_type == "contacts":
                if email in self.reject_emails or (email and "@" not in email):
                    return _error(
                        400,
                        f'Property values were not valid: [{{"isValid":false,"message":'
                        f'"Email address {email} is invalid","error":"INVALID_EMAIL",'
                        f'"name":"email"}}]',
                        "VALIDATION_ERROR",
                    )
                for record in self.records["contacts"].values():
                    if email and record["properties"].get("email") == email:
                        return _error(
                            409,
                            f"Contact already exists. Existing ID: {record['id']}",
                            "CONFLICT",
                        )
            return jsonify(self.add(object_type, properties)), 201

        @self.app.patch("/crm/v3/objects/<object_type>/<record_id>")
        def update(object_type, record_id):
            if (answer := refused()) is not None:
                return answer
            record = self.records.get(object_type, {}).get(record_id)
            if record is None:
                return _error(404, "resource not found", "OBJECT_NOT_FOUND")
            record["properties"].update((request.get_json() or {}).get("properties") or {})
            record["updatedAt"] = _now()
            return jsonify(record)

    def add(self, object_type: str, properties: dict, updated_at: str | None = None) -> dict:
        record_id = str(next(self._ids))
        record = {
            "id": record_id,
            "properties": dict(properties),
            "createdAt": _now(),
            "updatedAt": updated_at or _now(),
            "archived": False,
        }
        self.records[object_type][record_id] = record
        return record

    def archive(self, object_type: str, record_id: str, at: str | None = None) -> None:
        """Archive a record, as HubSpot's DELETE does."""
        record = self.records[object_type][record_id]
        record["archived"] = True
        record["archivedAt"] = at or _now()

    def contacts_by_email(self) -> dict[str, dict]:
        return {r["properties"].get("email"): r for r in self.records["contacts"].values()}


def _answered(record: dict, wanted: list[str]) -> dict:
    stored = record["properties"]
    properties = {name: stored.get(name) for name in wanted}
    properties.update(
        hs_object_id=record["id"],
        createdate=record["createdAt"],
        lastmodifieddate=record["updatedAt"],
    )
    return {**record, "properties": properties}


DATE_PROPERTIES = {
    "lastmodifieddate": "updatedAt",
    "hs_lastmodifieddate": "updatedAt",
    "createdate": "createdAt",
}
OPERATORS = {
    "EQ": lambda a, b: a == b,
    "NEQ": lambda a, b: a != b,
    "GT": lambda a, b: a is not None and a > b,
    "GTE": lambda a, b: a is not None and a >= b,
    "LT": lambda a, b: a is not None and a < b,
    "LTE": lambda a, b: a is not None and a <= b,
}


def _matches(record: dict, filters: list[dict]) -> bool:
    for spec in filters:
        name, operator = spec.get("propertyName"), spec.get("operator")
        if name in DATE_PROPERTIES:
            value, wanted = _ms(record[DATE_PROPERTIES[name]]), _ms(spec.get("value"))
        elif name == "hs_object_id":
            value, wanted = int(record["id"]), int(spec.get("value"))
        else:
            value, wanted = record["properties"].get(name), spec.get("value")
        if operator == "HAS_PROPERTY":
            ok = value not in (None, "")
        elif operator == "NOT_HAS_PROPERTY":
            ok = value in (None, "")
        elif operator in OPERATORS:
            ok = OPERATORS[operator](value, wanted)
        else:
            raise ValueError(f"Invalid operator {operator!r} for property {name!r}")
        if not ok:
            return False
    return True


def _ms(value) -> int:
    """A HubSpot date-time value (epoch milliseconds, or ISO 8601) as milliseconds."""
    text = str(value)
    if text.isdigit():
        return int(text)
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _error(status: int, message: str, category: str):
    body = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
    }
    return jsonify(body), status
