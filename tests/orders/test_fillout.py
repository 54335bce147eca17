"""Fillout intake: the real webhook body and the simplified one."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app.orders.core.customer_details import EMAIL_DIFFERS, keep_customer_as_sent
from app.orders.fillout.mapping import intake_problems, map_submission
from app.orders.fillout.payloads import parse_submission
from app.orders.partners.services import create_partner
from app.platform.extensions import db
from app.platform.models import (
    Address,
    Article,
    Contact,
    FormSubmission,
    InboundWebhookEvent,
    IntakeForm,
    Notification,
    Order,
    Organization,
)
from app.platform.models.enums import (
    AddressValidation,
    ArticleType,
    ContactType,
    OrderSource,
    OrderStatus,
    OrganizationType,
    ProcessingState,
)
from app.platform.system_texts import render_stored
from app.platform.transactions import commit
from app.platform.webhooks.event_log import rerun
from tests.conftest import opened
from tests.support.jobs import drain_queues

SECRET = "fillout-secret-2025"
AUTH = {"Authorization": f"Bearer {SECRET}"}

SIMPLIFIED_BODY = {
    "formId": "chargecars-intake-2025",
    "submissionId": "sub_xxx123",
    "submittedAt": "2025-01-31T14:30:00Z",
    "responses": {
        "customer_name": "Jan Janssen",
        "email": "jan@example.com",
        "phone": "06-12345678",
        "address": "Kerkstraat 123, 1234AB Amsterdam",
        "charging_needs": "Thuisladen voor 2 auto's",
        "installation_preference": "Zo snel mogelijk",
        "selected_products": ["Wallbox 11kW", "Slimme laadkabel"],
    },
}

# Fillout's own shape (its REST API's submission, as the webhook posts it).
FILLOUT_BODY = {
    "formId": "vMqcXq2Rfzus",
    "formName": "Eneco laadpaal intake",
    "submission": {
        "submissionId": "ab9959b2-73a8-4a9e-b8b4-4d58d1b0c1f0",
        "submissionTime": "2026-01-31T14:30:05.324Z",
        "lastUpdatedAt": "2026-01-31T14:30:05.324Z",
        "questions": [
            {"id": "nDi6", "name": "Naam", "type": "ShortAnswer", "value": "Sanne de Vries"},
            {
                "id": "e1Ke",
                "name": "E-mailadres",
                "type": "EmailInput",
                "value": "Sanne@Example.nl",
            },
            {
                "id": "p0Hx",
                "name": "Telefoonnummer",
                "type": "PhoneNumber",
                "value": "+31687654321",
            },
            {"id": "st01", "name": "Straat", "type": "ShortAnswer", "value": "Oudegracht"},
            {"id": "hn01", "name": "Huisnummer", "type": "NumberInput", "value": 5},
            {"id": "tv01", "name": "Toevoeging", "type": "ShortAnswer", "value": "a"},
            {"id": "pc01", "name": "Postcode", "type": "ShortAnswer", "value": "3511 ab"},
            {"id": "pl01", "name": "Plaats", "type": "ShortAnswer", "value": "Utrecht"},
            {
                "id": "cn01",
                "name": "Wat zijn je laadwensen?",
                "type": "LongAnswer",
                "value": "Eén auto, 's nachts laden",
            },
            {
                "id": "pr01",
                "name": "Welke producten wil je?",
                "type": "MultiSelect",
                "value": ["Wallbox 11kW"],
            },
            {"id": "ty01", "name": "Type auto", "type": "ShortAnswer", "value": "Volvo EX30"},
            {"id": "nw01", "name": "Nieuwsbrief", "type": "Checkbox", "value": True},
        ],
        "calculations": [{"id": "c1", "name": "price", "type": "number", "value": "12.50"}],
        "urlParameters": [{"id": "ref", "name": "ref", "value": "Eneco"}],
        "quiz": {},
        "documents": [],
        "scheduling": [],
        "payments": [],
    },
}
ENECO_MAPPING = {
    "Wat zijn je laadwensen?": "charging_needs",
    "pr01": "selected_products",
    "nw01": "ignore",
}


@pytest.fixture
def app(make_app):
    with opened(make_app(FILLOUT_WEBHOOK_SECRET=SECRET)) as app:
        yield app


@pytest.fixture
def wallbox(app):
    article = Article(sku="WB-11", name="Wallbox 11kW", article_type=ArticleType.WALLBOX)
    db.session.add(article)
    db.session.commit()
    return article


def _post(client, body, headers=AUTH, query=""):
    return client.post(f"/api/v1/webhooks/fillout{query}", json=body, headers=headers)


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_simplified_submission_runs_the_seven_steps(app, client, fake_pdok, wallbox, make_user):
    agent, lead = make_user("agent"), make_user("team_lead")
    make_user("technician")
    response = _post(client, SIMPLIFIED_BODY)
    assert response.status_code == 200, response.json
    assert response.json["data"]["duplicate"] is False
    drain_queues(app)
    db.session.expire_all()

    event = db.session.scalar(sa.select(InboundWebhookEvent))
    assert (event.source, event.dedupe_key) == ("fillout", "chargecars-intake-2025:sub_xxx123")
    assert event.processing_state == ProcessingState.PROCESSED, event.last_error
    # 1. organization and 2. contact
    organization = db.session.scalar(
        sa.select(Organization).where(
            Organization.organization_type == OrganizationType.CUSTOMER_INDIVIDUAL
        )
    )
    assert organization.name == "Jan Janssen (Particulier)"
    contact = db.session.scalar(sa.select(Contact))
    assert (contact.display_name, contact.email, contact.phone) == (
        "Jan Janssen",
        "jan@example.com",
        "+31612345678",
    )
    assert contact.organization_id == organization.id
    # 3. address, checked against the (fake) BAG
    address = db.session.scalar(sa.select(Address))
    assert address.validation_state == AddressValidation.VALID
    assert (address.street, address.house_number, address.postal_code, address.city) == (
        "Kerkstraat",
        "123",
        "1234AB",
        "Amsterdam",
    )
    assert address.bag_id == "0363200000654321" and address.province == "Noord-Holland"
    # 4. the submission, raw
    submission = db.session.scalar(sa.select(FormSubmission))
    assert submission.raw_data == SIMPLIFIED_BODY
    assert submission.submitted_at == datetime(2025, 1, 31, 14, 30, tzinfo=timezone.utc)
    assert submission.contact_id == contact.id
    form = db.session.get(IntakeForm, submission.intake_form_id)
    assert form.external_form_id == "chargecars-intake-2025"  # registered on first sight
    # 5. the preliminary order
    order = db.session.get(Order, submission.order_id)
    assert order.source == OrderSource.FILLOUT and order.status == OrderStatus.NEW
    assert order.notes == "Thuisladen voor 2 auto's"
    assert order.installation_preferences["preference"] == "Zo snel mogelijk"
    assert order.end_customer_contact_id == contact.id
    assert order.installation_address_id == address.id
    assert [(t.from_status, t.to_status) for t in order.transitions] == [(None, "new")]
    # 6. lines: a known product and one kept for review
    lines = sorted(order.line_items, key=lambda line: line.line_order)
    assert [line.description for line in lines] == ["Wallbox 11kW", "Slimme laadkabel"]
    assert lines[0].article_id == wallbox.id
    assert lines[1].article_id is None and lines[1].needs_review
    assert order.needs_review and "Slimme laadkabel" in order.review_reasons[0]
    # 7. the desk hears of it; the technician does not
    notifications = db.session.scalars(sa.select(Notification)).all()
    assert {n.user_id for n in notifications} == {agent.id, lead.id}
    note = notifications[0]
    assert note.notification_type == "order_intake_received"
    # English stored for the API; each reader sees the catalogue sentence in their language.
    assert note.title == "New intake: Jan Janssen"
    assert note.message == "Location: Kerkstraat 123, 1234AB Amsterdam"
    with force_locale("nl"):
        assert render_stored(note.title_text, note.title) == "Nieuwe intake: Jan Janssen"
        assert render_stored(note.message_text, note.message) == (
            "Locatie: Kerkstraat 123, 1234AB Amsterdam"
        )
    assert note.source_record_id == order.id and note.link == f"/orders/{order.order_number}"


def test_a_form_never_changes_a_known_customers_addresses(app, client, fake_pdok, wallbox):
    """Through Fillout too a known customer's details stay as they are: anyone can fill
    in a known customer's phone."""
    known = Contact(
        contact_type=ContactType.PERSON,
        display_name="Marieke Bos",
        email="marieke@thuis.example",
        phone="+31612345678",
    )
    db.session.add(known)
    db.session.commit()
    body = copy.deepcopy(SIMPLIFIED_BODY)
    body["responses"]["email"] = "iemand@anders.example"
    assert _post(client, body).status_code == 200
    drain_queues(app)
    db.session.expire_all()
    contact = db.session.get(Contact, known.id)
    assert (contact.display_name, contact.email, contact.phone) == (
        "Marieke Bos",
        "marieke@thuis.example",
        "+31612345678",
    )
    order = db.session.scalar(sa.select(Order))
    assert order.end_customer_contact_id == known.id
    assert order.customer_as_sent == {
        "name": "Jan Janssen",
        "email": "iemand@anders.example",
        "phone": "+31612345678",
    }
    assert EMAIL_DIFFERS in order.review_reasons
    # Applied again (a job retried after a crash): no second reason.
    keep_customer_as_sent(
        order, contact, name="Jan Janssen", email="iemand@anders.example", phone="06-12345678"
    )
    assert order.review_reasons.count(EMAIL_DIFFERS) == 1


