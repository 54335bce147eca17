"""GDPR export: everything stored about a contact, as a ZIP."""

from __future__ import annotations

import io
import json
import os
import zipfile
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.conversations.gdpr.export import ContactExport, zip_chunks
from app.orders.invoices import ledger
from app.platform.extensions import db
from app.platform.models import AuditLog, Contact
from tests.conftest import opened
from tests.support import gdpr_support as g
from tests.support.helpers import csrf_token_from


@pytest.fixture
def app(make_app):
    with opened(make_app(FILLOUT_WEBHOOK_SECRET=g.FILLOUT_SECRET)) as app:
        yield app


def _download(client, contact_id):
    page = client.get(f"/admin/contacts/{contact_id}/privacy")
    assert page.status_code == 200
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post(f"/admin/contacts/{contact_id}/export", data={"csrf_token": token})


def test_the_export_holds_her_messages_orders_and_files_and_no_one_elses(
    app, client, auth, make_user, fake_pdok
):
    scenario = g.build(app, client, make_user)
    paid = scenario.orders[0]
    payment_ref = f"pi_{paid.order_number}"
    ledger.record_payment(
        paid, external_reference=payment_ref, amount=paid.total_amount, currency="EUR",
        method="stripe", paid_at=None, raw={},
    )  # fmt: skip
    ledger.record_refund(
        ledger.payment_by_reference(payment_ref), external_reference="re_1", amount=Decimal("10"),
        currency="EUR", status="succeeded", refunded_at=None, raw={},
    )  # fmt: skip
    db.session.commit()
    auth.login(scenario.admin.email)
    response = _download(client, scenario.customer.id)

    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="contact-{scenario.customer.id}.zip"'
    )
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert archive.testzip() is None
    document = json.loads(archive.read("contact.json"))

    assert document["export"]["contact_id"] == str(scenario.customer.id)
    contact = document["contact"]
    assert (contact["display_name"], contact["email"], contact["phone"]) == (
        g.NAME, g.EMAIL, g.E164,
    )  # fmt: skip
    assert sorted(i["address"] for i in document["channel_identities"]) == [g.E164, g.EMAIL]
    assert document["organization"]["name"] == f"{g.NAME} (Particulier)"
    assert any(a["street"] == g.STREET for a in document["addresses"])
    texts = [m["message_content"] for c in document["conversations"] for m in c["messages"]]
    assert "Hoi, Lindelaan 42 hier, wanneer komen jullie?" in texts
    assert "Mijn nummer is 06-41234567" in texts
    assert f"Dag {g.NAME}, hierbij de foto en de offerte." in texts
    orders = {o["order_number"]: o for o in document["orders"]}
    assert set(orders) == {o.order_number for o in scenario.orders}
    for order in scenario.orders:
        exported = orders[order.order_number]
        assert exported["total_amount"] == str(order.total_amount)
        assert [line["quantity"] for line in exported["lines"]] == [
            line.quantity for line in order.line_items
        ]
        assert exported["status_history"][0]["to_status"] == "new"
    # Her money: the invoice as it stands, each payment with its refunds.
    invoice = orders[paid.order_number]["invoice"]
    assert (invoice["state"], invoice["amount_refunded"]) == ("partly_refunded", "10.00")
    [payment] = orders[paid.order_number]["payments"]
    assert payment["external_reference"] == payment_ref
    assert [(r["external_reference"], r["amount"]) for r in payment["refunds"]] == [
        ("re_1", "10.00")
    ]
    assert document["form_submissions"][0]["answers"]["responses"]["email"] == g.EMAIL
    assert [t["task_title"] for t in document["tasks"]] == [f"Bel {g.NAME} terug"]

    files = {
        a["filename"]: a["file"]
        for c in document["conversations"]
        for m in c["messages"]
        for a in m["attachments"]
    }
    assert archive.read(files["meterkast.png"]) == g.PHOTO
    assert archive.read(files["offerte-oosterhuis.pdf"]) == g.PDF

    # Piet wrote in the same WhatsApp batch: nothing of him is in her export.
    for name in archive.namelist():
        content = archive.read(name).decode("utf-8", errors="replace").lower()
        for trace in ("verhoeven", "knippert", g.OTHER_WA_ID, str(scenario.other.id)):
            assert trace not in content, (name, trace)

    [entry] = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "gdpr_export"))
    assert entry.record_id == scenario.customer.id
    assert entry.changed_by_user_id == scenario.admin.id
    assert entry.changes == {"conversations": 2, "messages": 4, "attachments": 2, "orders": 2}


def test_an_erased_contacts_export_holds_nothing_of_them(app, client, auth, make_user, fake_pdok):
    scenario = g.build(app, client, make_user)
    auth.login(scenario.admin.email)
    page = client.get(f"/admin/contacts/{scenario.customer.id}/privacy")
    token = csrf_token_from(page.get_data(as_text=True))
    client.post(
        f"/admin/contacts/{scenario.customer.id}/erase",
        data={"csrf_token": token, "confirmation": "ERASE"},
    )
    archive = zipfile.ZipFile(io.BytesIO(_download(client, scenario.customer.id).get_data()))
    assert archive.namelist() == ["contact.json"]
    content = archive.read("contact.json").decode().lower()
    assert not [needle for needle in g.NEEDLES if needle in content]


def test_the_zip_is_streamed_as_it_is_made_and_skips_a_file_gone_meanwhile(app, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(3 * 1024 * 1024))  # read and sent in 256 KB pieces
    gone = tmp_path / "gone.pdf"
    document = {
        "conversations": [
            {
                "messages": [
                    {"attachments": [{"file": "attachments/m/big.bin"}]},
                    {"attachments": [{"file": "attachments/m/gone.pdf"}]},
                ]
            }
        ]
    }
    export = ContactExport(
        contact_id=None,
        document=document,
        files=[("attachments/m/big.bin", big), ("attachments/m/gone.pdf", gone)],
    )
    chunks = list(zip_chunks(export))
    assert len([c for c in chunks if c]) > 3
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert archive.read("attachments/m/big.bin") == big.read_bytes()
    assert "attachments/m/gone.pdf" not in archive.namelist()
    messages = json.loads(archive.read("contact.json"))["conversations"][0]["messages"]
    assert [m["attachments"][0]["file"] for m in messages] == ["attachments/m/big.bin", None]


def test_the_privacy_search_finds_people_by_name_address_or_number(app, client, auth, make_user):
    auth.login(make_user("admin").email)
    jan = Contact(display_name="Jan Jansen", email="jan@voorbeeld.nl", phone="+31612345678")
    db.session.add(jan)
    db.session.commit()
    for query in ("jansen", "JAN@voorbeeld.nl", "06-12345678"):
        page = client.get("/admin/privacy", query_string={"q": query}).get_data(as_text=True)
        assert f"/admin/contacts/{jan.id}/privacy" in page, query
    page = client.get("/admin/privacy", query_string={"q": "nobody"}).get_data(as_text=True)
    assert "No one matches." in page
