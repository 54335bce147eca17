"""Salesforce outbound messages, from a fake org sending the documented SOAP envelope.

The fake (tests/fakes/salesforce.py) posts as Salesforce does and counts a
message delivered only when the answer is HTTP 200 with ``<Ack>true</Ack>``.
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from app.integrations.salesforce_ids import canonical_id
from app.platform.extensions import db
from app.platform.models import (
    Contact,
    InboundWebhookEvent,
    Integration,
    OutboundDelivery,
    PlatformEvent,
    SyncRecord,
    WebhookEndpoint,
)
from app.platform.models.enums import ProcessingState
from tests.fakes.salesforce import FakeSalesforceOrg, fault_of, id18
from tests.support.helpers import csrf_token_from, signed_in_admin
from tests.support.jobs import drain_queues

ACK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    "<soapenv:Body>"
    '<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">'
    "<Ack>true</Ack>"
    "</notificationsResponse>"
    "</soapenv:Body>"
    "</soapenv:Envelope>"
)

admin = pytest.fixture(signed_in_admin, name="admin")


def make_salesforce(organization_id: str | None, status="active", direction="two_way"):
    integration = Integration(
        provider="salesforce",
        name="Salesforce",
        category="crm",
        auth_method="oauth2",
        status=status,
        credentials={"client_id": "cid", "client_secret": "secret", "access_token": "tok"},
        config={"organization_id": organization_id} if organization_id else {},
        sync_direction=direction,
        sync_frequency="real_time",
    )
    db.session.add(integration)
    db.session.commit()
    return integration


@pytest.fixture
def org():
    return FakeSalesforceOrg()


@pytest.fixture
def salesforce(app, org):
    # Configured with the 15-character id; the org sends its 18-character one.
    return make_salesforce(org.organization_id_15)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_batch_of_three_is_acknowledged_and_becomes_three_platform_events(
    app, client, org, salesforce
):
    endpoint = WebhookEndpoint(
        url="https://hooks.example/crm", events=["customer.updated", "referral.converted"]
    )
    db.session.add(endpoint)
    db.session.commit()
    batch = [
        org.notification("Contact", Email="Jan@Example.nl", FirstName="Jan", LastName="Smit"),
        org.notification("Account", Name="Smit Installaties BV"),
        org.notification("Opportunity", Name="Laadpaal", StageName="Closed Won", IsWon="true"),
    ]

    delivery = org.deliver(client, org.envelope(batch))

    assert delivery.status == 200
    assert delivery.content_type == "text/xml; charset=utf-8"
    assert delivery.body == ACK
    assert delivery.acked and org.retry_queue == []
    drain_queues(app)
    stored = db.session.scalars(
        sa.select(InboundWebhookEvent).order_by(InboundWebhookEvent.event_type)
    ).all()
    assert sorted(e.dedupe_key for e in stored) == sorted(n.notification_id for n in batch)
    assert {e.processing_state for e in stored} == {ProcessingState.PROCESSED}
    assert [e.event_type for e in stored] == ["Account", "Contact", "Opportunity"]
    # The session id lets its holder call Salesforce as the sending user: never kept.
    assert not any(org.session_id.encode() in e.raw_body for e in stored)
    events = db.session.scalars(sa.select(PlatformEvent).order_by(PlatformEvent.name)).all()
    assert [(e.name, e.source, e.integration_id) for e in events] == [
        ("customer.updated", "salesforce", salesforce.id),
        ("customer.updated", "salesforce", salesforce.id),
        ("referral.converted", "salesforce", salesforce.id),
    ]
    won = events[2].payload
    assert won["object_type"] == "opportunity"
    assert won["object_id"] == batch[2].fields["Id"]
    assert won["provider_event_id"] == batch[2].notification_id
    assert won["organization_id"] == org.organization_id
    assert won["object"]["StageName"] == "Closed Won"
    # Each subscribed name reached the endpoint: two customers, one conversion.
    deliveries = db.session.scalars(
        sa.select(OutboundDelivery.event_type).where(
            OutboundDelivery.webhook_endpoint_id == endpoint.id
        )
    ).all()
    assert sorted(deliveries) == ["customer.updated", "customer.updated", "referral.converted"]


def test_a_redelivered_message_is_acknowledged_and_changes_nothing(app, client, org, salesforce):
    body = org.envelope(
        [
            org.notification("Contact", Email="a@example.nl", LastName="A", Phone="0612345678"),
            org.notification("Contact", Email="b@example.nl", LastName="B"),
        ]
    )
    assert org.deliver(client, body).acked
    drain_queues(app)
    before = (count(InboundWebhookEvent), count(PlatformEvent), count(Contact))

    # Salesforce did not see the first Ack (a timeout): it sends the same message again.
    again = org.deliver(client, body)
    drain_queues(app)

    assert again.acked and again.body == ACK
    assert before == (2, 2, 2)
    assert (count(InboundWebhookEvent), count(PlatformEvent), count(Contact)) == before


def test_a_contact_message_updates_the_synced_contact(app, client, org, salesforce):
    record_id = org.new_id("003")
    first = org.notification(
        "Contact",
        record_id,
        Email="Piet@Example.nl",
        FirstName="Piet",
        LastName="Jansen",
        Phone="06 1234 5678",
        Title=None,
        CreatedDate="2026-11-23T07:00:00.000Z",
        LastModifiedDate="2026-11-23T07:00:00.000Z",
    )
    assert org.deliver(client, org.envelope([first])).acked
    drain_queues(app)
    contact = db.session.scalar(sa.select(Contact))
    assert (contact.email, contact.first_name, contact.last_name) == (
        "piet@example.nl",
        "Piet",
        "Jansen",
    )
    assert contact.phone == "+31612345678"
    assert db.session.scalar(sa.select(PlatformEvent.name)) == "customer.created"
    state = db.session.scalar(sa.select(SyncRecord))
    assert (state.object_type, state.remote_id, state.local_id, state.status) == (
        "contacts",
        record_id,
        str(contact.id),
        "synced",
    )

    # A later change of the same record: a new notification id, the same contact.
    changed = org.notification(
        "Contact",
        record_id,
        Email="piet@example.nl",
        LastName="Jansen-de Vries",
        Title="Facility manager",
        CreatedDate="2026-11-23T07:00:00.000Z",
        LastModifiedDate="2026-11-23T08:12:00.000Z",
    )
    assert org.deliver(client, org.envelope([changed])).acked
    drain_queues(app)
    db.session.expire_all()
    assert count(Contact) == 1
    contact = db.session.get(Contact, contact.id)
    assert (contact.last_name, contact.job_title, contact.phone) == (
        "Jansen-de Vries",
        "Facility manager",
        "+31612345678",
    )
    names = db.session.scalars(sa.select(PlatformEvent.name).order_by(PlatformEvent.created_at))
    assert list(names) == ["customer.created", "customer.updated"]


def test_a_phone_the_mappings_cannot_read_is_left_out_and_noted(app, client, org, salesforce):
    bad = org.notification("Contact", Email="x@example.nl", Phone="call me maybe")
    assert org.deliver(client, org.envelope([bad])).acked
    drain_queues(app)
    contact = db.session.scalar(sa.select(Contact))
    assert (contact.email, contact.phone) == ("x@example.nl", None)
    state = db.session.scalar(sa.select(SyncRecord))
    assert (state.local_id, state.status) == (str(contact.id), "synced")
    assert state.last_error == "Phone 'call me maybe' is not a phone number; left out"
    # The event stands: subscribers hear of the change all the same.
    assert db.session.scalar(sa.select(PlatformEvent.name)) == "customer.updated"
    processed = db.session.scalar(sa.select(InboundWebhookEvent.processing_state))
    assert processed == ProcessingState.PROCESSED


def test_an_integration_that_only_pushes_leaves_contacts_alone(app, client, org):
    make_salesforce(org.organization_id, direction="one_way_out")
    assert org.deliver(client, org.envelope([org.notification("Contact", LastName="X")])).acked
    drain_queues(app)
    assert count(Contact) == 0
    assert db.session.scalar(sa.select(PlatformEvent.name)) == "customer.updated"


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"StageName": "Prospecting", "IsClosed": "false", "IsWon": "false"}, "referral.captured"),
        ({"StageName": "Closed Lost", "IsClosed": "true", "IsWon": "false"}, "referral.lost"),
        ({"StageName": "Closed Won"}, "referral.converted"),
    ],
)
def test_opportunities_are_cross_referrals(app, client, org, salesforce, fields, name):
    assert org.deliver(client, org.envelope([org.notification("Opportunity", **fields)])).acked
    drain_queues(app)
    assert db.session.scalars(sa.select(PlatformEvent.name)).all() == [name]


def test_other_objects_are_acknowledged_without_a_platform_event(app, client, org, salesforce):
    assert org.deliver(client, org.envelope([org.notification("Case", Subject="Kapot")])).acked
    drain_queues(app)
    assert count(PlatformEvent) == 0
    state = db.session.scalar(sa.select(InboundWebhookEvent.processing_state))
    assert state == ProcessingState.PROCESSED


# --- who may send ----------------------------------------------------------------------


def test_organisation_ids_compare_in_their_15_character_form(app, client, org):
    # Configured as a case-insensitive system might keep it: lower-cased, 18 characters.
    make_salesforce(org.organization_id.lower())
    assert org.deliver(client, org.envelope([org.notification("Account")])).acked
    assert canonical_id(org.organization_id.lower()) == org.organization_id_15
    assert canonical_id(org.organization_id) == org.organization_id_15


def test_a_message_from_another_organisation_is_refused(app, client, org, salesforce):
    # The same characters in another case are another organisation's id.
    other = id18(org.organization_id_15.swapcase().replace("00d", "00D"))
    delivery = org.deliver(client, org.envelope([org.notification("Contact")], other))
    assert delivery.status == 403 and not delivery.acked
    assert delivery.content_type == "text/xml; charset=utf-8"
    assert fault_of(delivery.body)[0::2] == ("soapenv:Client", "unknown_organization")
    assert count(InboundWebhookEvent) == 0


def test_not_configured_says_so(app, client, org):
    nobody = org.deliver(client, org.envelope([org.notification("Contact")]))
    assert nobody.status == 404 and not nobody.acked
    assert fault_of(nobody.body) == (
        "soapenv:Client",
        "There is no active Salesforce integration.",
        "no_integration",
    )
    make_salesforce(None)
    unset = org.deliver(client, org.envelope([org.notification("Contact")]))
    assert unset.status == 401
    code, message, error = fault_of(unset.body)
    assert error == "not_configured" and "organization id" in message
    assert count(InboundWebhookEvent) == 0


# --- hostile and broken bodies ---------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>&lol4;</OrganizationId>
</notifications></soapenv:Body></soapenv:Envelope>"""


