"""WhatsApp inbound: Meta's webhook, processing, message types, media, auto-replies.

The app runs with the real WhatsApp transport against a fake Cloud API
(tests/fakes/whatsapp.py); webhooks are signed with the app secret as Meta does.
Sending, the 24-hour window and Meta's errors are in test_whatsapp_sending.py.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

import app.conversations.channels.whatsapp.inbound as whatsapp_inbound
import app.conversations.channels.whatsapp.media as whatsapp_media
from app.platform.extensions import db
from app.platform.models import Contact, InboundWebhookEvent
from app.platform.models.enums import ChannelType, MessageType, ProcessingState
from app.platform.webhooks.processing import process_event
from tests.fakes import whatsapp as wa
from tests.support.helpers import PASSWORD
from tests.support.jobs import drain_queues
from tests.support.live_server import signed_in_session, socket_client, wait_for_event
from tests.support.whatsapp_support import (
    CUSTOMER,
    CUSTOMER_E164,
    customer_text,
    deliver,
    events,
    fake_whatsapp_server,
    messages,
    only_thread,
    post_signed,
    whatsapp_app,
)

URL = "/api/v1/webhooks/whatsapp"


fake_whatsapp = pytest.fixture(fake_whatsapp_server, name="fake_whatsapp")
app = pytest.fixture(whatsapp_app, name="app")


# --- the endpoint ------------------------------------------------------------------


def test_verification_handshake(client):
    ok = client.get(
        URL,
        query_string={
            "hub.mode": "subscribe",
            "hub.verify_token": wa.VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    assert ok.status_code == 200
    assert ok.mimetype == "text/plain"
    assert ok.get_data(as_text=True) == "1158201444"
    for args in (
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": wa.VERIFY_TOKEN, "hub.challenge": "1"},
        {},
    ):
        assert client.get(URL, query_string=args).status_code == 403


def test_signed_text_creates_contact_thread_message_and_tells_browsers(app, live_server, make_user):
    make_user("agent", email="live@switchboard.test")
    browser = signed_in_session(live_server.url, "live@switchboard.test", PASSWORD)
    raw, headers = wa.signed(customer_text("Ik heb een vraag over mijn laadpaal"))
    with socket_client(live_server.url, browser) as live:
        response = requests.post(f"{live_server.url}{URL}", data=raw, headers=headers, timeout=10)
        assert response.status_code == 200
        assert response.json() == {"status": "received"}
        drain_queues(app)
        event = wait_for_event(live, "message:new")

    db.session.expire_all()
    contact = db.session.scalars(sa.select(Contact)).one()
    assert contact.phone == CUSTOMER_E164
    assert contact.display_name == "Jan Jansen"
    assert contact.whatsapp_profile_name == "Jan Jansen"
    thread = only_thread()
    assert thread.channel.channel_type == ChannelType.WHATSAPP_BUSINESS
    assert thread.contact_id == contact.id
    [message] = messages()
    assert message.message_content == "Ik heb een vraag over mijn laadpaal"
    assert message.external_message_id == "wamid.in1"
    assert message.message_type == MessageType.INCOMING
    assert message.sender_external["wa_id"] == CUSTOMER
    assert event["thread_id"] == str(thread.id)
    assert event["message"]["content"] == "Ik heb een vraag over mijn laadpaal"
    assert events()[0].processing_state == ProcessingState.PROCESSED


def test_same_delivery_twice_is_one_message(app, client):
    payload = customer_text("Hallo")
    assert post_signed(client, payload).status_code == 200
    assert post_signed(client, payload).status_code == 200
    drain_queues(app)
    # Meta may also resend the same wamid in a differently built body.
    payload["entry"][0]["id"] = "another-entry"
    deliver(app, client, payload)
    assert len(messages()) == 1
    assert len(events()) == 2  # the identical body was stored once
    thread = only_thread()
    deliver(app, client, customer_text("Nog iets", wamid="wamid.in2"))
    assert [m.thread_id for m in messages()] == [thread.id, thread.id]  # open thread reused


def test_rejected_posts_store_nothing(client):
    raw, headers = wa.signed(customer_text("Hallo"))
    unsigned = {"Content-Type": "application/json"}
    forged = {**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64}
    wrong_secret = wa.signed(customer_text("Hallo"), secret="not-the-secret")[1]
    for bad in (unsigned, forged, wrong_secret, {**headers, "X-Hub-Signature-256": "md5=abc"}):
        response = client.post(URL, data=raw, headers=bad)
        assert response.status_code == 401
        assert response.json["error"]["code"] == "invalid_signature"
    tampered = raw.replace(b"Hallo", b"Hallo!")
    assert client.post(URL, data=tampered, headers=headers).status_code == 401

    malformed = post_signed(client, b'{"object": "whatsapp_business_account", "entry": [')
    assert malformed.status_code == 400
    assert malformed.json["error"]["code"] == "malformed_json"

    wrong_object = post_signed(client, {"object": "page", "entry": []})
    assert wrong_object.status_code == 422
    assert "object" in wrong_object.json["error"]["fields"]
    no_entry = post_signed(client, {"object": "whatsapp_business_account"})
    assert no_entry.status_code == 422
    assert "entry" in no_entry.json["error"]["fields"]
    no_id = customer_text("Hallo")
    del no_id["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    bad_message = post_signed(client, no_id)
    assert bad_message.status_code == 422
    assert "entry[0].changes[0].value.messages[0].id" in bad_message.json["error"]["fields"]

    huge = b'{"object": "whatsapp_business_account", "entry": [], "pad": "' + b"x" * (1 << 20)
    too_big = post_signed(client, huge + b'"}')
    assert too_big.status_code == 413
    assert events() == []


def test_unsigned_posts_only_in_sandbox_mode(app, make_app):
    sandbox = make_app().test_client()  # no WhatsApp settings at all
    payload = customer_text("Hallo vanuit de sandbox")
    response = sandbox.post(URL, json=payload)
    assert response.status_code == 200
    half_configured = make_app(WHATSAPP_ACCESS_TOKEN="EAAG-token").test_client()
    assert half_configured.post(URL, json=payload).status_code == 401


# --- message types -----------------------------------------------------------------


def test_every_message_type_is_stored_readably(app, client):
    now = int(time.time())

    def msg(wamid, kind, body):
        return {"from": CUSTOMER, "id": wamid, "timestamp": str(now), "type": kind, kind: body}

    payload = wa.webhook(
        contacts=[wa.contact(CUSTOMER, "Jan Jansen")],
        messages=[
            msg("wamid.loc", "location", {"latitude": 52.09, "longitude": 5.12, "name": "Thuis"}),
            msg(
                "wamid.btn",
                "interactive",
                {"type": "button_reply", "button_reply": {"id": "yes", "title": "Ja, graag"}},
            ),
            msg(
                "wamid.list",
                "interactive",
                {"type": "list_reply", "list_reply": {"id": "slot-2", "title": "Dinsdag ochtend"}},
            ),
            msg("wamid.quick", "button", {"payload": "CONFIRM", "text": "Bevestigen"}),
            msg("wamid.react", "reaction", {"message_id": "wamid.out1", "emoji": "👍"}),
            {
                "from": CUSTOMER,
                "id": "wamid.card",
                "timestamp": str(now),
                "type": "contacts",
                "contacts": [
                    {"name": {"formatted_name": "Piet Monteur"}, "phones": [{"phone": "+31 6 11"}]}
                ],
            },
            {
                "from": CUSTOMER,
                "id": "wamid.poll",
                "timestamp": str(now),
                "type": "poll_vote",
                "poll_vote": {"option": 2},
            },
        ],
    )
    deliver(app, client, payload)
    stored = {m.external_message_id: m for m in messages()}
    assert stored["wamid.loc"].message_content == "Location: Thuis (52.09, 5.12)"
    assert stored["wamid.loc"].extra["location"]["latitude"] == 52.09
    assert stored["wamid.btn"].message_content == "Ja, graag"
    assert stored["wamid.btn"].extra["reply_id"] == "yes"
    assert stored["wamid.list"].message_content == "Dinsdag ochtend"
    assert stored["wamid.quick"].message_content == "Bevestigen"
    assert stored["wamid.react"].message_content == "Reacted 👍 to a message"
    assert stored["wamid.card"].message_content == "Shared contact: Piet Monteur (+31 6 11)"
    unknown = stored["wamid.poll"]
    assert unknown.message_content == "Unsupported message (type poll_vote)"
    assert unknown.extra["raw_message"]["poll_vote"] == {"option": 2}
    assert len({m.thread_id for m in stored.values()}) == 1


def test_failed_processing_leaves_nothing_half_written_and_can_be_rerun(app, client, monkeypatch):
    real_receive = whatsapp_inbound.record_inbound
    calls = []

    def receive_then_break(channel, sender, inbound):
        calls.append(inbound.external_message_id)
        if len(calls) == 2:
            raise RuntimeError("database hiccup")
        return real_receive(channel, sender, inbound)

    monkeypatch.setattr(whatsapp_inbound, "record_inbound", receive_then_break)
    now = int(time.time())
    payload = wa.webhook(
        contacts=[wa.contact(CUSTOMER, "Jan Jansen")],
        messages=[
            wa.text_message(CUSTOMER, "Eerste", "wamid.a", now),
            wa.text_message(CUSTOMER, "Tweede", "wamid.b", now),
        ],
    )
    deliver(app, client, payload)
    [event] = events()
    assert event.processing_state == ProcessingState.FAILED
    assert "RuntimeError: database hiccup" in event.last_error
    assert messages() == []
    assert db.session.scalars(sa.select(Contact)).all() == []

    monkeypatch.setattr(whatsapp_inbound, "record_inbound", real_receive)
    assert process_event(str(event.id)) == "processed"
    db.session.expire_all()
    assert [m.message_content for m in messages()] == ["Eerste", "Tweede"]
    assert db.session.get(InboundWebhookEvent, event.id).processing_state == (
        ProcessingState.PROCESSED
    )


# --- media -------------------------------------------------------------------------


def _media_message(wamid, kind, media_id, mime, **fields):
    return {
        "from": CUSTOMER,
        "id": wamid,
        "timestamp": str(int(time.time())),
        "type": kind,
        kind: {"id": media_id, "mime_type": mime, "sha256": "ignored-here", **fields},
    }


def test_media_is_fetched_into_attachments_dir_within_limits(
    app, client, fake_whatsapp, monkeypatch
):
    photo = b"\xff\xd8\xff\xe0" + b"jpeg" * 100
    fake_whatsapp.add_media("1001", photo, "image/jpeg")
    fake_whatsapp.add_media("1002", b"%PDF-1.7 offerte", "application/pdf")
    fake_whatsapp.add_media("1003", b"MZ\x90\x00", "application/x-msdownload")
    fake_whatsapp.add_media("1004", b"x" * 2048, "video/mp4")
    fake_whatsapp.add_media("1006", b"y" * 2048, "video/mp4", file_size=100)  # understated
    fake_whatsapp.add_media("1005", b"OggS voice", "audio/ogg; codecs=opus", sha256="0" * 64)
    monkeypatch.setattr(whatsapp_media, "MAX_BYTES", 1024)
    payload = wa.webhook(
        contacts=[wa.contact(CUSTOMER, "Jan Jansen")],
        messages=[
            _media_message("wamid.img", "image", "1001", "image/jpeg", caption="Mijn meterkast"),
            _media_message(
                "wamid.doc", "document", "1002", "application/pdf", filename="../../offerte.pdf"
            ),
            _media_message("wamid.exe", "document", "1003", "application/x-msdownload"),
            _media_message("wamid.vid", "video", "1004", "video/mp4"),
            _media_message("wamid.vid2", "video", "1006", "video/mp4"),
            _media_message("wamid.ogg", "audio", "1005", "audio/ogg; codecs=opus", voice=True),
        ],
    )
    deliver(app, client, payload)
    drain_queues(app)
    db.session.expire_all()
    stored = {m.external_message_id: m for m in messages()}
    root = Path(app.config["ATTACHMENTS_DIR"])

    image = stored["wamid.img"]
    assert image.message_content == "[Photo] Mijn meterkast"
    [entry] = image.attachments
    assert entry["status"] == "stored"
    assert entry["caption"] == "Mijn meterkast" and entry["media_id"] == "1001"
    assert entry["size"] == len(photo)
    assert (root / entry["path"]).read_bytes() == photo
    assert entry["path"].startswith(f"{image.id}/")

    [document] = stored["wamid.doc"].attachments
    assert document["status"] == "stored"
    assert document["path"] == f"{stored['wamid.doc'].id}/offerte.pdf"  # no way out of the folder
    assert (root / document["path"]).read_bytes() == b"%PDF-1.7 offerte"

    [exe] = stored["wamid.exe"].attachments
    assert exe["status"] == "refused: files of type application/x-msdownload are not kept"
    [video] = stored["wamid.vid"].attachments
    assert video["status"].startswith("refused: the file is over")
    assert not (root / str(stored["wamid.vid"].id)).exists()
    [streamed] = stored["wamid.vid2"].attachments  # the size Meta reported was wrong
    assert streamed["status"].startswith("refused: the file is over")
    assert not any((root / str(stored["wamid.vid2"].id)).iterdir())  # no partial file left
    voice = stored["wamid.ogg"]
    assert voice.message_content == "[Voice message]"
    assert voice.attachments[0]["status"] == "refused: the file does not match WhatsApp's checksum"
    assert not any((root / str(voice.id)).iterdir())
    for request in fake_whatsapp.requests_to("1001"):
        assert request.headers["Authorization"] == f"Bearer {wa.ACCESS_TOKEN}"


def test_media_in_sandbox_mode_is_marked_unavailable(app, make_app):
    sandbox = make_app()
    with sandbox.app_context():
        sandbox.test_client().post(
            URL, json=wa.webhook(messages=[_media_message("wamid.s", "image", "9", "image/png")])
        )
        drain_queues(sandbox)
        drain_queues(sandbox)
        db.session.expire_all()
        [message] = messages()
        assert message.attachments[0]["status"] == "unavailable (sandbox)"


def test_media_id_is_looked_up_per_message(app):
    # A job for a message that is gone does nothing (and does not fail).
    assert whatsapp_media.fetch_media(str(uuid.uuid4()), "1001") == "missing"
