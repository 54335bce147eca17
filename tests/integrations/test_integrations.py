"""Integrations: registry, CRUD with encrypted credentials, API keys, test, admin-only, audit."""

from __future__ import annotations

import logging
import uuid

import pytest
import sqlalchemy as sa

from app.integrations import oauth
from app.integrations.registry import CATEGORIES, PROVIDERS, providers_by_category
from app.platform.extensions import db
from app.platform.models import AuditLog, Integration, SyncJob, SyncRecord, WebhookEndpoint
from tests.conftest import opened
from tests.fakes.oauth_provider import FakeOAuthProvider
from tests.support import factories
from tests.support.helpers import csrf_token_from, signed_in_admin

API_KEY = "sk_test_51SwitchboardSecretKeyXYZ9876"
NEW_API_KEY = "sk_test_51SwitchboardRotatedKeyABC1234"
WEBHOOK_SECRET = "whsec_SwitchboardSigningSecret0001"


@pytest.fixture
def stripe_api():
    """Stripe's API as far as a connection test goes: a bearer key on GET /v1/customers."""
    server = FakeOAuthProvider().start()
    server.access_tokens.add(API_KEY)
    yield server
    server.stop()


@pytest.fixture
def app(make_app, stripe_api):
    with opened(make_app(start_embedded_worker=False, STRIPE_API_BASE=stripe_api.url)) as app:
        yield app


admin = pytest.fixture(signed_in_admin, name="admin")


def _csrf(client) -> str:
    return csrf_token_from(client.get("/integrations/").get_data(as_text=True))


def _add_stripe(client, **extra):
    data = {
        "csrf_token": _csrf(client),
        "provider": "stripe",
        "name": "Stripe live",
        "api_key": API_KEY,
        "webhook_secret": WEBHOOK_SECRET,
        "sync_direction": "two_way",
        "sync_frequency": "real_time",
        "batch_size": "50",
        "webhooks_enabled": "on",
        **extra,
    }
    return client.post("/integrations/", data=data)


def _audit_actions(integration_id) -> list[str]:
    return db.session.scalars(
        sa.select(AuditLog.action)
        .where(AuditLog.record_id == integration_id)
        .order_by(AuditLog.created_at)
    ).all()


# --- the registry ----------------------------------------------------------------


def test_registry_holds_the_thirteen_providers():
    grouped = {k: [p.key for p in v] for k, v in providers_by_category().items()}
    assert list(grouped) == list(CATEGORIES)
    assert grouped == {
        "crm": ["salesforce", "hubspot", "pipedrive", "zoho_crm"],
        "accounting": ["quickbooks", "xero", "sage", "freshbooks"],
        "property": ["rovida", "yardi"],
        "payments": ["stripe", "square", "financeit"],
    }
    assert PROVIDERS["hubspot"].objects == ("contacts", "companies", "deals")
    assert PROVIDERS["quickbooks"].objects == ("customers", "invoices", "payments")
    assert PROVIDERS["stripe"].objects == ("customers", "invoices", "payment_intents")
    assert {PROVIDERS[k].connector for k in ("hubspot", "quickbooks", "stripe")} == {
        "hubspot",
        "quickbooks",
        "stripe",
    }
    assert {p.auth_method for p in PROVIDERS.values()} == {"oauth2", "api_key"}
    for provider in PROVIDERS.values():
        assert provider.directions and provider.default_frequency
        if provider.is_oauth:
            assert provider.oauth_authorize_url_key and provider.oauth_token_url_key


def test_every_provider_url_is_configurable(app):
    for provider in PROVIDERS.values():
        for key in (
            provider.api_base_key,
            provider.oauth_authorize_url_key,
            provider.oauth_token_url_key,
        ):
            if key:
                assert key in app.config


# --- API-key integrations --------------------------------------------------------


