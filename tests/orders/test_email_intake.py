"""Partner orders by e-mail (Alva): parsing, drafts, review, .eml upload, the Outlook path."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.conversations.channels.outlook.inbound import store_message
from app.orders.core.customer_details import EMAIL_DIFFERS
from app.orders.email_intake import labels as f
from app.orders.email_intake.drafts import approve_draft, draft_from_email, reject_draft
from app.orders.email_intake.eml import EmlError, read_eml
from app.orders.email_intake.jobs import process_order_email
from app.orders.email_intake.parser import parse_order_email
from app.orders.email_intake.text import html_to_text, parse_date, split_street
from app.orders.partners.intake import IntakeInvalid
from app.platform.extensions import db
from app.platform.models import (
    Article,
    AuditLog,
    CommunicationMessage,
    Contact,
    Notification,
    Order,
    OrderDraft,
    PartnerSkuMapping,
)
from app.platform.models.enums import ArticleType, ContactType, DraftState, OrderSource
from app.platform.transactions import commit
from tests.support.helpers import csrf_token_from
from tests.support.jobs import drain_queues
from tests.support.partner_support import make_partner

FIXTURES = Path(__file__).parents[1] / "fixtures"
ORDER_MAILBOX = "orders-alva@chargecars.nl"
ALVA_SKUS = {
    "ALV-WB-11": ("ALV-EVE-11", "Alva Wallbox 11 kW", ArticleType.WALLBOX, "1195.00"),
    "ALV-WB-22": ("ALV-EVE-22", "Alva Wallbox 22 kW", ArticleType.WALLBOX, "1395.00"),
    "ALV-INST-STD": ("INST-STD", "Standaard installatie", ArticleType.INSTALLATION, "545.00"),
    "ALV-KABEL-5": ("KABEL-5M", "Laadkabel 5 m", ArticleType.ACCESSORY, "89.00"),
}
KNOWN = {sku: name for sku, (_, name, _, _) in ALVA_SKUS.items()}


def mail(name: str):
    return read_eml((FIXTURES / name).read_bytes())


def parse(name: str, **overrides):
    message = mail(name)
    return parse_order_email(
        subject=overrides.get("subject", message.subject),
        text=overrides.get("text", message.text),
        html=overrides.get("html", message.html),
        known_skus=overrides.get("known_skus", KNOWN),
        ignore_addresses=[message.sender, ORDER_MAILBOX],
    )


def values(parsed) -> dict:
    return {path: found.value for path, found in parsed.fields.items()}


@pytest.fixture
def alva(app):
    partner = make_partner("Alva", order_email_address=ORDER_MAILBOX)
    for partner_sku, (sku, name, kind, price) in ALVA_SKUS.items():
        article = Article(sku=sku, name=name, article_type=kind, unit_price=Decimal(price))
        db.session.add(article)
        db.session.flush()
        db.session.add(
            PartnerSkuMapping(
                partner_organization_id=partner.organization.id,
                partner_sku=partner_sku,
                article_id=article.id,
            )
        )
    db.session.commit()
    return partner.organization


def draft_from_fixture(partner, name: str, **overrides) -> OrderDraft:
    message = mail(name)
    draft = draft_from_email(
        partner,
        subject=message.subject,
        text=overrides.get("text", message.text),
        html=message.html,
        sender=message.sender,
        internet_message_id=overrides.get("internet_message_id", message.internet_message_id),
    )
    commit()
    return draft


def orders() -> list[Order]:
    return list(db.session.scalars(sa.select(Order)))


# --- the parser -------------------------------------------------------------


def test_clean_mail_is_read_from_its_labels():
    parsed = parse("alva_clean.eml")

    assert parsed.confidence >= 90 and parsed.certain
    assert values(parsed) | {f.LINE_ITEMS: None} == {
        f.ORDER_ID: "ALV-2025-004512",
        f.CUSTOMER_ID: "KL-88341",
        f.NAME: "Sanne de Vries",
        f.EMAIL: "sanne.devries@example.nl",
        f.PHONE: "+31612345678",
        f.STREET: "Prinsengracht",
        f.HOUSE_NUMBER: "263-2",
        f.POSTAL_CODE: "1016 GV",
        f.CITY: "Amsterdam",
        f.PREFERRED_DATE: "2025-07-15",
        f.NOTES: "Meterkast in de kelder, graag vooraf bellen.",
        f.LINE_ITEMS: None,
    }
    assert all(found.source == "label" for p, found in parsed.fields.items() if p != f.LINE_ITEMS)
    assert parsed.body["line_items"] == [
        {"sku": "ALV-WB-11", "description": "Alva Wallbox 11 kW", "quantity": 1},
        {"sku": "ALV-INST-STD", "description": "Standaard installatie", "quantity": 1},
        {"sku": "ALV-KABEL-5", "description": "Extra kabel 5 meter", "quantity": 2},
    ]
    assert parsed.body["customer"]["address"]["postal_code"] == "1016 GV"
    # The signature's phone, address and e-mail are Alva's, not the customer's.
    assert "+31105550100" not in str(parsed.body)
    assert parsed.warnings == []


def test_html_mail_reads_label_cells_and_the_product_table():
    parsed = parse("alva_html.eml")

    assert parsed.certain, parsed.warnings
    found = values(parsed)
    assert found[f.ORDER_ID] == "ALV-2025-004600"
    assert found[f.NAME] == "Fatima el Amrani"
    assert found[f.EMAIL] == "f.elamrani@example.org"
    assert found[f.PHONE] == "+31623456789"
    assert (found[f.STREET], found[f.HOUSE_NUMBER]) == ("Laan van Meerdervoort", "1021")
    assert (found[f.POSTAL_CODE], found[f.CITY]) == ("2564 AR", "Den Haag")
    assert found[f.PREFERRED_DATE] == "2025-09-02"
    assert parsed.fields[f.LINE_ITEMS].source == "table"
    assert [(i["sku"], i["quantity"]) for i in parsed.body["line_items"]] == [
        ("ALV-WB-11", 1),
        ("ALV-INST-STD", 1),
    ]
    # Scripts, styles and the title never become text.
    assert "track(" not in parsed.text and "font-family" not in parsed.text
    assert "Nieuwe opdracht" not in parsed.text


def test_messy_forwarded_mail_falls_back_to_patterns_and_stays_under_90():
    parsed = parse("alva_messy.eml")

    found = values(parsed)
    assert found[f.NAME] == "Pieter Jansen"
    assert found[f.EMAIL] == "pieter.jansen@example.com"  # not Alva's own addresses
    assert found[f.PHONE] == "+31687654321"
    assert (found[f.STREET], found[f.HOUSE_NUMBER]) == ("Kerkstraat", "12a")
    assert (found[f.POSTAL_CODE], found[f.CITY]) == ("3512 HT", "Utrecht")
    assert parsed.fields[f.POSTAL_CODE].source == "pattern"
    assert parsed.body["line_items"] == [
        {"sku": "ALV-WB-22", "description": "Alva Wallbox 22 kW", "quantity": 1}
    ]
    assert f.ORDER_ID not in parsed.fields  # nowhere in the mail
    assert parsed.confidence < 60


CLEAN_TEXT = mail("alva_clean.eml").text


@pytest.mark.parametrize(
    "line",
    [
        "Ordernummer: ALV-2025-004512",
        "Naam: Sanne de Vries",
        "Postcode: 1016 GV",
        "Huisnummer: 263-2",
    ],
)
def test_a_missing_required_field_pulls_confidence_well_under_90(line):
    text = CLEAN_TEXT.replace(line, "")
    parsed = parse("alva_clean.eml", text=text, subject="Nieuwe installatieopdracht")

    assert parsed.confidence < 60


def test_no_products_and_no_contact_route_are_required_too():
    no_products = re.sub(r"\d+x ALV-[A-Z0-9-]+ .*\n", "", CLEAN_TEXT)
    assert parse("alva_clean.eml", text=no_products).confidence < 60
    no_contact = CLEAN_TEXT.replace("E-mailadres: sanne.devries@example.nl", "").replace(
        "Telefoon: 06-12345678", ""
    )
    assert parse("alva_clean.eml", text=no_contact).confidence < 60
    # One route is enough for the parser (the intake decides whether it suffices).
    only_mail = CLEAN_TEXT.replace("Telefoon: 06-12345678", "")
    assert parse("alva_clean.eml", text=only_mail).certain


def test_unknown_skus_missing_quantities_and_contradictions_need_a_person():
    unknown = parse("alva_clean.eml", known_skus={"ALV-WB-11": "Wallbox"})
    assert not unknown.certain
    assert "ALV-INST-STD is not on the partner's SKU list" in unknown.fields[f.LINE_ITEMS].note

    no_quantity = CLEAN_TEXT.replace("1x ALV-WB-11", "ALV-WB-11")
    assert not parse("alva_clean.eml", text=no_quantity).certain

    contradicted = CLEAN_TEXT + "\nPostcode: 1017 AB\n"
    parsed = parse("alva_clean.eml", text=contradicted)
    assert not parsed.certain
    assert parsed.fields[f.POSTAL_CODE].note == "the mail also says '1017 AB'"

    bad_phone = CLEAN_TEXT.replace("06-12345678", "bel na 18:00")
    parsed = parse("alva_clean.eml", text=bad_phone)
    assert parsed.fields[f.PHONE].confidence < 50
    assert "customer.phone: not a phone number" in parsed.warnings


def test_english_labels_and_a_whole_address_on_one_line():
    text = (
        "Order ID: ALV-2025-009001\n"
        "Customer name: Emma Smit\n"
        "Email: emma.smit@example.com\n"
        "Phone: +31 6 11122233\n"
        "Address: Kerkstraat 12 a, 3512 HT Utrecht\n"
        "Product: ALV-WB-22 Wallbox\n"
        "Quantity: 2\n"
        "Preferred date: July 18, 2025\n"
    )
    parsed = parse_order_email(subject="New order", text=text, known_skus=KNOWN)

    assert parsed.certain
    assert parsed.body["customer"]["address"] == {
        "street": "Kerkstraat",
        "house_number": "12a",
        "postal_code": "3512 HT",
        "city": "Utrecht",
    }
    assert parsed.body["line_items"] == [
        {"sku": "ALV-WB-22", "description": "Wallbox", "quantity": 2}
    ]
    assert parsed.body["installation_preferences"] == {"preferred_date": "2025-07-18"}


def test_value_readers():
    assert parse_date("di 15 juli 2025") == parse_date("15-07-2025") == parse_date("2025-07-15")
    assert parse_date("eind juli") is None
    assert split_street("Laan van Meerdervoort 1021") == ("Laan van Meerdervoort", "1021")
    assert split_street("Prinsengracht 263-2") == ("Prinsengracht", "263-2")
    assert html_to_text("<table><tr><td>Naam</td><td>Jan</td></tr></table>") == "Naam\tJan"


# --- drafts and orders ------------------------------------------------------


def test_clean_mail_creates_the_order_at_once_with_mapped_lines(alva, make_user):
    make_user("agent")
    draft = draft_from_fixture(alva, "alva_clean.eml")

    assert draft.state == DraftState.CREATED and draft.confidence >= 90
    (order,) = orders()
    assert draft.order_id == order.id
    assert order.source == OrderSource.EMAIL
    assert order.partner_order_id == "ALV-2025-004512"
    assert order.partner_organization_id == alva.id
    assert order.end_customer.email == "sanne.devries@example.nl"
    lines = [(li.partner_sku, li.article.sku, li.quantity) for li in order.line_items]
    assert lines == [
        ("ALV-WB-11", "ALV-EVE-11", 1),
        ("ALV-INST-STD", "INST-STD", 1),
        ("ALV-KABEL-5", "KABEL-5M", 2),
    ]
    assert not any(li.needs_review for li in order.line_items)
    assert order.installation_preferences["preferred_date"] == "2025-07-15"
    # No draft to review; the new order waits for approval and tells the desk.
    told = db.session.scalars(sa.select(Notification.notification_type)).all()
    assert told == ["order_waiting"]


def test_html_mail_creates_the_order_too(alva):
    draft = draft_from_fixture(alva, "alva_html.eml")

    assert draft.state == DraftState.CREATED
    assert draft.order_id is not None
    assert [li.partner_sku for li in orders()[0].line_items] == ["ALV-WB-11", "ALV-INST-STD"]


def test_messy_mail_waits_for_review_and_tells_agents_and_team_leads(alva, make_user):
    agent, lead = make_user("agent"), make_user("team_lead")
    make_user("technician")
    make_user("agent", is_active_account=False)
    draft = draft_from_fixture(alva, "alva_messy.eml")

    assert draft.state == DraftState.PENDING_REVIEW and draft.order_id is None
    assert orders() == []
    notified = db.session.scalars(sa.select(Notification)).all()
    assert {n.user_id for n in notified} == {agent.id, lead.id}
    assert {n.title for n in notified} == {"Partner order to review"}  # nl in the bell
    assert notified[0].link == f"/intake/drafts/{draft.id}"


def test_confident_mail_the_intake_refuses_stays_in_review_with_its_errors(alva):
    text = CLEAN_TEXT.replace("2x ALV-KABEL-5", "150x ALV-KABEL-5")
    draft = draft_from_fixture(alva, "alva_clean.eml", text=text)

    assert draft.confidence >= 90
    assert draft.state == DraftState.PENDING_REVIEW
    assert orders() == []
    assert "line_items.2.quantity" in draft.error
    assert "line_items.2.quantity" in draft.fields[f.LINE_ITEMS]["error"]


def test_the_same_message_id_makes_one_draft_and_one_order(alva):
    first = draft_from_fixture(alva, "alva_clean.eml")
    again = draft_from_fixture(alva, "alva_clean.eml")

    assert again.id == first.id
    assert db.session.scalar(sa.select(sa.func.count(OrderDraft.id))) == 1
    assert len(orders()) == 1


def test_the_same_order_in_a_second_mail_links_to_the_first_order(alva):
    first = draft_from_fixture(alva, "alva_clean.eml")
    second = draft_from_fixture(alva, "alva_clean.eml", internet_message_id="<resent@alva>")

    assert second.id != first.id and second.order_id == first.order_id
    assert "already existed" in second.error
    assert len(orders()) == 1


def test_approve_and_reject_in_the_service(alva, make_user):
    agent = make_user("agent")
    draft = draft_from_fixture(alva, "alva_messy.eml")

    with pytest.raises(IntakeInvalid) as refused:
        approve_draft(draft, {}, agent)
    commit()
    assert "partner_order_id" in refused.value.fields
    assert draft.state == DraftState.PENDING_REVIEW and orders() == []

    with pytest.raises(ValueError, match="reason"):
        reject_draft(draft, agent, "  ")
    reject_draft(draft, agent, "Dubbele bestelling, staat al in Alva order 4512")
    commit()
    assert draft.state == DraftState.REJECTED and draft.reviewed_by_user_id == agent.id
    audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.record_id == draft.id))
    assert audit.action == "draft_rejected"


# --- the review pages -------------------------------------------------------


def form_of(page: str, draft: OrderDraft) -> dict:
    """The approve form as the browser would post it: every input's current value."""
    form = page.split('data-testid="approve-form"', 1)[1].split("</form>", 1)[0]
    fields = {}
    for tag in re.findall(r"<(?:input|textarea)[^>]*>(?:[^<]*</textarea>)?", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        text = re.search(r">([^<]*)</textarea>", tag)
        fields[name.group(1)] = (text or value).group(1) if (text or value) else ""
    return fields


def test_a_person_corrects_and_approves_a_messy_mail(alva, client, auth, make_user):
    agent = make_user("agent")
    draft = draft_from_fixture(alva, "alva_messy.eml")
    auth.login(agent.email)

    queue = client.get("/intake/drafts").get_data(as_text=True)
    assert "FW: bestelling klant Jansen" in queue
    assert "Waiting for review: <strong>1</strong>" in queue
    assert 'class="sla sla-overdue"' in queue  # low confidence in red

    page = client.get(f"/intake/drafts/{draft.id}").get_data(as_text=True)
    assert "Kerkstraat 12 a" in page  # the original mail beside the form
    assert 'value="Pieter Jansen"' in page and "95% · label" in page
    form = form_of(page, draft)
    assert form["customer.address.postal_code"] == "3512 HT"

    # Approving without the order id: the page names the field.
    refused = client.post(f"/intake/drafts/{draft.id}/approve", data=form)
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert "Partner order ID: Field required" in body
    assert orders() == []

    form = form_of(body, draft) | {
        "partner_order_id": "ALV-2025-004530",
        "line_items-1-sku": "ALV-INST-STD",
        "line_items-1-description": "Standaard installatie",
        "line_items-1-quantity": "1",
        "csrf_token": csrf_token_from(body),
    }
    approved = client.post(f"/intake/drafts/{draft.id}/approve", data=form)
    assert approved.status_code == 303

    db.session.expire_all()
    (order,) = orders()
    assert order.partner_order_id == "ALV-2025-004530"
    assert [li.partner_sku for li in order.line_items] == ["ALV-WB-22", "ALV-INST-STD"]
    assert order.end_customer.phone == "+31687654321"
    draft = db.session.get(OrderDraft, draft.id)
    assert draft.state == DraftState.CREATED and draft.reviewed_by_user_id == agent.id
    assert draft.fields[f.ORDER_ID] == {
        "value": "ALV-2025-004530",
        "confidence": 100,
        "source": "reviewer",
    }
    shown = client.get(f"/intake/drafts/{draft.id}").get_data(as_text=True)
    assert f"/orders/{order.order_number}" in shown

    # A second approval (another tab) changes nothing.
    client.post(f"/intake/drafts/{draft.id}/approve", data=form)
    assert len(orders()) == 1


def test_reject_on_the_page_needs_a_reason(alva, client, auth, make_user):
    auth.login(make_user("team_lead").email)
    draft = draft_from_fixture(alva, "alva_messy.eml")
    token = auth.csrf_token(f"/intake/drafts/{draft.id}")

    missing = client.post(f"/intake/drafts/{draft.id}/reject", data={"csrf_token": token})
    assert missing.status_code == 422
    assert "reason: say why" in missing.get_data(as_text=True)

    done = client.post(
        f"/intake/drafts/{draft.id}/reject",
        data={"csrf_token": token, "reason": "Geen order, alleen een vraag"},
    )
    assert done.status_code == 303
    db.session.expire_all()
    assert db.session.get(OrderDraft, draft.id).state == DraftState.REJECTED
    page = client.get(f"/intake/drafts/{draft.id}").get_data(as_text=True)
    assert "Geen order, alleen een vraag" in page


def test_review_pages_are_for_desk_staff_only(alva, client, auth, make_user):
    draft = draft_from_fixture(alva, "alva_messy.eml")
    assert client.get("/intake/drafts").status_code == 302  # to sign in
    auth.login(make_user("technician").email)
    assert client.get("/intake/drafts").status_code == 403
    assert client.get(f"/intake/drafts/{draft.id}").status_code == 403


def test_the_nav_links_staff_to_the_queue(client, auth, make_user):
    auth.login(make_user("agent").email)
    assert 'href="/intake/drafts"' in client.get("/inbox").get_data(as_text=True)


# --- .eml upload ------------------------------------------------------------


def upload(client, auth, partner_id, content: bytes, filename: str = "order.eml"):
    token = auth.csrf_token("/intake/drafts")
    return client.post(
        "/intake/drafts/upload",
        data={
            "csrf_token": token,
            "partner_id": str(partner_id),
            "eml": (io.BytesIO(content), filename),
        },
        content_type="multipart/form-data",
    )


def test_uploading_a_good_eml_makes_the_draft_and_the_order(alva, client, auth, make_user):
    auth.login(make_user("agent").email)
    content = (FIXTURES / "alva_clean.eml").read_bytes()

    response = upload(client, auth, alva.id, content)
    assert response.status_code == 303
    draft = db.session.scalar(sa.select(OrderDraft))
    assert response.headers["Location"].endswith(f"/intake/drafts/{draft.id}")
    assert draft.source == "upload" and draft.state == DraftState.CREATED
    assert draft.internet_message_id == "<20250707071401.4512.orders@alva-charging.nl>"

    again = upload(client, auth, alva.id, content)
    assert again.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count(OrderDraft.id))) == 1
    assert len(orders()) == 1