def test_fillouts_own_body_with_a_form_mapping_and_a_partner_link(app, client, fake_pdok, wallbox):
    partner = create_partner("Eneco")
    db.session.add(
        IntakeForm(
            external_form_id="vMqcXq2Rfzus", name="Eneco intake", field_mapping=ENECO_MAPPING
        )
    )
    db.session.commit()
    assert _post(client, FILLOUT_BODY).status_code == 200
    drain_queues(app)
    db.session.expire_all()
    order = db.session.scalar(sa.select(Order))
    assert order is not None, db.session.scalar(sa.select(InboundWebhookEvent.last_error))
    assert order.partner_organization_id == partner.organization.id
    assert order.channel_contact_ids and order.account_contact_id == order.partner_contact_id
    assert order.notes == "Eén auto, 's nachts laden"
    assert order.partner_external_references["fillout_submission_id"] == (
        "ab9959b2-73a8-4a9e-b8b4-4d58d1b0c1f0"
    )
    assert order.installation_preferences["other_answers"] == {"Type auto": "Volvo EX30"}
    assert [line.article_id for line in order.line_items] == [wallbox.id]
    customer = db.session.get(Contact, order.end_customer_contact_id)
    assert (customer.email, customer.phone) == ("sanne@example.nl", "+31687654321")
    address = db.session.get(Address, order.installation_address_id)
    assert address.validation_state == AddressValidation.VALID
    assert (address.house_number, address.house_number_addition) == ("5", "a")
    assert not order.needs_review


