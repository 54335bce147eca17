"""A fake QuickBooks Online Accounting API v3 for one company (realm).

``POST /v3/company/{realm}/customer|invoice|payment`` creates (or, with ``Id``,
``SyncToken`` and ``sparse``, updates) and answers ``{"Customer": {...}, "time"}``;
``GET .../query?query=select * from Customer STARTPOSITION n MAXRESULTS m`` lists;
a ``WHERE`` of conditions joined by ``AND`` narrows it (``MetaData.LastUpdatedTime``
compared with ``>=``, ``<=``, ``>``, ``<`` or ``=`` to a quoted timestamp;
``Active = true|false`` or ``Active IN (true,false)``). As QuickBooks does, a
query without an ``Active`` condition answers active customers only.
Every call must carry ``minorversion`` and a bearer token. Errors are
``{"Fault": {"Error": [{"Message", "Detail", "code", "element"}], "type"}}``.
A payment linked to an invoice lowers the invoice's ``Balance``; ``GET
.../payment/{id}`` reads one back (``{"Payment": {"TotalAmt", "TxnDate",
"CurrencyRef", "Line": [{"Amount", "LinkedTxn": [{"TxnId", "TxnType"}]}]}}``),
as the webhook job does after a ``Payment`` notification.
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timezone
from decimal import Decimal

from flask import jsonify, request

from tests.fakes import FakeServer

TOKEN = "qbo-access-token"
REALM = "9130347596"
ENTITIES = {"customer": "Customer", "invoice": "Invoice", "payment": "Payment"}
QUERY = re.compile(
    r"^select \* from (\w+)(?: WHERE (.+?))?(?: STARTPOSITION (\d+))?(?: MAXRESULTS (\d+))?$",
    re.IGNORECASE,
)
CONDITION = re.compile(r"^\s*([\w.]+)\s*(>=|<=|=|>|<|IN)\s*(.+?)\s*$", re.IGNORECASE)


class FakeQuickBooks(FakeServer):
    def __init__(self, token: str = TOKEN, realm: str = REALM) -> None:
        super().__init__("fake-quickbooks")
        self.token = token
        self.realm = realm
        self.entities: dict[str, dict[str, dict]] = {name: {} for name in ENTITIES.values()}
        self._ids = itertools.count(58)

        def refused(realm):
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                return _fault(401, "AuthenticationFault", "3200", "message=AuthenticationFailed")
            if realm != self.realm:
                return _fault(403, "AuthorizationFault", "100", "Company not found")
            if not request.args.get("minorversion"):
                return _fault(400, "ValidationFault", "2010", "minorversion is required")
            return None

        @self.app.get("/v3/company/<realm>/companyinfo/<company_id>")
        def company_info(realm, company_id):
            if (answer := refused(realm)) is not None:
                return answer
            return jsonify({"CompanyInfo": {"CompanyName": "ChargeCars BV", "Id": "1"}})

        @self.app.get("/v3/company/<realm>/query")
        def query(realm):
            if (answer := refused(realm)) is not None:
                return answer
            match = QUERY.match(request.args.get("query", "").strip())
            if not match or match.group(1) not in self.entities:
                return _fault(400, "ValidationFault", "4000", "Error parsing query")
            entity, start, size = (
                match.group(1),
                int(match.group(3) or 1),
                int(match.group(4) or 100),
            )
            try:
                keep = _where(match.group(2) or "")
            except ValueError as exc:
                return _fault(400, "ValidationFault", "4000", f"QueryParserError: {exc}")
            found = [r for r in self.entities[entity].values() if keep(r)]
            rows = found[start - 1 : start - 1 + size]
            body = {
                "QueryResponse": {entity: rows, "startPosition": start, "maxResults": len(rows)}
            }
            return jsonify({**body, "time": _now()})

        @self.app.get("/v3/company/<realm>/<name>/<entity_id>")
        def read(realm, name, entity_id):
            if (answer := refused(realm)) is not None:
                return answer
            entity = ENTITIES.get(name)
            found = self.entities.get(entity, {}).get(entity_id)
            if found is None:
                return _fault(400, "ValidationFault", "610", "Object Not Found")
            return jsonify({entity: found, "time": _now()})

        @self.app.post("/v3/company/<realm>/<name>")
        def write(realm, name):
            if (answer := refused(realm)) is not None:
                return answer
            entity = ENTITIES.get(name)
            if entity is None:
                return _fault(400, "ValidationFault", "2010", f"Unsupported entity {name}")
            body = request.get_json(silent=True) or {}
            if body.get("Id"):
                return self._update(entity, body)
            problem = getattr(self, f"_check_{name}")(body)
            if problem:
                return _fault(400, "ValidationFault", problem[0], problem[1])
            record = {**body, "Id": str(next(self._ids)), "SyncToken": "0"}
            if entity == "Customer":
                record.setdefault("Active", True)
            record["MetaData"] = {"CreateTime": _now(), "LastUpdatedTime": _now()}
            if entity == "Invoice":
                total = sum(Decimal(str(line.get("Amount", 0))) for line in body["Line"])
                record["TotalAmt"] = float(total)
                record["Balance"] = float(total)
            if entity == "Payment":
                # QuickBooks fills these in when left out: today, the home currency.
                record.setdefault("TxnDate", datetime.now(timezone.utc).date().isoformat())
                record.setdefault("CurrencyRef", {"value": "EUR", "name": "Euro"})
                self._apply_payment(record)
            self.entities[entity][record["Id"]] = record
            return jsonify({entity: record, "time": _now()})

    def add(self, entity: str, fields: dict, updated: str | None = None) -> dict:
        """Put a record in as if made in QuickBooks (``updated``: its LastUpdatedTime)."""
        record = {**fields, "Id": str(next(self._ids)), "SyncToken": "0"}
        if entity == "Customer":
            record.setdefault("Active", True)
        record["MetaData"] = {"CreateTime": _now(), "LastUpdatedTime": updated or _now()}
        self.entities[entity][record["Id"]] = record
        return record

    def _update(self, entity: str, body: dict):
        current = self.entities[entity].get(str(body["Id"]))
        if current is None:
            return _fault(400, "ValidationFault", "610", "Object Not Found")
        if str(body.get("SyncToken")) != current["SyncToken"]:
            return _fault(400, "ValidationFault", "5010", "Stale Object Error")
        current.update({k: v for k, v in body.items() if k not in ("sparse", "SyncToken")})
        current["SyncToken"] = str(int(current["SyncToken"]) + 1)
        return jsonify({entity: current, "time": _now()})

    def _check_customer(self, body: dict):
        name = (body.get("DisplayName") or "").strip()
        if not name:
            return "2020", "Required param missing, need to supply the required value: DisplayName"
        if any(c.get("DisplayName") == name for c in self.entities["Customer"].values()):
            return "6240", "Duplicate Name Exists Error: The name supplied already exists."
        return None

    def _check_invoice(self, body: dict):
        customer = (body.get("CustomerRef") or {}).get("value")
        if customer not in self.entities["Customer"]:
            return "2500", f"Invalid Reference Id: Customer {customer} does not exist"
        lines = body.get("Line") or []
        if not lines:
            return "2020", "Required param missing: Line"
        for line in lines:
            item = ((line.get("SalesItemLineDetail") or {}).get("ItemRef") or {}).get("value")
            if line.get("DetailType") != "SalesItemLineDetail" or not item or "Amount" not in line:
                return "2020", "Required param missing: Line.SalesItemLineDetail.ItemRef"
        return None

    def _check_payment(self, body: dict):
        if (body.get("CustomerRef") or {}).get("value") not in self.entities["Customer"]:
            return "2500", "Invalid Reference Id: customer"
        if body.get("TotalAmt") is None:
            return "2020", "Required param missing: TotalAmt"
        for line in body.get("Line") or []:
            for linked in line.get("LinkedTxn") or []:
                if (
                    linked.get("TxnType") != "Invoice"
                    or linked.get("TxnId") not in self.entities["Invoice"]
                ):
                    return "2500", "Invalid Reference Id: linked invoice"
        return None

    def _apply_payment(self, payment: dict) -> None:
        for line in payment.get("Line") or []:
            for linked in line.get("LinkedTxn") or []:
                invoice = self.entities["Invoice"][linked["TxnId"]]
                balance = Decimal(str(invoice["Balance"])) - Decimal(str(line.get("Amount", 0)))
                invoice["Balance"] = float(max(balance, Decimal(0)))


def _where(clause: str):
    """A predicate for the records a WHERE clause keeps (ValueError when unparsable)."""
    tests = []
    asks_active = False
    for condition in filter(None, re.split(r"\s+AND\s+", clause.strip(), flags=re.IGNORECASE)):
        match = CONDITION.match(condition)
        if not match:
            raise ValueError(f"cannot read {condition!r}")
        name, operator, value = match.group(1), match.group(2).upper(), match.group(3)
        if name.lower() == "active":
            asks_active = True
            allowed = _booleans(value, operator)
            tests.append(lambda r, allowed=allowed: r.get("Active", True) in allowed)
        elif name.lower() == "metadata.lastupdatedtime":
            moment = _moment(value.strip("'"))
            tests.append(
                lambda r, op=operator, moment=moment: _compare(
                    _moment(r["MetaData"]["LastUpdatedTime"]), op, moment
                )
            )
        else:
            raise ValueError(f"property {name} is not queryable here")
    if not asks_active:
        tests.append(lambda r: r.get("Active", True) is not False)
    return lambda record: all(test(record) for test in tests)


def _booleans(value: str, operator: str) -> set[bool]:
    words = value.strip("() ").split(",") if operator == "IN" else [value]
    result = set()
    for word in words:
        if word.strip().lower() not in ("true", "false"):
            raise ValueError(f"{word!r} is not a boolean")
        result.add(word.strip().lower() == "true")
    return result


def _compare(left: datetime, operator: str, right: datetime) -> bool:
    return {
        ">=": left >= right,
        "<=": left <= right,
        ">": left > right,
        "<": left < right,
        "=": left == right,
    }[operator]


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _fault(status: int, fault_type: str, code: str, message: str):
    error = {"Message": message.split(":")[0], "Detail": message, "code": code, "element": ""}
    return jsonify({"Fault": {"Error": [error], "type": fault_type}, "time": _now()}), status