def test_a_partner_mail_never_changes_a_known_customers_addresses(alva, client, auth, make_user):
    """A known customer's details stay as they are, through a partner's order mail too:
    it shares the partner intake."""
    known = Contact(
        contact_type=ContactType.PERSON, display_name="Marieke Bos", phone="+31612345678"
    )
    db.session.add(known)
    db.session.commit()
    auth.login(make_user("agent").email)
    response = upload(client, auth, alva.id, (FIXTURES / "alva_clean.eml").read_bytes())
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Contact, known.id).email is None
    (order,) = orders()
    assert order.end_customer_contact_id == known.id
    assert order.customer_as_sent["email"] == "sanne.devries@example.nl"
    assert EMAIL_DIFFERS in order.review_reasons


def test_bad_uploads_are_refused_with_a_clear_message(alva, client, auth, make_user):
    auth.login(make_user("agent").email)
    good = (FIXTURES / "alva_clean.eml").read_bytes()

    cases = [
        (upload(client, auth, alva.id, good, "order.pdf"), 422, "Only .eml files"),
        (upload(client, auth, alva.id, b"\x89PNG\r\n\x1a\n\x00\x00", "x.eml"), 422, "no e-mail"),
        (upload(client, auth, alva.id, b"", "empty.eml"), 422, "empty"),
        (upload(client, auth, "not-a-partner", good), 422, "Choose the partner"),
        (upload(client, auth, alva.id, b"x" * (5 * 1024 * 1024 + 10)), 413, "larger than 5 MB"),
    ]
    for response, status, message in cases:
        assert response.status_code == status, message
        assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(OrderDraft.id))) == 0


