"""``/api/v1/openapi.json``: OpenAPI 3.1, built from the pydantic models that validate.

Every ``/api/v1`` route has an entry in :data:`OPERATIONS`; request and answer
bodies are the same pydantic models the routes validate with, turned into JSON
Schema (2020-12, which OpenAPI 3.1 uses as is). A test checks that no
``/api/v1`` route is missing, so a new endpoint cannot go undocumented.
Provider webhooks (Meta, Graph, Twilio, SendGrid) take the provider's own
documented format; their entries say so and link to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.conversations.workspace.call_schemas import CallIn, CallLogged
from app.integrations.api_docs.examples import REQUEST_EXAMPLES
from app.integrations.api_docs.hub_operations import hub_operations
from app.integrations.api_docs.partner_operations import PARTNER_ERRORS, partner_operations
from app.integrations.api_docs.partner_order_operations import partner_order_operations
from app.integrations.api_docs.provider_webhook_operations import provider_webhook_operations
from app.integrations.api_docs.sandbox_operations import sandbox_operations
from app.integrations.api_docs.schema_rules import PATH_PARAMETERS, without_null_defaults
from app.orders.core.api_schemas import OrderStatusChangeIn
from app.orders.external.schemas import Accepted, SendBulkEmailIn, SendEmailIn, SendWhatsAppIn
from app.orders.make.schemas import SCENARIOS
from app.orders.partners.schemas import (
    ErrorBody,
    StatusCallback,
)

ERROR = "#/components/responses/Error"
# The partners' getting-started guide (docs/partners.md, served by routes.py).
GUIDE_PATH = "/api/docs/partners"
# Routes outside ``/api/v1`` that the document describes too.
DOCUMENTED_APP_ROUTES = frozenset(
    {
        "/api/communication/calls",
        "/api/orders/<key>/status",
        # The integration hub's admin API, in hub_operations.
        "/api/webhooks",
        "/api/webhooks/<endpoint_id>",
        "/api/webhooks/<endpoint_id>/rotate-secret",
        "/api/webhooks/<endpoint_id>/test",
        "/api/webhooks/<endpoint_id>/deliveries",
        "/api/webhooks/<endpoint_id>/deliveries/<delivery_id>/retry",
        "/api/integrations/<integration_id>/sync",
    }
)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    tag: str
    security: tuple[str, ...] = ()
    body: type[BaseModel] | tuple[type[BaseModel], ...] | None = None
    body_description: str | None = None
    body_media: str = "application/json"
    responses: dict[int, tuple[str, type[BaseModel] | None]] = field(default_factory=dict)
    description: str | None = None
    parameters: tuple[dict, ...] = ()
    # The body's JSON Schema when it is no model of ours (a provider's format).
    body_schema: dict | None = None


# Answered by every operation that reads a JSON body, and every one that needs credentials.
INVALID_JSON = "The body is not JSON (or not of the documented type)"
UNAUTHORIZED = "Missing or invalid credentials"


def _make_scenarios() -> tuple[type[BaseModel], ...]:
    return tuple(SCENARIOS.values())


EXTERNAL_SEND_ERRORS = {
    403: (
        "Not a desk role (agent, team lead, manager, admin), or the send would join "
        "an open conversation the caller cannot open",
        ErrorBody,
    ),
    422: ("Invalid fields", ErrorBody),
}
SIGNED_WEBHOOK = {401: ("Bad or missing signature", ErrorBody), 400: ("Malformed body", ErrorBody)}


def operations() -> list[Operation]:
    return [
        *partner_operations(Operation, SIGNED_WEBHOOK),
        *sandbox_operations(Operation),
        *partner_order_operations(Operation, PARTNER_ERRORS),
        Operation(
            "post",
            "/api/v1/webhooks/make/{scenario}",
            "Make.com scenario callback",
            "Webhooks",
            ("MakeSignature",),
            _make_scenarios(),
            description=(
                "Scenarios: order-created, visit-completed, payment-received, customer-feedback. "
                "X-Make-Signature is the hex HMAC-SHA256 of the raw body with MAKE_WEBHOOK_SECRET."
            ),
            responses={
                202: ("Stored and queued", None),
                404: ("Unknown scenario", ErrorBody),
                422: ("Invalid fields", ErrorBody),
                **SIGNED_WEBHOOK,
            },
        ),
        Operation(
            "post",
            "/api/v1/webhooks/fillout",
            "Fillout form submission",
            "Webhooks",
            ("FilloutSecret",),
            body_description=(
                "Fillout's webhook body (formId, submission.questions[] with name/value, "
                "submissionId, submissionTime, urlParameters) or a plain `responses` object "
                "of field names and answers."
            ),
            responses={
                200: ("Stored and queued", None),
                422: ("Missing fields", ErrorBody),
                **SIGNED_WEBHOOK,
            },
        ),
        Operation(
            "get",
            "/api/v1/webhooks/whatsapp",
            "Meta's subscription handshake",
            "Webhooks",
            description="hub.mode=subscribe and hub.verify_token; answers hub.challenge as text.",
            parameters=tuple(
                {"name": n, "in": "query", "required": True, "schema": {"type": "string"}}
                for n in ("hub.mode", "hub.verify_token", "hub.challenge")
            ),
            responses={200: ("The challenge, text/plain", None), 403: ("Wrong token", None)},
        ),
        Operation(
            "post",
            "/api/v1/webhooks/whatsapp",
            "WhatsApp Cloud API events",
            "Webhooks",
            ("MetaSignature",),
            body_description=(
                "Meta's webhook payload (object whatsapp_business_account, entry[].changes[])."
            ),
            responses={
                200: ("Stored", None),
                413: ("Body over 1 MB", ErrorBody),
                422: ("Not a WhatsApp Business Account payload; error.fields says why", ErrorBody),
                **SIGNED_WEBHOOK,
            },
        ),
        Operation(
            "post",
            "/api/v1/webhooks/outlook",
            "Microsoft Graph change notifications",
            "Webhooks",
            body_description="Graph's notification collection (value[] with clientState).",
            parameters=(
                {
                    "name": "validationToken",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                },
            ),
            responses={
                200: ("validationToken echoed as text/plain", None),
                202: ("Stored", None),
                **SIGNED_WEBHOOK,
            },
        ),
        Operation(
            "post",
            "/api/v1/webhooks/sms",
            "Twilio-compatible inbound SMS and status callbacks",
            "Webhooks",
            ("TwilioSignature",),
            body_description="Twilio's form post (From, To, Body, MessageSid, MessageStatus).",
            body_media="application/x-www-form-urlencoded",
            responses={200: ("Empty TwiML", None), **SIGNED_WEBHOOK},
        ),
        Operation(
            "post",
            "/api/v1/webhooks/sendgrid",
            "SendGrid signed event webhook",
            "Webhooks",
            ("SendGridSignature",),
            body_description="SendGrid's event array (delivered, bounce, open …) with sg_event_id.",
            body_schema={
                "type": "array",
                "items": {"type": "object"},
                "description": "SendGrid's event array, one object per event.",
            },
            responses={200: ("Stored", None), **SIGNED_WEBHOOK},
        ),
        *provider_webhook_operations(Operation, SIGNED_WEBHOOK),
        Operation(
            "post",
            "/api/v1/external/send-whatsapp",
            "Send a WhatsApp text or template",
            "External send API",
            ("Bearer",),
            SendWhatsAppIn,
            responses={202: ("Queued", Accepted), **EXTERNAL_SEND_ERRORS},
        ),
        Operation(
            "post",
            "/api/v1/external/send-email",
            "Send a transactional e-mail",
            "External send API",
            ("Bearer",),
            SendEmailIn,
            responses={202: ("Queued", Accepted), **EXTERNAL_SEND_ERRORS},
        ),
        Operation(
            "post",
            "/api/v1/external/send-bulk-email",
            "Mail one template to an audience",
            "External send API",
            ("Bearer",),
            SendBulkEmailIn,
            responses={
                202: ("Job queued", None),
                403: ("Needs manager or admin", ErrorBody),
                422: ("Invalid fields", ErrorBody),
            },
        ),
        Operation(
            "get",
            "/api/v1/external/bulk-jobs/{job_id}",
            "Progress of a bulk e-mail job",
            "External send API",
            ("Bearer",),
            responses={200: ("Progress", None), 404: ("No such job", ErrorBody)},
        ),
        Operation(
            "post",
            "/api/orders/{key}/status",
            "Change an order's status",
            "Communication API",
            ("Bearer",),
            OrderStatusChangeIn,
            description=(
                "Through the status engine, as on the order page. `reason` is for "
                "colleagues and never reaches the partner; `partner_note` is what the "
                "order's partner reads (its callback's `status_details.reason`)."
            ),
            responses={
                200: ("The order as it is now", None),
                403: ("Not an order the caller may move", ErrorBody),
                404: ("No such order", ErrorBody),
                409: ("The status engine does not allow this move", ErrorBody),
                422: ("Invalid fields, each named in error.fields", ErrorBody),
            },
        ),
        Operation(
            "post",
            "/api/communication/calls",
            "Log a phone call on a conversation",
            "Communication API",
            ("Bearer",),
            CallIn,
            description=(
                "A call an agent made or took, shown in the conversation's "
                "timeline. A call that reached the customer counts as the first response "
                "for the SLA; no answer, voicemail, a wrong number or a callback request "
                "do not. Desk roles only; the signed-in session works as well as a token."
            ),
            responses={
                201: ("Logged", CallLogged),
                403: ("Not a desk role, or a conversation of another team", ErrorBody),
                404: ("No such conversation", ErrorBody),
                422: ("Invalid fields, each named in error.fields", ErrorBody),
            },
        ),
        Operation(
            "get",
            "/api/v1/openapi.json",
            "This document",
            "Meta",
            responses={200: ("OpenAPI 3.1", None)},
        ),
        *hub_operations(Operation),
    ]


SECURITY_SCHEMES = {
    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "Bearer": {"type": "http", "scheme": "bearer"},
    "StandardWebhooks": {
        "type": "apiKey",
        "in": "header",
        "name": "webhook-signature",
        "description": "Standard Webhooks v1 signature with your whsec_ secret.",
    },
    "MakeSignature": {"type": "apiKey", "in": "header", "name": "X-Make-Signature"},
    "FilloutSecret": {"type": "http", "scheme": "bearer", "description": "FILLOUT_WEBHOOK_SECRET"},
    "MetaSignature": {"type": "apiKey", "in": "header", "name": "X-Hub-Signature-256"},
    "StripeSignature": {"type": "apiKey", "in": "header", "name": "Stripe-Signature"},
    "HubSpotSignatureV3": {"type": "apiKey", "in": "header", "name": "X-HubSpot-Signature-v3"},
    "IntuitSignature": {"type": "apiKey", "in": "header", "name": "intuit-signature"},
    "XeroSignature": {"type": "apiKey", "in": "header", "name": "x-xero-signature"},
    "SquareSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "x-square-hmacsha256-signature",
    },
    "PipedriveBasicAuth": {"type": "http", "scheme": "basic"},
    "RovidaSignature": {"type": "apiKey", "in": "header", "name": "Rovida-Signature"},
    "TwilioSignature": {"type": "apiKey", "in": "header", "name": "X-Twilio-Signature"},
    "SendGridSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Twilio-Email-Event-Webhook-Signature",
    },
}


def _models(ops: list[Operation]) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = [ErrorBody, StatusCallback]
    for op in ops:
        bodies = op.body if isinstance(op.body, tuple) else (op.body,) if op.body else ()
        found.extend(bodies)
        found.extend(model for _, model in op.responses.values() if model is not None)
    return list(dict.fromkeys(found))


@cache
def build_spec(server_urls: tuple[str, ...]) -> dict:
    ops = operations()
    models = _models(ops)
    keyed, schemas = models_json_schema(
        [(model, "validation") for model in models],
        ref_template="#/components/schemas/{model}",
    )
    refs = {model: keyed[(model, "validation")] for model in models}
    paths: dict[str, dict] = {}
    for op in ops:
        entry: dict = {
            "summary": op.summary,
            "tags": [op.tag],
            "operationId": _operation_id(op),
            "responses": {
                str(code): _response(description, refs.get(model))
                for code, (description, model) in sorted(_responses(op).items())
            },
        }
        if op.description:
            entry["description"] = op.description
        if op.security:
            entry["security"] = [{name: []} for name in op.security]
        parameters = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": PATH_PARAMETERS.get(name, {"type": "string"}),
            }
            for name in re.findall(r"{(\w+)}", op.path)
        ] + list(op.parameters)
        if parameters:
            entry["parameters"] = parameters
        if op.body or op.body_description:
            entry["requestBody"] = _request_body(op, refs)
        paths.setdefault(op.path, {})[op.method] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Switchboard API",
            "version": "1.0.0",
            "description": (
                "ChargeCars' partner API, inbound webhooks, send API and the integration "
                "hub's admin API (webhook endpoints, syncs). Errors are "
                '`{"success": false, "error": {"code", "message", "fields"}}`. '
                "Text may not contain the NUL character (U+0000): the partner API refuses "
                "it with 422 naming the field. "
                "Status callbacks we send you are described by the StatusCallback schema "
                "and the `statusCallback` webhook.\n\n"
                f"**Partners:** start with the [getting started guide]({GUIDE_PATH}): from a "
                "test key to a first test order to a verified callback, and every error "
                f"code with what to do ([error codes]({GUIDE_PATH}#error-codes))."
            ),
        },
        "servers": [{"url": url} for url in server_urls],
        "paths": paths,
        "webhooks": {
            "statusCallback": {
                "post": {
                    "summary": "An order's status changed",
                    "requestBody": {
                        "content": {"application/json": {"schema": refs[StatusCallback]}}
                    },
                    "responses": {"2XX": {"description": "Delivered; anything else is retried"}},
                }
            }
        },
        "components": {
            "schemas": without_null_defaults(schemas.get("$defs", {})),
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def _responses(op: Operation) -> dict:
    """The operation's answers, with the 400 and 401 that every such operation can give."""
    found = dict(op.responses)
    reads_json = (op.body or op.body_description) and op.body_media == "application/json"
    if reads_json:
        found.setdefault(400, (INVALID_JSON, ErrorBody))
    if op.security:
        found.setdefault(401, (UNAUTHORIZED, ErrorBody))
    return found


