"""The published description is the truth, checked by schemathesis.

Schemathesis reads ``/api/v1/openapi.json`` as an outside client would and sends
requests generated from it to every documented operation, through the WSGI app
(nothing leaves the machine: no worker runs, providers point at a closed port).
Partner operations get a partner key, the rest an admin's personal token;
signed webhooks get no signature we could forge, so they answer the documented
401. Each answer must be no server error, a documented status with a body of
the documented shape, and a schema-valid request must not be refused (4xx other
than authentication, 404, conflict or rate limit).

That last check (positive data acceptance) holds for every
operation but the provider-signed webhooks. The only refusals of a schema-valid
request it lets through are those of :data:`BEYOND_SCHEMA`: rules JSON Schema
cannot state (a time that must lie ahead, header names equal but for case),
each said in words in the published document.

Six examples per operation, derandomized, keep it reproducible and inside the
suite's time budget.
"""

from __future__ import annotations

import contextvars
import json
import re
import uuid
import zlib

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from app import create_app
from app.integrations.api_docs.examples import PARTNER_ORDER_ID, REQUEST_EXAMPLES
from app.integrations.api_docs.openapi import build_spec
from app.orders.partners.schemas import PartnerOrderIn
from app.platform.auth.services import create_user
from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models.enums import OrderStatus, TokenKind
from tests.conftest import base_config, opened
from tests.support.helpers import PASSWORD
from tests.support.partner_support import make_partner

CLOSED = "http://127.0.0.1:9"
# Provider-signed webhooks: their bodies are the provider's own format (Meta, Graph,
# SendGrid, Salesforce…), described in words and linked, not modelled, and no
# signature we could forge reaches past the 401. Every other operation is held to
# the positive-data check too: what its schema allows, it accepts.
PROVIDER_SIGNED = "/api/v1/webhooks/"
# Refusals by rules a JSON Schema cannot state, per operation: each field (a
# pattern) with the validator's words for the rule, and the phrase the published
# document says it in. A schema-valid request refused (422) for these alone is
# the documented rule at work, not a valid request refused.
SEND_AT_AHEAD = {"send_at": "must not be in the past"}
HEADERS_DIFFER_IN_CASE = {r"custom_headers\..+": "is given twice"}
BEYOND_SCHEMA = {
    ("POST", "/api/v1/external/send-email"): (SEND_AT_AHEAD, "must not lie in the past"),
    ("POST", "/api/v1/external/send-bulk-email"): (SEND_AT_AHEAD, "must not lie in the past"),
    ("POST", "/api/webhooks"): (HEADERS_DIFFER_IN_CASE, "differ only in case"),
    ("PATCH", "/api/webhooks/{endpoint_id}"): (HEADERS_DIFFER_IN_CASE, "differ only in case"),
}


def _refused_beyond_schema(case, response) -> bool:
    """The answer is a 422 naming only fields refused by the operation's BEYOND_SCHEMA rules."""
    known = BEYOND_SCHEMA.get((case.operation.method.upper(), case.operation.path))
    if known is None or response.status_code != 422:
        return False
    fields = (response.json().get("error") or {}).get("fields") or {}
    rules, _ = known
    return bool(fields) and all(
        any(re.fullmatch(field, name) and words in str(said) for field, words in rules.items())
        for name, said in fields.items()
    )


def positive_data_within_documented_rules(ctx, response, case):
    """Schemathesis' positive data acceptance, but for the rules of BEYOND_SCHEMA."""
    if _refused_beyond_schema(case, response):
        return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    positive_data_within_documented_rules,
]


@pytest.fixture(scope="module")
def app(migrated_database):
    """One app for every operation: building one per operation would cost most of the time.

    What one operation leaves (an order cancelled, an endpoint deleted) is a state
    another may meet; each answer is judged on its own all the same.
    """
    built = create_app(
        base_config(
            PDOK_API_BASE=f"{CLOSED}/pdok",
            STRIPE_API_BASE=f"{CLOSED}/stripe",
            MAKE_WEBHOOK_SECRET="schemathesis-make-secret",
        ),
        start_embedded_worker=False,
    )
    with opened(built) as app:
        yield app
    with built.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def callers(app):
    """A partner key (limits high enough for generated traffic) and an admin token."""
    # Which of our statuses a partner's mapping may reach is granted per partner
    # (the description says so); this one may reach all, so a mapping the schema
    # allows is one this partner may send.
    partner = make_partner(
        "Schemathesis Partner",
        rate_limit_per_minute=100_000,
        granted_statuses=OrderStatus.values(),
    )
    admin = create_user("admin@schemathesis.test", "Admin", "admin", PASSWORD)
    _, token = issue_token(TokenKind.PERSONAL, "schemathesis", user_id=admin.id)
    db.session.commit()
    # One real order, so order operations also reach past "not found".
    created = app.test_client().post(
        f"/api/v1/partners/{partner.id}/orders",
        json=REQUEST_EXAMPLES[PartnerOrderIn],
        headers=partner.headers,
    )
    assert created.status_code == 201, created.get_json()
    return {"partner": partner, "admin": {"Authorization": f"Bearer {token}"}}


