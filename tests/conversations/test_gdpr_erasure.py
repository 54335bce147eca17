"""GDPR erasure: the person is gone, the books are not.

The strongest check reads every column of every table after the erasure and
looks for her name, e-mail address, number and street (tests/support/gdpr_support.py
makes her reach us every way there is first, and proves the same scan finds
her everywhere before).
"""

from __future__ import annotations

import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

import app.conversations.core.erasure as conversation_erasure
import app.conversations.gdpr.erasure as gdpr_erasure
from app.conversations.contacts.identities import PHONE, contact_with
from app.conversations.contacts.mentions import Mentions
from app.conversations.core import ERASED_SUBJECT
from app.conversations.gdpr.erasure import erase_contact
from app.conversations.inbox.search import search_clause
from app.orders.invoices import ledger
from app.platform.extensions import db
from app.platform.models import (
    AuditLog,
    CommunicationMessage,
    CommunicationThread,
    Contact,
    ContactIdentity,
    CustomerFeedback,
    FormSubmission,
    Integration,
    Order,
    PartnerIntegration,
    SyncJob,
    SyncRecord,
)
from app.platform.models.enums import (
    ChannelType,
    ContactType,
    DeliveryStatus,
    MessageType,
    ThreadStatus,
)
from app.platform.transactions import commit
from app.platform.transports.health import record_failure
from tests.conftest import TEST_DATABASE_URL, opened
from tests.support import factories
from tests.support import gdpr_support as g
from tests.support.helpers import csrf_token_from
from tests.support.jobs import drain_queues


@pytest.fixture
def app(make_app):
    with opened(make_app(FILLOUT_WEBHOOK_SECRET=g.FILLOUT_SECRET)) as app:
        yield app


@pytest.fixture
def scenario(app, client, make_user, fake_pdok):
    return g.build(app, client, make_user)


def _books(order_ids) -> list:
    """What the books need of the orders, to compare before and after."""
    rows = []
    for order in db.session.scalars(sa.select(Order).where(Order.id.in_(order_ids))):
        rows.append(
            (
                order.order_number,
                order.status,
                order.total_amount,
                order.currency,
                order.partner_organization_id,
                order.partner_order_id,
                order.created_at,
                order.installation_address.city if order.installation_address else None,
                [(li.partner_sku, li.quantity, li.unit_price) for li in order.line_items],
                [(t.from_status, t.to_status, t.created_at) for t in order.transitions],
            )
        )
    return sorted(rows, key=lambda row: row[0])


def _erase(client, auth, contact_id, word="ERASE", **extra):
    page = client.get(f"/admin/contacts/{contact_id}/privacy")
    data = {"confirmation": word, "csrf_token": csrf_token_from(page.get_data(as_text=True))}
    data.update(extra)
    return client.post(f"/admin/contacts/{contact_id}/erase", data=data)


def _inbox_search(query: str) -> list[str]:
    """Subjects of the threads the inbox search finds for ``query`` (the index on PostgreSQL)."""
    clause = search_clause(query)
    return list(db.session.scalars(sa.select(CommunicationThread.thread_subject).where(clause)))


def _audit(action: str) -> list[AuditLog]:
    return list(
        db.session.scalars(
            sa.select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.created_at)
        )
    )


