"""The webhook endpoint and sync API's bodies as pydantic models, for the OpenAPI document.

The routes check a body with the admin form's rules
(:func:`app.integrations.endpoints.rules.parse_json`, whose errors name each
field in the reader's language); these models describe that same body and the
answers, so ``/api/docs`` says what the routes accept. A test holds the
models' fields to the routes' (``API_FIELDS``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.integrations.endpoints import EVENT_NAMES, MAX_HEADERS, RESERVED_HEADERS, TEST_EVENT
from app.platform.json_api.schema_patterns import PUBLIC_HTTPS_URL_PATTERN, any_case, schema_pattern

EventName = Literal[EVENT_NAMES]  # type: ignore[valid-type]
# A header name as endpoints.rules takes it: letters, digits and -, and not one the
# signature or transport sets, in any case (JSON Schema's regex has no (?i)).
HEADER_NAME_PATTERN = (
    f"^(?!({'|'.join(any_case(name) for name in sorted(RESERVED_HEADERS))})$)"
    "[A-Za-z0-9][A-Za-z0-9-]{0,63}$"
)
# The headers' rules in the JSON Schema. One rule it cannot say: two names that
# differ only in case ("X-Tenant" and "x-tenant") are one HTTP header, refused (422).
HEADERS_SCHEMA = {
    "maxProperties": MAX_HEADERS,
    "propertyNames": {"pattern": HEADER_NAME_PATTERN},
    "additionalProperties": {
        "type": "string",
        "pattern": r"^[\x21-\x7e]([\x20-\x7e]{0,998}[\x21-\x7e])?$",
    },
}
HEADERS_DESCRIPTION = (
    f'Extra headers sent with every call, `{{"Name": "value"}}`, at most {MAX_HEADERS}; '
    "names of letters, digits and -, not one the signature or transport sets "
    f"({', '.join(sorted(RESERVED_HEADERS))}, in any case), and no name twice in "
    "another case (HTTP header names ignore case: refused with 422 naming it); values "
    "1-1,000 printable characters, stored encrypted and never shown again (answers "
    "carry only their names)."
)


class WebhookEndpointIn(BaseModel):
    """A new endpoint. Unknown fields are refused (422 naming them)."""

    model_config = ConfigDict(extra="forbid")

    url: Annotated[
        str,
        Field(
            max_length=2000,
            description="https:// only; not localhost or a private or reserved address",
            examples=["https://erp.example.com/hooks/switchboard"],
            json_schema_extra=schema_pattern(PUBLIC_HTTPS_URL_PATTERN),
        ),
    ]
    events: Annotated[list[EventName], Field(min_length=1, description="Platform events to hear")]
    description: Annotated[str | None, Field(max_length=255)] = None
    custom_headers: Annotated[
        Annotated[dict[str, str], Field(json_schema_extra=HEADERS_SCHEMA)] | None,
        Field(description=HEADERS_DESCRIPTION),
    ] = None
    max_attempts: Annotated[int, Field(ge=1, le=10, description="Tries per event")] = 3
    retry_base_seconds: Annotated[
        int | None,
        Field(
            ge=1,
            le=3600,
            description="First wait before a retry, doubled each time; null: the engine's",
        ),
    ] = None
    is_active: Annotated[bool, Field(description="Switched on; false keeps it quiet")] = True


class WebhookEndpointPatch(BaseModel):
    """Only the fields sent change; `custom_headers` left out keeps the headers, null clears."""

    model_config = ConfigDict(extra="forbid")

    url: Annotated[
        str, Field(max_length=2000, json_schema_extra=schema_pattern(PUBLIC_HTTPS_URL_PATTERN))
    ] = None  # type: ignore[assignment]  # optional, not null
    # Optional, but not nullable: left out keeps the endpoint's, null is refused.
    events: Annotated[list[EventName], Field(min_length=1)] = None  # type: ignore[assignment]
    description: Annotated[str | None, Field(max_length=255)] = None
    custom_headers: Annotated[
        Annotated[dict[str, str], Field(json_schema_extra=HEADERS_SCHEMA)] | None,
        Field(description=HEADERS_DESCRIPTION),
    ] = None
    max_attempts: Annotated[int | None, Field(ge=1, le=10)] = None
    retry_base_seconds: Annotated[int | None, Field(ge=1, le=3600)] = None
    is_active: Annotated[
        bool, Field(description="true also lifts the block a 410 answer put on it")
    ] = None  # type: ignore[assignment]  # optional, not null


class WebhookEndpointOut(BaseModel):
    id: str
    url: str
    description: str | None
    events: list[EventName]
    custom_header_names: list[str]
    max_attempts: int
    retry_base_seconds: int | None
    is_active: bool
    state: Literal["active", "off", "disabled"] = Field(
        description="disabled: switched off by a 410 answer (see disabled_reason)"
    )
    disabled_at: datetime | None
    disabled_reason: str | None
    delivered_24h: int
    failed_24h: int
    created_at: datetime
    updated_at: datetime


class WebhookEndpointWithSecret(WebhookEndpointOut):
    secret: str = Field(
        description="The whsec_ signing secret (Standard Webhooks); shown in this answer only"
    )


class WebhookEndpointList(BaseModel):
    data: list[WebhookEndpointOut]


class WebhookEndpointOne(BaseModel):
    data: WebhookEndpointOut


class WebhookEndpointCreated(BaseModel):
    data: WebhookEndpointWithSecret


class DeliveryAttemptOut(BaseModel):
    attempt_number: int
    status_code: int | None
    response_time_ms: int | None
    response_excerpt: str | None
    error: str | None
    triggered_by_user_id: str | None = Field(description="null: an automatic attempt")
    attempted_at: datetime


class WebhookDeliveryOut(BaseModel):
    id: str
    webhook_id: str = Field(description="The webhook-id header: the same on every retry")
    event_type: Literal[EVENT_NAMES + (TEST_EVENT,)]  # type: ignore[valid-type]
    status: Literal["pending", "in_progress", "delivered", "failed", "cancelled"]
    response_code: int | None
    response_time_ms: int | None
    response_excerpt: str | None
    error: str | None
    attempt_count: int
    max_attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    payload: dict[str, Any] = Field(description='The body sent: {"id", "type", "timestamp", …}')
    attempts: list[DeliveryAttemptOut]


class WebhookDeliveryPage(BaseModel):
    data: list[WebhookDeliveryOut]
    next_before: str | None = Field(description="Pass as `before` for the next page")


class WebhookDeliveryOne(BaseModel):
    data: WebhookDeliveryOut


# --- syncs -------------------------------------------------------------------------


class SyncStartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    object_type: str = Field(description="One of the provider's objects (customers, invoices …)")
    direction: Literal["in", "out", "two_way"] | None = None
    only_failed: bool = False


class SyncJobOut(BaseModel):
    id: str
    object_type: str
    direction: str
    status: str
    only_failed: bool
    total_records: int
    processed: int
    succeeded: int
    failed: int
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None


class SyncJobStarted(BaseModel):
    data: SyncJobOut


class SyncRecordOut(BaseModel):
    id: str
    object_type: str
    local_id: str
    remote_id: str | None
    status: Literal["failed", "synced"]
    error: str | None = Field(None, description="Failed records: why")
    note: str | None = Field(None, description="Synced records: what was left alone, and why")
    attempts: int
    job_id: str | None = Field(description="The sync job that touched the record last")
    synced_at: datetime | None
    updated_at: datetime


class SyncRecordPage(BaseModel):
    data: list[SyncRecordOut]
    next_before: str | None


class SyncHistoryOut(BaseModel):
    data: list[SyncJobOut] = Field(description="The last 20 sync jobs, newest first")
    failed_records: SyncRecordPage
    notes: SyncRecordPage
