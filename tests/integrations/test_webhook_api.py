"""The integration hub's webhook API (``/api/webhooks``) from the outside.

An admin's personal API token (or signed-in session) drives the API; every
call an endpoint gets lands on the fake receiver, which verifies it with the
``standardwebhooks`` reference library and the secret the create answer
showed, so a wrong secret or a changed body fails the test.
"""

from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa

from app.integrations.api_schemas import WebhookEndpointIn, WebhookEndpointPatch
from app.integrations.endpoints import API_FIELDS, emit_event
from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models import AuditLog, OutboundDelivery, WebhookEndpoint
from app.platform.models.enums import TokenKind
from app.platform.transactions import commit
from tests.fakes.receiver import FakeReceiver
from tests.support.helpers import serving
from tests.support.jobs import drain_queues, drain_until

HEADER_TOKEN = "tok-api-secret-456"  # noqa: S105


@pytest.fixture
def receiver():
    yield from serving(FakeReceiver("whsec_placeholder"))


@pytest.fixture
def admin(make_user):
    return make_user("admin")


@pytest.fixture
def api(client, admin):
    """Call the API as the admin, with a personal token as an integrating system would."""
    _, token = issue_token(TokenKind.PERSONAL, "erp", user_id=admin.id)
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}

    def call(method: str, path: str, body=None, **kwargs):
        return client.open(path, method=method, json=body, headers=headers, **kwargs)

    return call


def _create(api, receiver, **fields):
    """Create an endpoint pointed at the receiver; the receiver learns its secret."""
    body = {
        "url": receiver.url + "/hooks/switchboard",
        "events": ["invoice.paid"],
        "custom_headers": {"Authorization": f"Bearer {HEADER_TOKEN}", "X-Tenant": "chargecars"},
        **fields,
    }
    answer = api("POST", "/api/webhooks", body)
    assert answer.status_code == 201, answer.get_json()
    receiver.secret = answer.get_json()["data"]["secret"]
    return answer.get_json()["data"]


def _audit_actions() -> list[str]:
    return db.session.scalars(sa.select(AuditLog.action).order_by(AuditLog.created_at)).all()


# --- endpoints ---------------------------------------------------------------------


def test_create_shows_the_secret_once_and_never_the_header_values(api, receiver):
    answer = api(
        "POST",
        "/api/webhooks",
        {
            "url": receiver.url + "/hook",
            "description": "ERP",
            "events": ["invoice.paid", "customer.created"],
            "custom_headers": {"Authorization": f"Bearer {HEADER_TOKEN}"},
            "max_attempts": 4,
            "retry_base_seconds": 30,
        },
    )
    assert answer.status_code == 201
    assert answer.headers["Cache-Control"] == "no-store"
    data = answer.get_json()["data"]
    endpoint = db.session.get(WebhookEndpoint, uuid.UUID(data["id"]))
    assert data["secret"] == endpoint.secret and data["secret"].startswith("whsec_")
    assert (data["events"], data["max_attempts"], data["retry_base_seconds"]) == (
        ["invoice.paid", "customer.created"],
        4,
        30,
    )
    assert (data["state"], data["is_active"], data["description"]) == ("active", True, "ERP")
    assert data["custom_header_names"] == ["Authorization"]
    assert endpoint.custom_headers == {"Authorization": f"Bearer {HEADER_TOKEN}"}
    assert HEADER_TOKEN not in answer.get_data(as_text=True)
    # Never again: not in the list, the endpoint, nor the audit log.
    for path in ("/api/webhooks", f"/api/webhooks/{endpoint.id}"):
        shown = api("GET", path)
        assert shown.status_code == 200
        assert "whsec_" not in shown.get_data(as_text=True), path
        assert HEADER_TOKEN not in shown.get_data(as_text=True), path
    listed = api("GET", "/api/webhooks").get_json()["data"]
    assert [e["id"] for e in listed] == [data["id"]]
    assert "secret" not in listed[0]
    [audit] = db.session.scalars(sa.select(AuditLog)).all()
    assert audit.action == "WEBHOOK_ENDPOINT_CREATED"
    assert endpoint.secret not in str(audit.changes) and HEADER_TOKEN not in str(audit.changes)
    assert audit.changes["custom_header_names"] == ["Authorization"]


