"""Privacy in the browser: an admin exports a customer's data, then erases them."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

from playwright.sync_api import expect

from app.conversations.attachments.storage import store_bytes
from app.platform.extensions import db
from app.platform.models import Contact
from app.platform.models.enums import ChannelType
from tests.e2e.test_sign_in import sign_in
from tests.support import factories

# Screenshots for a person to look at, only when asked for (SCREENSHOTS_DIR=...).
SHOTS = os.environ.get("SCREENSHOTS_DIR")
PHOTO = b"\xff\xd8\xff\xe0" + b"meterkast" * 200


def _screenshot(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name), full_page=False)


def _customer_with_a_photo():
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    anna = factories.contact(
        display_name="Anna de Wit", phone="+31644455566", email="anna.dewit@voorbeeld.nl"
    )
    thread = factories.thread(channel, anna, thread_subject="Laadpaal installatie Kerkweg 7")
    factories.message(thread, "Hierbij een foto van de meterkast", sender_contact_id=anna.id)
    photo = factories.message(thread, "[Photo]", sender_contact_id=anna.id)
    stored = store_bytes(photo.id, "meterkast.jpg", PHOTO)
    photo.attachments = [
        {"status": "stored", "filename": "meterkast.jpg", "mime_type": "image/jpeg", **stored}
    ]
    db.session.commit()
    return anna, thread


def test_an_admin_exports_then_erases_a_customer(live_server, page, make_user, tmp_path):
    make_user("admin", email="admin@switchboard.test")
    anna, thread = _customer_with_a_photo()
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, "admin@switchboard.test")
    page.goto(f"{live_server.url}/threads/{thread.id}")
    privacy = page.get_by_test_id("customer-privacy")
    expect(privacy).to_be_visible()
    privacy.scroll_into_view_if_needed()
    _screenshot(page, "privacy-sidebar-1440.png")

    with page.expect_download() as download:
        page.get_by_test_id("customer-export").click()
    saved = tmp_path / "export.zip"
    download.value.save_as(saved)
    archive = zipfile.ZipFile(io.BytesIO(saved.read_bytes()))
    document = json.loads(archive.read("contact.json"))
    assert document["contact"]["email"] == "anna.dewit@voorbeeld.nl"
    [photo] = [name for name in archive.namelist() if name.endswith("meterkast.jpg")]
    assert archive.read(photo) == PHOTO

    page.get_by_test_id("customer-erase").click()
    expect(page.get_by_test_id("privacy-contact")).to_contain_text("Anna de Wit")
    expect(page.get_by_test_id("holdings")).to_contain_text("2")
    _screenshot(page, "privacy-page-1440.png")

    # Only the exact word, same case, and the button is off until then.
    confirmation = page.get_by_label("Type ERASE to confirm")
    button = page.get_by_test_id("erase-button")
    expect(button).to_be_disabled()
    confirmation.fill("erase")
    expect(button).to_be_disabled()
    expect(page.get_by_test_id("erase-mismatch")).to_be_visible()
    _screenshot(page, "erase-confirm.png")
    # Sent anyway (a page without its script): the server refuses, naming the field.
    page.get_by_test_id("erase-form").evaluate("form => form.requestSubmit()")
    expect(page.get_by_test_id("erase-error")).to_contain_text(
        "Confirmation: type ERASE exactly as shown"
    )
    expect(page.get_by_test_id("erase-error")).to_contain_text("Nothing was erased.")
    expect(page.get_by_test_id("erased-note")).to_have_count(0)
    _screenshot(page, "privacy-wrong-word-1440.png")

    confirmation.fill("ERASE")
    expect(page.get_by_test_id("erase-mismatch")).to_be_hidden()
    button.click()
    expect(page.get_by_test_id("erased-note")).to_contain_text("Erased on")
    expect(page.get_by_test_id("privacy-contact")).to_contain_text("Erased contact")
    _screenshot(page, "privacy-erased-1440.png")

    page.goto(f"{live_server.url}/threads/{thread.id}")
    expect(page.get_by_test_id("customer-erased")).to_be_visible()
    expect(page.get_by_test_id("erased-message").first).to_be_visible()
    expect(page.get_by_text("Hierbij een foto van de meterkast")).to_have_count(0)
    _screenshot(page, "privacy-thread-after-1440.png")

    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{live_server.url}/admin/contacts/{anna.id}/privacy")
    expect(page.get_by_test_id("erased-note")).to_be_visible()
    _screenshot(page, "privacy-erased-375.png")

    db.session.expire_all()
    assert db.session.get(Contact, anna.id).email is None


def test_the_privacy_search_leads_to_a_customer(live_server, page, make_user):
    make_user("admin", email="admin@switchboard.test")
    anna, _thread = _customer_with_a_photo()
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, "admin@switchboard.test")
    navigation = page.get_by_role("navigation", name="Main")
    navigation.get_by_text("Administration").click()  # the set-up pages' menu
    navigation.get_by_role("link", name="Privacy").click()
    page.get_by_placeholder("Name, e-mail address or phone number").fill("06-44455566")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("privacy-results")).to_contain_text("Anna de Wit")
    _screenshot(page, "privacy-search-1440.png")
    page.get_by_test_id("privacy-results").get_by_role("link", name="Privacy").click()
    expect(page.get_by_test_id("privacy-contact")).to_contain_text("Anna de Wit")
    assert page.url.endswith(f"/admin/contacts/{anna.id}/privacy")
