"""Reply attachments in a browser: an e-mail reply with a file, a CC and the
signature reaches the fake Graph server; a pasted image reaches the fake
WhatsApp server as an upload and then an image message.

With ``SCREENSHOT_DIR`` set the composer is photographed at 1440x900 and 375x812.
"""

from __future__ import annotations

import base64
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.conversations.channels.outlook.state import outlook_channel
from app.conversations.signatures.services import save_mailbox_signature
from app.platform.database import utcnow
from app.platform.extensions import db
from tests.conftest import opened
from tests.e2e.test_sign_in import sign_in
from tests.fakes import whatsapp as wa
from tests.support import factories
from tests.support.outlook_support import MAILBOX, graph_fake, keep_outlook_jobs_off_the_clock
from tests.support.whatsapp_support import fake_whatsapp_server, whatsapp_settings, whatsapp_thread

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# A 1x1 PNG, as a screenshot pasted from the clipboard would arrive.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
SIGNATURE = "Anouk de Vries\nKlantenservice ChargeCars"
SHOTS = os.environ.get("SCREENSHOT_DIR")


graph = pytest.fixture(graph_fake, name="graph")
fake_whatsapp = pytest.fixture(fake_whatsapp_server, name="fake_whatsapp")


@pytest.fixture
def app(make_app, graph, fake_whatsapp, monkeypatch, tmp_path):
    # Graph's subscription jobs are not part of this; keep them off the clock.
    keep_outlook_jobs_off_the_clock(monkeypatch)
    built = make_app(
        **graph.app_config(),
        **whatsapp_settings(fake_whatsapp),
        ATTACHMENTS_DIR=str(tmp_path / "attachments"),
    )
    with opened(built) as app:
        yield app


def _eventually(check, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("the fake server never received it")


def _shoot(page, name: str) -> None:
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    page.locator("#composer").scroll_into_view_if_needed()
    page.screenshot(path=f"{SHOTS}/{name}-1440.png", full_page=False)
    page.set_viewport_size({"width": 375, "height": 812})
    page.locator("#composer").scroll_into_view_if_needed()
    page.screenshot(path=f"{SHOTS}/{name}-375-full.png", full_page=True)
    page.locator("#composer button[type=submit]").first.scroll_into_view_if_needed()
    page.screenshot(path=f"{SHOTS}/{name}-375.png")
    page.set_viewport_size({"width": 1440, "height": 900})


def test_an_email_reply_with_a_file_a_cc_and_the_signature(
    live_server, page, make_user, graph, running_worker, tmp_path
):
    agent = make_user("agent", email="anouk@switchboard.test", email_signature=SIGNATURE)
    agent.name = "Anouk de Vries"
    mailbox = outlook_channel()
    save_mailbox_signature(mailbox, "ChargeCars B.V. · 020 123 4567")
    jan = factories.contact(display_name="Jan Jansen", email="jan@example.nl")
    thread = factories.thread(mailbox, jan, thread_subject="Offerte laadpaal")
    factories.message(
        thread,
        "Kunnen jullie de offerte opnieuw sturen?",
        sender_contact_id=jan.id,
        sender_external={"email": "jan@example.nl", "name": "Jan Jansen"},
        external_message_id="AAMkAD-jan",
        extra={"cc": ["piet@example.nl", MAILBOX]},
        created_at=utcnow() - timedelta(hours=2),
    )
    db.session.commit()
    graph.add_message("AAMkAD-jan", sender="jan@example.nl", name="Jan Jansen")
    upload = tmp_path / "offerte-2026-031.pdf"
    upload.write_bytes(PDF)

    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, "anouk@switchboard.test")
    page.goto(f"{live_server.url}/threads/{thread.id}")
    # Prefilled from Jan's mail: To him, CC Piet (never our own mailbox).
    expect(page.get_by_test_id("reply-to")).to_have_value("jan@example.nl")
    expect(page.get_by_test_id("reply-cc")).to_have_value("piet@example.nl")
    expect(page.get_by_test_id("quote-preview")).to_contain_text("schreef Jan Jansen:")
    expect(page.get_by_test_id("signature-preview")).to_contain_text("Anouk de Vries")

    page.get_by_test_id("reply-content").fill("Hierbij de offerte opnieuw.")
    page.get_by_test_id("reply-cc").fill("piet@example.nl, boekhouding@example.nl")
    page.get_by_test_id("reply-attachments").set_input_files(str(upload))
    expect(page.get_by_test_id("attached-file")).to_contain_text("offerte-2026-031.pdf")
    _shoot(page, "composer-email")

    # A typo in CC: refused, named, nothing sent; the file is still attached.
    page.get_by_test_id("reply-cc").fill("piet@example.nl, jan@")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_test_id("recipient-error")).to_have_text(
        "CC: 'jan@' is not an e-mail address."
    )
    expect(page.get_by_test_id("attached-file")).to_contain_text("offerte-2026-031.pdf")
    assert graph.requests_to("/reply") == []

    page.get_by_test_id("reply-cc").fill("piet@example.nl, boekhouding@example.nl")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#timeline")).to_contain_text("Hierbij de offerte opnieuw.")
    expect(page.get_by_test_id("message-recipients")).to_contain_text(
        "CC: piet@example.nl, boekhouding@example.nl"
    )
    expect(page.locator("#timeline").get_by_test_id("attachment-link")).to_have_text(
        "offerte-2026-031.pdf"
    )
    if SHOTS:
        page.locator("#timeline article").last.screenshot(path=f"{SHOTS}/timeline-email.png")

    (reply,) = _eventually(lambda: graph.requests_to("/messages/AAMkAD-jan/reply", "POST"))
    message = reply.json()["message"]
    (attachment,) = message["attachments"]
    assert attachment["name"] == "offerte-2026-031.pdf"
    assert attachment["contentType"] == "application/pdf"
    assert base64.b64decode(attachment["contentBytes"]) == PDF
    assert [r["emailAddress"]["address"] for r in message["ccRecipients"]] == [
        "piet@example.nl",
        "boekhouding@example.nl",
    ]
    content = message["body"]["content"]
    assert "Anouk de Vries<br>Klantenservice ChargeCars" in content
    assert "ChargeCars B.V. · 020 123 4567" in content
    assert "schreef Jan Jansen:" in content and "<blockquote" in content