def _operation_id(op: Operation) -> str:
    words = re.sub(r"[{}]", "", op.path.removeprefix("/api/v1/")).replace("-", "_").split("/")
    return op.method + "_" + "_".join(w for w in words if w)


def _response(description: str, ref: dict | None) -> dict:
    response: dict = {"description": description}
    if ref is not None:
        response["content"] = {"application/json": {"schema": ref}}
    return response


def _request_body(op: Operation, refs: dict) -> dict:
    if op.body is None:
        schema: dict = op.body_schema or {"type": "object", "description": op.body_description}
        if op.body_media.endswith("x-www-form-urlencoded"):
            schema = {"type": "object", "additionalProperties": {"type": "string"}}
        return {
            "required": True,
            "description": op.body_description,
            "content": {op.body_media: {"schema": schema}},
        }
    media: dict
    if isinstance(op.body, tuple):
        media = {
            "schema": {"oneOf": [refs[model] for model in op.body]},
            "examples": {
                model.__name__: {"summary": model.__name__, "value": REQUEST_EXAMPLES[model]}
                for model in op.body
                if model in REQUEST_EXAMPLES
            },
        }
    else:
        media = {"schema": refs[op.body]}
        if op.body in REQUEST_EXAMPLES:
            media["example"] = REQUEST_EXAMPLES[op.body]
    return {"required": True, "content": {op.body_media: media}}


def flask_rule_to_path(rule: str) -> str:
    """``/orders/<path:partner_order_id>`` → ``/orders/{partner_order_id}``."""
    return re.sub(r"<(?:[a-z]+:)?(\w+)>", r"{\1}", rule)