def test_the_form_partner_wins_over_the_link_and_unknown_links_are_flagged(app, client, fake_pdok):
    body = copy.deepcopy(FILLOUT_BODY)
    body["submission"]["urlParameters"] = [{"id": "ref", "name": "ref", "value": "Nobody BV"}]
    assert _post(client, body).status_code == 200
    drain_queues(app)
    order = db.session.scalar(sa.select(Order))
    assert order.partner_organization_id is None
    assert "unknown partner reference 'Nobody BV'" in order.review_reasons


def test_the_flattened_variant_is_read_too(app, client, fake_pdok):
    flat = {"formId": FILLOUT_BODY["formId"], **FILLOUT_BODY["submission"]}
    assert _post(client, flat).status_code == 200
    drain_queues(app)
    submission = db.session.scalar(sa.select(FormSubmission))
    assert submission.external_submission_id == "ab9959b2-73a8-4a9e-b8b4-4d58d1b0c1f0"
    assert db.session.get(Order, submission.order_id).end_customer.display_name == "Sanne de Vries"


def test_the_same_submission_twice_or_rerun_creates_nothing_new(app, client, fake_pdok):
    first = _post(client, SIMPLIFIED_BODY)
    again = _post(client, SIMPLIFIED_BODY)
    assert again.json["data"] == {**first.json["data"], "duplicate": True}
    drain_queues(app)
    event = db.session.scalar(sa.select(InboundWebhookEvent))
    rerun(event)  # an admin re-running it from the events page
    commit()
    drain_queues(app)
    db.session.expire_all()
    assert db.session.get(InboundWebhookEvent, event.id).processing_state == (
        ProcessingState.PROCESSED
    )
    assert _count(Order) == _count(FormSubmission) == _count(Contact) == _count(Address) == 1


