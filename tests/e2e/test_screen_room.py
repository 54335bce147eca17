"""What fits on the agent's screen.

At 1440x900 (compact density, the default layout) the list shows at least ten
conversations and a conversation at least six ordinary messages, WhatsApp and
e-mail alike: messages of one to three lines, as the demo's, e-mails with their
salutation and sign-off. A row's time is never cut off; the bulk bar is one short
line that stays in view above the rows, with one row ticked or the thirteenth.
"Details" in the header is folded until the agent opens it, and stays as left.
The reply box grows with its text up to its limit, and then the line with the
caret, the tabs and Send stay in view; so do Send and the error after a refusal
(WhatsApp's 4096 characters) and after a flash message (a merge). On a phone
(375x812, touch) the first conversation is well above the fold, the reply box
sits within a screen of the last message, the composer's tabs are one line, and
list, conversation and customer are three views that the browser's back (the
phone's back gesture) walks through.

Every measurement waits for the fonts and re-reads until two reads agree: a loaded
CI machine may still be laying the page out when the first read comes.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models.enums import ChannelType, MessageType, ThreadStatus
from tests.e2e.test_sign_in import sign_in
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support import factories

# Screenshots for a person to look at, only when asked for (SCREENSHOTS_DIR=...).
SHOTS = os.environ.get("SCREENSHOTS_DIR")

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 375, "height": 812}

# A WhatsApp conversation as the demo's: customer and agent in turns, the agent's
# answers with a sign-off, one to three lines each at 1440 px.
WHATSAPP_MESSAGES = [
    "Goedemorgen, mijn laadpaal geeft sinds gisteravond een rood lampje en de auto laadt niet.",
    "Goedemorgen! Vervelend. Wilt u de laadpaal een minuut spanningsloos maken via de "
    "groepenkast en daarna weer aanzetten?\n\nGroet, Anouk – ChargeCars",
    "Gedaan, hij start nu opnieuw op.",
    "Mooi. Ziet u nu een groen of een blauw lampje?\n\nGroet, Anouk – ChargeCars",
    "Groen! Maar de auto laadt nog steeds niet.",
    "Staat de laadkabel aan beide kanten goed vast? Aan de autokant klikt hij hoorbaar in "
    "de vergrendeling.\n\nGroet, Anouk – ChargeCars",
    "Aan de autokant zat hij los. Nu laadt hij met 11 kW. Top!",
    "Fijn dat het werkt. Mocht er toch nog iets zijn, reageer dan gerust op dit bericht."
    "\n\nGroet, Anouk – ChargeCars",
    "Nee, dat was het. Bedankt voor de snelle hulp!",
]

# An e-mail conversation as the demo's: salutation, a few sentences, a sign-off and
# the agent's signature.
SIGNATURE = "Met vriendelijke groet,\nAnouk de Vries\nChargeCars Klantenservice\n030 - 200 12 34"
EMAIL_MESSAGES = [
    "Op de factuur voor order CC-2026-00001 staan 15 meter extra kabel, maar de monteur "
    "heeft er maar 5 gebruikt. Kunnen jullie dit corrigeren?\n\nMet vriendelijke groet,\n"
    "Jesse van der Heijden",
    "Beste Jesse,\n\nDank voor uw bericht. Ik heb het opleverrapport erbij gepakt en u heeft "
    "gelijk. Ik laat een creditnota opmaken voor de 10 meter te veel.\n\n" + SIGNATURE,
    "Dank u. Wanneer kan ik de creditnota verwachten?\n\nMet vriendelijke groet,\n"
    "Jesse van der Heijden",
    "Beste Jesse,\n\nDe creditnota gaat deze week de deur uit; u ontvangt hem per e-mail."
    "\n\n" + SIGNATURE,
    "Prima, dank voor de snelle afhandeling.\n\nGroet,\nJesse",
    "Beste Jesse,\n\nDe creditnota is zojuist verstuurd naar dit adres. Het bedrag wordt "
    "binnen vijf werkdagen teruggestort.\n\n" + SIGNATURE,
    "Ontvangen, dank!\n\nMet vriendelijke groet,\nJesse van der Heijden",
]

# Resolves once the fonts are in and two reads, two frames apart, agree.
STABLE = """async (read) => {
  await document.fonts.ready;
  const measure = new Function("return (" + read + ")()");
  const frame = () => new Promise((done) =>
    requestAnimationFrame(() => requestAnimationFrame(done)));
  let last = JSON.stringify(measure());
  for (let i = 0; i < 60; i++) {
    await frame();
    const now = JSON.stringify(measure());
    if (now === last) return JSON.parse(now);
    last = now;
  }
  throw new Error("the layout never settled: " + last);
}"""

DESK_COUNTS = """() => {
  const inside = (r, top, bottom) => r.height > 0 && r.top >= top - 0.5 && r.bottom <= bottom + 0.5;
  // The rows scroll inside the list: in view is inside both the window and the list.
  const list = document.getElementById("thread-list").getBoundingClientRect();
  const rows = [...document.querySelectorAll("#thread-list .thread-row")]
    .filter((row) => { const r = row.getBoundingClientRect();
      return inside(r, Math.max(0, list.top), Math.min(innerHeight, list.bottom))
        && r.left >= 0 && r.right <= innerWidth; });
  const pane = document.querySelector("#thread .timeline-scroll").getBoundingClientRect();
  const top = Math.max(0, pane.top), bottom = Math.min(innerHeight, pane.bottom);
  const messages = [...document.querySelectorAll("#thread .timeline-scroll .msg")]
    .filter((m) => inside(m.getBoundingClientRect(), top, bottom));
  return {rows: rows.length, messages: messages.length};
}"""

# The list beside the bulk bar: the bar's and its count's boxes, the rows wholly in
# view (inside the window and the list, which scrolls by itself), and the times that
# stick out of their row or of the line holding them (cut off there).
LIST_LAYOUT = """() => {
  const box = (e) => { const r = e.getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, height: r.height}; };
  const list = document.getElementById("thread-list").getBoundingClientRect();
  const top = Math.max(0, list.top), bottom = Math.min(innerHeight, list.bottom);
  const rows = [...document.querySelectorAll("#thread-list .thread-row")];
  const right = (e) => e.getBoundingClientRect().right;
  const cut = (row) => { const time = row.querySelector("time");
    return right(time) > Math.min(right(row), right(time.parentElement)) + 0.5
      || time.scrollWidth > time.clientWidth + 0.5; };
  return {bar: box(document.getElementById("bulk-bar")),
          count: box(document.getElementById("bulk-count")),
          rows: rows.filter((row) => { const r = row.getBoundingClientRect();
            return r.height > 0 && r.top >= top - 0.5 && r.bottom <= bottom + 0.5; }).length,
          cut_times: rows.filter(cut).map((row) => row.querySelector("time").textContent)};
}"""

BOX = """() => {
  const box = (selector) => { const e = document.querySelector(selector);
    if (!e || !e.offsetParent) return null;
    const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, height: r.height}; };
  const messages = document.querySelectorAll("#thread .timeline-scroll .msg");
  const last = messages[messages.length - 1];
  const lastBox = last ? last.getBoundingClientRect() : null;
  const reply = document.querySelector("#reply-content");
  return {first_row: box("#thread-list .thread-row"), reply: box("#reply-content"),
          send: box("#reply-form button[type=submit]"), error: box("[data-testid=reply-error]"),
          footer: box("#reply-form .composer-footer"), tabs: box("#composer .composer-tabs"),
          timeline: box("#thread .timeline-scroll"), header: box("#thread-header"),
          last_message: lastBox && {top: lastBox.top, bottom: lastBox.bottom},
          reply_scroll: reply && [reply.scrollTop, reply.clientHeight,
            reply.scrollHeight - parseFloat(getComputedStyle(reply).paddingBottom)],
          page_height: document.documentElement.scrollHeight,
          width: document.documentElement.scrollWidth};
}"""


def _stable(page, read: str) -> dict:
    page.wait_for_load_state("load")
    return page.evaluate(STABLE, read)


def _watch_page_errors(page) -> list[str]:
    """Uncaught script errors of ``page`` (a TypeError in bulk.js once came with opening
    a conversation), for the test to assert there were none."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _screenshot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name))


