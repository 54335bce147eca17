"""QuickBooks Online Accounting API v3: customers, invoices and payments.

Everything lives under ``/v3/company/{realmId}/``: ``POST /customer`` creates
(the answer wraps the entity: ``{"Customer": {"Id", "SyncToken", …}}``), a
sparse update is a POST of ``Id`` + ``SyncToken`` + ``"sparse": true``, and
lists are ``GET /query?query=select * from Customer STARTPOSITION n MAXRESULTS m``.
Every call carries ``minorversion``. Sync settings become the query's
``WHERE``: ``MetaData.LastUpdatedTime >= '…'`` / ``<= '…'`` for the date range;
QuickBooks answers active customers only unless asked ``Active IN (true,false)``
(a customer "deleted" in QuickBooks is made inactive), and "active customers
only" says ``Active = true``. Errors are ``{"Fault": {"Error": [{"Message",
"Detail", "code"}], "type"}}`` — sometimes with HTTP 200, so answers are checked.
"""

from __future__ import annotations

from datetime import datetime, timezone

from app.integrations.connectors.base import Connector, ConnectorError, ListScope

DEFAULT_BASE = "https://quickbooks.api.intuit.com"
DEFAULT_MINOR_VERSION = "75"

# Registry object name → QuickBooks entity name.
ENTITIES = {"customers": "Customer", "invoices": "Invoice", "payments": "Payment"}
# Entities QuickBooks makes inactive instead of deleting (``Active``).
WITH_ACTIVE = ("Customer",)


class QuickBooksConnector(Connector):
    objects = tuple(ENTITIES)
    max_page_size = 1000

    @property
    def realm_id(self) -> str:
        realm = str(self.config.get("realm_id") or "").strip()
        if not realm:
            raise ConnectorError("the integration has no QuickBooks company (realm_id) set")
        return realm

    @property
    def minor_version(self) -> str:
        return str(self.config.get("minor_version") or DEFAULT_MINOR_VERSION)

    def _company(self, suffix: str) -> str:
        return f"/v3/company/{self.realm_id}/{suffix}"

    def _call(self, method: str, suffix: str, **kwargs) -> dict:
        params = dict(kwargs.pop("params", None) or {})
        params["minorversion"] = self.minor_version
        body = self.request(method, self._company(suffix), params=params, **kwargs) or {}
        if "Fault" in body:
            raise ConnectorError(_fault_message(body["Fault"]), status=400)
        return body

    def _entity(self, object_type: str) -> str:
        self.check_object(object_type)
        return ENTITIES[object_type]

    def test_connection(self) -> tuple[bool, str]:
        try:
            body = self._call("GET", f"companyinfo/{self.realm_id}")
        except ConnectorError as exc:
            return False, exc.message
        name = (body.get("CompanyInfo") or {}).get("CompanyName") or self.realm_id
        return True, f"QuickBooks answered for company {name}."

    def list_remote(self, object_type, cursor=None, fields=(), scope=None):
        entity = self._entity(object_type)
        start = int(cursor or 1)
        # Only our own entity name, integers and timestamps we formatted go into
        # the query: nothing a user typed.
        where = _where(entity, scope or ListScope())
        query = f"select * from {entity}{where} STARTPOSITION {start} MAXRESULTS {self.page_size}"  # noqa: S608
        body = self._call("GET", "query", params={"query": query})
        records = list((body.get("QueryResponse") or {}).get(entity) or [])
        next_cursor = str(start + len(records)) if len(records) >= self.page_size else None
        return records, next_cursor

    def read_remote(self, object_type: str, remote_id: str) -> dict:
        """One record by id (``GET /v3/company/{realm}/payment/{id}``), unwrapped.

        QuickBooks webhooks carry only ids; the record itself is read here.
        """
        entity = self._entity(object_type)
        found = self._call("GET", f"{entity.lower()}/{remote_id}").get(entity)
        if not isinstance(found, dict) or "Id" not in found:
            raise ConnectorError(f"QuickBooks sent no {entity} {remote_id}", status=200)
        return found

    def create_remote(self, object_type, payload, idempotency_key=None):
        entity = self._entity(object_type)
        body = self._call("POST", entity.lower(), json=self._complete(object_type, payload))
        created = body.get(entity) or {}
        if "Id" not in created:
            raise ConnectorError(f"QuickBooks created the {entity} but sent no Id", status=200)
        return str(created["Id"])

    def update_remote(self, object_type, remote_id, payload):
        entity = self._entity(object_type)
        # A sparse update needs the current SyncToken (QuickBooks' optimistic lock).
        current = self._call("GET", f"{entity.lower()}/{remote_id}").get(entity) or {}
        body = {
            **self._complete(object_type, payload),
            "Id": str(remote_id),
            "SyncToken": current.get("SyncToken", "0"),
            "sparse": True,
        }
        self._call("POST", entity.lower(), json=body)

    @staticmethod
    def remote_id_of(record: dict) -> str | None:
        value = record.get("Id")
        return None if value is None else str(value)

    def is_archived(self, record: dict) -> bool:
        return record.get("Active") is False

    def _complete(self, object_type: str, payload: dict) -> dict:
        """Fill the parts QuickBooks requires that are fixed, not mapped.

        Invoice lines must say they are sales lines and name an item (the
        integration's ``item_ref``, QuickBooks' default "Services" item "1"
        otherwise); a payment's linked transaction is an invoice.
        """
        body = dict(payload)
        if object_type == "invoices":
            item = str(self.config.get("item_ref") or "1")
            for line in body.get("Line") or []:
                line.setdefault("DetailType", "SalesItemLineDetail")
                detail = line.setdefault("SalesItemLineDetail", {})
                detail.setdefault("ItemRef", {"value": item})
        if object_type == "payments":
            for line in body.get("Line") or []:
                for linked in line.get("LinkedTxn") or []:
                    linked.setdefault("TxnType", "Invoice")
        return body

    def error_message(self, response) -> str:
        try:
            body = response.json()
        except ValueError:
            return super().error_message(response)
        if isinstance(body, dict) and isinstance(body.get("Fault"), dict):
            return f"HTTP {response.status_code}: {_fault_message(body['Fault'])}"
        return super().error_message(response)


def _where(entity: str, scope: ListScope) -> str:
    conditions = []
    if scope.modified_since is not None:
        conditions.append(f"MetaData.LastUpdatedTime >= '{_timestamp(scope.modified_since)}'")
    if scope.modified_until is not None:
        conditions.append(f"MetaData.LastUpdatedTime <= '{_timestamp(scope.modified_until)}'")
    if entity in WITH_ACTIVE:
        if scope.filters.get("active_only"):
            conditions.append("Active = true")
        elif scope.include_deleted:
            conditions.append("Active IN (true,false)")
    return (" WHERE " + " AND ".join(conditions)) if conditions else ""


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fault_message(fault: dict) -> str:
    errors = fault.get("Error") or [{}]
    first = errors[0]
    parts = [first.get("Message") or fault.get("type") or "QuickBooks fault"]
    if first.get("Detail"):
        parts.append(first["Detail"])
    if first.get("code"):
        parts.append(f"code {first['code']}")
    return " — ".join(parts)[:400]