def test_read_eml_needs_headers_and_a_body():
    with pytest.raises(EmlError, match="no text or HTML body"):
        read_eml(b"From: a@example.com\r\nSubject: x\r\nContent-Type: image/png\r\n\r\nabc")
    message = mail("alva_html.eml")
    assert message.subject == "Opdracht ALV-2025-004600 – Den Haag"
    assert message.recipients == ["orders-alva@chargecars.nl"]
    assert message.text is None and "<table" in message.html


# --- the Outlook path -------------------------------------------------------


class _Client:
    mailbox = "klantenservice@chargecars.nl"


def graph_message(graph_id: str, eml: str, to: str) -> dict:
    """A Graph message resource for a fixture mail, with its To header."""
    message = mail(eml)
    html = message.html or "<pre>" + (message.text or "") + "</pre>"
    return {
        "id": graph_id,
        "internetMessageId": message.internet_message_id,
        "conversationId": f"conv-{graph_id}",
        "subject": message.subject,
        "receivedDateTime": "2025-07-08T14:42:10Z",
        "from": {"emailAddress": {"name": "Alva", "address": message.sender}},
        "body": {"contentType": "html", "content": html},
        "uniqueBody": {"contentType": "html", "content": html},
        "hasAttachments": False,
        "internetMessageHeaders": [
            {"name": "Message-ID", "value": message.internet_message_id},
            {"name": "To", "value": to},
        ],
    }