def test_an_address_the_bag_does_not_know_flags_the_order(app, client, fake_pdok):
    body = copy.deepcopy(SIMPLIFIED_BODY)
    body["responses"]["address"] = "Nergensstraat 9, 9999ZZ Nergenshuizen"
    _post(client, body)
    drain_queues(app)
    order = db.session.scalar(sa.select(Order))
    assert order.needs_review
    assert any("address not confirmed" in reason for reason in order.review_reasons)
    assert db.session.scalar(sa.select(Address)).validation_state == AddressValidation.INVALID


def test_a_submission_without_an_address_still_makes_an_order_for_review(app, client):
    body = copy.deepcopy(SIMPLIFIED_BODY)
    del body["responses"]["address"]
    _post(client, body)
    drain_queues(app)
    order = db.session.scalar(sa.select(Order))
    assert order.installation_address_id is None
    assert "the form gave no installation address" in order.review_reasons


# --- the door ---------------------------------------------------------------------------


def test_the_secret_may_come_as_a_query_parameter(client):
    assert _post(client, SIMPLIFIED_BODY, headers={}, query=f"?secret={SECRET}").status_code == 200


@pytest.mark.parametrize(
    ("headers", "query"),
    [({}, ""), ({"Authorization": "Bearer wrong"}, ""), ({}, "?secret=wrong")],
)
def test_a_missing_or_wrong_secret_is_401(client, headers, query):
    response = _post(client, SIMPLIFIED_BODY, headers=headers, query=query)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_secret"
    assert _count(InboundWebhookEvent) == 0


def test_without_a_configured_secret_nothing_is_accepted(make_app):
    with opened(make_app()) as app:
        response = _post(app.test_client(), SIMPLIFIED_BODY)
        assert response.status_code == 401
        assert "FILLOUT_WEBHOOK_SECRET is not configured" in response.json["error"]["message"]


def test_malformed_json_is_400(client):
    response = client.post("/api/v1/webhooks/fillout", data="{oops", headers=AUTH)
    assert response.status_code == 400


def test_a_body_that_is_not_a_submission_is_422(client):
    response = _post(client, {"hello": "world"})
    assert response.status_code == 422
    assert {"formId", "submissionId", "questions"} <= set(response.json["error"]["fields"])


def test_no_name_and_no_way_to_reach_the_customer_is_422_naming_the_fields(client):
    body = copy.deepcopy(SIMPLIFIED_BODY)
    body["responses"] = {"address": "Kerkstraat 123, 1234AB Amsterdam", "phone": "12"}
    response = _post(client, body)
    assert response.status_code == 422
    fields = response.json["error"]["fields"]
    assert set(fields) == {"customer_name", "email", "phone"}
    assert fields["email"] == "missing" and "'12'" in fields["phone"]
    assert _count(InboundWebhookEvent) == 0


def test_the_check_uses_the_forms_mapping(client):
    # The name question is called something no default knows; the mapping names it.
    body = copy.deepcopy(FILLOUT_BODY)
    body["submission"]["questions"][0]["name"] = "Hoe heet je?"
    assert _post(client, body).json["error"]["fields"] == {
        "customer_name": "required: no answer maps to the customer's name"
    }
    db.session.add(
        IntakeForm(
            external_form_id="vMqcXq2Rfzus",
            name="Eneco",
            field_mapping={"Hoe heet je?": "customer_name"},
        )
    )
    db.session.commit()
    assert _post(client, body).status_code == 200


def test_a_form_switched_off_is_refused(client):
    db.session.add(
        IntakeForm(external_form_id="chargecars-intake-2025", name="Oud", is_active=False)
    )
    db.session.commit()
    response = _post(client, SIMPLIFIED_BODY)
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"formId": "this form is not accepted"}


# --- the admin page -----------------------------------------------------------------------


def test_intake_forms_are_for_admins(client, auth, make_user):
    auth.login(make_user("agent").email)
    assert client.get("/admin/intake-forms/").status_code == 403