def test_add_api_key_integration_encrypts_and_never_shows_the_key(app, client, admin, caplog):
    caplog.set_level(logging.DEBUG)
    response = _add_stripe(client)
    assert response.status_code == 303
    integration = db.session.scalar(sa.select(Integration))
    assert integration.provider == "stripe" and integration.category == "payments"
    assert integration.status == "active"
    assert (integration.sync_direction, integration.sync_frequency) == ("two_way", "real_time")
    assert integration.batch_size == 50 and integration.webhooks_enabled
    assert oauth.access_token(integration) == API_KEY
    assert oauth.integration_credentials(integration)["webhook_secret"] == WEBHOOK_SECRET
    raw = db.session.execute(sa.text("SELECT credentials FROM integrations")).scalar_one()
    assert API_KEY not in str(raw) and WEBHOOK_SECRET not in str(raw)

    hub = client.get("/integrations/").get_data(as_text=True)
    settings = client.get(f"/integrations/{integration.id}").get_data(as_text=True)
    api_list = client.get("/api/integrations").get_data(as_text=True)
    api_one = client.get(f"/api/integrations/{integration.id}")
    assert "Stripe live" in hub and "Stripe live" in settings
    assert f"set …{API_KEY[-4:]}" in settings
    assert api_one.get_json()["data"]["credentials"]["api_key"] == f"set …{API_KEY[-4:]}"
    for text in (hub, settings, api_list, api_one.get_data(as_text=True), caplog.text):
        assert API_KEY not in text and WEBHOOK_SECRET not in text
    (entry,) = db.session.scalars(sa.select(AuditLog)).all()
    assert entry.action == "integration_created" and entry.changed_by_user_id == admin.id
    assert entry.changes["api_key"] == "set"
    assert API_KEY not in str(entry.changes)


def test_test_connection_records_the_outcome(app, client, admin, stripe_api):
    _add_stripe(client)
    integration = db.session.scalar(sa.select(Integration))
    ok = client.post(
        f"/integrations/{integration.id}/test",
        data={"csrf_token": _csrf(client)},
        headers={"HX-Request": "true"},
    )
    assert ok.status_code == 200
    assert "Connection works" in ok.get_data(as_text=True)
    (call,) = stripe_api.requests_to("/v1/customers", "GET")
    assert call.headers["Authorization"] == f"Bearer {API_KEY}"

    # A rotated-out key: the provider refuses, the failure is kept and shown.
    stripe_api.access_tokens.discard(API_KEY)
    failed = client.post(
        f"/api/integrations/{integration.id}/test", headers={"X-CSRFToken": _csrf(client)}
    )
    assert failed.status_code == 200
    assert failed.get_json()["data"]["ok"] is False
    db.session.expire_all()
    integration = db.session.get(Integration, integration.id)
    assert integration.last_error_message and integration.last_error_at
    tests = db.session.scalars(
        sa.select(AuditLog)
        .where(AuditLog.action == "integration_tested")
        .order_by(AuditLog.created_at)
    ).all()
    assert [t.changes["ok"] for t in tests] == [True, False]
    assert API_KEY not in failed.get_data(as_text=True)


def test_update_keeps_blank_secrets_and_audits_changes_without_values(app, client, admin):
    _add_stripe(client)
    integration = db.session.scalar(sa.select(Integration))
    response = client.post(
        f"/integrations/{integration.id}",
        data={
            "csrf_token": _csrf(client),
            "form": "settings",
            "name": "Stripe NL",
            "status": "inactive",
            "api_key": "",
            "webhook_secret": "",
            "sync_direction": "one_way_in",
            "sync_frequency": "daily",
            "batch_size": "80",
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    integration = db.session.get(Integration, integration.id)
    assert (integration.name, integration.status) == ("Stripe NL", "inactive")
    assert integration.batch_size == 80 and not integration.webhooks_enabled
    assert oauth.integration_credentials(integration)["api_key"] == API_KEY

    client.post(
        f"/integrations/{integration.id}",
        data={"csrf_token": _csrf(client), "form": "settings", "api_key": NEW_API_KEY},
    )
    db.session.expire_all()
    integration = db.session.get(Integration, integration.id)
    assert oauth.access_token(integration) == NEW_API_KEY
    updates = db.session.scalars(
        sa.select(AuditLog.changes)
        .where(AuditLog.action == "integration_updated")
        .order_by(AuditLog.created_at)
    ).all()
    assert updates[0]["name"] == {"from": "Stripe live", "to": "Stripe NL"}
    assert updates[0]["status"] == {"from": "active", "to": "inactive"}
    assert "api_key" not in updates[0]
    assert updates[1] == {"api_key": "changed"}
    assert NEW_API_KEY not in str(updates) and API_KEY not in str(updates)

    # The page's change log reads as the audit log does, not as the stored JSON.
    log = client.get(f"/integrations/{integration.id}").get_data(as_text=True)
    assert "Integration settings changed" in log and "Name: Stripe live → Stripe NL" in log
    assert '{"from"' not in log and "{&#34;from" not in log


def test_invalid_input_names_each_field(app, client, admin):
    page = _add_stripe(
        client,
        api_key="",
        sync_direction="sideways",
        sync_frequency="hourly-ish",
        batch_size="5000",
    )
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    for field in ("api_key", "sync_direction", "sync_frequency", "batch_size"):
        assert f'data-field="{field}"' in html
    # Each error is named as the form labels its field, not by its key.
    assert "<strong>Batch size</strong>:" in html and "<strong>batch_size</strong>" not in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Integration)) == 0

    api = client.post(
        "/api/integrations",
        json={"provider": "yardi", "api_key": "k" * 20},
        headers={"X-CSRFToken": _csrf(client)},
    )
    assert api.status_code == 422
    assert "base_url" in api.get_json()["error"]["fields"]  # hosted per customer
    unknown = client.post(
        "/api/integrations",
        json={"provider": "myspace"},
        headers={"X-CSRFToken": _csrf(client)},
    )
    assert unknown.get_json()["error"]["fields"] == {
        "provider": "choose one of the listed providers"
    }
    # OAuth providers can only become active by connecting.
    xero = client.post(
        "/api/integrations",
        json={"provider": "xero", "client_id": "abc", "client_secret": "def" * 6},
        headers={"X-CSRFToken": _csrf(client)},
    )
    assert xero.status_code == 201 and xero.get_json()["data"]["status"] == "inactive"
    activate = client.patch(
        f"/api/integrations/{xero.get_json()['data']['id']}",
        json={"status": "active"},
        headers={"X-CSRFToken": _csrf(client)},
    )
    assert activate.status_code == 422 and "status" in activate.get_json()["error"]["fields"]


