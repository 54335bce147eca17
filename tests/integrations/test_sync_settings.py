"""Sync settings: set through the API and the form, validated,
and applied by each connector in its provider's documented way.

Every test sets the settings with ``PATCH /api/integrations/<id>``, starts the
sync with ``POST /api/integrations/<id>/sync`` and reads what the fake provider
was asked: HubSpot's ``archived=true`` list and search ``filterGroups``,
QuickBooks' query language, Stripe's ``created[gte]``/``limit``. The fakes
filter the same way, so a setting the connector left out lets the wrong
records in and the test fails.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from app.integrations.connectors import ListScope
from app.integrations.connectors.generic import GenericRestConnector
from app.platform.extensions import db
from app.platform.models import Contact, Integration, SyncJob, SyncRecord
from tests.conftest import opened
from tests.fakes import FakeServer
from tests.fakes.hubspot import TOKEN as HUBSPOT_TOKEN
from tests.fakes.hubspot import FakeHubSpot
from tests.fakes.quickbooks import REALM, FakeQuickBooks
from tests.fakes.quickbooks import TOKEN as QBO_TOKEN
from tests.fakes.stripe_api import SECRET_KEY, FakeStripe
from tests.support import factories
from tests.support.helpers import serving
from tests.support.jobs import drain_until

CONTACTS = "/crm/v3/objects/contacts"


@pytest.fixture
def hubspot():
    yield from serving(FakeHubSpot())


@pytest.fixture
def quickbooks():
    yield from serving(FakeQuickBooks())


@pytest.fixture
def stripe_fake():
    yield from serving(FakeStripe())


@pytest.fixture
def app(make_app, hubspot, quickbooks, stripe_fake):
    with opened(
        make_app(
            HUBSPOT_API_BASE=hubspot.url,
            QUICKBOOKS_API_BASE=quickbooks.url,
            STRIPE_API_BASE=stripe_fake.url,
            SYNC_RETRY_BASE_SECONDS=0.01,
        )
    ) as app:
        yield app


@pytest.fixture
def admin_api(client, auth, make_user):
    """``call(method, path, json)`` as a signed-in admin through the JSON API."""
    admin = make_user("admin")
    auth.login(admin.email)
    token = auth.csrf_token("/integrations/")

    def call(method: str, path: str, body=None):
        return client.open(path, method=method, json=body, headers={"X-CSRFToken": token})

    return call


def _integration(provider: str, **fields) -> Integration:
    credentials = (
        {"api_key": SECRET_KEY}
        if provider == "stripe"
        else {
            "access_token": HUBSPOT_TOKEN if provider == "hubspot" else QBO_TOKEN,
            "expires_at": time.time() + 3600,
        }
    )
    integration = factories.integration(provider, credentials=credentials, **fields)
    db.session.commit()
    return integration


def _sync_in(app, admin_api, integration, object_type) -> SyncJob:
    started = admin_api(
        "POST",
        f"/api/integrations/{integration.id}/sync",
        {"object_type": object_type, "direction": "in"},
    )
    assert started.status_code == 202, started.get_json()
    job_id = uuid.UUID(started.get_json()["data"]["id"])

    def ended():
        db.session.expire_all()
        return db.session.get(SyncJob, job_id).status not in ("pending", "running")

    drain_until(app, ended, timeout=60)
    return db.session.get(SyncJob, job_id)


def _patch(admin_api, integration, body):
    return admin_api("PATCH", f"/api/integrations/{integration.id}", body)


def _emails() -> set[str]:
    return set(db.session.scalars(sa.select(Contact.email)))


def _ms(text: str) -> str:
    return str(int(datetime.fromisoformat(text).timestamp() * 1000))


# --- validation ------------------------------------------------------------------------


def test_bad_settings_answer_422_naming_the_field_and_change_nothing(app, admin_api):
    hubspot = _integration("hubspot", batch_size=50)
    quickbooks = _integration("quickbooks", config={"realm_id": REALM})
    stripe = _integration("stripe")
    refused = {
        (hubspot, "batch_size"): {"batch_size": 101},
        (hubspot, "modified_until"): {
            "modified_since": "2026-03-01",
            "modified_until": "2026-02-01",
        },
        (hubspot, "modified_since"): {"modified_since": "1 maart"},
        (hubspot, "filters.lifecycle_stage"): {"filters": {"lifecycle_stage": "vip"}},
        (hubspot, "filters.colour"): {"filters": {"colour": "blue"}},
        (quickbooks, "batch_size"): {"batch_size": 1001},
        (quickbooks, "filters.active_only"): {
            "include_deleted": True,
            "filters": {"active_only": True},
        },
        (stripe, "include_deleted"): {"include_deleted": True},
        (hubspot, "include_deleted"): {"include_deleted": "misschien"},
        (stripe, "filters.email"): {"filters": {"email": "geen-adres"}},
        (stripe, "filters"): {"filters": ["email"]},
    }
    for (integration, field), body in refused.items():
        # A valid change beside the bad one: nothing of the request is saved.
        answer = _patch(admin_api, integration, {"name": "Gewijzigd", **body})
        assert answer.status_code == 422, (field, answer.get_json())
        assert field in answer.get_json()["error"]["fields"], (field, answer.get_json())
    db.session.expire_all()
    for integration in (hubspot, quickbooks, stripe):
        saved = db.session.get(Integration, integration.id)
        assert saved.name != "Gewijzigd" and saved.sync_filters == {}
        assert not saved.include_deleted and saved.modified_since is None
    assert db.session.get(Integration, hubspot.id).batch_size == 50

    # The bounds themselves are fine, and the answer shows what was saved.
    assert _patch(admin_api, quickbooks, {"batch_size": 1000}).status_code == 200
    ok = _patch(
        admin_api,
        hubspot,
        {
            "batch_size": 100,
            "include_deleted": True,
            "modified_since": "2026-03-01",
            "modified_until": "2026-03-31T12:00:00+02:00",
            "filters": {"lifecycle_stage": "customer"},
        },
    )
    assert ok.status_code == 200, ok.get_json()
    data = ok.get_json()["data"]
    assert data["batch_size"] == 100 and data["include_deleted"] is True
    assert data["modified_since"] == "2026-03-01T00:00:00+00:00"
    assert data["modified_until"] == "2026-03-31T10:00:00+00:00"
    assert data["filters"] == {"lifecycle_stage": "customer"}


def test_non_admins_cannot_change_sync_settings(app, client, auth, make_user):
    integration = _integration("hubspot")
    agent = make_user("agent")
    auth.login(agent.email)
    answer = client.patch(
        f"/api/integrations/{integration.id}",
        json={"include_deleted": True},
        headers={"X-CSRFToken": auth.csrf_token("/inbox")},
    )
    assert answer.status_code in (401, 403)
    db.session.expire_all()
    assert not db.session.get(Integration, integration.id).include_deleted


def test_the_settings_form_saves_and_shows_the_sync_settings(app, client, auth, make_user):
    integration = _integration("hubspot")
    admin = make_user("admin")
    auth.login(admin.email)
    page = f"/integrations/{integration.id}"
    form = {
        "csrf_token": auth.csrf_token(page),
        "form": "settings",
        "batch_size": "25",
        "include_deleted": "on",
        "modified_since": "2026-01-01",
        "modified_until": "",
        "filters.lifecycle_stage": "lead",
    }
    assert client.post(page, data=form).status_code == 303
    db.session.expire_all()
    saved = db.session.get(Integration, integration.id)
    assert saved.batch_size == 25 and saved.include_deleted
    assert saved.modified_since == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert saved.sync_filters == {"lifecycle_stage": "lead"}
    html = client.get(page).get_data(as_text=True)
    assert 'value="2026-01-01"' in html and 'value="lead" selected>' in html
    assert 'max="100"' in html  # HubSpot's page limit

    form.update(batch_size="500", **{"filters.lifecycle_stage": "vip"})
    refused = client.post(page, data=form)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'data-field="batch_size"' in html and 'data-field="filters.lifecycle_stage"' in html


# --- HubSpot ---------------------------------------------------------------------------


def test_hubspot_include_deleted_lists_archived_records_and_marks_them(app, admin_api, hubspot):
    integration = _integration("hubspot", batch_size=2)
    kept = hubspot.add("contacts", {"email": "blijft@example.nl", "firstname": "Blijft"})
    gone = hubspot.add("contacts", {"email": "weg@example.nl", "firstname": "Weg"})
    first = _sync_in(app, admin_api, integration, "contacts")
    assert first.succeeded == 2 and _emails() == {"blijft@example.nl", "weg@example.nl"}
    hubspot.archive("contacts", gone["id"])
    never = hubspot.add("contacts", {"email": "nooit@example.nl"})
    hubspot.archive("contacts", never["id"])

    # Off (the default): HubSpot is asked for live records only.
    off = _sync_in(app, admin_api, integration, "contacts")
    assert {r.args["archived"] for r in hubspot.requests_to(CONTACTS, "GET")} == {"false"}
    assert (off.succeeded, off.archived) == (1, 0)

    assert _patch(admin_api, integration, {"include_deleted": True}).status_code == 200
    hubspot.requests.clear()
    on = _sync_in(app, admin_api, integration, "contacts")
    asked = [r.args.get("archived") for r in hubspot.requests_to(CONTACTS, "GET")]
    assert asked == ["false", "true"]
    assert (on.processed, on.succeeded, on.archived, on.failed) == (3, 1, 2, 0)
    # Marked, not resurrected: no contact for the one never synced, the earlier one kept.
    assert _emails() == {"blijft@example.nl", "weg@example.nl"}
    states = dict(
        db.session.execute(
            sa.select(SyncRecord.remote_id, SyncRecord.status).where(
                SyncRecord.integration_id == integration.id
            )
        ).all()
    )
    assert states == {kept["id"]: "synced", gone["id"]: "archived", never["id"]: "archived"}
    listed = admin_api("GET", f"/api/integrations/{integration.id}/sync").get_json()["data"]
    assert listed[0]["archived"] == 2


def test_hubspot_date_range_and_lifecycle_stage_go_through_the_search_api(app, admin_api, hubspot):
    integration = _integration("hubspot", batch_size=2)
    for n, (stage, modified) in enumerate(
        [
            ("customer", "2026-02-15T10:00:00Z"),
            ("customer", "2026-03-10T10:00:00Z"),
            ("lead", "2026-03-11T10:00:00Z"),
            ("customer", "2026-03-20T10:00:00Z"),
            ("customer", "2026-04-02T10:00:00Z"),
            ("customer", "2026-03-25T10:00:00Z"),
        ]
    ):
        hubspot.add(
            "contacts",
            {"email": f"k{n}@example.nl", "lifecyclestage": stage},
            updated_at=modified,
        )
    body = {
        "modified_since": "2026-03-01",
        "modified_until": "2026-03-31",
        "filters": {"lifecycle_stage": "customer"},
    }
    assert _patch(admin_api, integration, body).status_code == 200

    job = _sync_in(app, admin_api, integration, "contacts")

    assert _emails() == {"k1@example.nl", "k3@example.nl", "k5@example.nl"}
    assert (job.total_records, job.succeeded) == (3, 3)
    assert hubspot.requests_to(CONTACTS, "GET") == []
    searches = [r.json() for r in hubspot.requests_to(CONTACTS + "/search", "POST")]
    assert len(searches) == 2 and searches[1]["after"] == "2" and searches[0]["limit"] == 2
    assert searches[0]["filterGroups"] == [
        {
            "filters": [
                {
                    "propertyName": "lastmodifieddate",
                    "operator": "GTE",
                    "value": _ms("2026-03-01T00:00:00+00:00"),
                },
                {
                    "propertyName": "lastmodifieddate",
                    "operator": "LTE",
                    "value": str(int(_ms("2026-04-01T00:00:00+00:00")) - 1),
                },
                {"propertyName": "lifecyclestage", "operator": "EQ", "value": "customer"},
            ]
        }
    ]
    assert "email" in searches[0]["properties"]  # the mapped properties, as the list asks


# --- QuickBooks ------------------------------------------------------------------------


def test_quickbooks_settings_become_its_query_language(app, admin_api, quickbooks):
    integration = _integration("quickbooks", config={"realm_id": REALM}, batch_size=2)
    made = [
        quickbooks.add(
            "Customer",
            {"DisplayName": f"Klant {n}", "PrimaryEmailAddr": {"Address": f"q{n}@example.nl"}},
            updated=updated,
        )
        for n, updated in enumerate(
            ["2026-01-05T09:00:00Z", "2026-02-05T09:00:00Z", "2026-02-06T09:00:00Z"]
        )
    ]
    made[2]["Active"] = False  # "deleted" in QuickBooks
    patched = _patch(
        admin_api,
        integration,
        {"modified_since": "2026-02-01", "include_deleted": True},
    )
    assert patched.status_code == 200

    job = _sync_in(app, admin_api, integration, "customers")

    queries = [r.args["query"] for r in quickbooks.requests_to("/query", "GET")]
    assert queries[0] == (
        "select * from Customer WHERE MetaData.LastUpdatedTime >= '2026-02-01T00:00:00Z' "
        "AND Active IN (true,false) STARTPOSITION 1 MAXRESULTS 2"
    )
    assert (job.succeeded, job.archived) == (1, 1)
    assert _emails() == {"q1@example.nl"}
    archived = db.session.scalar(
        sa.select(SyncRecord.status).where(SyncRecord.remote_id == made[2]["Id"])
    )
    assert archived == "archived"

    # Active customers only, and no range: QuickBooks is asked just that.
    body = {"include_deleted": False, "modified_since": None, "filters": {"active_only": True}}
    assert _patch(admin_api, integration, body).status_code == 200
    quickbooks.requests.clear()
    again = _sync_in(app, admin_api, integration, "customers")
    queries = [r.args["query"] for r in quickbooks.requests_to("/query", "GET")]
    assert queries[0] == "select * from Customer WHERE Active = true STARTPOSITION 1 MAXRESULTS 2"
    assert (again.succeeded, again.archived) == (2, 0)
    assert _emails() == {"q0@example.nl", "q1@example.nl"}


# --- Stripe ----------------------------------------------------------------------------


def test_stripe_created_range_email_and_limit(app, admin_api, stripe_fake):
    integration = _integration("stripe", batch_size=3)
    march = int(datetime(2026, 3, 10, tzinfo=timezone.utc).timestamp())
    for n, created in enumerate([march - 40 * 86400, march, march + 86400, march + 40 * 86400]):
        stripe_fake.add("customers", {"email": f"s{n}@example.nl", "name": f"S{n}"}, created)
    stripe_fake.add("customers", {"email": "Zelfde@example.nl"}, march)
    body = {"modified_since": "2026-03-01", "modified_until": "2026-03-31"}
    assert _patch(admin_api, integration, body).status_code == 200

    job = _sync_in(app, admin_api, integration, "customers")

    asked = stripe_fake.requests_to("/v1/customers", "GET")[0].args
    assert asked["created[gte]"] == str(int(datetime(2026, 3, 1, tzinfo=timezone.utc).timestamp()))
    assert asked["created[lte]"] == str(
        int(datetime(2026, 4, 1, tzinfo=timezone.utc).timestamp()) - 1
    )
    assert asked["limit"] == "3" and "email" not in asked
    assert _emails() == {"s1@example.nl", "s2@example.nl", "zelfde@example.nl"}
    assert job.succeeded == 3

    body = {"modified_since": None, "modified_until": None, "filters": {"email": "s3@example.nl"}}
    assert _patch(admin_api, integration, body).status_code == 200
    stripe_fake.requests.clear()
    _sync_in(app, admin_api, integration, "customers")
    asked = stripe_fake.requests_to("/v1/customers", "GET")[0].args
    assert asked["email"] == "s3@example.nl" and "created[gte]" not in asked
    assert "s3@example.nl" in _emails() and "s0@example.nl" not in _emails()


# --- generic ---------------------------------------------------------------------------


class FakeRestApi(FakeServer):
    """A property-management API of the kind the generic connector is configured for."""

    def __init__(self) -> None:
        super().__init__("fake-rest")

        @self.app.get("/v1/tenants")
        def tenants():
            return {"data": [{"id": 1, "email": "t@example.nl"}], "next_cursor": None}


def test_generic_connector_sends_the_settings_as_query_parameters(app):  # its fake is local
    fake = FakeRestApi().start()
    try:
        config = {
            "endpoints": {"tenants": {"list": "/v1/tenants"}},
            "modified_since_param": "changed_after",
        }
        connector = GenericRestConnector(f"{fake.url}", lambda: "key", config=config, page_size=50)
        scope = ListScope(
            include_deleted=True,
            modified_since=datetime(2026, 3, 1, tzinfo=timezone.utc),
            modified_until=datetime(2026, 3, 31, tzinfo=timezone.utc),
            filters={"query": {"property_id": "P-12", "status": "open"}},
        )
        records, cursor = connector.list_remote("tenants", None, (), scope)
        plain, _ = connector.list_remote("tenants")
    finally:
        fake.stop()
    assert records == [{"id": 1, "email": "t@example.nl"}] and cursor is None
    first, second = fake.requests_to("/v1/tenants")
    assert first.args == {
        "property_id": "P-12",
        "status": "open",
        "changed_after": "2026-03-01T00:00:00+00:00",
        "updated_until": "2026-03-31T00:00:00+00:00",
        "include_deleted": "true",
        "limit": "50",
    }
    assert second.args == {"limit": "50"}
    assert connector.is_archived({"id": 2, "deleted": True})
    assert not connector.is_archived({"id": 3})


def test_generic_query_parameters_are_validated(app, admin_api):
    integration = factories.integration(
        "rovida", credentials={"api_key": "k"}, config={"base_url": "https://rovida.example"}
    )
    db.session.commit()
    bad = _patch(admin_api, integration, {"filters": {"query": {"bad name": "x"}}})
    assert bad.status_code == 422 and "filters.query" in bad.get_json()["error"]["fields"]
    ok = _patch(admin_api, integration, {"filters": {"query": "property_id=P-12\nstatus=open"}})
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["data"]["filters"] == {"query": {"property_id": "P-12", "status": "open"}}
