"""HubSpot contacts come in with the properties their mappings read.

HubSpot answers ``GET /crm/v3/objects/contacts`` with its default properties
only (e-mail and names) unless ``properties=`` names others; the fake does the
same. A synced contact's phone and e-mail become its identities, so the
customer who then writes on WhatsApp stays one contact with one conversation.
"""

from __future__ import annotations

import time
import uuid

import pytest
import sqlalchemy as sa

from app.conversations.contacts.identities import EMAIL, PHONE, claim_addresses_of, contact_with
from app.integrations import sync
from app.integrations.connectors.hubspot import HubSpotConnector
from app.integrations.sync import MappingSpec, mappings_for, save_mappings
from app.platform.extensions import db
from app.platform.models import CommunicationThread, Contact, SyncJob, SyncRecord
from app.platform.models.enums import MessageType
from app.platform.transactions import commit
from tests.fakes.hubspot import TOKEN, FakeHubSpot
from tests.support import factories
from tests.support.helpers import csrf_token_from, serving
from tests.support.jobs import drain_until
from tests.support.whatsapp_support import (
    CUSTOMER_E164,
    customer_text,
    deliver,
    fake_whatsapp_server,
    messages,
    whatsapp_app,
)

CONTACTS = "/crm/v3/objects/contacts"

fake_whatsapp = pytest.fixture(fake_whatsapp_server, name="fake_whatsapp")


@pytest.fixture
def hubspot():
    yield from serving(FakeHubSpot())


@pytest.fixture
def app(make_app, fake_whatsapp, hubspot, tmp_path):
    yield from whatsapp_app(
        make_app,
        fake_whatsapp,
        tmp_path,
        HUBSPOT_API_BASE=hubspot.url,
        SYNC_RETRY_BASE_SECONDS=0.01,
    )


def _integration(**fields):
    integration = factories.integration(
        "hubspot",
        credentials={"access_token": TOKEN, "expires_at": time.time() + 3600},
        **fields,
    )
    db.session.commit()
    return integration


def _sync_in_over_http(app, client, auth, make_user, integration) -> SyncJob:
    """Start an inbound contacts sync as an admin does through the JSON API; run it."""
    admin = make_user("admin")
    auth.login(admin.email)
    started = client.post(
        f"/api/integrations/{integration.id}/sync",
        json={"object_type": "contacts", "direction": "in"},
        headers={"X-CSRFToken": auth.csrf_token("/integrations/")},
    )
    assert started.status_code == 202, started.get_json()
    job_id = uuid.UUID(started.get_json()["data"]["id"])

    def ended():
        db.session.expire_all()
        return db.session.get(SyncJob, job_id).status not in ("pending", "running")

    drain_until(app, ended, timeout=60)
    return db.session.get(SyncJob, job_id)


def _asked_properties(hubspot: FakeHubSpot) -> list[list[str]]:
    return [r.args.get("properties", "").split(",") for r in hubspot.requests_to(CONTACTS, "GET")]


# --- the connector and the fake ----------------------------------------------------


def test_the_list_names_the_mapped_properties_and_pages_with_them(app, hubspot):
    for i in range(3):
        hubspot.add(
            "contacts",
            {"email": f"k{i}@example.nl", "phone": f"06 1234 567{i}", "mobilephone": "x"},
        )
    connector = HubSpotConnector(hubspot.url, lambda: TOKEN, page_size=2)

    # Asked for nothing, HubSpot (and the fake) answer the defaults only.
    bare, _ = connector.list_remote("contacts")
    assert set(bare[0]["properties"]) == {
        "email",
        "firstname",
        "lastname",
        "hs_object_id",
        "createdate",
        "lastmodifieddate",
    }

    fields = ["properties.email", "properties.phone", "id", "properties.email"]
    first, cursor = connector.list_remote("contacts", fields=fields)
    rest, end = connector.list_remote("contacts", cursor, fields)
    assert [r["properties"]["phone"] for r in first + rest] == [
        "06 1234 5670",
        "06 1234 5671",
        "06 1234 5672",
    ]
    assert end is None and "mobilephone" not in first[0]["properties"]
    sent = hubspot.requests_to(CONTACTS, "GET")[-2:]
    # Comma-separated, once each, without the "properties." of the mapping paths.
    assert [r.args.get("properties") for r in sent] == ["email,phone", "email,phone"]
    assert sent[1].args["after"] == cursor


