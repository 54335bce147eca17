"""The customer's signature from the phone: checked, kept once per visit, shown to agents."""

from __future__ import annotations

import io
import struct
import uuid
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.conversations.gdpr.erasure import erase_contact
from app.orders.mobile.services import AMSTERDAM
from app.orders.mobile.signatures import MAX_SIGNATURE_BYTES, png_has_ink
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, VisitSignature
from app.platform.models.enums import MessageType, OrderStatus
from app.platform.transactions import commit
from tests.support.helpers import reader_language
from tests.support.mobile_support import JPEG_HEAD, png_bytes, signature_png, visit

HTMX = {"HX-Request": "true"}
speak = pytest.fixture(reader_language, name="speak")
JSON = {"Accept": "application/json"}


def _sign(client, order, token, data=None, name="Jan Jansen", headers=None, **fields):
    form = {"csrf_token": token, **fields}
    if data is not None:
        form["signature"] = (io.BytesIO(data), "handtekening.png")
    if name is not None:
        form["signer_name"] = name
    return client.post(
        f"/m/visits/{order.id}/signature",
        data=form,
        content_type="multipart/form-data",
        headers=headers or HTMX,
    )


def _notes():
    return db.session.scalars(
        sa.select(CommunicationMessage).where(
            CommunicationMessage.message_type == MessageType.INTERNAL_NOTE
        )
    ).all()


def _signatures():
    return db.session.scalars(sa.select(VisitSignature)).all()


def test_a_signature_is_kept_as_a_note_with_its_image_and_shown_to_agents(
    app, client, auth, make_user, speak
):
    tech = make_user("technician")
    agent = make_user("agent")
    order = visit(tech, status=OrderStatus.IN_PROGRESS)
    auth.login(tech.email)
    drawing = signature_png()

    answer = _sign(client, order, auth.csrf_token("/m/"), drawing, name="  Jan   Jansen ")

    assert answer.status_code == 200
    assert "CC-2026-00042: signature saved." in answer.get_data(as_text=True)
    [signature] = _signatures()
    assert signature.order_id == order.id
    assert signature.signer_name == "Jan Jansen"
    assert signature.technician_id == tech.id
    [note] = _notes()
    assert note.id == signature.message_id
    assert note.thread.order_id == order.id
    assert note.sender_user_id == tech.id
    assert note.message_content.startswith("Signed by Jan Jansen at ")
    [entry] = note.attachments
    assert entry["mime_type"] == "image/png"
    assert entry["source"] == "customer_signature"
    assert entry["filename"] == "handtekening.png"
    assert (Path(app.config["ATTACHMENTS_DIR"]) / entry["path"]).read_bytes() == drawing

    auth.logout()
    auth.login(agent.email)
    clock = signature.created_at.astimezone(AMSTERDAM).strftime("%H:%M")
    timeline = client.get(f"/threads/{note.thread_id}").get_data(as_text=True)
    assert f"Signed by Jan Jansen at {clock}." in timeline
    assert f'<img class="attachment-image" src="/attachments/{note.id}/0"' in timeline
    page = client.get(f"/orders/{order.order_number}").get_data(as_text=True)
    assert f"Signed by Jan Jansen at {clock}" in page
    assert f'src="/attachments/{note.id}/0"' in page
    image = client.get(f"/attachments/{note.id}/0")
    assert image.status_code == 200
    assert image.data == drawing

    # A Dutch reader reads both in Dutch.
    speak("nl")
    dutch = client.get(f"/orders/{order.order_number}").get_data(as_text=True)
    assert f"Getekend door Jan Jansen om {clock}" in dutch
    timeline = client.get(f"/threads/{note.thread_id}").get_data(as_text=True)
    assert f"Getekend door Jan Jansen om {clock}." in timeline


def test_a_second_signature_for_the_visit_keeps_the_first(app, client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech, status=OrderStatus.IN_PROGRESS)
    auth.login(tech.email)
    token = auth.csrf_token("/m/")
    assert _sign(client, order, token, signature_png(), name="Jan Jansen").status_code == 200
    root = Path(app.config["ATTACHMENTS_DIR"])
    folders = {p.name for p in root.iterdir()}

    # A new action id (a second tap, a replay under another id): nothing more is kept.
    again = _sign(
        client,
        order,
        token,
        signature_png(80, 40),
        name="Piet Pieters",
        client_action_id=str(uuid.uuid4()),
    )

    assert again.status_code == 200
    assert "already signed" in again.get_data(as_text=True)
    [signature] = _signatures()
    assert signature.signer_name == "Jan Jansen"
    assert len(_notes()) == 1
    assert {p.name for p in root.iterdir()} == folders  # no second file either