def test_a_pasted_image_goes_out_on_whatsapp(
    live_server, page, make_user, fake_whatsapp, running_worker, tmp_path
):
    make_user("agent", email="anouk@switchboard.test")
    thread = whatsapp_thread(inbound_ago=timedelta(minutes=10))
    spare = tmp_path / "werkbon.pdf"
    spare.write_bytes(PDF)

    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, "anouk@switchboard.test")
    page.goto(f"{live_server.url}/threads/{thread.id}")
    box = page.get_by_test_id("reply-content")
    box.fill("Zo moet de laadkabel erin.")

    # A file chosen by mistake, removed again before sending.
    page.get_by_test_id("reply-attachments").set_input_files(str(spare))
    expect(page.get_by_test_id("attached-file")).to_have_count(1)
    page.get_by_role("button", name="Remove werkbon.pdf").click()
    expect(page.get_by_test_id("attached-file")).to_have_count(0)

    # Paste a screenshot from the clipboard into the reply box.
    box.focus()
    page.evaluate(
        """(b64) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const data = new DataTransfer();
            data.items.add(new File([bytes], "image.png", { type: "image/png" }));
            const paste = new ClipboardEvent(
                "paste", { clipboardData: data, bubbles: true, cancelable: true }
            );
            document.getElementById("reply-content").dispatchEvent(paste);
        }""",
        base64.b64encode(PNG).decode(),
    )
    expect(page.get_by_test_id("attached-file")).to_have_count(1)
    expect(page.get_by_test_id("attached-file")).to_contain_text("pasted-")
    expect(box).to_have_value("Zo moet de laadkabel erin.")
    _shoot(page, "composer-whatsapp")

    page.get_by_role("button", name="Send").click()
    expect(page.locator("#timeline")).to_contain_text("Zo moet de laadkabel erin.")

    (image,) = _eventually(fake_whatsapp.sent)
    ((media_id, uploaded),) = fake_whatsapp.uploads.items()
    assert uploaded["type"] == "image/png" and uploaded["content"] == PNG
    assert uploaded["filename"].startswith("pasted-") and uploaded["filename"].endswith(".png")
    (upload_request,) = fake_whatsapp.requests_to(f"/{wa.PHONE_NUMBER_ID}/media", "POST")
    assert upload_request.headers["Content-Type"].startswith("multipart/form-data")
    assert image["type"] == "image"
    assert image["image"] == {"id": media_id, "caption": "Zo moet de laadkabel erin."}
    expect(page.locator("#timeline img.attachment-image")).to_have_count(1)