# --- the sync ----------------------------------------------------------------------


def test_synced_contacts_arrive_with_phone_and_job_title(app, client, auth, make_user, hubspot):
    integration = _integration(batch_size=1)
    hubspot.add(
        "contacts",
        {
            "email": "Jan.Jansen@Example.NL",
            "firstname": "Jan",
            "lastname": "Jansen",
            "phone": "06 87654321",
            "jobtitle": "Installateur",
        },
    )
    hubspot.add("contacts", {"email": "zonder@example.nl", "firstname": "Zonder"})

    job = _sync_in_over_http(app, client, auth, make_user, integration)

    assert (job.status, job.succeeded, job.failed) == ("completed", 2, 0)
    jan = db.session.scalar(sa.select(Contact).where(Contact.first_name == "Jan"))
    assert (jan.phone, jan.job_title) == (CUSTOMER_E164, "Installateur")
    # The default mappings' inbound properties, asked on every page (two pages of one).
    expected = ["email", "firstname", "lastname", "phone", "jobtitle"]
    assert _asked_properties(hubspot) == [expected, expected]
    # Its phone and e-mail are its identities, in the forms inbound messages look up.
    assert contact_with(PHONE, CUSTOMER_E164).id == jan.id
    assert contact_with(EMAIL, "jan.jansen@example.nl").id == jan.id


def test_saved_mappings_decide_which_properties_are_asked(app, hubspot):
    integration = _integration()
    specs = [
        MappingSpec("contact.email", "properties.email", required=True, transform="lower"),
        MappingSpec("contact.phone", "properties.mobilephone", transform="e164"),
        MappingSpec("contact.company", "properties.company", direction="out"),
    ]
    save_mappings(integration, "contacts", specs)
    db.session.commit()
    assert mappings_for(integration, "contacts") == specs
    hubspot.add("contacts", {"email": "mob@example.nl", "mobilephone": "+31 6 11112222"})

    job = sync.start_sync(integration, "contacts", "in", None)
    commit()  # queues the job
    drain_until(app, lambda: db.session.refresh(job) or job.status == "completed")

    # An outbound-only mapping is not read coming in, so it is not asked for.
    assert _asked_properties(hubspot) == [["email", "mobilephone"]]
    assert contact_with(PHONE, "+31611112222").email == "mob@example.nl"


def test_an_address_another_contact_holds_stays_theirs_and_is_noted(
    app, client, auth, make_user, hubspot
):
    integration = _integration()
    # Someone already wrote on WhatsApp from this number.
    writer = factories.contact(display_name="Schrijver", phone=CUSTOMER_E164, email=None)
    claim_addresses_of(writer)
    db.session.commit()
    hubspot.add(
        "contacts", {"email": "collega@example.nl", "firstname": "Col", "phone": "0687654321"}
    )

    job = _sync_in_over_http(app, client, auth, make_user, integration)

    assert (job.status, job.succeeded) == ("completed", 1)
    synced = db.session.scalar(sa.select(Contact).where(Contact.email == "collega@example.nl"))
    assert synced.id != writer.id and synced.phone == CUSTOMER_E164
    assert contact_with(PHONE, CUSTOMER_E164).id == writer.id
    assert contact_with(EMAIL, "collega@example.nl").id == synced.id
    state = db.session.scalar(sa.select(SyncRecord).where(SyncRecord.local_id == str(synced.id)))
    assert state.status == "synced" and state.remote_id == "501"
    assert state.last_error == (
        f"phone {CUSTOMER_E164} already belongs to contact {writer.id}; left with that contact"
    )


def test_a_phone_that_is_no_number_is_left_out_and_noted(app, client, auth, make_user, hubspot):
    # HubSpot keeps whatever was typed; the customer still syncs, without a phone.
    integration = _integration()
    hubspot.add(
        "contacts", {"email": "geen.nummer@example.nl", "firstname": "Geen", "phone": "n/a"}
    )

    job = _sync_in_over_http(app, client, auth, make_user, integration)

    assert (job.status, job.succeeded, job.failed) == ("completed", 1, 0)
    synced = db.session.scalar(sa.select(Contact).where(Contact.email == "geen.nummer@example.nl"))
    assert synced.first_name == "Geen" and synced.phone is None
    notes = client.get(f"/api/integrations/{integration.id}/sync").get_json()["notes"]["data"]
    assert [(n["local_id"], n["note"]) for n in notes] == [
        (str(synced.id), "properties.phone 'n/a' is not a phone number; left out")
    ]


