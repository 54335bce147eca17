"""Files on WhatsApp replies go through the Cloud API's media
upload and out as image/document messages; refused files send nothing."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest

from app.conversations.attachments.uploads import MB
from app.platform.extensions import db
from app.platform.models.enums import DeliveryStatus, MessageType
from tests.fakes import whatsapp as wa
from tests.support.helpers import post_reply, signed_in_agent
from tests.support.jobs import drain_queues
from tests.support.whatsapp_support import (
    CUSTOMER,
    fake_whatsapp_server,
    messages,
    wait_until,
    whatsapp_app,
    whatsapp_thread,
)

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 200
PDF = b"%PDF-1.4\n%%EOF\n"

fake_whatsapp = pytest.fixture(fake_whatsapp_server, name="fake_whatsapp")
app = pytest.fixture(whatsapp_app, name="app")
agent = pytest.fixture(signed_in_agent, name="agent")


def test_an_image_and_a_document_are_uploaded_then_sent_by_media_id(
    app, client, auth, agent, fake_whatsapp
):
    thread = whatsapp_thread(inbound_ago=timedelta(minutes=5))
    response = post_reply(
        client,
        auth,
        thread,
        files=[("aansluiting.jpg", JPEG), ("handleiding.pdf", PDF)],
        content="Zo moet de kabel aangesloten worden.",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    wait_until(
        lambda: messages(MessageType.OUTGOING)[0].delivery_status == DeliveryStatus.SENT, app
    )

    uploads = fake_whatsapp.requests_to(f"/{wa.PHONE_NUMBER_ID}/media", "POST")
    assert len(uploads) == 2
    assert all(u.headers["Content-Type"].startswith("multipart/form-data") for u in uploads)
    assert all(u.headers["Authorization"] == f"Bearer {wa.ACCESS_TOKEN}" for u in uploads)
    received = sorted(fake_whatsapp.uploads.items())
    assert [(u["filename"], u["type"], u["content"]) for _, u in received] == [
        ("aansluiting.jpg", "image/jpeg", JPEG),
        ("handleiding.pdf", "application/pdf", PDF),
    ]
    (image_id, _), (document_id, _) = received

    image, document = fake_whatsapp.sent()
    assert image["to"] == CUSTOMER and image["type"] == "image"
    assert image["image"] == {"id": image_id, "caption": "Zo moet de kabel aangesloten worden."}
    assert image["context"] == {"message_id": "wamid.in1"}
    assert document["type"] == "document"
    assert document["document"] == {"id": document_id, "filename": "handleiding.pdf"}
    # The upload came before the message that names it.
    paths = [r.path for r in fake_whatsapp.requests]
    send_path = f"/{wa.VERSION}/{wa.PHONE_NUMBER_ID}/messages"
    assert paths.index(uploads[0].path) < paths.index(send_path)

    (sent,) = messages(MessageType.OUTGOING)
    assert sent.external_message_id.startswith("wamid.fake")
    assert [a["filename"] for a in sent.attachments] == ["aansluiting.jpg", "handleiding.pdf"]
    timeline = client.get(f"/threads/{thread.id}/timeline").get_data(as_text=True)
    assert f'src="/attachments/{sent.id}/0"' in timeline and "handleiding.pdf" in timeline


def test_an_image_alone_goes_out_without_caption(app, client, auth, agent, fake_whatsapp):
    thread = whatsapp_thread(inbound_ago=timedelta(minutes=5))
    response = post_reply(client, auth, thread, files=[("foto.png", b"\x89PNG\r\n\x1a\n123")])
    assert response.status_code == 200
    wait_until(lambda: len(fake_whatsapp.sent()) == 1, app)
    (image,) = fake_whatsapp.sent()
    assert image["type"] == "image" and set(image["image"]) == {"id"}


@pytest.mark.parametrize(
    ("files", "error"),
    [
        (
            [("foto.jpg", JPEG + b"\x00" * int(12.3 * MB - len(JPEG)))],
            "foto.jpg is 12.3 MB; the limit is 5 MB.",
        ),
        (
            [("offerte.exe", b"MZ\x90\x00")],
            "offerte.exe: this file type is not allowed (allowed: PDF, JPEG, PNG, Word, Excel, "
            "PowerPoint, TXT).",
        ),
        ([("lijst.csv", b"a,b\n")], "lijst.csv: this file type is not allowed"),
        ([("foto.jpg", b"GIF89a....")], "foto.jpg: the content is not what its name says (.jpg)."),
    ],
)
def test_a_refused_file_sends_and_stores_nothing(
    app, client, auth, agent, fake_whatsapp, tmp_path, files, error
):
    thread = whatsapp_thread(inbound_ago=timedelta(minutes=5))
    response = post_reply(client, auth, thread, files=files, content="Kijk maar")
    assert response.status_code == 422
    assert error in html.unescape(response.get_data(as_text=True))
    drain_queues(app)
    db.session.expire_all()
    assert messages(MessageType.OUTGOING) == []
    attachments = tmp_path / "attachments"
    assert not attachments.exists() or not any(attachments.iterdir())
    assert fake_whatsapp.requests == []


def test_files_need_the_24_hour_window(app, client, auth, agent, fake_whatsapp):
    thread = whatsapp_thread(inbound_ago=timedelta(hours=30))
    response = post_reply(client, auth, thread, files=[("foto.jpg", JPEG)], content="Kijk maar")
    assert response.status_code == 422
    assert messages(MessageType.OUTGOING) == [] and fake_whatsapp.requests == []
    # Past the window the composer offers no file picker at all.
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert 'name="attachments"' not in page