def test_an_admins_session_works_too_with_its_csrf_token(client, auth, admin, receiver):
    auth.login(admin.email)
    body = {"url": receiver.url + "/hook", "events": ["job.completed"]}
    assert client.post("/api/webhooks", json=body).status_code == 400  # no CSRF token
    token = auth.csrf_token("/integrations/webhooks/")
    answer = client.post("/api/webhooks", json=body, headers={"X-CSRFToken": token})
    assert answer.status_code == 201
    assert client.get("/api/webhooks").get_json()["data"][0]["events"] == ["job.completed"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": ["invoice.paid", "order.exploded"]}, "events"),
        ({"events": []}, "events"),
        ({"events": "invoice.paid"}, "events"),
        ({"url": "ftp://erp.example.com/hook"}, "url"),
        ({"url": 42}, "url"),
        ({"custom_headers": {"Bad Header": "x"}}, "custom_headers.Bad Header"),
        ({"custom_headers": {"webhook-id": "mine"}}, "custom_headers.webhook-id"),
        ({"custom_headers": {"X-Tenant": ""}}, "custom_headers.X-Tenant"),
        ({"custom_headers": {"X-Tenant": 7}}, "custom_headers.X-Tenant"),
        ({"custom_headers": ["X-Tenant: a"]}, "custom_headers"),
        ({"max_attempts": 11}, "max_attempts"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": "3"}, "max_attempts"),
        ({"max_attempts": True}, "max_attempts"),
        ({"retry_base_seconds": 3601}, "retry_base_seconds"),
        ({"description": "x" * 256}, "description"),
        ({"is_active": "yes"}, "is_active"),
        ({"secret": "whsec_mine"}, "secret"),
        ({"retryConfig": {"max": 3}}, "retryConfig"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_nothing_is_written(api, receiver, body, field):
    valid = {"url": receiver.url + "/hook", "events": ["invoice.paid"]}
    answer = api("POST", "/api/webhooks", {**valid, **body})
    assert answer.status_code == 422, answer.get_json()
    error = answer.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert field in error["fields"], error["fields"]
    assert db.session.scalar(sa.select(sa.func.count(WebhookEndpoint.id))) == 0
    assert _audit_actions() == []


def test_plain_http_and_private_addresses_are_refused_as_the_page_refuses_them(
    app, api, client, auth, admin, monkeypatch
):
    monkeypatch.setitem(app.config, "ALLOW_PRIVATE_WEBHOOK_URLS", False)
    for url in (
        "http://erp.example.com/hook",
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest",
        "https://localhost:8443/hook",
    ):
        answer = api("POST", "/api/webhooks", {"url": url, "events": ["invoice.paid"]})
        assert answer.status_code == 422, url
        assert "url" in answer.get_json()["error"]["fields"], url
    good = api(
        "POST", "/api/webhooks", {"url": "https://erp.example.com/h", "events": ["job.created"]}
    )
    assert good.status_code == 201
    auth.login(admin.email)
    page = client.post(
        "/integrations/webhooks/",
        data={
            "csrf_token": auth.csrf_token("/integrations/webhooks/"),
            "url": "https://10.1.2.3/hook",
            "events": ["invoice.paid"],
        },
    )
    assert page.status_code == 422 and 'data-field="url"' in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(WebhookEndpoint.id))) == 1


def test_not_json_is_400(api):
    answer = api("POST", "/api/webhooks", data="url=x", content_type="text/plain")
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "invalid_json"


def test_patch_changes_only_what_is_sent_and_is_audited(api, receiver):
    data = _create(api, receiver, description="ERP")
    path = f"/api/webhooks/{data['id']}"
    answer = api("PATCH", path, {"events": ["invoice.paid", "payment.received"], "max_attempts": 2})
    assert answer.status_code == 200
    changed = answer.get_json()["data"]
    assert changed["events"] == ["invoice.paid", "payment.received"]
    assert (changed["max_attempts"], changed["description"]) == (2, "ERP")
    assert changed["custom_header_names"] == ["Authorization", "X-Tenant"]
    assert "secret" not in changed
    endpoint = db.session.get(WebhookEndpoint, uuid.UUID(data["id"]))
    db.session.refresh(endpoint)
    assert endpoint.custom_headers["Authorization"] == f"Bearer {HEADER_TOKEN}"

    # Headers replaced only when sent; null clears them.
    api("PATCH", path, {"custom_headers": {"X-Tenant": "groendus"}})
    db.session.refresh(endpoint)
    assert endpoint.custom_headers == {"X-Tenant": "groendus"}
    assert (
        api("PATCH", path, {"custom_headers": None}).get_json()["data"]["custom_header_names"] == []
    )

    off = api("PATCH", path, {"is_active": False}).get_json()["data"]
    assert (off["is_active"], off["state"]) == (False, "off")
    bad = api("PATCH", path, {"max_attempts": 99, "colour": "red"})
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) == {"max_attempts", "colour"}
    db.session.refresh(endpoint)
    assert endpoint.max_attempts == 2
    assert _audit_actions() == [
        "WEBHOOK_ENDPOINT_CREATED",
        "WEBHOOK_ENDPOINT_UPDATED",
        "WEBHOOK_ENDPOINT_UPDATED",
        "WEBHOOK_ENDPOINT_UPDATED",
        "WEBHOOK_ENDPOINT_DISABLED",
    ]
    updates = db.session.scalars(
        sa.select(AuditLog.changes)
        .where(AuditLog.action == "WEBHOOK_ENDPOINT_UPDATED")
        .order_by(AuditLog.created_at)
    ).all()
    assert set(updates[0]) == {"events", "max_attempts"}
    assert HEADER_TOKEN not in str(updates) and "groendus" not in str(updates)