def _in_window(box: dict, height: int) -> bool:
    return box is not None and 0 <= box["top"] and box["bottom"] <= height


def _conversation(thread, texts, agent, customer_first=True, **fields):
    start = thread.created_at - timedelta(minutes=len(texts))
    for i, text in enumerate(texts):
        from_customer = (i % 2 == 0) == customer_first
        factories.message(
            thread,
            text,
            created_at=start + timedelta(minutes=i),
            message_type=MessageType.INCOMING if from_customer else MessageType.OUTGOING,
            sender_contact_id=thread.contact_id if from_customer else None,
            sender_user_id=None if from_customer else agent.id,
            **fields,
        )


def _seed(make_user):
    """Sixteen WhatsApp conversations for a Dutch agent; the newest holds the demo-like
    conversation. Its customer also has an e-mail conversation, and a second WhatsApp
    one to merge. Three are escalated with a deadline and a colleague with a long
    name, the crowded rows where the walk through found the time cut off ("25 nov 13:5").
    """
    agent = make_user("agent", email="anouk@switchboard.test", language="nl")
    colleague = make_user("agent", email="thomas@switchboard.test")
    colleague.name = "Thomas van Dijk"
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    mail = factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Outlook")
    threads = []
    for n in range(16):
        customer = factories.contact(display_name=f"Klant {n + 1:02d}")
        crowded = n in (3, 5, 7)
        thread = factories.thread(
            whatsapp,
            customer,
            minutes_ago=5 + n,
            thread_subject=f"Laadpaal vraag {n + 1}",
            last_message_preview="Mijn laadpaal geeft een rood lampje",
            **(
                dict(
                    status=ThreadStatus.ESCALATED,
                    assigned_to_user_id=colleague.id,
                    response_due_at=utcnow() + timedelta(minutes=14),
                )
                if crowded
                else {}
            ),
        )
        thread.last_customer_message_at = thread.last_message_at
        threads.append(thread)
    busy = threads[0]
    _conversation(busy, WHATSAPP_MESSAGES, agent)
    invoice = factories.thread(
        mail, busy.contact, minutes_ago=30, thread_subject="Factuur klopt niet"
    )
    _conversation(invoice, EMAIL_MESSAGES, agent, subject="RE: Factuur klopt niet")
    invoice.last_customer_message_at = invoice.last_message_at
    stray = factories.thread(whatsapp, busy.contact, minutes_ago=60, thread_subject="Nog een vraag")
    factories.message(
        stray, "Kan de monteur ook naar de meterkast kijken?", sender_contact_id=busy.contact_id
    )
    db.session.commit()
    return busy, invoice, stray