def test_a_synced_hubspot_customer_who_writes_on_whatsapp_is_one_contact_one_conversation(
    app, client, auth, make_user, hubspot
):
    integration = _integration()
    hubspot.add(
        "contacts",
        {"email": "jan@example.nl", "firstname": "Jan", "phone": "0687654321"},
    )
    assert _sync_in_over_http(app, client, auth, make_user, integration).status == "completed"
    synced = db.session.scalars(sa.select(Contact)).one()

    deliver(app, client, customer_text("Mijn laadpaal doet het niet"))
    deliver(app, client, customer_text("Nog een foto volgt", wamid="wamid.in2"))

    contacts = db.session.scalars(sa.select(Contact)).all()
    threads = db.session.scalars(sa.select(CommunicationThread)).all()
    assert [c.id for c in contacts] == [synced.id]
    assert len(threads) == 1 and threads[0].contact_id == synced.id
    incoming = messages(MessageType.INCOMING)
    assert [m.sender_contact_id for m in incoming] == [synced.id, synced.id]


# --- an erased person stays erased ------------------------------


def _erase_over_http(client, auth, make_user, contact_id) -> None:
    auth.logout()
    auth.login(make_user("admin").email)
    page = client.get(f"/admin/contacts/{contact_id}/privacy")
    assert page.status_code == 200, (page.status_code, page.headers.get("Location"))
    token = csrf_token_from(page.get_data(as_text=True))
    erased = client.post(
        f"/admin/contacts/{contact_id}/erase", data={"confirmation": "ERASE", "csrf_token": token}
    )
    assert erased.status_code == 303


def _contacts_with(email: str) -> list[Contact]:
    db.session.expire_all()
    return db.session.scalars(sa.select(Contact).where(sa.func.lower(Contact.email) == email)).all()


def test_the_next_sync_does_not_bring_an_erased_person_back(app, client, auth, make_user, hubspot):
    integration = _integration()
    jan = {"email": "jan@example.nl", "firstname": "Jan", "phone": "06 87654321"}
    hubspot.add("contacts", jan)
    _sync_in_over_http(app, client, auth, make_user, integration)
    [contact] = _contacts_with("jan@example.nl")

    _erase_over_http(client, auth, make_user, contact.id)

    # The CRM still has him, and a colleague there even made him again.
    hubspot.add("contacts", {**jan, "firstname": "Jan opnieuw"})
    auth.logout()
    job = _sync_in_over_http(app, client, auth, make_user, integration)
    assert job.status == "completed" and job.succeeded == 0
    assert _contacts_with("jan@example.nl") == []
    erased = db.session.get(Contact, contact.id)
    assert erased.erased_at is not None and erased.first_name is None
    assert contact_with(PHONE, CUSTOMER_E164) is None
    notes = db.session.scalars(
        sa.select(SyncRecord.last_error).where(SyncRecord.status == "erased")
    ).all()
    assert len(notes) == 2 and all("erased here (GDPR)" in note for note in notes)

    # Only an admin's explicit act lets him in again.
    auth.logout()
    auth.login(make_user("admin").email)
    token = csrf_token_from(client.get("/admin/privacy").get_data(as_text=True))
    lifted = client.post(
        "/admin/privacy/tombstones/lift",
        data={"identifier": "Jan@Example.nl", "csrf_token": token},
        follow_redirects=True,
    )
    assert "may come in again" in lifted.get_data(as_text=True)
    hubspot.add("contacts", {"email": "jan@example.nl", "firstname": "Jan, terug"})
    auth.logout()
    _sync_in_over_http(app, client, auth, make_user, integration)
    # The two records that carry his phone number too stay out; the new one comes in.
    assert [c.first_name for c in _contacts_with("jan@example.nl")] == ["Jan, terug"]