def test_json_api_crud_and_logs(app, client, admin, caplog):
    caplog.set_level(logging.DEBUG)
    headers = {"X-CSRFToken": _csrf(client)}
    created = client.post(
        "/api/integrations",
        json={
            "provider": "rovida",
            "name": "ROVIDA Montréal",
            "api_key": API_KEY,
            "base_url": "https://rovida.example/api",
            "auth_style": "header",
            "auth_header": "X-Rovida-Key",
        },
        headers=headers,
    )
    assert created.status_code == 201
    data = created.get_json()["data"]
    assert data["config"]["base_url"] == "https://rovida.example/api"
    assert data["category"] == "property" and data["auth_method"] == "api_key"
    patched = client.patch(
        f"/api/integrations/{data['id']}",
        json={"sync_frequency": "weekly", "webhook_secret": WEBHOOK_SECRET},
        headers=headers,
    )
    assert patched.status_code == 200
    assert patched.get_json()["data"]["sync_frequency"] == "weekly"
    assert patched.get_json()["data"]["credentials"]["webhook_secret"].startswith("set")
    listed = client.get("/api/integrations").get_json()
    assert [i["id"] for i in listed["data"]] == [data["id"]]
    assert listed["stats"]["active_integrations"] == 1
    logs = client.get(f"/api/integrations/{data['id']}/logs").get_json()["data"]
    assert [entry["action"] for entry in logs] == ["integration_updated", "integration_created"]
    deleted = client.delete(f"/api/integrations/{data['id']}", headers=headers)
    assert deleted.status_code == 204
    assert client.get(f"/api/integrations/{data['id']}").status_code == 404
    assert _audit_actions(uuid.UUID(data["id"])) == [
        "integration_created",
        "integration_updated",
        "integration_deleted",
    ]
    everything = " ".join(
        [created.get_data(as_text=True), patched.get_data(as_text=True), str(logs), caplog.text]
    )
    assert API_KEY not in everything and WEBHOOK_SECRET not in everything


def test_delete_from_the_settings_page(app, client, admin):
    _add_stripe(client)
    integration_id = db.session.scalar(sa.select(Integration.id))
    response = client.post(
        f"/integrations/{integration_id}/delete", data={"csrf_token": _csrf(client)}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Integration)) == 0
    assert _audit_actions(integration_id) == ["integration_created", "integration_deleted"]


# --- the page --------------------------------------------------------------------


