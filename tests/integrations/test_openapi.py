"""The OpenAPI document: valid 3.1, complete, built from the validating models."""

from __future__ import annotations

from openapi_spec_validator import validate

from app.integrations.api_docs.openapi import DOCUMENTED_APP_ROUTES, flask_rule_to_path


def test_document_is_valid_openapi_3_1_and_covers_every_v1_route(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"] == "3.1.0"
    validate(spec)
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    routes = {
        (flask_rule_to_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") or rule.rule in DOCUMENTED_APP_ROUTES
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes - documented == set()
    assert documented - routes == set()


def test_order_schema_is_the_one_that_validates(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/partners/{partner_id}/orders"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    order = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"partner_order_id", "customer"} <= set(order["required"])
    assert {"line_items", "products"} <= set(order["properties"])
    assert set(operation["responses"]) >= {"201", "200", "401", "403", "422", "429"}
    assert "statusCallback" in spec["webhooks"]


def test_docs_page_uses_the_vendored_viewer(client):
    page = client.get("/api/docs").get_data(as_text=True)
    assert "/static/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js" in page
    assert "/api/v1/openapi.json" in page
    assert "https://" not in page
    assert client.get("/static/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js").status_code == 200


def test_partner_docs_say_which_settings_and_statuses_are_ours(client):
    """The documented body is the one the partner may send."""
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/partners/{partner_id}/integration-config"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schemas = spec["components"]["schemas"]
    config = schemas[ref.rsplit("/", 1)[1]]
    ours = ("rate_limit_per_minute", "max_delivery_attempts", "is_active", "granted_statuses")
    for field in ours:
        assert field not in config["properties"]
        assert f"`{field}`" in operation["description"]
    # Which statuses a mapping may reach is granted per partner (default
    # on_hold), so the schema lists our statuses and the text says who grants them.
    inbound = schemas["StatusMapping"]["properties"]["partner_to_chargecars"]
    assert "granted" in inbound["description"]
    assert "granted you (`on_hold`" in operation["description"]
    webhook = spec["paths"]["/api/v1/webhooks/partner-status/{partner_id}"]["post"]
    assert "granted you (`on_hold`" in webhook["description"]


def test_the_order_status_api_documents_the_partner_note_beside_the_reason(client):
    """The JSON API's status change takes a note for the partner."""
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/orders/{key}/status"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"to_status", "reason", "partner_note"} <= set(body["properties"])
    assert "never to a partner" in body["properties"]["reason"]["description"]
    assert "status_details.reason" in body["properties"]["partner_note"]["description"]
    assert "409" in operation["responses"]


def test_servers_is_the_address_the_document_was_fetched_from(client):
    """"Try it out" calls the host and port the reader is on.

    PUBLIC_BASE_URL follows as the second choice.
    """
    spec = client.get("/api/v1/openapi.json", base_url="http://docs.example:8123").get_json()
    assert spec["servers"] == [{"url": "http://docs.example:8123"}, {"url": "http://127.0.0.1:5000"}]
    spec = client.get("/api/v1/openapi.json", base_url="https://staging.example").get_json()
    assert spec["servers"][0] == {"url": "https://staging.example"}
    spec = client.get("/api/v1/openapi.json", base_url="http://127.0.0.1:5000").get_json()
    assert spec["servers"] == [{"url": "http://127.0.0.1:5000"}]