def test_erasure_leaves_no_trace_of_her_anywhere_and_keeps_the_books(app, client, auth, scenario):
    customer_id = scenario.customer.id
    order_ids = [o.id for o in scenario.orders]
    # Stripe's payment and refund objects name her (the receipt's address).
    paid = scenario.orders[0]
    ledger.record_payment(
        paid, external_reference="pi_erase", amount=paid.total_amount, currency="EUR",
        method="stripe", paid_at=None, raw={"receipt_email": g.EMAIL},
    )  # fmt: skip
    ledger.record_refund(
        ledger.payment_by_reference("pi_erase"), external_reference="re_erase",
        amount=Decimal("10"), currency="EUR", status="succeeded", refunded_at=None,
        raw={"receipt_email": g.EMAIL},
    )  # fmt: skip
    db.session.commit()
    books = _books(order_ids)
    files = Path(app.config["ATTACHMENTS_DIR"]) / str(scenario.reply_id)
    assert len(list(files.iterdir())) == 2
    before = g.tables_mentioning()
    # The scan sees her wherever the app put her: it is the scan that proves the erasure.
    assert set(before) >= {
        "contacts", "contact_identities", "organizations", "addresses", "orders",
        "communication_thread", "communication_message", "message_drafts", "internal_task",
        "notifications", "inbound_webhook_events", "outbound_deliveries", "sandbox_sends",
        "form_submissions", "platform_events", "audit_logs", "payments", "payment_refunds",
    }, before  # fmt: skip

    auth.login(scenario.admin.email)
    assert _inbox_search("oosterhuis")  # her conversation is in the search index
    response = _erase(client, auth, customer_id)
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert "erased" in page.get_data(as_text=True)
    db.session.expire_all()

    assert g.tables_mentioning() == {}
    for query in ("oosterhuis", g.EMAIL, g.PHONE, g.STREET):
        assert _inbox_search(query) == [], query
    # Piet, who wrote in the same WhatsApp batch, keeps his message and his raw event.
    left = g.stored_text_by_table()
    assert "verhoeven" in left["contacts"] and "knippert" in left["communication_message"]
    assert g.OTHER_WA_ID in left["inbound_webhook_events"]
    assert _books(order_ids) == books
    assert not files.exists()

    contact = db.session.get(Contact, customer_id)
    assert contact.erased_at is not None and contact.display_name == "Erased contact"
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ContactIdentity)
            .where(ContactIdentity.contact_id == customer_id)
        )
        == 0
    )
    threads = db.session.scalars(
        sa.select(CommunicationThread).where(CommunicationThread.contact_id == customer_id)
    ).all()
    assert threads and all(
        t.status == ThreadStatus.CLOSED and t.thread_subject == ERASED_SUBJECT for t in threads
    )
    [entry] = _audit("gdpr_erase")
    assert entry.record_id == customer_id and entry.changed_by_user_id == scenario.admin.id
    erased = entry.changes["erased"]
    assert erased["contact"] == 1 and erased["identities"] == 2
    assert erased["orders"] == 2 and erased["addresses"] >= 1 and erased["form_submissions"] == 1
    assert erased["attachments"] == 2 and erased["messages"] >= 4
    for category in (
        "conversations", "drafts", "tasks", "notifications", "webhook_events", "deliveries",
        "sandbox_sends", "platform_events", "audit_entries", "mentions_in_conversations",
        "payments", "refunds",
    ):  # fmt: skip
        assert erased.get(category, 0) >= 1, category
    assert set(entry.changes) == {"erased"}  # counts, nothing about her


def test_a_second_erasure_is_harmless_and_records_nothing(app, client, auth, scenario):
    auth.login(scenario.admin.email)
    assert _erase(client, auth, scenario.customer.id).status_code == 303
    again = _erase(client, auth, scenario.customer.id)
    assert again.status_code == 303
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "Nothing was left to erase" in page
    assert len(_audit("gdpr_erase")) == 1
    assert g.tables_mentioning() == {}


def test_after_erasure_her_next_whatsapp_message_makes_a_new_contact(app, client, auth, scenario):
    auth.login(scenario.admin.email)
    assert _erase(client, auth, scenario.customer.id).status_code == 303
    g.whatsapp_post(
        client,
        messages=[g.wa.text_message(g.WA_ID, "Ik ben het weer", "wamid.after", 1_900_000_000)],
        contacts=[g.wa.contact(g.WA_ID, "Marieke O.")],
    )
    drain_queues(app)
    db.session.expire_all()

    fresh = contact_with(PHONE, g.E164)
    assert fresh is not None and fresh.id != scenario.customer.id
    assert fresh.erased_at is None and fresh.whatsapp_profile_name == "Marieke O."
    thread = db.session.scalar(
        sa.select(CommunicationThread).where(CommunicationThread.contact_id == fresh.id)
    )
    assert thread.status == ThreadStatus.OPEN
    assert [m.message_content for m in thread.messages] == ["Ik ben het weer"]
    erased = db.session.get(Contact, scenario.customer.id)
    assert erased.phone is None and erased.display_name == "Erased contact"