def test_entity_bombs_and_external_entities_are_refused(app, client, org, salesforce, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-FILE-CONTENT")
    genuine = org.envelope([org.notification("Contact", LastName="Smit")]).decode()
    external = genuine.replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>',
    ).replace("<sf:LastName>Smit</sf:LastName>", "<sf:LastName>&xxe;</sf:LastName>")
    bare_doctype = genuine.replace("?>\n", "?>\n<!DOCTYPE soapenv:Envelope>\n", 1)

    for body in (BILLION_LAUGHS, external.encode(), bare_doctype.encode()):
        delivery = org.deliver(client, body)
        assert delivery.status == 400, delivery.body
        assert fault_of(delivery.body)[2] == "xml_refused"
        assert "TOP-SECRET" not in delivery.body
    assert count(InboundWebhookEvent) == 0


def test_broken_and_oversized_bodies_are_faults(app, client, org, salesforce):
    broken = org.deliver(client, b"<soapenv:Envelope><unclosed>")
    assert broken.status == 400 and fault_of(broken.body)[2] == "malformed_xml"
    json_body = org.deliver(client, b'{"OrganizationId": "00D"}')
    assert json_body.status == 400 and fault_of(json_body.body)[2] == "malformed_xml"
    empty = org.deliver(client, org.envelope([]))
    assert empty.status == 400
    assert fault_of(empty.body)[2] == "malformed_message"
    assert "<name>Notification</name>" in empty.body
    too_many = org.deliver(client, org.envelope([org.notification("Lead")] * 101))
    assert too_many.status == 400 and "at most 100" in too_many.body
    untyped = org.envelope([org.notification("Contact")]).replace(b'xsi:type="sf:Contact" ', b"")
    assert org.deliver(client, untyped).status == 400
    padding = "x" * (1024 * 1024)
    huge = org.deliver(client, org.envelope([org.notification("Contact", Description=padding)]))
    assert huge.status == 413 and fault_of(huge.body)[2] == "payload_too_large"
    assert count(InboundWebhookEvent) == 0
    assert len(org.retry_queue) == 6  # none acknowledged: Salesforce would try again