def test_mail_to_the_order_mailbox_becomes_a_draft_through_the_job(app, alva, make_user):
    make_user("agent")
    resource = graph_message("AAMk-1", "alva_messy.eml", f"Alva orders <{ORDER_MAILBOX.upper()}>")
    stored = store_message(_Client(), resource, [])
    commit()  # the Outlook processor's commit queues the job
    drain_queues(app)

    db.session.expire_all()
    draft = db.session.scalar(sa.select(OrderDraft))
    assert draft is not None and draft.message_id == stored.id
    assert draft.partner_organization_id == alva.id
    assert draft.sender == "m.bakker@alva-charging.nl"
    assert draft.internet_message_id == "<CAF3x9q-77hQ2=aB@mail.alva-charging.nl>"
    assert draft.state == DraftState.PENDING_REVIEW
    assert "Pieter Jansen" in draft.raw_text
    # Still a conversation in the inbox as well.
    assert db.session.get(CommunicationMessage, stored.id).thread is not None

    # The job again (a retry) makes no second draft.
    assert process_order_email(str(stored.id)) == str(draft.id)
    assert db.session.scalar(sa.select(sa.func.count(OrderDraft.id))) == 1


def test_a_clear_outlook_order_is_linked_to_its_thread(app, alva):
    stored = store_message(_Client(), graph_message("AAMk-2", "alva_html.eml", ORDER_MAILBOX), [])
    commit()
    drain_queues(app)

    db.session.expire_all()
    draft = db.session.scalar(sa.select(OrderDraft))
    assert draft.state == DraftState.CREATED and draft.message_id == stored.id
    assert db.session.get(CommunicationMessage, stored.id).thread.order_id == draft.order_id


def test_mail_to_the_customer_mailbox_is_not_an_order(alva):
    resource = graph_message("AAMk-3", "alva_clean.eml", "klantenservice@chargecars.nl")
    stored = store_message(_Client(), resource, [])
    commit()

    assert stored is not None
    assert process_order_email(str(stored.id)) is None
    assert db.session.scalar(sa.select(sa.func.count(OrderDraft.id))) == 0