@pytest.mark.parametrize("role", ["agent", "team_lead", "manager", "technician"])
def test_only_admins_reach_the_privacy_pages(app, client, auth, make_user, role):
    customer = factories.contact(display_name="Saskia Bos", email="saskia@example.nl")
    db.session.commit()
    user = make_user(role)
    auth.login(user.email)
    landing = client.get("/", follow_redirects=True)  # each role's own start page
    token = csrf_token_from(landing.get_data(as_text=True))
    base = f"/admin/contacts/{customer.id}"
    assert client.get("/admin/privacy?q=saskia").status_code == 403
    assert client.get(f"{base}/privacy").status_code == 403
    assert client.post(f"{base}/export", data={"csrf_token": token}).status_code == 403
    refused = client.post(f"{base}/erase", data={"csrf_token": token, "confirmation": "ERASE"})
    assert refused.status_code == 403
    db.session.expire_all()
    assert db.session.get(Contact, customer.id).display_name == "Saskia Bos"
    assert _audit("gdpr_erase") == [] and _audit("gdpr_export") == []


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/admin/privacy")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_erasure_needs_the_typed_word_and_the_csrf_token(app, client, auth, make_user):
    admin = make_user("admin")
    customer = factories.contact(display_name="Saskia Bos", email="saskia@example.nl")
    db.session.commit()
    auth.login(admin.email)
    wrong = _erase(client, auth, customer.id, word="Saskia Bos")
    assert wrong.status_code == 422
    assert "Confirmation: type ERASE exactly as shown" in wrong.get_data(as_text=True)
    no_token = client.post(f"/admin/contacts/{customer.id}/erase", data={"confirmation": "ERASE"})
    assert no_token.status_code == 400
    no_export = client.post(f"/admin/contacts/{customer.id}/export")
    assert no_export.status_code == 400
    db.session.expire_all()
    assert db.session.get(Contact, customer.id).erased_at is None
    assert _audit("gdpr_erase") == [] and _audit("gdpr_export") == []
    assert _erase(client, auth, customer.id, word="ERASE").status_code == 303


@pytest.mark.parametrize("word", ["erase", "Erase", " ERASE", "ERASE ", "E RASE", "wissen", ""])
def test_only_the_exact_word_in_the_same_case_erases(client, auth, make_user, word):
    admin = make_user("admin")
    customer = factories.contact(display_name="Saskia Bos", email="saskia@example.nl")
    db.session.commit()
    auth.login(admin.email)
    refused = _erase(client, auth, customer.id, word=word)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Confirmation: type ERASE exactly as shown" in page and "Nothing was erased." in page
    db.session.expire_all()
    assert db.session.get(Contact, customer.id).erased_at is None
    assert db.session.get(Contact, customer.id).display_name == "Saskia Bos"
    assert _audit("gdpr_erase") == []


def test_a_dutch_admin_confirms_with_the_dutch_word_in_capitals(client, auth, make_user):
    admin = make_user("admin", language="nl")
    customer = factories.contact(display_name="Saskia Bos", email="saskia@example.nl")
    db.session.commit()
    auth.login(admin.email)
    page = client.get(f"/admin/contacts/{customer.id}/privacy").get_data(as_text=True)
    assert 'data-confirm-words="WISSEN ERASE"' in page and "Typ WISSEN" in page
    assert _erase(client, auth, customer.id, word="wissen").status_code == 422
    db.session.expire_all()
    assert db.session.get(Contact, customer.id).erased_at is None
    assert _erase(client, auth, customer.id, word="WISSEN").status_code == 303
    db.session.expire_all()
    assert db.session.get(Contact, customer.id).erased_at is not None


def test_a_partners_organization_contact_is_not_erased(app, client, auth, make_user):
    admin = make_user("admin")
    partner = factories.contact(display_name="Groendus", contact_type=ContactType.ORGANIZATION)
    db.session.commit()
    auth.login(admin.email)
    response = _erase(client, auth, partner.id)
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(Contact, partner.id).display_name == "Groendus"


def test_an_unknown_contact_is_404(app, client, auth, make_user):
    auth.login(make_user("admin").email)
    assert client.get(f"/admin/contacts/{uuid.uuid4()}/privacy").status_code == 404


