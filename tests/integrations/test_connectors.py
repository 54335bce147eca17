"""Each connector against a fake speaking its provider's documented wire format."""

from __future__ import annotations

import pytest
from flask import jsonify, request

from app.integrations.connectors import ConnectorError, connector_for
from app.integrations.connectors.generic import GenericRestConnector
from app.integrations.connectors.hubspot import HubSpotConnector
from app.integrations.connectors.quickbooks import QuickBooksConnector
from app.integrations.connectors.stripe import StripeConnector, form_encode
from app.integrations.connectors.yardi import YardiConnector
from app.platform.models import Integration
from tests.fakes import FakeServer
from tests.fakes.hubspot import TOKEN as HUBSPOT_TOKEN
from tests.fakes.hubspot import FakeHubSpot
from tests.fakes.quickbooks import REALM, FakeQuickBooks
from tests.fakes.quickbooks import TOKEN as QBO_TOKEN
from tests.fakes.stripe_api import SECRET_KEY, FakeStripe

# The fakes listen on 127.0.0.1: the app's test settings allow that; without an app
# the outbound URL check refuses it, as it should (tests/platform/test_outbound_url_check.py).
pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def fake():
    servers = []

    def _start(server):
        servers.append(server.start())
        return server

    yield _start
    for server in servers:
        server.stop()


def test_hubspot_create_list_update_and_conflict(fake):
    hub = fake(FakeHubSpot())
    connector = HubSpotConnector(hub.url, lambda: HUBSPOT_TOKEN, page_size=2)
    assert connector.test_connection()[0]
    ids = [
        connector.create_remote("contacts", {"properties": {"email": f"k{i}@example.nl"}})
        for i in range(3)
    ]
    page, cursor = connector.list_remote("contacts")
    assert [r["id"] for r in page] == ids[:2] and cursor == ids[1]
    page, cursor = connector.list_remote("contacts", cursor)
    assert [r["id"] for r in page] == ids[2:] and cursor is None
    assert hub.requests_to("/crm/v3/objects/contacts", "GET")[-1].args["after"] == ids[1]

    # A second create of the same e-mail: HubSpot's 409 names the existing id.
    same = connector.create_remote("contacts", {"email": "k0@example.nl", "firstname": "K"})
    assert same == ids[0] and hub.records["contacts"][ids[0]]["properties"]["firstname"] == "K"

    hub.reject_emails = {"bad@example.nl"}
    with pytest.raises(ConnectorError) as refused:
        connector.create_remote("contacts", {"properties": {"email": "bad@example.nl"}})
    assert refused.value.status == 400 and not refused.value.retryable
    assert "VALIDATION_ERROR" in refused.value.message
    with pytest.raises(ConnectorError, match="not an object"):
        connector.list_remote("tickets")


def test_rate_limit_waits_for_retry_after_and_server_errors_are_retryable(fake):
    hub = fake(FakeHubSpot())
    connector = HubSpotConnector(hub.url, lambda: HUBSPOT_TOKEN)
    hub.answer_next(
        429,
        {"status": "error", "message": "You have reached your secondly limit."},
        headers={"Retry-After": "0"},
    )
    assert connector.create_remote("contacts", {"email": "a@example.nl"})
    assert len(hub.requests) == 2
    hub.answer_next(429, {"message": "slow down"}, headers={"Retry-After": "3600"})
    with pytest.raises(ConnectorError) as limited:
        connector.list_remote("contacts")
    assert limited.value.retryable and limited.value.status == 429
    hub.answer_next(502, {"message": "bad gateway"})
    with pytest.raises(ConnectorError) as down:
        connector.list_remote("contacts")
    assert down.value.retryable
    unreachable = HubSpotConnector("http://127.0.0.1:9", lambda: "t")
    with pytest.raises(ConnectorError) as gone:
        unreachable.list_remote("contacts")
    assert gone.value.retryable and gone.value.status is None
    assert HubSpotConnector(hub.url, lambda: "wrong").test_connection()[0] is False


def test_quickbooks_customers_query_sparse_update_and_faults(fake):
    qbo = fake(FakeQuickBooks())
    connector = QuickBooksConnector(
        qbo.url, lambda: QBO_TOKEN, config={"realm_id": REALM}, page_size=2
    )
    ok, message = connector.test_connection()
    assert ok and "ChargeCars BV" in message
    ids = [connector.create_remote("customers", {"DisplayName": f"Klant {i}"}) for i in range(3)]
    first, cursor = connector.list_remote("customers")
    assert [connector.remote_id_of(r) for r in first] == ids[:2] and cursor == "3"
    rest, cursor = connector.list_remote("customers", cursor)
    assert [r["Id"] for r in rest] == ids[2:] and cursor is None
    query = qbo.requests_to("/query")[-1].args["query"]
    assert query == "select * from Customer STARTPOSITION 3 MAXRESULTS 2"

    connector.update_remote("customers", ids[0], {"PrimaryEmailAddr": {"Address": "a@b.nl"}})
    updated = qbo.entities["Customer"][ids[0]]
    assert updated["SyncToken"] == "1" and updated["PrimaryEmailAddr"] == {"Address": "a@b.nl"}
    assert qbo.requests[-1].json()["sparse"] is True
    assert all(r.args["minorversion"] == "75" for r in qbo.requests)

    with pytest.raises(ConnectorError) as duplicate:
        connector.create_remote("customers", {"DisplayName": "Klant 1"})
    assert "Duplicate Name Exists" in duplicate.value.message and "6240" in duplicate.value.message
    with pytest.raises(ConnectorError, match="realm_id"):
        QuickBooksConnector(qbo.url, lambda: QBO_TOKEN).list_remote("customers")


