"""The integration hub's admin API in the OpenAPI document: webhook endpoints and syncs.

The integration hub's webhook management (``/api/webhooks``) and sync history with its
per-record errors (``/api/integrations/{integration_id}/sync``). Admins only,
by personal API token or a signed-in session with its second factor.
"""

from __future__ import annotations

from app.integrations.api_schemas import (
    SyncHistoryOut,
    SyncJobStarted,
    SyncStartIn,
    WebhookDeliveryOne,
    WebhookDeliveryPage,
    WebhookEndpointCreated,
    WebhookEndpointIn,
    WebhookEndpointList,
    WebhookEndpointOne,
    WebhookEndpointPatch,
)
from app.integrations.endpoints import DELIVERY_PAGE_SIZE
from app.integrations.sync import MAX_PROBLEM_PAGE_SIZE, PROBLEM_PAGE_SIZE
from app.orders.partners.schemas import ErrorBody

TAG = "Integration hub (admins)"
ADMIN_ERRORS = {
    401: ("Not signed in, or the token is invalid", ErrorBody),
    403: ("Not an admin, or signed in without a second factor", ErrorBody),
}
NOT_FOUND = {404: ("No such webhook endpoint", ErrorBody)}
INVALID = {422: ("Invalid or unknown fields, each named in error.fields", ErrorBody)}
ENDPOINT_RULES = (
    "The admin page's rules: `url` https:// only and not localhost or a private address; "
    "`events` from the platform catalogue (`customer.*`, `job.*`, `invoice.*`, `payment.*`, "
    "`referral.*`); `max_attempts` 1-10; `retry_base_seconds` 1-3600 or null; "
    "`custom_headers` an object of names and values (a bad one is named as "
    "`custom_headers.<Name>`). Unknown fields are refused. Audited like the page's changes. "
    "One rule the schema cannot say: two `custom_headers` names that differ only in case "
    "are one HTTP header, and are refused (422, `custom_headers.<Name>`: given twice)."
)


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def hub_operations(operation) -> list:
    """The hub's operations, built with ``operation``
    (:class:`app.integrations.api_docs.openapi.Operation`)."""
    security = ("Bearer",)
    endpoint = "/api/webhooks/{endpoint_id}"
    return [
        operation(
            "get",
            "/api/webhooks",
            "List webhook endpoints",
            TAG,
            security,
            description="Every endpoint with its last 24 hours' outcomes. Never the secret.",
            responses={200: ("The endpoints", WebhookEndpointList), **ADMIN_ERRORS},
        ),
        operation(
            "post",
            "/api/webhooks",
            "Create a webhook endpoint",
            TAG,
            security,
            WebhookEndpointIn,
            description=(
                f"{ENDPOINT_RULES} The answer carries the endpoint's `whsec_` signing secret "
                "(Standard Webhooks) once; no other answer shows it."
            ),
            responses={
                201: ("Created; `secret` is shown this once", WebhookEndpointCreated),
                **INVALID,
                **ADMIN_ERRORS,
            },
        ),
        operation(
            "get",
            endpoint,
            "A webhook endpoint",
            TAG,
            security,
            responses={200: ("The endpoint", WebhookEndpointOne), **NOT_FOUND, **ADMIN_ERRORS},
        ),
        operation(
            "patch",
            endpoint,
            "Change a webhook endpoint",
            TAG,
            security,
            WebhookEndpointPatch,
            description=f"Only the fields sent change. {ENDPOINT_RULES}",
            responses={
                200: ("The endpoint as saved", WebhookEndpointOne),
                **NOT_FOUND,
                **INVALID,
                **ADMIN_ERRORS,
            },
        ),
        operation(
            "delete",
            endpoint,
            "Delete a webhook endpoint",
            TAG,
            security,
            description="Its deliveries stay in the log.",
            responses={204: ("Deleted", None), **NOT_FOUND, **ADMIN_ERRORS},
        ),
        operation(
            "post",
            f"{endpoint}/rotate-secret",
            "Give the endpoint a new signing secret",
            TAG,
            security,
            description="The old secret stops at once; the new one is in this answer only.",
            responses={
                200: ("The endpoint with its new `secret`", WebhookEndpointCreated),
                **NOT_FOUND,
                **ADMIN_ERRORS,
            },
        ),
        operation(
            "post",
            f"{endpoint}/test",
            "Send a test event",
            TAG,
            security,
            description=(
                "Queues one signed `test` event (one attempt) and answers with its delivery; "
                "its outcome appears in the delivery log."
            ),
            responses={
                202: ("Queued", WebhookDeliveryOne),
                409: ("The endpoint is switched off", ErrorBody),
                **NOT_FOUND,
                **ADMIN_ERRORS,
            },
        ),
        operation(
            "get",
            f"{endpoint}/deliveries",
            "The endpoint's delivery log",
            TAG,
            security,
            description=(
                "Newest first, each with its status, response code and time, attempts, the "
                "payload sent and an excerpt of the answer."
            ),
            parameters=(
                _query(
                    "before",
                    "A page's `next_before`: the deliveries after it. An id that is no "
                    "delivery of this endpoint answers 404.",
                    {"type": "string", "format": "uuid"},
                ),
                _query(
                    "limit",
                    f"Deliveries per page, 1-100 (default {DELIVERY_PAGE_SIZE})",
                    {"type": "integer", "minimum": 1, "maximum": 100},
                ),
            ),
            responses={
                200: ("A page of deliveries", WebhookDeliveryPage),
                404: ("No such webhook endpoint, or `before` is no delivery of it", ErrorBody),
                422: ("A `before` that is not a UUID, or a bad `limit`", ErrorBody),
                **ADMIN_ERRORS,
            },
        ),
        operation(
            "post",
            f"{endpoint}/deliveries/{{delivery_id}}/retry",
            "Retry a delivery now",
            TAG,
            security,
            description=(
                "One more attempt of a failed, waiting or cancelled delivery, with the same "
                "body and `webhook-id`, so the receiver can tell it is a repeat."
            ),
            responses={
                202: ("Queued", WebhookDeliveryOne),
                404: ("No such endpoint, or no such delivery of it", ErrorBody),
                409: ("Delivered already, being sent, or the endpoint is off", ErrorBody),
                **ADMIN_ERRORS,
            },
        ),
        operation(
            "get",
            "/api/integrations/{integration_id}/sync",
            "Sync history and the records left failed or noted",
            TAG,
            security,
            description=(
                "The last sync jobs, and the records (newest change first) that failed, with "
                "their error and attempts, and those that synced with a note (an address "
                "already another contact's, left with that contact). Each record names its "
                "local and remote id and the job that touched it last."
            ),
            parameters=(
                _query(
                    "limit",
                    f"Records per list, 1-{MAX_PROBLEM_PAGE_SIZE} (default {PROBLEM_PAGE_SIZE})",
                    {"type": "integer", "minimum": 1, "maximum": MAX_PROBLEM_PAGE_SIZE},
                ),
                _query("failed_before", "failed_records.next_before of the previous page"),
                _query("notes_before", "notes.next_before of the previous page"),
                _query("job_id", "Only the records this sync job touched last"),
            ),
            responses={
                200: ("History and records", SyncHistoryOut),
                404: ("No such integration", ErrorBody),
                422: ("A bad parameter, named in error.fields", ErrorBody),
                **ADMIN_ERRORS,
            },
        ),
        operation(
            "post",
            "/api/integrations/{integration_id}/sync",
            "Start a sync",
            TAG,
            security,
            SyncStartIn,
            responses={
                202: ("Started", SyncJobStarted),
                404: ("No such integration", ErrorBody),
                422: ("It cannot start (unknown object, direction, one running)", ErrorBody),
                **ADMIN_ERRORS,
            },
        ),
    ]