@pytest.fixture
def desk(browser):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    yield page
    context.close()


def test_the_desk_shows_six_messages_a_folded_header_and_a_reply_box_that_grows(
    live_server, desk, make_user
):
    busy, invoice, _ = _seed(make_user)
    errors = _watch_page_errors(desk)
    sign_in(desk, live_server.url, "anouk@switchboard.test")
    desk.goto(f"{live_server.url}/inbox")

    # One row ticked: the bulk bar is one short line, ten rows stay in full view, and
    # no row's time is cut off, the crowded ones included.
    boxes = desk.get_by_test_id("bulk-select")
    boxes.first.check()
    count = desk.get_by_test_id("bulk-count")
    expect(count).to_have_text("1 geselecteerd")
    ticked = _stable(desk, LIST_LAYOUT)
    assert ticked["bar"]["height"] <= 60, f"the bulk bar is {ticked['bar']['height']}px high"
    assert ticked["rows"] >= 10, f"{ticked['rows']} conversations fully in view with one ticked"
    assert ticked["cut_times"] == [], f"times cut off: {ticked['cut_times']}"
    # The thirteenth ticked (the rows scrolled to it): the bar and its count stay put.
    boxes.nth(12).check()
    expect(count).to_have_text("2 geselecteerd")
    expect(count).to_be_in_viewport(ratio=1)
    thirteenth = _stable(desk, LIST_LAYOUT)
    assert thirteenth["bar"] == ticked["bar"], (ticked["bar"], thirteenth["bar"])
    assert thirteenth["bar"]["top"] >= 0 and thirteenth["count"]["bottom"] <= DESKTOP["height"]
    _screenshot(desk, "inbox-after-test.png")
    boxes.first.uncheck()
    boxes.nth(12).uncheck()

    desk.locator(f'#thread-list .thread-row[data-thread-id="{busy.id}"] .thread-link').click()
    expect(desk.locator("#thread .msg").last).to_contain_text("Bedankt voor de snelle hulp")
    expect(desk.locator("body")).to_have_class(re.compile("density-compact"))
    expect(desk.locator("#thread-header details.thread-more")).not_to_have_attribute("open", "")

    counts = _stable(desk, DESK_COUNTS)
    assert counts["rows"] >= 10, f"{counts['rows']} conversations fully in view at 1440x900"
    assert counts["messages"] >= 6, f"{counts['messages']} WhatsApp messages fully in view"

    # The header's controls follow the order they stand in: Snooze, Merge into…,
    # Details, then what Details opens.
    toggle = desk.get_by_test_id("thread-details-toggle")
    toggle.click()
    header_order = desk.evaluate("""() => {
      const header = document.getElementById("thread-header");
      return [...header.querySelectorAll("summary, a, button, select, input:not([type=hidden])")]
        .filter((e) => e.checkVisibility()).map((e) => {
          const r = e.getBoundingClientRect();
          return [e.textContent.trim() || e.name, r.left, r.top]; });
    }""")
    labels = [label for label, _, _ in header_order]
    assert labels[:3] == ["Uitstellen", "Samenvoegen met…", "Details"], labels
    lefts = [left for _, left, _ in header_order[:3]]
    assert lefts == sorted(lefts), header_order
    assert all(top > header_order[2][2] for _, _, top in header_order[3:]), header_order
    # Opened, each control shows its value whole; the choice is kept on reload.
    assignee = desk.get_by_test_id("edit-assignee")
    assert assignee.evaluate("(s) => s.scrollWidth <= s.clientWidth + 1 && s.clientWidth > 90")
    desk.reload()
    expect(desk.locator("#thread-header details.thread-more")).to_have_attribute("open", "")
    desk.get_by_test_id("thread-details-toggle").click()
    desk.reload()
    expect(desk.locator("#thread-header details.thread-more")).not_to_have_attribute("open", "")

    # The reply box grows with its text, then stops at 40 % of the window and scrolls.
    reply = desk.get_by_test_id("reply-content")
    heights = []
    for lines in (1, 8, 40):
        reply.fill("\n".join(f"regel {n}" for n in range(lines)))
        heights.append(_stable(desk, BOX)["reply"]["height"])
    assert heights[0] < heights[1] < heights[2], heights
    assert heights[2] <= DESKTOP["height"] * 0.4 + 1, heights
    # At 40 lines the line with the caret (the last) shows above the footer, whose
    # Send is in the window, and the tabs are still in view.
    reply.press("Control+End")
    boxes = _stable(desk, BOX)
    assert boxes["reply"]["bottom"] <= boxes["footer"]["top"] + 1, boxes
    top, seen, last_line_bottom = boxes["reply_scroll"]
    assert top + seen >= last_line_bottom - 3, boxes["reply_scroll"]  # rounding
    for name in ("send", "tabs", "reply"):
        assert _in_window(boxes[name], DESKTOP["height"]), (name, boxes)

    # Refused by the server (past WhatsApp's limit): the error names the limit, and
    # the error, Send and the text typed are all there without scrolling.
    too_long = "x" * 5_000
    reply.fill(too_long)
    desk.locator("#reply-form button[type=submit]").click()
    error = desk.get_by_test_id("reply-error")
    expect(error).to_contain_text("4096")
    boxes = _stable(desk, BOX)
    for name in ("error", "send"):
        assert _in_window(boxes[name], DESKTOP["height"]), (name, boxes)
    expect(desk.get_by_test_id("reply-content")).to_have_value(too_long)
    expect(desk.get_by_test_id("reply-content")).to_have_attribute("aria-invalid", "true")
    desk.get_by_test_id("reply-content").fill("")

    # An e-mail conversation: six of its mails in view too, CC and BCC folded away.
    desk.goto(f"{live_server.url}/threads/{invoice.id}")
    expect(desk.locator("#thread .msg").last).to_contain_text("Ontvangen, dank!")
    expect(desk.get_by_test_id("reply-cc")).to_be_hidden()
    # Opened by its address, the page draws the list beside it once it is on screen.
    expect(desk.get_by_test_id("thread-list")).to_be_visible()
    counts = _stable(desk, DESK_COUNTS)
    assert counts["messages"] >= 6, f"{counts['messages']} e-mails fully in view at 1440x900"
    # The sign-off waits behind "…"; the repeated "RE:" subject is left out.
    first = desk.locator("#thread .msg").first
    expect(first.locator(".msg-subject")).to_have_count(0)
    expect(first.get_by_text("Jesse van der Heijden")).to_be_hidden()
    first.locator(".msg-signoff > summary").click()
    expect(first.get_by_text("Jesse van der Heijden")).to_be_visible()
    desk.get_by_test_id("recipient-copies-toggle").click()
    expect(desk.get_by_test_id("reply-cc")).to_be_visible()

    assert errors == [], errors