def test_stripe_form_encoding_idempotency_and_pagination(fake):
    stripe = fake(FakeStripe())
    connector = StripeConnector(stripe.url, lambda: SECRET_KEY, page_size=2)
    payload = {"email": "a@example.nl", "metadata": {"order_id": "42"}}
    first = connector.create_remote("customers", payload)
    again = connector.create_remote("customers", payload)
    assert first == again and len(stripe.objects["customers"]) == 1  # same Idempotency-Key
    sent = stripe.requests_to("/v1/customers", "POST")[0]
    assert sent.form() == {"email": "a@example.nl", "metadata[order_id]": "42"}
    assert sent.headers["Idempotency-Key"].startswith("switchboard-")
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    for i in range(3):
        connector.create_remote("customers", {"email": f"n{i}@example.nl"})
    seen, cursor = [], None
    while True:
        page, cursor = connector.list_remote("customers", cursor)
        seen += [r["id"] for r in page]
        if cursor is None:
            break
    assert len(seen) == 4 and len(set(seen)) == 4
    connector.update_remote("customers", first, {"name": "Anna"})
    assert stripe.objects["customers"][first]["name"] == "Anna"
    stripe.reject_emails = {"bad@example.nl"}
    with pytest.raises(ConnectorError, match=r"\(email\): Invalid email address"):
        connector.create_remote("customers", {"email": "bad@example.nl"})
    assert form_encode({"a": {"b": [1, True]}}) == [("a[b][0]", "1"), ("a[b][1]", "true")]


def test_generic_connector_uses_configured_endpoints_and_api_key_header(fake):
    server = FakeServer("fake-rovida")
    store = {}

    @server.app.route("/api/work-orders", methods=["GET", "POST"])
    def work_orders():
        if request.headers.get("X-Api-Key") != "rk_123":
            return jsonify({"error": "unauthorised"}), 401
        if request.method == "POST":
            store[str(len(store) + 1)] = request.get_json()
            return jsonify({"data": {"id": len(store)}}), 201
        return jsonify({"items": list(store.values()), "next_cursor": None})

    @server.app.patch("/api/work-orders/<item_id>")
    def update(item_id):
        store[item_id].update(request.get_json())
        return "", 204

    fake(server)
    config = {
        "auth_style": "header",
        "auth_header": "X-Api-Key",
        "update_method": "PATCH",
        "endpoints": {
            "work_orders": {
                "list": "/api/work-orders",
                "create": "/api/work-orders",
                "update": "/api/work-orders/{id}",
            }
        },
    }
    connector = GenericRestConnector(server.url, lambda: "rk_123", config=config)
    assert connector.objects == ("work_orders",)
    assert connector.test_connection()[0]
    remote_id = connector.create_remote("work_orders", {"title": "Laadpaal"})
    connector.update_remote("work_orders", remote_id, {"status": "closed"})
    records, cursor = connector.list_remote("work_orders")
    assert records == [{"title": "Laadpaal", "status": "closed"}] and cursor is None
    assert "Authorization" not in server.requests[0].headers


def test_connector_for_picks_the_class_and_configured_base(app):
    app.config["HUBSPOT_API_BASE"] = "http://127.0.0.1:9/hubspot"
    hubspot = Integration(
        provider="hubspot",
        name="H",
        category="crm",
        auth_method="oauth2",
        config={},
        credentials={},
    )
    connector = connector_for(hubspot)
    assert isinstance(connector, HubSpotConnector) and connector.base_url.endswith("/hubspot")
    with pytest.raises(ConnectorError) as no_token:
        connector.auth_headers()
    assert no_token.value.auth_failed
    yardi = Integration(
        provider="yardi",
        name="Y",
        category="property",
        auth_method="api_key",
        config={"base_url": "https://yardi.example/api", "endpoints": {}},
        credentials={"api_key": "k"},
    )
    # Yardi speaks its service requests through its own connector, at the tenant's host.
    yardi_connector = connector_for(yardi)
    assert isinstance(yardi_connector, YardiConnector)
    assert yardi_connector.base_url == "https://yardi.example/api"
    sage = Integration(
        provider="sage",
        name="S",
        category="accounting",
        auth_method="api_key",
        config={"base_url": "https://sage.example/api", "endpoints": {}},
        credentials={"api_key": "k"},
    )
    assert isinstance(connector_for(sage), GenericRestConnector)
    with pytest.raises(ConnectorError, match="unknown provider"):
        connector_for(Integration(provider="nope", name="n", category="crm", auth_method="x"))