# The document as /api/v1/openapi.json serves it (a test below holds the two equal).
# Built here rather than fetched through a fixture: schemathesis' fixture loader
# does not run under this pytest, and the document needs no app to be built.
SPEC = build_spec(("http://localhost",))
schema = schemathesis.openapi.from_dict(SPEC)
# The document says text may not hold U+0000 (PostgreSQL stores none), which JSON
# Schema's "string" cannot; test_nul_is_refused_not_a_server_error holds that rule.
schema.config.generation.update(allow_x00=False)


def test_the_checked_document_is_the_published_one(app):
    served = app.test_client().get("/api/v1/openapi.json", base_url="http://localhost").get_json()
    assert {**served, "servers": SPEC["servers"]} == SPEC


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case, app, callers):
    partner = callers["partner"]
    headers = {}
    path = case.operation.path
    if path.startswith("/api/v1/partners/"):
        case.path_parameters["partner_id"] = partner.id
        order_id = case.path_parameters.get("partner_order_id")
        # Half the generated ids are replaced by the real order's, half kept (404).
        if order_id is not None and zlib.crc32(order_id.encode()) % 2 == 0:
            case.path_parameters["partner_order_id"] = PARTNER_ORDER_ID
        headers = partner.headers
        if case.headers and "Idempotency-Key" in case.headers:
            # A key sent again with another body is refused by design (422): that
            # is the server's memory of earlier examples, not the schema.
            case.headers["Idempotency-Key"] = uuid.uuid4().hex
    elif not path.startswith("/api/v1/webhooks/") and path != "/api/v1/openapi.json":
        headers = callers["admin"]
    # Each request in its own context, as in production (see tests.conftest.IsolatedClient).
    response = contextvars.Context().run(case.call, app=app, headers=headers)
    checks = CHECKS
    if path.startswith(PROVIDER_SIGNED):
        checks = [check for check in CHECKS if check is not positive_data_within_documented_rules]
    case.validate_response(response, checks=checks, headers=headers)


def test_the_rules_beyond_the_schema_are_published():
    for (method, path), (_, phrase) in BEYOND_SCHEMA.items():
        operation = SPEC["paths"][path][method.lower()]
        said = json.dumps(operation)
        for ref in re.findall(r'"#/components/schemas/([^"]+)"', said):
            said += json.dumps(SPEC["components"]["schemas"][ref])
        assert phrase in said, f"{method} {path}"


def test_a_bulk_job_id_in_other_characters_names_no_job(app, callers):
    """RQ refuses such an id with a ValueError; it was a 500."""
    client = app.test_client()
    for job_id in ("\u00e9t\u00e9", "job id", "x" * 129):
        response = client.get(f"/api/v1/external/bulk-jobs/{job_id}", headers=callers["admin"])
        assert response.status_code == 404, job_id
        assert response.get_json()["error"]["code"] == "not_found"


def test_every_operation_reading_json_documents_400_and_every_secured_one_401():
    for path, operations in SPEC["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                assert "400" in operation["responses"], f"{method} {path}"
            if operation.get("security"):
                assert "401" in operation["responses"], f"{method} {path}"
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"].endswith("_id"):
                    schema = parameter["schema"]
                    assert "format" in schema or "pattern" in schema or "maxLength" in schema, (
                        f"{method} {path} {parameter['name']}"
                    )


def test_nul_is_refused_not_a_server_error(app, callers):
    """Found by schemathesis: U+0000 in a line's description was a 500 at the write."""
    partner = callers["partner"]
    client = app.test_client()
    body = {**REQUEST_EXAMPLES[PartnerOrderIn], "partner_order_id": "NUL-1"}
    body["line_items"] = [{**body["line_items"][0], "description": "Wall\u0000box"}]
    response = client.post(
        f"/api/v1/partners/{partner.id}/orders", json=body, headers=partner.headers
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {
        "line_items[0].description": "must not contain the NUL character (U+0000)"
    }
    config = client.post(
        f"/api/v1/partners/{partner.id}/integration-config",
        json={"api_version": "v\u00001"},
        headers=partner.headers,
    )
    assert config.status_code == 422 and "api_version" in config.get_json()["error"]["fields"]