def test_hub_page_shows_stats_cards_and_the_add_dialog(app, client, admin):
    _add_stripe(client)
    integration = db.session.scalar(sa.select(Integration))
    job = SyncJob(integration_id=integration.id, object_type="customers", direction="one_way_out")
    db.session.add(job)
    db.session.add_all(
        [
            SyncRecord(integration_id=integration.id, object_type="customers", local_id=str(n))
            for n in range(3)
        ]
        + [
            SyncRecord(
                integration_id=integration.id,
                object_type="customers",
                local_id="bad",
                status="failed",
                last_error="missing email",
            ),
            WebhookEndpoint(url="https://hooks.example/a", events=["invoice.paid"]),
            WebhookEndpoint(url="https://hooks.example/b", events=[], is_active=False),
        ]
    )
    db.session.commit()

    html = client.get("/integrations/").get_data(as_text=True)
    assert 'data-testid="stat-active">1<' in html
    assert 'data-testid="stat-syncs">1<' in html
    assert 'data-testid="stat-records">3<' in html
    assert 'data-testid="stat-webhooks">1<' in html
    assert 'data-testid="integration-card" data-provider="stripe"' in html
    assert "1 failed" in html
    assert f'action="/integrations/{integration.id}/sync"' in html
    assert f'href="/integrations/{integration.id}/mappings"' in html
    assert 'data-testid="add-dialog"' not in html  # closed until asked for

    for tab, names in (
        ("crm", ("Salesforce", "HubSpot", "Pipedrive", "Zoho CRM")),
        ("accounting", ("QuickBooks Online", "Xero", "Sage", "FreshBooks")),
        ("property", ("ROVIDA", "Yardi")),
        ("payments", ("Stripe", "Square", "Financeit")),
    ):
        dialog = client.get(f"/integrations/?tab={tab}").get_data(as_text=True)
        assert 'data-testid="add-dialog"' in dialog
        assert f'data-testid="providers-{tab}"' in dialog
        for name in names:
            assert f"<strong>{name}</strong>" in dialog
    chosen = client.get("/integrations/?provider=hubspot").get_data(as_text=True)
    assert 'name="client_secret"' in chosen and 'name="provider" value="hubspot"' in chosen
    assert "/integrations/oauth/callback" in chosen  # the redirect URI to register


# --- who may --------------------------------------------------------------------


@pytest.mark.parametrize("role", ["agent", "technician", "team_lead", "manager"])
def test_every_route_is_admin_only(app, client, make_user, auth, role):
    integration = factories.integration("stripe", credentials={"api_key": API_KEY})
    db.session.commit()
    user = make_user(role)
    auth.login(user.email)
    token = _csrf(client)  # the 403 page carries the layout's token
    i = integration.id
    pages = [
        ("GET", "/integrations/"),
        ("GET", "/integrations/?tab=crm"),
        ("POST", "/integrations/"),
        ("GET", f"/integrations/{i}"),
        ("POST", f"/integrations/{i}"),
        ("POST", f"/integrations/{i}/delete"),
        ("POST", f"/integrations/{i}/test"),
        ("POST", f"/integrations/{i}/oauth/start"),
        ("GET", "/integrations/oauth/callback?state=x&code=y"),
    ]
    for method, path in pages:
        response = client.open(
            path, method=method, data={"csrf_token": token} if method == "POST" else None
        )
        assert response.status_code == 403, (method, path)
        assert API_KEY not in response.get_data(as_text=True)
    api = [
        ("GET", "/api/integrations"),
        ("POST", "/api/integrations"),
        ("GET", f"/api/integrations/{i}"),
        ("PATCH", f"/api/integrations/{i}"),
        ("DELETE", f"/api/integrations/{i}"),
        ("POST", f"/api/integrations/{i}/test"),
        ("GET", f"/api/integrations/{i}/logs"),
        ("POST", "/api/integrations/oauth/initiate"),
        ("POST", "/api/integrations/oauth/callback"),
    ]
    for method, path in api:
        response = client.open(path, method=method, json={}, headers={"X-CSRFToken": token})
        assert response.status_code == 403, (method, path)
    db.session.expire_all()
    assert db.session.get(Integration, i).name == "Stripe"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == 0


def test_signed_out_visitors_are_sent_to_sign_in(app, client):
    assert client.get("/integrations/").status_code == 302
    assert client.get("/api/integrations").status_code == 401


def test_admins_see_the_nav_link(app, client, admin):
    html = client.get("/integrations/").get_data(as_text=True)
    assert 'href="/integrations/" aria-current="page">Integrations<' in html