def test_switching_on_lifts_a_410_block(app, api, receiver):
    data = _create(api, receiver)
    receiver.behave_next(status=410)
    emit_event("invoice.paid", {"invoice": "F-3"}, source="test")
    commit()
    drain_queues(app)
    blocked = api("GET", f"/api/webhooks/{data['id']}").get_json()["data"]
    assert blocked["state"] == "disabled" and "410" in blocked["disabled_reason"]
    assert blocked["is_active"] is True
    on = api("PATCH", f"/api/webhooks/{data['id']}", {"is_active": True}).get_json()["data"]
    assert (on["state"], on["disabled_at"], on["disabled_reason"]) == ("active", None, None)
    assert _audit_actions()[-1] == "WEBHOOK_ENDPOINT_ENABLED"


def test_delete_keeps_the_log_and_unknown_ids_are_404(api, receiver):
    data = _create(api, receiver)
    emit_event("invoice.paid", {"x": 1}, source="test")
    db.session.commit()
    path = f"/api/webhooks/{data['id']}"
    assert api("DELETE", path).status_code == 204
    assert db.session.scalar(sa.select(sa.func.count(OutboundDelivery.id))) == 1
    assert _audit_actions() == ["WEBHOOK_ENDPOINT_CREATED", "WEBHOOK_ENDPOINT_DELETED"]
    for method, suffix, body in (
        ("GET", "", None),
        ("PATCH", "", {"max_attempts": 2}),
        ("DELETE", "", None),
        ("POST", "/rotate-secret", None),
        ("POST", "/test", None),
        ("GET", "/deliveries", None),
        ("POST", f"/deliveries/{uuid.uuid4()}/retry", None),
    ):
        for endpoint_id in (data["id"], "not-a-uuid"):
            answer = api(method, f"/api/webhooks/{endpoint_id}{suffix}", body)
            assert answer.status_code == 404, (method, suffix, endpoint_id)
            assert answer.get_json()["error"]["code"] == "not_found"


def test_rotating_the_secret_shows_the_new_one_once(app, api, receiver):
    data = _create(api, receiver)
    old = receiver.secret
    answer = api("POST", f"/api/webhooks/{data['id']}/rotate-secret")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    new = answer.get_json()["data"]["secret"]
    assert new.startswith("whsec_") and new != old
    assert "whsec_" not in api("GET", f"/api/webhooks/{data['id']}").get_data(as_text=True)
    assert _audit_actions()[-1] == "WEBHOOK_ENDPOINT_SECRET_ROTATED"
    # Signed with the new secret now: the receiver, still on the old one, refuses it.
    api("POST", f"/api/webhooks/{data['id']}/test")
    drain_queues(app)
    assert receiver.delivered() == [] and len(receiver.rejections) == 1
    receiver.rejections.clear()
    receiver.secret = new
    api("POST", f"/api/webhooks/{data['id']}/test")
    drain_until(app, lambda: receiver.delivered())
    assert receiver.rejections == []