def test_an_admin_maps_a_forms_questions(app, client, auth, make_user, fake_pdok):
    partner = create_partner("Eneco")
    db.session.commit()
    body = copy.deepcopy(FILLOUT_BODY)
    body["submission"]["urlParameters"] = []
    assert _post(client, body).status_code == 200
    drain_queues(app)
    form = db.session.scalar(sa.select(IntakeForm))
    auth.login(make_user("admin").email)

    listing = client.get("/admin/intake-forms/").get_data(as_text=True)
    assert "Eneco laadpaal intake" in listing and "vMqcXq2Rfzus" in listing
    page = client.get(f"/admin/intake-forms/{form.id}").get_data(as_text=True)
    assert "Wat zijn je laadwensen?" in page  # the latest submission's questions

    token = auth.csrf_token(f"/admin/intake-forms/{form.id}")
    url = f"/admin/intake-forms/{form.id}"
    fields = {"csrf_token": token, "name": "Eneco intake", "is_active": "1"}
    broken = client.post(url, data={**fields, "field_mapping": "{nope"})
    assert broken.status_code == 422 and "not valid JSON" in broken.get_data(as_text=True)
    wrong = client.post(url, data={**fields, "field_mapping": '{"Type auto": "car"}'})
    assert wrong.status_code == 422
    assert "&#39;car&#39; is not a field" in wrong.get_data(as_text=True)
    saved = client.post(
        url,
        data={
            **fields,
            "field_mapping": json.dumps(ENECO_MAPPING),
            "partner_organization_id": str(partner.organization.id),
        },
    )
    assert saved.status_code == 303
    db.session.expire_all()
    form = db.session.get(IntakeForm, form.id)
    assert form.field_mapping == ENECO_MAPPING and form.name == "Eneco intake"
    assert form.partner_organization_id == partner.organization.id

    # The next submission is read with the new mapping and goes to the partner.
    body["submission"]["submissionId"] = "second"
    assert _post(client, body).status_code == 200
    drain_queues(app)
    order = db.session.scalar(sa.select(Order).where(Order.partner_organization_id.is_not(None)))
    assert order.notes == "Eén auto, 's nachts laden"


# --- reading answers ----------------------------------------------------------------------


def test_fillout_address_objects_split_names_and_numbers_in_the_street_are_read():
    submission = parse_submission(
        {
            "formId": "f",
            "submission": {
                "submissionId": "s",
                "questions": [
                    {"id": "a", "name": "Voornaam", "type": "ShortAnswer", "value": "Piet"},
                    {"id": "b", "name": "Achternaam", "type": "ShortAnswer", "value": "de Boer"},
                    {"id": "c", "name": "E-mail adres", "type": "EmailInput", "value": "p@x.nl"},
                    {
                        "id": "d",
                        "name": "Installatieadres",
                        "type": "Address",
                        "value": {
                            "address": "Oudegracht 5a",
                            "city": "Utrecht",
                            "zipCode": "3511AB",
                            "country": "NL",
                        },
                    },
                    {"id": "e", "name": "Product", "type": "Dropdown", "value": "Wallbox 11kW"},
                ],
                "urlParameters": [{"id": "partner", "name": "partner", "value": "Eneco"}],
            },
        }
    )
    intake = map_submission(submission, {})
    assert intake.customer_name == "Piet de Boer"
    assert intake.email == "p@x.nl" and intake.phone is None
    assert intake_problems(intake) == {}
    details = intake.address_details()
    assert (details.street, details.house_number, details.house_number_addition) == (
        "Oudegracht",
        "5",
        "a",
    )
    assert (details.postal_code, details.city) == ("3511AB", "Utrecht")
    assert intake.selected_products == ["Wallbox 11kW"]
    assert intake.get("partner") == "Eneco"


def test_a_mapping_by_question_id_beats_the_default_labels():
    submission = parse_submission(
        {
            "formId": "f",
            "submissionId": "s",
            "questions": [
                {"id": "q1", "name": "Naam", "value": "Bedrijf BV"},
                {"id": "q2", "name": "Naam contactpersoon", "value": "Anna"},
                {"id": "q3", "name": "Telefoon", "value": "0201234567"},
            ],
        }
    )
    intake = map_submission(submission, {"q1": "ignore", "Naam contactpersoon": "customer_name"})
    assert intake.customer_name == "Anna"
    assert intake.phone == "+31201234567"
