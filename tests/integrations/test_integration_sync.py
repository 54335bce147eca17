"""Sync jobs against fake HubSpot, QuickBooks and Stripe servers."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.integrations import payments, sync
from app.orders.core.status_engine import change_entity_status
from app.platform.extensions import db
from app.platform.models import Contact, Integration, Order, Payment, SyncJob, SyncRecord
from app.platform.models.enums import OrderStatus
from app.platform.transactions import commit
from tests.fakes.hubspot import TOKEN as HUBSPOT_TOKEN
from tests.fakes.hubspot import FakeHubSpot
from tests.fakes.quickbooks import REALM, FakeQuickBooks
from tests.fakes.quickbooks import TOKEN as QBO_TOKEN
from tests.fakes.stripe_api import SECRET_KEY, FakeStripe
from tests.support import factories
from tests.support.jobs import drain_until


@pytest.fixture
def hubspot(app):
    fake = FakeHubSpot().start()
    app.config["HUBSPOT_API_BASE"] = fake.url
    app.config["SYNC_RETRY_BASE_SECONDS"] = 0.01
    yield fake
    fake.stop()


@pytest.fixture
def quickbooks(app):
    fake = FakeQuickBooks().start()
    app.config["QUICKBOOKS_API_BASE"] = fake.url
    app.config["SYNC_RETRY_BASE_SECONDS"] = 0.01
    yield fake
    fake.stop()


@pytest.fixture
def stripe_fake(app):
    fake = FakeStripe().start()
    app.config["STRIPE_API_BASE"] = fake.url
    yield fake
    fake.stop()


def oauth_integration(provider, token, **fields) -> Integration:
    integration = factories.integration(
        provider, credentials={"access_token": token, "expires_at": time.time() + 3600}, **fields
    )
    db.session.commit()
    return integration


def run_to_end(app, job: SyncJob, timeout: float = 120) -> SyncJob:
    job_id = job.id

    def ended():
        db.session.expire_all()
        return db.session.get(SyncJob, job_id).status in sync.FINAL_STATUSES

    drain_until(app, ended, timeout=timeout)
    return db.session.get(SyncJob, job_id)


def test_a_thousand_contacts_with_three_bad_ones_then_only_those_three_again(app, hubspot):
    integration = oauth_integration("hubspot", HUBSPOT_TOKEN)
    contacts = [
        Contact(
            display_name=f"Klant {i}",
            first_name="Klant",
            last_name=str(i),
            email=f"klant{i}@example.nl",
        )
        for i in range(1000)
    ]
    db.session.add_all(contacts)
    db.session.commit()
    bad = {contacts[7], contacts[500], contacts[993]}
    hubspot.reject_emails = {c.email for c in bad}

    job = sync.start_sync(integration, "contacts", "out", None)
    commit()
    job = run_to_end(app, job)

    assert job.status == "completed_with_errors"
    assert (job.total_records, job.processed, job.succeeded, job.failed) == (1000, 1000, 997, 3)
    assert len(hubspot.records["contacts"]) == 997
    errors = sync.job_errors(job)
    assert {e.local_id for e in errors} == {str(c.id) for c in bad}
    assert all("INVALID_EMAIL" in e.last_error and "HTTP 400" in e.last_error for e in errors)
    db.session.refresh(integration)
    assert integration.records_synced == 997 and integration.last_sync_at is not None

    # Fix the three locally, then re-run only the failed ones.
    for i, contact in enumerate(bad):
        contact.email = f"fixed{i}@example.nl"
    db.session.commit()
    before = len(hubspot.requests)
    rerun = sync.start_sync(integration, "contacts", "out", None, only_failed=True)
    commit()
    rerun = run_to_end(app, rerun)

    assert rerun.status == "completed"
    assert (rerun.total_records, rerun.succeeded, rerun.failed) == (3, 3, 0)
    sent = hubspot.requests[before:]
    assert len(sent) == 3 and all(r.method == "POST" for r in sent)
    assert {r.json()["properties"]["email"] for r in sent} == {
        "fixed0@example.nl",
        "fixed1@example.nl",
        "fixed2@example.nl",
    }
    statuses = db.session.scalars(sa.select(SyncRecord.status)).all()
    assert len(statuses) == 1000 and set(statuses) == {"synced"}


def test_cancel_mid_sync_stops_between_batches(app, hubspot, running_worker):
    integration = oauth_integration("hubspot", HUBSPOT_TOKEN, batch_size=10)
    for i in range(60):
        factories.contact(email=f"slow{i}@example.nl")
    db.session.commit()
    hubspot.delay_seconds = 0.03

    job = sync.start_sync(integration, "contacts", "out", None)
    commit()
    deadline = time.monotonic() + 20
    while len(hubspot.requests_to("/crm/v3/objects/contacts", "POST")) < 12:
        assert time.monotonic() < deadline, "the sync never started"
        time.sleep(0.02)
    db.session.expire_all()
    assert sync.cancel_sync(db.session.get(SyncJob, job.id))
    db.session.commit()
    job = run_to_end(app, job)

    assert job.status == "cancelled"
    assert job.total_records == 60
    assert 10 <= job.processed < 60 and job.processed % 10 == 0
    assert len(hubspot.records["contacts"]) == job.succeeded


def test_temporary_errors_are_retried_and_refused_token_fails_the_run(app, hubspot):
    integration = oauth_integration("hubspot", HUBSPOT_TOKEN)
    factories.contact(email="retry@example.nl")
    db.session.commit()
    hubspot.answer_next(503, {"status": "error", "message": "upstream", "category": "x"}, times=2)

    job = run_to_end(app, _started(integration, "contacts", "out"))
    assert job.status == "completed"
    record = db.session.scalar(sa.select(SyncRecord))
    assert record.attempts == 3 and record.remote_id

    integration.credentials = {"access_token": "revoked", "expires_at": time.time() + 3600}
    db.session.commit()
    job = run_to_end(app, _started(integration, "contacts", "out"))
    assert job.status == "failed" and "Authentication credentials" in job.error
    db.session.refresh(integration)
    assert "Authentication credentials" in integration.last_error_message


def _started(integration, object_type, direction, only_failed=False) -> SyncJob:
    job = sync.start_sync(integration, object_type, direction, None, only_failed)
    commit()
    return job


def test_new_customer_appears_in_hubspot(app, hubspot):
    integration = oauth_integration("hubspot", HUBSPOT_TOKEN)
    contact = factories.contact(
        display_name="Sanne de Vries",
        first_name="Sanne",
        last_name="de Vries",
        email="Sanne@Example.nl",
        phone="06 12345678",
    )
    db.session.commit()
    job = run_to_end(app, _started(integration, "contacts", "out"))
    assert job.status == "completed"
    created = hubspot.contacts_by_email()["sanne@example.nl"]
    assert created["properties"] == {
        "email": "sanne@example.nl",
        "firstname": "Sanne",
        "lastname": "de Vries",
        "phone": "+31612345678",
    }
    sent = hubspot.requests_to("/crm/v3/objects/contacts", "POST")[0]
    assert sent.headers["Authorization"] == f"Bearer {HUBSPOT_TOKEN}"
    state = db.session.scalar(sa.select(SyncRecord).where(SyncRecord.local_id == str(contact.id)))
    assert state.remote_id == created["id"] and state.status == "synced"

    # A second run updates the same HubSpot contact instead of creating one.
    contact.job_title = "Installateur"
    db.session.commit()
    run_to_end(app, _started(integration, "contacts", "out"))
    assert len(hubspot.records["contacts"]) == 1
    assert created["properties"]["jobtitle"] == "Installateur"


def test_inbound_sync_upserts_contacts_by_remote_id_then_email(app, hubspot):
    integration = oauth_integration("hubspot", HUBSPOT_TOKEN, batch_size=2)
    existing = factories.contact(display_name="Oud", email="bestaand@example.nl")
    db.session.commit()
    hubspot.add(
        "contacts", {"email": "bestaand@example.nl", "firstname": "Bes", "lastname": "Taand"}
    )
    for i in range(3):
        hubspot.add("contacts", {"email": f"nieuw{i}@example.nl", "firstname": f"N{i}"})
    job = run_to_end(app, _started(integration, "contacts", "in"))
    assert job.status == "completed" and job.processed == 4
    assert len(hubspot.requests_to("/crm/v3/objects/contacts", "GET")) == 2  # two pages
    db.session.refresh(existing)
    assert existing.first_name == "Bes" and existing.last_name == "Taand"
    assert db.session.scalar(sa.select(sa.func.count(Contact.id))) == 4

    hubspot.records["contacts"]["502"]["properties"]["firstname"] = "Anders"
    run_to_end(app, _started(integration, "contacts", "in"))
    assert db.session.scalar(sa.select(sa.func.count(Contact.id))) == 4
    assert (
        db.session.scalar(sa.select(Contact).where(Contact.email == "nieuw0@example.nl")).first_name
        == "Anders"
    )


def _completed_order(customer) -> Order:
    order = Order(
        order_number="CC-2026-00042",
        status=OrderStatus.IN_PROGRESS,
        account_contact_id=customer.id,
        total_amount=Decimal("1499.00"),
    )
    db.session.add(order)
    db.session.commit()
    change_entity_status(order, OrderStatus.COMPLETED, "installed")
    commit()
    return order


def test_completed_order_creates_quickbooks_invoice(app, quickbooks):
    integration = oauth_integration("quickbooks", QBO_TOKEN, config={"realm_id": REALM})
    customer = factories.contact(display_name="Fam. Jansen", email="jansen@example.nl")
    db.session.commit()
    order = _completed_order(customer)

    job = db.session.scalar(sa.select(SyncJob))
    assert job.object_type == "invoices" and job.only_failed
    job = run_to_end(app, job)
    assert job.status == "completed" and job.succeeded == 1

    [qbo_customer] = quickbooks.entities["Customer"].values()
    assert qbo_customer["DisplayName"] == "Fam. Jansen"
    assert qbo_customer["PrimaryEmailAddr"] == {"Address": "jansen@example.nl"}
    [invoice] = quickbooks.entities["Invoice"].values()
    assert invoice["CustomerRef"] == {"value": qbo_customer["Id"]}
    assert invoice["DocNumber"] == "CC-2026-00042" and invoice["TotalAmt"] == 1499.0
    assert invoice["Line"][0]["SalesItemLineDetail"]["ItemRef"] == {"value": "1"}
    assert all(r.args.get("minorversion") for r in quickbooks.requests)
    state = db.session.scalar(sa.select(SyncRecord).where(SyncRecord.object_type == "invoices"))
    assert state.local_id == str(order.id) and state.remote_id == invoice["Id"]
    integration_id = integration.id
    assert db.session.get(Integration, integration_id).records_synced == 1


def test_stripe_payment_marks_the_quickbooks_invoice_paid(app, quickbooks, stripe_fake):
    oauth_integration("quickbooks", QBO_TOKEN, config={"realm_id": REALM})
    stripe = factories.integration("stripe", credentials={"api_key": SECRET_KEY})
    db.session.commit()
    customer = factories.contact(display_name="Fam. Bakker", email="bakker@example.nl")
    db.session.commit()
    order = _completed_order(customer)
    run_to_end(app, db.session.scalar(sa.select(SyncJob)))
    [invoice] = quickbooks.entities["Invoice"].values()
    assert invoice["Balance"] == 1499.0

    intent = {
        "id": "pi_3PaidInFull",
        "object": "payment_intent",
        "amount": 149900,
        "amount_received": 149900,
        "currency": "eur",
        "status": "succeeded",
        "created": 1767225600,
        "metadata": {"order_id": str(order.id)},
    }
    payment = payments.apply_payment_succeeded(stripe, intent)
    commit()
    assert payments.apply_payment_succeeded(stripe, intent).id == payment.id  # idempotent
    commit()
    job = db.session.scalar(sa.select(SyncJob).where(SyncJob.object_type == "payments"))
    job = run_to_end(app, job)

    assert job.status == "completed"
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1
    assert payment.amount == Decimal("1499.00") and payment.method == "stripe"
    [qbo_payment] = quickbooks.entities["Payment"].values()
    assert qbo_payment["TotalAmt"] == 1499.0
    assert qbo_payment["Line"][0]["LinkedTxn"] == [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]
    assert invoice["Balance"] == 0.0

    with pytest.raises(payments.PaymentNotApplicable):
        payments.apply_payment_succeeded(stripe, {**intent, "id": "pi_other", "metadata": {}})


def test_start_sync_refuses_what_cannot_run(app, hubspot):
    integration = oauth_integration("hubspot", HUBSPOT_TOKEN, sync_direction="one_way_out")
    with pytest.raises(sync.SyncRefused) as refused:
        sync.start_sync(integration, "tickets", "in", None)
    assert set(refused.value.fields) == {"object_type", "direction"}
    sync.start_sync(integration, "contacts", "out", None)
    with pytest.raises(sync.SyncRefused, match="already running"):
        sync.start_sync(integration, "contacts", "out", None)


def test_scheduled_syncs_follow_the_frequency(app, hubspot):
    integration = oauth_integration("hubspot", HUBSPOT_TOKEN, sync_frequency="hourly")
    oauth_integration("hubspot", HUBSPOT_TOKEN, sync_frequency="manual")
    started = sync.run_scheduled_syncs()
    jobs = db.session.scalars(sa.select(SyncJob)).all()
    assert len(started) == 3 and {j.integration_id for j in jobs} == {integration.id}
    assert {(j.object_type, j.direction) for j in jobs} == {
        ("contacts", "two_way"),
        ("companies", "out"),
        ("deals", "out"),
    }
    assert sync.run_scheduled_syncs() == []  # busy, and not due again yet


def test_json_api_starts_a_sync_and_lists_the_history(app, client, auth, make_user, hubspot):
    admin = make_user("admin")
    auth.login(admin.email)
    integration = oauth_integration("hubspot", HUBSPOT_TOKEN)
    factories.contact(display_name="Sanne de Vries", email="sanne@example.nl")
    db.session.commit()
    token = auth.csrf_token("/integrations/")
    started = client.post(
        f"/api/integrations/{integration.id}/sync",
        json={"object_type": "contacts", "direction": "out"},
        headers={"X-CSRFToken": token},
    )
    assert started.status_code == 202, started.get_json()
    job_id = started.get_json()["data"]["id"]
    job = db.session.get(SyncJob, uuid.UUID(job_id))
    drain_until(app, lambda: db.session.refresh(job) or job.status == "completed")
    history = client.get(f"/api/integrations/{integration.id}/sync").get_json()["data"]
    assert [(j["id"], j["status"], j["succeeded"]) for j in history] == [(job_id, "completed", 1)]
    refused = client.post(
        f"/api/integrations/{integration.id}/sync",
        json={"object_type": "spaceships", "direction": "out"},
        headers={"X-CSRFToken": token},
    )
    assert refused.status_code == 422
    assert "object_type" in refused.get_json()["error"]["fields"]