def test_the_same_post_replayed_from_the_offline_queue_is_done_once(client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech, status=OrderStatus.IN_PROGRESS)
    auth.login(tech.email)
    token = auth.csrf_token("/m/")
    action = str(uuid.uuid4())
    replay = {**HTMX, "X-Offline-Replay": "1"}
    # Saved in the "Completed?" dialog while offline: the queue sends it later.
    fields = {"client_action_id": action, "tap": "completed"}
    first = _sign(client, order, token, signature_png(), headers=replay, **fields)
    second = _sign(client, order, token, signature_png(), headers=replay, **fields)
    assert first.status_code == second.status_code == 200
    assert second.headers["X-Client-Action"] == "replayed"
    # The card, not the dialog again: the queue reads a dialog as "not done yet".
    assert 'class="m-confirm"' not in first.get_data(as_text=True)
    assert "CC-2026-00042: signature saved." in first.get_data(as_text=True)
    assert len(_signatures()) == 1
    assert len(_notes()) == 1


def _rgba_rows(width, height, filter_type=0):
    return b"".join(bytes([filter_type]) + bytes(4 * width) for _ in range(height))


@pytest.mark.parametrize(
    ("data", "name", "field", "message"),
    [
        (JPEG_HEAD + b"\x00" * 64, "Jan", "signature", "the drawing must be a PNG image"),
        (b"<svg onload='alert(1)'/>", "Jan", "signature", "the drawing must be a PNG image"),
        (signature_png(ink=False), "Jan", "signature", "the drawing is empty"),
        # An untouched canvas whose encoder chose the Sub filter: still nothing drawn.
        (png_bytes(30, 20, rows=_rgba_rows(30, 20, 1), colour=6), "Jan", "signature", "empty"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "Jan", "signature", "cannot be read"),
        (png_bytes(3000, 2), "Jan", "signature", "cannot be read"),
        (
            b"\x89PNG\r\n\x1a\n" + b"\x00" * MAX_SIGNATURE_BYTES,
            "Jan",
            "signature",
            "over the 512 KB limit",
        ),
        (None, "Jan", "signature", "let the customer sign first"),
        (signature_png(), None, "signer_name", "Signer's name: fill in who signs."),
        (signature_png(), "   ", "signer_name", "Signer's name: fill in who signs."),
        (signature_png(), "J" * 121, "signer_name", "at most 120 characters"),
    ],
)
def test_what_is_no_signature_is_refused_naming_the_field(
    client, auth, make_user, data, name, field, message
):
    tech = make_user("technician")
    order = visit(tech)
    auth.login(tech.email)
    token = auth.csrf_token("/m/")

    answer = _sign(client, order, token, data, name=name, headers=JSON)

    assert answer.status_code == 422
    body = answer.get_json()
    assert list(body["fields"]) == [field]
    assert message in body["fields"][field]
    page = _sign(client, order, token, data, name=name)
    assert page.status_code == 422
    assert message in page.get_data(as_text=True).replace("&#39;", "'")
    assert _signatures() == []
    assert _notes() == []


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech)
    auth.login(tech.email)
    huge = b"\x89PNG\r\n\x1a\n" + b"\x00" * (2 * MAX_SIGNATURE_BYTES)
    answer = _sign(client, order, auth.csrf_token("/m/"), huge, headers=JSON)
    assert answer.status_code == 422
    assert "over the 512 KB limit" in answer.get_json()["fields"]["signature"]
    assert _signatures() == []


def test_a_zip_bomb_is_not_unpacked_whole():
    # 2048 × 2048 RGBA of zeros declared, but the data goes on far beyond it.
    header = struct.pack(">IIBBBBB", 2048, 2048, 8, 6, 0, 0, 0)

    def chunk(kind, body):
        crc = struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        return struct.pack(">I", len(body)) + kind + body + crc

    bomb = zlib.compress(b"\x00" * (40 * 1024 * 1024), 9)
    signature = b"\x89PNG\r\n\x1a\n"
    data = signature + chunk(b"IHDR", header) + chunk(b"IDAT", bomb) + chunk(b"IEND", b"")
    assert len(data) < MAX_SIGNATURE_BYTES
    with pytest.raises(ValueError, match="more image data"):
        png_has_ink(data)


