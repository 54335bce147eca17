"""A REST API described by configuration: the ten providers without their own connector.

The integration's ``config`` says where things are::

    {"base_url": "https://api.example.com/v1",
     "auth_style": "bearer" | "header",      # header: the key in ``auth_header``
     "auth_header": "X-Api-Key",
     "endpoints": {"contacts": {"list": "/contacts", "create": "/contacts",
                                "update": "/contacts/{id}"}},
     "records_key": "data", "next_cursor_key": "next_cursor",
     "cursor_param": "cursor", "id_key": "id"}

Sync settings reach a list as query parameters: the "query" filter's pairs as
they are, the date range as ``modified_since_param``/``modified_until_param``
(``updated_since``/``updated_until`` unless configured, ISO 8601) and "include
deleted" as ``include_deleted_param=true``; a record whose ``deleted_key``
(``deleted``) is true is a deleted one.

Bodies are JSON. A list answer is either a bare array or an object holding the
records under ``records_key`` (``data``, ``results`` or ``items`` are tried
when it is not set).
"""

from __future__ import annotations

from urllib.parse import quote

from app.integrations.connectors.base import Connector, ConnectorError, ListScope

_RECORD_KEYS = ("data", "results", "items", "records")


class GenericRestConnector(Connector):
    # Each API has its own page limit; the integration's batch size is trusted up to this.
    max_page_size = 1000

    def __init__(self, base_url: str, token, **kwargs) -> None:
        super().__init__(base_url, token, **kwargs)
        endpoints = self.config.get("endpoints") or {}
        if not isinstance(endpoints, dict):
            endpoints = {}
        self.endpoints: dict[str, dict] = {
            str(name): spec for name, spec in endpoints.items() if isinstance(spec, dict)
        }
        self.objects = tuple(self.endpoints)

    def auth_headers(self) -> dict[str, str]:
        if self.config.get("auth_style") == "header":
            header = str(self.config.get("auth_header") or "X-API-Key")
            return {header: self._token()}
        return super().auth_headers()

    def _endpoint(self, object_type: str, action: str, remote_id: str | None = None) -> str:
        self.check_object(object_type)
        path = self.endpoints[object_type].get(action)
        if not path:
            raise ConnectorError(f"no {action!r} endpoint is configured for {object_type}")
        if remote_id is not None:
            path = path.replace("{id}", quote(str(remote_id), safe=""))
        return path if path.startswith("/") or "://" in path else f"/{path}"

    def test_connection(self) -> tuple[bool, str]:
        if not self.base_url:
            return False, "no base URL is configured"
        listable = [name for name, spec in self.endpoints.items() if spec.get("list")]
        if not listable:
            return False, "no list endpoint is configured to test with"
        try:
            self.list_remote(listable[0])
        except ConnectorError as exc:
            return False, exc.message
        return True, f"The API answered a list of {listable[0]}."

    def list_remote(self, object_type, cursor=None, fields=(), scope=None):
        params = {**self._scope_params(scope or ListScope()), "limit": self.page_size}
        if cursor:
            params[str(self.config.get("cursor_param") or "cursor")] = cursor
        body = self.request("GET", self._endpoint(object_type, "list"), params=params)
        if isinstance(body, list):
            return body, None
        body = body or {}
        key = self.config.get("records_key")
        keys = (key,) if key else _RECORD_KEYS
        records = next((body[k] for k in keys if isinstance(body.get(k), list)), [])
        next_cursor = body.get(str(self.config.get("next_cursor_key") or "next_cursor"))
        return list(records), (str(next_cursor) if next_cursor else None)

    def _scope_params(self, scope: ListScope) -> dict:
        params = {str(k): str(v) for k, v in dict(scope.filters.get("query") or {}).items()}
        names = ("modified_since", "updated_since"), ("modified_until", "updated_until")
        for (setting, default), moment in zip(
            names, (scope.modified_since, scope.modified_until), strict=True
        ):
            if moment is not None:
                params[str(self.config.get(f"{setting}_param") or default)] = moment.isoformat()
        if scope.include_deleted:
            params[str(self.config.get("include_deleted_param") or "include_deleted")] = "true"
        return params

    def is_archived(self, record: dict) -> bool:
        return record.get(str(self.config.get("deleted_key") or "deleted")) is True

    def create_remote(self, object_type, payload, idempotency_key=None):
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        answer = self.request(
            "POST", self._endpoint(object_type, "create"), json=payload, headers=headers
        )
        remote_id = self.remote_id_of(answer or {})
        if remote_id is None:
            raise ConnectorError("the API created the record but sent no id", status=200)
        return remote_id

    def update_remote(self, object_type, remote_id, payload):
        method = str(self.config.get("update_method") or "PUT").upper()
        self.request(method, self._endpoint(object_type, "update", remote_id), json=payload)

    def remote_id_of(self, record: dict) -> str | None:
        value = record.get(str(self.config.get("id_key") or "id"))
        if value is None and isinstance(record.get("data"), dict):
            value = record["data"].get(str(self.config.get("id_key") or "id"))
        return None if value is None else str(value)