def test_a_failure_half_way_changes_nothing_and_running_again_finishes(app, scenario, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(gdpr_erasure, "sweep", broken)
    with pytest.raises(RuntimeError):
        erase_contact(scenario.customer.id, actor_id=scenario.admin.id)
    db.session.rollback()
    contact = db.session.get(Contact, scenario.customer.id)
    assert contact.display_name == g.NAME and contact.erased_at is None
    assert "marieke" in g.stored_text_by_table()["communication_message"]
    assert _audit("gdpr_erase") == []

    monkeypatch.undo()
    erase_contact(scenario.customer.id, actor_id=scenario.admin.id)
    commit()
    assert g.tables_mentioning() == {}


def test_files_left_by_a_crash_after_the_commit_go_when_it_runs_again(app, scenario, monkeypatch):
    folder = Path(app.config["ATTACHMENTS_DIR"]) / str(scenario.reply_id)
    monkeypatch.setattr(conversation_erasure, "discard_message_files", lambda message_id: None)
    erase_contact(scenario.customer.id, actor_id=scenario.admin.id)
    commit()  # ... and the process dies before removing the files
    assert folder.exists()

    monkeypatch.undo()
    report = erase_contact(scenario.customer.id, actor_id=scenario.admin.id)
    commit()
    assert not folder.exists()
    assert report.counts == {"attachments": 2}
    assert [e.changes["erased"] for e in _audit("gdpr_erase")][-1] == {"attachments": 2}


def test_an_unsent_reply_to_her_is_not_sent_after_the_erasure(app, scenario):
    thread = db.session.get(CommunicationThread, scenario.thread.id)
    held = factories.message(
        thread,
        "Nog even geduld, Marieke",
        message_type=MessageType.OUTGOING,
        delivery_status=DeliveryStatus.PENDING,
    )
    db.session.commit()
    erase_contact(scenario.customer.id, actor_id=scenario.admin.id)
    commit()
    db.session.expire_all()
    message = db.session.get(CommunicationMessage, held.id)
    assert message.delivery_status == DeliveryStatus.FAILED
    assert "marieke" not in message.message_content.lower()


needs_postgresql = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="concurrent writers need PostgreSQL (CI runs it)"
)


@needs_postgresql
def test_a_whatsapp_message_arriving_during_the_erasure_waits_then_makes_a_new_contact(
    app, client, scenario, monkeypatch
):
    """Two workers: the erasure holds her number; her new message is taken after it."""
    customer_id, admin_id = scenario.customer.id, scenario.admin.id
    holding, release = threading.Event(), threading.Event()
    real_sweep = gdpr_erasure.sweep

    def paused_sweep(*args, **kwargs):
        holding.set()
        assert release.wait(timeout=30)
        return real_sweep(*args, **kwargs)

    monkeypatch.setattr(gdpr_erasure, "sweep", paused_sweep)
    done: dict = {}

    def erase() -> None:
        with app.app_context():
            try:
                erase_contact(customer_id, actor_id=admin_id)
                commit()
                done["erased"] = True
            finally:
                db.session.remove()

    worker = threading.Thread(target=erase)
    worker.start()
    assert holding.wait(timeout=30)
    # Her message arrives while the erasure holds her number.
    g.whatsapp_post(
        client,
        messages=[g.wa.text_message(g.WA_ID, "Ben ik nog bekend?", "wamid.during", 1_900_000_000)],
        contacts=[g.wa.contact(g.WA_ID, "Marieke O.")],
    )
    threading.Timer(1.5, release.set).start()
    started = time.monotonic()
    drain_queues(app, 30)  # its job waits for the erasure's lock on her number
    waited = time.monotonic() - started
    worker.join(timeout=30)
    assert done.get("erased") and waited >= 1.2
    db.session.expire_all()

    fresh = contact_with(PHONE, g.E164)
    assert fresh is not None and fresh.id != customer_id
    [message] = db.session.scalars(
        sa.select(CommunicationMessage).where(CommunicationMessage.sender_contact_id == fresh.id)
    ).all()
    assert message.message_content == "Ben ik nog bekend?"
    assert db.session.get(Contact, customer_id).erased_at is not None
    # Only the new conversation holds anything of hers, and that is the new contact's.
    mentioned = g.tables_mentioning(("oosterhuis", g.EMAIL, "lindelaan"))
    assert mentioned == {}