def test_another_technicians_visit_cannot_be_signed(client, auth, make_user):
    tech, other = make_user("technician"), make_user("technician")
    order = visit(tech)
    auth.login(other.email)
    answer = _sign(client, order, auth.csrf_token("/m/"), signature_png())
    assert answer.status_code == 403
    assert _signatures() == []
    missing = client.post(
        f"/m/visits/{uuid.uuid4()}/signature",
        data={"csrf_token": auth.csrf_token("/m/"), "signer_name": "Jan"},
        content_type="multipart/form-data",
    )
    assert missing.status_code == 404


def test_an_agent_cannot_post_a_signature(client, auth, make_user):
    tech, agent = make_user("technician"), make_user("agent")
    order = visit(tech)
    auth.login(agent.email)
    answer = _sign(client, order, auth.csrf_token("/inbox"), signature_png())
    assert answer.status_code == 403
    assert _signatures() == []


def test_a_cancelled_visit_is_not_signed_for(client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech, status=OrderStatus.CANCELLED)
    auth.login(tech.email)
    answer = _sign(client, order, auth.csrf_token("/m/"), signature_png(), headers=JSON)
    assert answer.status_code == 422
    assert list(answer.get_json()["fields"]) == ["order"]
    assert _signatures() == []


def test_the_completed_dialog_offers_the_pad_and_shows_the_signature_once_saved(
    client, auth, make_user
):
    tech = make_user("technician")
    order = visit(tech, status=OrderStatus.IN_PROGRESS)
    auth.login(tech.email)
    token = auth.csrf_token("/m/")
    asked = client.post(
        f"/m/visits/{order.id}/status", data={"csrf_token": token, "tap": "completed"}, headers=HTMX
    )
    html = asked.get_data(as_text=True)
    assert 'data-testid="signature-canvas"' in html
    assert f'hx-post="/m/visits/{order.id}/signature"' in html
    assert "Complete the visit without a signature." in html

    refused = _sign(client, order, token, signature_png(), name="", tap="completed")
    assert refused.status_code == 422
    assert 'data-testid="signature-error"' in refused.get_data(as_text=True)
    assert 'class="m-confirm"' in refused.get_data(as_text=True)  # still asking

    saved = _sign(client, order, token, signature_png(), name="Jan Jansen", tap="completed")
    html = saved.get_data(as_text=True)
    assert saved.status_code == 200
    assert 'class="m-confirm"' in html  # still asking "Completed?", now signed
    assert "Signed by Jan Jansen at " in html
    assert 'data-testid="signature-canvas"' not in html
    [signature] = _signatures()
    assert f'src="/attachments/{signature.message_id}/0"' in html


@pytest.mark.parametrize(
    ("colour", "row", "inked"),
    [
        (6, b"\x00" * 8, False),
        (6, b"\x00\x00\x00\x01" + b"\x00" * 4, True),
        (0, b"\x00\x00", False),  # greyscale, all black: one colour, nothing drawn
        (0, b"\x00\x7f", True),
    ],
)
def test_ink_is_read_from_the_rows_without_undoing_filters(colour, row, inked):
    width = len(row) // {6: 4, 0: 1}[colour]
    rows = b"".join(bytes([f]) + row for f in (0, 1, 2, 3, 4))
    assert png_has_ink(png_bytes(width, 5, rows=rows, colour=colour)) is inked


def test_erasing_the_customer_takes_the_signature_with_it(app, client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech, status=OrderStatus.IN_PROGRESS)
    auth.login(tech.email)
    assert _sign(client, order, auth.csrf_token("/m/"), signature_png()).status_code == 200
    [signature] = _signatures()
    stored = Path(app.config["ATTACHMENTS_DIR"]) / str(signature.message_id)
    assert stored.exists()

    report = erase_contact(order.end_customer_contact_id, actor_id=None)
    commit()

    assert report.counts["visit_signatures"] == 1
    assert _signatures() == []
    assert not stored.exists()
    assert "Jan Jansen" not in " ".join(n.message_content for n in _notes())