def test_actions_take_no_fields(api, receiver):
    data = _create(api, receiver)
    answer = api("POST", f"/api/webhooks/{data['id']}/test", {"event": "invoice.paid"})
    assert answer.status_code == 422
    assert answer.get_json()["error"]["fields"] == {"event": "unknown field"}
    assert db.session.scalar(sa.select(sa.func.count(OutboundDelivery.id))) == 0


# --- deliveries --------------------------------------------------------------------


def test_a_real_delivery_is_signed_and_logged_with_its_answer(app, api, receiver):
    data = _create(api, receiver)
    emit_event("invoice.paid", {"invoice": "F-10", "amount": 121.0}, source="stripe")
    commit()
    drain_until(app, lambda: receiver.delivered())
    assert receiver.rejections == []  # Standard Webhooks signature verified with the secret
    [event] = receiver.delivered()
    assert event.headers["Authorization"] == f"Bearer {HEADER_TOKEN}"
    assert event.headers["X-Tenant"] == "chargecars"

    answer = api("GET", f"/api/webhooks/{data['id']}/deliveries")
    assert answer.status_code == 200
    [delivery] = answer.get_json()["data"]
    assert answer.get_json()["next_before"] is None
    assert delivery["webhook_id"] == event.webhook_id
    assert (delivery["event_type"], delivery["status"], delivery["response_code"]) == (
        "invoice.paid",
        "delivered",
        200,
    )
    assert delivery["attempt_count"] == 1 and delivery["max_attempts"] == 3
    assert isinstance(delivery["response_time_ms"], int) and delivery["response_time_ms"] >= 0
    assert json.loads(delivery["response_excerpt"]) == {"received": True}
    assert delivery["payload"] == json.loads(event.body)
    assert delivery["payload"]["data"] == {"invoice": "F-10", "amount": 121.0}
    assert delivery["delivered_at"] and delivery["created_at"]
    [attempt] = delivery["attempts"]
    assert (attempt["attempt_number"], attempt["status_code"]) == (1, 200)
    assert attempt["triggered_by_user_id"] is None
    listed = api("GET", "/api/webhooks").get_json()["data"][0]
    assert (listed["delivered_24h"], listed["failed_24h"]) == (1, 0)


def test_test_event_answers_with_its_delivery_and_arrives_signed(app, api, admin, receiver):
    data = _create(api, receiver)
    answer = api("POST", f"/api/webhooks/{data['id']}/test")
    assert answer.status_code == 202
    queued = answer.get_json()["data"]
    assert (queued["event_type"], queued["status"], queued["max_attempts"]) == (
        "test",
        "pending",
        1,
    )
    drain_until(app, lambda: receiver.delivered())
    assert receiver.rejections == []
    [call] = receiver.delivered()
    assert call.event == "test" and call.payload["type"] == "test"
    assert call.webhook_id == queued["webhook_id"]
    [logged] = api("GET", f"/api/webhooks/{data['id']}/deliveries").get_json()["data"]
    assert logged["status"] == "delivered"
    assert logged["attempts"][0]["triggered_by_user_id"] == str(admin.id)

    api("PATCH", f"/api/webhooks/{data['id']}", {"is_active": False})
    refused = api("POST", f"/api/webhooks/{data['id']}/test")
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "endpoint_off"


def test_retry_keeps_the_webhook_id_and_is_refused_once_delivered(app, api, admin, receiver):
    data = _create(api, receiver, max_attempts=1)
    receiver.behave_next(status=503, body="down for maintenance")
    emit_event("invoice.paid", {"invoice": "F-2"}, source="test")
    commit()
    drain_queues(app)
    [failed] = api("GET", f"/api/webhooks/{data['id']}/deliveries").get_json()["data"]
    assert (failed["status"], failed["response_code"]) == ("failed", 503)
    assert failed["response_excerpt"] == "down for maintenance"
    assert failed["error"]

    path = f"/api/webhooks/{data['id']}/deliveries/{failed['id']}/retry"
    answer = api("POST", path)
    assert answer.status_code == 202
    assert answer.get_json()["data"]["status"] == "pending"
    assert answer.get_json()["data"]["webhook_id"] == failed["webhook_id"]
    drain_until(app, lambda: receiver.delivered())
    assert receiver.rejections == []
    first, second = receiver.events
    # Standard Webhooks: a retry is the same message, so the same webhook-id.
    assert first.webhook_id == second.webhook_id == failed["webhook_id"]
    assert first.body == second.body
    [retried] = api("GET", f"/api/webhooks/{data['id']}/deliveries").get_json()["data"]
    assert retried["status"] == "delivered"
    assert [a["status_code"] for a in retried["attempts"]] == [503, 200]
    assert retried["attempts"][1]["triggered_by_user_id"] == str(admin.id)

    again = api("POST", path)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "not_retryable"
    # Another endpoint's delivery is not this endpoint's to retry.
    other = api("POST", "/api/webhooks", {"url": receiver.url + "/b", "events": ["job.created"]})
    other_id = other.get_json()["data"]["id"]
    assert (
        api("POST", f"/api/webhooks/{other_id}/deliveries/{failed['id']}/retry").status_code == 404
    )
    assert api("POST", f"/api/webhooks/{data['id']}/deliveries/nope/retry").status_code == 404


