"""The technician's day works without a signal.

On a 375×812 touch phone, in Dutch: the service worker keeps the day page; with
the connection cut the technician taps "Begonnen", takes a photo and taps on a
second visit, reloads (the page and the queue are still there), and when the
connection returns the posts reach the server in the order they were made,
each once. The office (Sarah) meanwhile completed the second visit, so that tap is
refused, and the phone says who changed it and when. Notes written offline on
the conversation page queue the same way.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import request
from playwright.sync_api import expect

from app.orders.core.status_engine import change_entity_status
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread, MobileAction, Order
from app.platform.models.enums import MessageType, OrderStatus
from app.platform.transactions import commit
from tests.e2e.test_sign_in import sign_in
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support.mobile_support import png_bytes, visit

PHONE = {"width": 375, "height": 812}
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "technician-offline.png"


def _wait_until_kept_offline(page) -> None:
    """The worker controls the page and keeps the page and all it was built from.

    data-offline-ready comes from the worker's answer once every style, script and
    icon is in its cache: going offline before that (the page and one script kept,
    the translations or the queue's script still on the way) made the reloaded
    page come up without its queue now and then.
    """
    page.wait_for_function("() => Boolean(navigator.serviceWorker.controller)")
    page.wait_for_selector("[data-phone-app][data-offline-ready]", state="attached")
    page.wait_for_function("async () => Boolean(await caches.match(location.pathname))")


def _moves(order_id) -> list[tuple[str | None, str]]:
    return db.session.execute(
        sa.text(
            "SELECT from_status, to_status FROM order_status_transitions"
            " WHERE order_id = :id ORDER BY created_at"
        ),
        {"id": order_id},
    ).all()


def test_offline_taps_and_photo_arrive_in_order_once_and_a_stale_one_is_refused(
    live_server, browser, make_user
):
    technician = make_user("technician", email="monteur@switchboard.test", language="nl")
    first = visit(technician)
    second = visit(technician, number="CC-2026-00043", with_whatsapp=False)
    first_id, second_id = first.id, second.id

    phone = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, timezone_id="Europe/Amsterdam"
    )
    page = phone.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in(page, live_server.url, "monteur@switchboard.test")
        expect(page).to_have_url(re.compile(r"/m/$"))
        page.wait_for_load_state("load")
        _wait_until_kept_offline(page)
        # Chromium reads the manifest without complaint and would offer to install.
        devtools = phone.new_cdp_session(page)
        manifest = devtools.send("Page.getAppManifest")
        assert manifest["url"].endswith("/m/manifest.webmanifest")
        assert manifest["errors"] == []
        problems = devtools.send("Page.getInstallabilityErrors")["installabilityErrors"]
        # A Playwright context is a private window, where no browser installs apps.
        assert [p["errorId"] for p in problems if p["errorId"] != "in-incognito"] == []
        devtools.detach()

        asked = []

        def answer_dialog(dialog):
            asked.append(dialog.message)
            dialog.accept()

        page.on("dialog", answer_dialog)
        phone.set_offline(True)
        card = page.get_by_test_id("visit").filter(has_text="CC-2026-00042")
        other = page.get_by_test_id("visit").filter(has_text="CC-2026-00043")
        card.get_by_role("button", name="Begonnen").click()
        expect(page.get_by_test_id("offline-queue")).to_contain_text("Wacht op verbinding (1)")
        card.get_by_label("Foto", exact=True).set_input_files(
            {"name": "meterkast.png", "mimeType": "image/png", "buffer": png_bytes(40, 30)}
        )
        card.get_by_role("button", name="Foto uploaden").click()
        expect(page.get_by_test_id("offline-queue")).to_contain_text("Wacht op verbinding (2)")
        other.get_by_role("button", name="Begonnen").click()
        card.get_by_role("button", name="Afgerond").click()
        expect(page.get_by_test_id("offline-queue")).to_contain_text("Wacht op verbinding (4)")
        # "Afgerond" is asked on the phone: the server's dialog cannot come offline.
        assert asked == [
            "CC-2026-00042 · Afgerond: als afgerond markeren? De partner en de klant horen"
            " het zodra u weer verbinding hebt."
        ]

        # Reloaded without a signal: the day and the queue are still there.
        page.reload()
        expect(page.get_by_test_id("offline-banner")).to_have_text(
            re.compile(r"Offline — laatst bijgewerkt \d\d:\d\d")
        )
        expect(page.get_by_test_id("visit")).to_have_count(2)
        queue = page.get_by_test_id("offline-queue")
        expect(queue).to_contain_text("Wacht op verbinding (4)")
        expect(page.get_by_test_id("visit-queued")).to_have_text(
            ["Wacht op verbinding: 3", "Wacht op verbinding: 1"]
        )
        expect(queue.locator("li")).to_have_text(
            [
                re.compile(r"CC-2026-00042 · Begonnen$"),
                re.compile(r"CC-2026-00042 · Foto uploaden$"),
                re.compile(r"CC-2026-00043 · Begonnen$"),
                re.compile(r"CC-2026-00042 · Afgerond$"),
            ]
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOT))
        assert _moves(first_id) == []  # nothing left the phone

        # Meanwhile Sarah at the office finished the second visit.
        sarah = make_user("agent", email="sarah@switchboard.test")
        sarah.name = "Sarah"
        second = db.session.get(Order, second_id)
        change_entity_status(second, OrderStatus.IN_PROGRESS, "on site", {}, sarah)
        change_entity_status(second, OrderStatus.COMPLETED, "done", {}, sarah)
        commit()

        phone.set_offline(False)
        results = page.get_by_test_id("offline-results")
        expect(results.locator("li")).to_have_count(4, timeout=20_000)
        expect(results.locator("li")).to_have_text(
            [
                re.compile(r"^Verwerkt: .*CC-2026-00042 · Begonnen$"),
                re.compile(r"^Verwerkt: .*CC-2026-00042 · Foto uploaden$"),
                re.compile(
                    r"^Niet verwerkt: .*CC-2026-00043 · Begonnen — Niet gewijzigd: het bezoek"
                    r" is al 'afgerond' \(gewijzigd door Sarah om \d\d:\d\d\)\.$"
                ),
                re.compile(r"^Verwerkt: .*CC-2026-00042 · Afgerond$"),
            ]
        )
        expect(page.get_by_test_id("offline-queue")).to_be_hidden()
        expect(page.get_by_test_id("visit-queued")).to_have_count(0)
        expect(page.get_by_test_id("offline-banner")).to_be_hidden()
        expect(
            page.get_by_test_id("visit")
            .filter(has_text="CC-2026-00042")
            .get_by_test_id("visit-status")
        ).to_have_text("afgerond")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOT.with_name("technician-offline-replayed.png")))
        page.get_by_role("button", name="Begrepen").click()
        expect(results).to_be_hidden()
    finally:
        phone.close()

    db.session.expire_all()
    # In the order they were made, each once.
    assert _moves(first_id) == [("scheduled", "in_progress"), ("in_progress", "completed")]
    assert _moves(second_id) == [("scheduled", "in_progress"), ("in_progress", "completed")]
    # Across the order's conversations: finishing the visit may start another one
    # (the customer's e-mail), so "the" thread of the order is not one row.
    timeline = db.session.scalars(
        sa.select(CommunicationMessage)
        .join(CommunicationThread, CommunicationThread.id == CommunicationMessage.thread_id)
        .where(CommunicationThread.order_id == first_id)
        .order_by(CommunicationMessage.created_at)
    ).all()
    photos = [m for m in timeline if m.message_type == MessageType.INTERNAL_NOTE]
    assert len(photos) == 1
    started_at, completed_at = (
        db.session.execute(
            sa.text(
                "SELECT created_at FROM order_status_transitions WHERE order_id = :id"
                " ORDER BY created_at"
            ),
            {"id": first_id},
        )
        .scalars()
        .all()
    )
    assert started_at < photos[0].created_at < completed_at
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MobileAction)) == 3


def test_notes_made_offline_on_the_conversation_page_arrive_once_in_order(
    live_server, browser, make_user
):
    technician = make_user("technician", email="monteur@switchboard.test", language="nl")
    order_id = visit(technician).id

    phone = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, timezone_id="Europe/Amsterdam"
    )
    page = phone.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in(page, live_server.url, "monteur@switchboard.test")
        expect(page).to_have_url(re.compile(r"/m/$"))
        page.wait_for_load_state("load")
        _wait_until_kept_offline(page)
        # Visited online first, so the worker keeps this page too.
        page.goto(f"{live_server.url}/m/visits/{order_id}/conversation")
        _wait_until_kept_offline(page)

        phone.set_offline(True)
        queue = page.get_by_test_id("offline-queue")
        page.get_by_label("Interne notitie").fill("Meterkast zit achter de trap.")
        page.get_by_role("button", name="Notitie toevoegen").click()
        expect(queue).to_contain_text("Wacht op verbinding (1)")
        # The form is emptied for the next note; the note waits in the queue.
        expect(page.get_by_label("Interne notitie")).to_have_value("")
        page.get_by_label("Interne notitie").fill("Groepenkast vol: extra groep nodig.")
        page.get_by_role("button", name="Notitie toevoegen").click()
        expect(queue).to_contain_text("Wacht op verbinding (2)")

        # Reloaded without a signal: the conversation and its queue are still there.
        page.reload()
        expect(page.get_by_test_id("offline-banner")).to_be_visible()
        expect(queue.locator("li")).to_have_text(
            [
                re.compile(r"CC-2026-00042 · Notitie: Meterkast zit achter de trap\.$"),
                re.compile(r"CC-2026-00042 · Notitie: Groepenkast vol: extra groep nodig\.$"),
            ]
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOT.with_name("technician-offline-notes.png")))
        assert _notes(order_id) == []  # nothing left the phone

        phone.set_offline(False)
        results = page.get_by_test_id("offline-results")
        expect(results.locator("li")).to_have_count(2, timeout=20_000)
        expect(results.locator("li")).to_have_text(
            [
                re.compile(r"^Verwerkt: .*Notitie: Meterkast zit achter de trap\.$"),
                re.compile(r"^Verwerkt: .*Notitie: Groepenkast vol: extra groep nodig\.$"),
            ]
        )
        expect(queue).to_be_hidden()
        # The page came back fresh with the notes in its timeline.
        expect(page.get_by_test_id("conversation-message")).to_contain_text(
            ["Meterkast zit achter de trap.", "Groepenkast vol: extra groep nodig."]
        )
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOT.with_name("technician-offline-notes-sent.png")))
    finally:
        phone.close()

    db.session.expire_all()
    assert _notes(order_id) == [
        "Meterkast zit achter de trap.",
        "Groepenkast vol: extra groep nodig.",
    ]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MobileAction)) == 2


def _notes(order_id) -> list[str]:
    return db.session.scalars(
        sa.select(CommunicationMessage.message_content)
        .join(CommunicationThread, CommunicationThread.id == CommunicationMessage.thread_id)
        .where(
            CommunicationThread.order_id == order_id,
            CommunicationMessage.message_type == MessageType.INTERNAL_NOTE,
        )
        .order_by(CommunicationMessage.created_at)
    ).all()


@pytest.fixture
def slow_day_page(app):
    """The day page answers in 6 s while ``slow`` is set, beyond the service
    worker's 4-s wait for the network (registered before the server starts)."""
    slow = threading.Event()

    @app.before_request
    def _slow_down():
        # The worker's fetch of a navigation (the page's own fetches are "cors").
        page_load = request.headers.get("Sec-Fetch-Mode") == "navigate"
        if slow.is_set() and page_load and request.method == "GET" and request.path == "/m/":
            time.sleep(6)

    return slow


def test_after_the_queue_went_out_a_slow_server_still_gives_fresh_cards(
    slow_day_page, live_server, browser, make_user
):
    """A loaded server once took longer than the worker's wait for the page after
    the queue went out: the worker showed the copy it kept, from before, and the
    card stayed "in behandeling" although the results said "Verwerkt"."""
    technician = make_user("technician", email="monteur@switchboard.test", language="nl")
    visit(technician)

    phone = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, timezone_id="Europe/Amsterdam"
    )
    page = phone.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in(page, live_server.url, "monteur@switchboard.test")
        expect(page).to_have_url(re.compile(r"/m/$"))
        page.wait_for_load_state("load")
        _wait_until_kept_offline(page)
        phone.set_offline(True)
        card = page.get_by_test_id("visit").filter(has_text="CC-2026-00042")
        card.get_by_role("button", name="Begonnen").click()
        expect(page.get_by_test_id("offline-queue")).to_contain_text("Wacht op verbinding (1)")

        slow_day_page.set()
        phone.set_offline(False)
        results = page.get_by_test_id("offline-results")
        expect(results.locator("li")).to_have_text(
            [re.compile(r"^Verwerkt: .*CC-2026-00042 · Begonnen$")], timeout=20_000
        )
        expect(card.get_by_test_id("visit-status")).to_have_text("in behandeling", timeout=20_000)
        # The address bar does not keep the reload's parameter.
        assert page.evaluate("location.search") == ""
    finally:
        phone.close()