def test_send_stays_in_the_window_under_a_flash_message(live_server, desk, make_user):
    busy, _, stray = _seed(make_user)
    sign_in(desk, live_server.url, "anouk@switchboard.test")
    desk.goto(f"{live_server.url}/threads/{stray.id}")
    desk.get_by_test_id("merge-into").click()
    desk.get_by_test_id("merge-candidates").get_by_label("Laadpaal vraag 1").check()
    desk.get_by_test_id("merge-thread-submit").click()
    desk.get_by_test_id("merge-confirm").click()
    desk.wait_for_url(re.compile(rf"/threads/{busy.id}$"))
    expect(desk.locator("main > .flash")).to_be_visible()

    boxes = _stable(desk, BOX)
    assert boxes["page_height"] <= DESKTOP["height"], boxes
    assert _in_window(boxes["send"], DESKTOP["height"]), boxes


def test_a_phone_shows_list_conversation_and_customer_as_views_back_walks(
    live_server, browser, make_user
):
    busy, _, _ = _seed(make_user)
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in(phone, live_server.url, "anouk@switchboard.test")
        phone.goto(f"{live_server.url}/inbox")
        first_row = _stable(phone, BOX)["first_row"]
        assert first_row["top"] < PHONE["height"] / 2, f"first conversation at y={first_row['top']}"

        # The bulk bar on a phone: one line above the rows, in view with the thirteenth
        # ticked, times whole.
        phone.get_by_test_id("bulk-select").nth(12).tap()
        expect(phone.get_by_test_id("bulk-count")).to_have_text("1 geselecteerd")
        expect(phone.get_by_test_id("bulk-count")).to_be_in_viewport(ratio=1)
        layout = _stable(phone, LIST_LAYOUT)
        assert layout["bar"]["top"] >= 0 and layout["bar"]["height"] <= 60, layout["bar"]
        assert layout["cut_times"] == [], layout["cut_times"]
        _screenshot(phone, "bulk-bar-after-375-test.png")
        phone.get_by_test_id("bulk-select").nth(12).tap()

        phone.locator(f'#thread-list .thread-row[data-thread-id="{busy.id}"] .thread-link').tap()
        expect(phone).to_have_url(f"{live_server.url}/threads/{busy.id}")
        expect(phone.locator("#thread .msg").last).to_contain_text("Bedankt voor de snelle hulp")
        expect(phone.get_by_test_id("thread-list")).to_be_hidden()
        expect(phone.get_by_test_id("customer-panel")).to_be_hidden()
        boxes = _stable(phone, BOX)
        gap = boxes["reply"]["top"] - boxes["last_message"]["bottom"]
        assert gap <= PHONE["height"], f"the reply box is {gap}px below the last message"
        assert boxes["reply"]["bottom"] <= PHONE["height"], "the reply box is on the first screen"
        assert boxes["width"] <= PHONE["width"], "nothing sticks out sideways"
        # The composer's tabs are one line that swipes sideways; header and composer
        # leave the messages most of what is under the top bar.
        assert boxes["tabs"]["height"] <= 48, boxes["tabs"]
        assert boxes["timeline"]["height"] >= 0.4 * PHONE["height"], boxes

        # The customer is a view of its own; back returns to the conversation...
        phone.get_by_test_id("to-customer").tap()
        expect(phone.get_by_test_id("customer-panel")).to_be_visible()
        expect(phone.locator("#thread")).to_be_hidden()
        phone.go_back()
        expect(phone.locator("#thread")).to_be_visible()
        expect(phone.get_by_test_id("customer-panel")).to_be_hidden()
        # ...and so does the panel's own back link, without adding a history entry.
        phone.get_by_test_id("to-customer").tap()
        phone.get_by_test_id("customer-back").tap()
        expect(phone.locator("#thread")).to_be_visible()
        expect(phone).to_have_url(f"{live_server.url}/threads/{busy.id}")
        # Back once more: the list.
        phone.go_back()
        expect(phone).to_have_url(re.compile(r"/inbox$"))
        expect(phone.get_by_test_id("thread-list")).to_be_visible()
    finally:
        context.close()