def test_mentions_find_a_number_however_it_is_written_and_keep_others_records():
    mentions = Mentions.of(
        emails=["Marieke@Voorbeeld.nl"], phones=["+31641234567"], names=["Marieke Oosterhuis"]
    )
    for written in ("06-41234567", "+31 6 4123 4567", "0031641234567", "31641234567",
                    "MARIEKE@voorbeeld.NL", "marieke  oosterhuis"):  # fmt: skip
        assert mentions.redact_text(f"x {written} y") == "x [erased] y", written
    assert mentions.redact_text("06-41234568 Mariekes") == "06-41234568 Mariekes"
    batch = {"messages": [{"from": "31641234567", "text": "a"}, {"from": "31655512345"}]}
    assert mentions.redact_records(batch) == {"messages": [{"from": "31655512345"}]}
    assert mentions.redact_body(b"Body=hoi&From=%2B31641234567") == b""
    assert Mentions.of(names=["Jan"]).searchable is False


def test_an_erased_customer_cannot_be_given_details_again(app, client, auth, scenario):
    auth.login(scenario.admin.email)
    assert _erase(client, auth, scenario.customer.id).status_code == 303
    page = client.get(f"/threads/{scenario.thread.id}")
    assert "personal data was erased" in page.get_data(as_text=True)
    refused = client.post(
        f"/threads/{scenario.thread.id}/customer",
        data={
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "name": g.NAME,
            "phone": g.PHONE,
            "email": g.EMAIL,
        },
    )
    assert refused.status_code == 422
    db.session.expire_all()
    assert db.session.get(Contact, scenario.customer.id).email is None


def test_error_texts_and_unlinked_records_that_quote_her_lose_her_too(app, client, auth, scenario):
    """Rows that do not point at her but quote her: a form submission and feedback that
    matched no contact, a sync's error, a provider's or partner's last error, a failed
    send's error in another customer's conversation."""
    quoted = f"{g.NAME} <{g.EMAIL}>, {g.E164}"
    submission = FormSubmission(
        external_form_id="laadpaal-aanvraag",
        external_submission_id="unmatched-1",
        raw_data={"questions": [{"name": "E-mail", "value": g.EMAIL}], "note": quoted},
    )
    feedback = CustomerFeedback(score=2, comment=f"Bel {g.NAME} terug", raw={"email": g.EMAIL})
    hubspot = Integration(
        provider="hubspot",
        name="HubSpot",
        category="crm",
        auth_method="api_key",
        last_error_message=f"Property values were not valid: email {g.EMAIL}",
    )
    db.session.add_all([submission, feedback, hubspot])
    db.session.flush()
    job = SyncJob(
        integration_id=hubspot.id,
        object_type="contact",
        direction="push",
        error=f"1 failed: {g.EMAIL}",
    )
    db.session.add(job)
    db.session.flush()
    db.session.add(
        SyncRecord(
            integration_id=hubspot.id,
            object_type="contact",
            local_id=str(scenario.customer.id),
            status="failed",
            last_error=f"Contact already exists: {g.EMAIL}",
            last_sync_job_id=job.id,
        )
    )
    # The scenario's sandbox sends already made the provider's row: the error joins it.
    record_failure("whatsapp", f"{g.E164} is blocked")
    partner = db.session.scalars(sa.select(PartnerIntegration)).first()
    partner.last_error_message = f"callback refused: unknown customer {g.EMAIL}"
    partner.webhook_disabled_reason = f"410 for {g.NAME}"
    others = factories.thread(factories.channel(ChannelType.EMAIL_OUTLOOK), scenario.other)
    message = factories.message(others, "Doorgestuurd", message_type=MessageType.OUTGOING)
    message.delivery_error = f"bounced: cc {g.EMAIL} does not exist"
    commit()
    assert set(g.tables_mentioning()) >= {
        "form_submissions", "customer_feedback", "integrations", "sync_jobs", "sync_records",
        "provider_status", "partner_integrations", "communication_message",
    }  # fmt: skip

    auth.login(scenario.admin.email)
    assert _erase(client, auth, scenario.customer.id).status_code == 303
    db.session.expire_all()

    assert g.tables_mentioning() == {}
    # What is not hers stays: the states, the error's shape, the other customer's message.
    assert db.session.scalars(sa.select(SyncRecord.status)).one() == "failed"
    assert "bounced" in db.session.get(CommunicationMessage, message.id).delivery_error
    assert db.session.get(CustomerFeedback, feedback.id).score == 2