# --- the setting -----------------------------------------------------------------------


def test_the_organisation_id_is_set_through_the_api_and_the_form(app, client, admin, org):
    page = client.get("/integrations/?provider=salesforce").get_data(as_text=True)
    assert 'name="organization_id"' in page
    headers = {"X-CSRFToken": csrf_token_from(page)}
    created = client.post(
        "/api/integrations",
        json={"provider": "salesforce", "client_id": "cid", "client_secret": "cs"},
        headers=headers,
    )
    assert created.status_code == 201, created.get_json()
    url = f"/api/integrations/{created.get_json()['data']['id']}"
    # A user's id; one character short; not an id; a checksum marking a digit as a capital.
    for wrong in ("0055g000004AbCd", "00D5g000004AbC", "00D5g000004AbCd!!!", "00D5g000004AbCdEAJ"):
        refused = client.patch(url, json={"organization_id": wrong}, headers=headers)
        assert refused.status_code == 422
        assert set(refused.get_json()["error"]["fields"]) == {"organization_id"}
    patched = client.patch(url, json={"organization_id": org.organization_id}, headers=headers)
    assert patched.status_code == 200
    assert patched.get_json()["data"]["config"]["organization_id"] == org.organization_id

    integration_id = created.get_json()["data"]["id"]
    settings = client.get(f"/integrations/{integration_id}").get_data(as_text=True)
    assert f'value="{org.organization_id}"' in settings
    # The URL to give Salesforce beside the id, and no signing secret nothing would read.
    assert "/api/v1/webhooks/salesforce</code>" in settings
    assert 'name="webhook_secret"' not in settings
    saved = client.post(
        f"/integrations/{integration_id}",
        data={
            "csrf_token": csrf_token_from(settings),
            "form": "settings",
            "name": "Salesforce",
            "status": "inactive",
            "organization_id": org.organization_id_15,
        },
    )
    assert saved.status_code in (302, 303), saved.get_data(as_text=True)[:500]
    db.session.expire_all()
    stored = db.session.get(Integration, uuid.UUID(created.get_json()["data"]["id"]))
    assert stored.config["organization_id"] == org.organization_id_15
