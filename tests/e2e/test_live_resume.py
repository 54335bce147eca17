"""An agent's page that loses its live connection gets what it missed once it is back.

The connection is closed by the server (a web process restarting, a proxy's timeout)
while three customers write. The page reconnects by itself, names its numbered queue
(app/platform/live_queues.py) and the last event it handled, and the server sends the
three messages it missed; the list shows all three, and nobody reloaded the page.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import expect

from app.platform.extensions import db, socketio
from app.platform.models.enums import ChannelType
from tests.e2e.test_sign_in import sign_in
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support import factories
from tests.support.helpers import customer_writes

SHOTS = os.environ.get("SHOTS_DIR")

CUSTOMERS = (
    ("Jan Jansen", "+31612345678", "De laadpaal knippert rood"),
    ("Eva de Boer", "+31687654321", "Wanneer komt de monteur?"),
    ("Sanne Visser", "+31611122233", "Kan de afspraak een uur later?"),
)
MISSED = (
    "Hij doet het weer, dank u",
    "Morgen ben ik thuis na twee uur",
    "Vier uur is ook goed",
)


def test_a_page_whose_connection_the_server_closed_shows_what_came_meanwhile(
    live_server, browser, make_user
):
    team = factories.team("Klantenservice")
    make_user("agent", email="anouk@switchboard.test", team_id=team.id)
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp Business")
    contacts, threads = [], []
    for name, phone, first in CUSTOMERS:
        contact = factories.contact(display_name=name, phone=phone)
        thread = factories.thread(
            whatsapp, contact, thread_subject=first, assigned_team_id=team.id, minutes_ago=30
        )
        factories.message(thread, first, sender_contact_id=contact.id)
        contacts.append(contact)
        threads.append(thread)
    db.session.commit()

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    sign_in(page, live_server.url, "anouk@switchboard.test")
    expect(page).to_have_url(re.compile(r"/inbox$"))
    page.wait_for_function("() => window.switchboardSocket && window.switchboardSocket.connected")
    page.wait_for_function("() => window.switchboardSocket.live.queue !== null")
    queue = page.evaluate("() => window.switchboardSocket.live.queue")
    # Marks this very document: a reload would lose it.
    page.evaluate("() => { window.stillTheSamePage = true; }")
    # The page waits three seconds before reconnecting, so the three messages surely
    # arrive while it is away (Socket.IO's own delay is 0.5-1.5 s).
    page.evaluate(
        """() => {
            const manager = window.switchboardSocket.io;
            manager.reconnectionDelay(3000);
            manager.reconnectionDelayMax(3000);
            manager.randomizationFactor(0);
        }"""
    )

    engine_id = page.evaluate("() => window.switchboardSocket.io.engine.id")
    socketio.server.eio.sockets[engine_id].close(wait=False, abort=True)
    page.wait_for_function("() => !window.switchboardSocket.connected")
    for contact, text in zip(contacts, MISSED, strict=True):
        customer_writes(whatsapp, contact, f"wamid.resume-{contact.id}", text)
    for text in MISSED:
        expect(page.locator("#inbox")).not_to_contain_text(text)

    page.wait_for_function("() => window.switchboardSocket.connected")
    for thread, text in zip(threads, MISSED, strict=True):
        row = page.locator(f'.thread-row[data-thread-id="{thread.id}"]')
        expect(row).to_contain_text(text)
    assert page.evaluate("() => window.stillTheSamePage === true"), "the page was reloaded"
    # It resumed its own queue: the server sent what was missed, numbered on from before.
    assert page.evaluate("() => window.switchboardSocket.live.queue") == queue
    assert page.evaluate("() => window.switchboardSocket.live.last") >= len(MISSED)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / "live-resumed-1440.png"))
    context.close()