def test_the_log_pages_newest_first(app, api, receiver):
    data = _create(api, receiver)
    for number in range(3):
        emit_event("invoice.paid", {"invoice": f"F-{number}"}, source="test")
        commit()
    path = f"/api/webhooks/{data['id']}/deliveries"
    first = api("GET", f"{path}?limit=2").get_json()
    assert [d["payload"]["data"]["invoice"] for d in first["data"]] == ["F-2", "F-1"]
    second = api("GET", f"{path}?limit=2&before={first['next_before']}").get_json()
    assert [d["payload"]["data"]["invoice"] for d in second["data"]] == ["F-0"]
    assert second["next_before"] is None
    for query, field in (
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=two", "limit"),
        ("before=nope", "before"),
    ):
        answer = api("GET", f"{path}?{query}")
        assert answer.status_code == 422, query
        assert field in answer.get_json()["error"]["fields"], query
    # A well-formed id that is no delivery of this endpoint names nothing: 404.
    unknown = api("GET", f"{path}?before={uuid.uuid4()}")
    assert unknown.status_code == 404
    assert "before" in unknown.get_json()["error"]["fields"]


# --- who may ----------------------------------------------------------------------


def test_anonymous_is_401_and_signed_in_non_admins_403(client, auth, make_user, receiver, api):
    data = _create(api, receiver)
    routes = [
        ("GET", "/api/webhooks"),
        ("POST", "/api/webhooks"),
        ("GET", f"/api/webhooks/{data['id']}"),
        ("PATCH", f"/api/webhooks/{data['id']}"),
        ("DELETE", f"/api/webhooks/{data['id']}"),
        ("POST", f"/api/webhooks/{data['id']}/rotate-secret"),
        ("POST", f"/api/webhooks/{data['id']}/test"),
        ("GET", f"/api/webhooks/{data['id']}/deliveries"),
        ("POST", f"/api/webhooks/{data['id']}/deliveries/{uuid.uuid4()}/retry"),
    ]
    for method, path in routes:
        answer = client.open(path, method=method, json={})
        assert answer.status_code == 401, (method, path)
        assert answer.get_json()["error"]["code"] == "authentication_required"
    manager = make_user("manager")
    auth.login(manager.email)
    token = auth.csrf_token("/inbox")
    for method, path in routes:
        answer = client.open(path, method=method, json={}, headers={"X-CSRFToken": token})
        assert answer.status_code == 403, (method, path)
        assert answer.get_json()["error"]["code"] == "forbidden"
    assert db.session.scalar(sa.select(sa.func.count(WebhookEndpoint.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(OutboundDelivery.id))) == 0


# --- the description ---------------------------------------------------------------


def test_the_documented_bodies_are_the_ones_the_api_takes(client):
    assert set(WebhookEndpointIn.model_fields) == set(API_FIELDS)
    assert set(WebhookEndpointPatch.model_fields) == set(API_FIELDS)
    spec = client.get("/api/v1/openapi.json").get_json()
    create = spec["paths"]["/api/webhooks"]["post"]
    ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(schema["properties"]) == set(API_FIELDS)
    assert schema["additionalProperties"] is False
    assert {"201", "401", "403", "422"} <= set(create["responses"])
    retry = spec["paths"]["/api/webhooks/{endpoint_id}/deliveries/{delivery_id}/retry"]["post"]
    assert "webhook-id" in retry["description"]
    assert "/api/webhooks/{endpoint_id}/deliveries" in spec["paths"]
