"""Irreversible acts in the browser: merges ask first, and the bulk bar.

Namesakes are put side by side and merge only on "Confirm merge"; an agent who
may not merge sees the control disabled with the reason; the bulk bar is one line
that stays in view and lies over no row, and the tab counts move with a bulk action,
without a reload.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import expect

from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import ContactIdentity
from app.platform.models.enums import ChannelType
from tests.e2e.test_sign_in import sign_in
from tests.support import factories

# Screenshots for a person to look at, only when asked for (SCREENSHOTS_DIR=...).
SHOTS = os.environ.get("SCREENSHOTS_DIR")

# The bulk bar's and every row's box in page coordinates, once the fonts are in and
# two reads a frame apart agree (a loaded machine may still be laying out).
STABLE_BOXES = """async () => {
  await document.fonts.ready;
  const read = () => {
    const box = (el) => { const r = el.getBoundingClientRect();
      return [r.left + scrollX, r.top + scrollY, r.right + scrollX, r.bottom + scrollY]; };
    return JSON.stringify({bar: box(document.getElementById("bulk-bar")),
      rows: Array.from(document.querySelectorAll("#thread-list .thread-row")).map(box)});
  };
  let before = read();
  for (let i = 0; i < 20; i++) {
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    const now = read();
    if (now === before) return JSON.parse(now);
    before = now;
  }
  return JSON.parse(before);
}"""

# Rows in view whose middle is under another element. In view: below the top bar,
# inside the window and inside the list, whose rows scroll by themselves (a row
# scrolled out of the list is hidden by it, not covered).
COVERED_ROWS = """() => {
  const list = document.getElementById("thread-list").getBoundingClientRect();
  const top = Math.max(document.querySelector(".topbar").getBoundingClientRect().bottom, list.top);
  const bottom = Math.min(innerHeight, list.bottom);
  return Array.from(document.querySelectorAll("#thread-list .thread-row")).filter((row) => {
    const r = row.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    if (y <= top + 1 || y >= bottom - 1) return false;
    return !row.contains(document.elementFromPoint(x, y));
  }).map((row) => row.textContent.trim().slice(0, 40));
}"""


def _screenshot(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name))


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_namesakes_side_by_side_merge_on_confirm_and_who_may_not_is_told(
    live_server, page, make_user
):
    ours, theirs = factories.team("Klantenservice"), factories.team("Techniek")
    make_user("agent", email="anouk@switchboard.test", team_id=ours.id)
    mail = factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Outlook")
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    first = factories.contact(display_name="Jan de Vries", phone="+31611111111", email=None)
    second = factories.contact(
        display_name="Jan de Vries", phone="+31622222222", email="jdv@voorbeeld.nl"
    )
    db.session.add(ContactIdentity(contact_id=second.id, kind="phone", address="+31622222222"))
    thread = factories.thread(mail, first, thread_subject="Offerte thuislader")
    factories.thread(
        whatsapp,
        second,
        thread_subject="Storing in Zwolle",
        last_message_preview="Mijn laadpaal in Zwolle geeft foutcode E4",
    )
    # Someone the agent may not merge: one of her conversations is another team's.
    eva = factories.contact(display_name="Eva de Boer", phone="+31633333333")
    eva_thread = factories.thread(mail, eva, thread_subject="Vraag over factuur")
    factories.thread(whatsapp, eva, thread_subject="Monteur", assigned_team_id=theirs.id)
    db.session.commit()

    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, "anouk@switchboard.test")
    page.goto(f"{live_server.url}/contacts/{first.id}/merge/{second.id}?back={thread.id}")
    expect(page.get_by_test_id("merge-same-name")).to_contain_text("Both contacts are called")
    compare = page.get_by_test_id("merge-compare")
    for text in ("+31611111111", "+31622222222", "jdv@voorbeeld.nl", "Storing in Zwolle"):
        expect(compare).to_contain_text(text)
    expect(page.get_by_test_id("kept-facts")).to_contain_text("+31611111111")
    _screenshot(page, "merge-same-name.png")
    page.get_by_test_id("merge-contact-submit").click()
    expect(page.get_by_test_id("kept-threads")).to_contain_text("Storing in Zwolle")
    expect(page.get_by_test_id("undo-merge")).to_be_visible()

    page.goto(f"{live_server.url}/threads/{eva_thread.id}")
    disabled = page.get_by_test_id("customer-merge-disabled")
    expect(disabled).to_be_disabled()
    expect(page.get_by_test_id("customer-merge-reason")).to_contain_text(
        "Only someone who may open every conversation of this contact may merge it"
    )
    expect(page.get_by_test_id("customer-merge-link")).to_have_count(0)


def test_the_bulk_bar_covers_no_row_and_counts_move_with_the_action(live_server, page, make_user):
    team = factories.team("Klantenservice")
    make_user("agent", email="anouk@switchboard.test", team_id=team.id)
    channel = factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Outlook")
    for number in range(12):
        factories.thread(
            channel,
            factories.contact(),
            thread_subject=f"Offerte {number:02d}",
            assigned_team_id=team.id,
            minutes_ago=number,
            last_customer_message_at=utcnow(),  # unread for everyone
        )
    db.session.commit()

    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, "anouk@switchboard.test")
    rows = page.locator("#thread-list .thread-row")
    expect(rows).to_have_count(12)
    # The bar's script listens from the page's load on; its form comes in after it.
    page.wait_for_load_state()
    expect(page.get_by_test_id("bulk-select-all")).to_be_visible()
    expect(page.get_by_test_id("count-mine")).to_have_text("0")
    expect(page.get_by_test_id("count-unassigned")).to_have_text("12")
    # A reload would lose this mark: the counts must change without one.
    page.evaluate("window.noReload = true")

    boxes = page.get_by_test_id("bulk-select")
    for index in range(3):
        boxes.nth(index).check()
    expect(page.get_by_test_id("bulk-count")).to_have_text("3 selected")
    expect(page.locator("#bulk-actions")).to_be_visible()
    layout = page.evaluate(STABLE_BOXES)
    assert [row for row in layout["rows"] if _overlaps(layout["bar"], row)] == []
    # One line: the actions beside the count, the rarer ones folded under "More".
    bar_height = layout["bar"][3] - layout["bar"][1]
    assert bar_height <= 60, f"the bulk bar is {bar_height}px high"
    # Scrolled down to the middle and to the end: no row in view is under anything,
    # and the bar with its count is still in view, where it was.
    for row in (rows.nth(4), rows.last):
        row.evaluate("row => row.scrollIntoView({block: 'start'})")
        assert page.evaluate(COVERED_ROWS) == []
        expect(page.get_by_test_id("bulk-count")).to_be_in_viewport(ratio=1)
        assert page.evaluate(STABLE_BOXES)["bar"] == layout["bar"]
    _screenshot(page, "bulk-bar-after-test.png")

    page.get_by_test_id("bulk-bar").get_by_role("button", name="Assign", exact=True).click()
    expect(page.get_by_test_id("bulk-summary")).to_contain_text("3 changed")
    expect(page.get_by_test_id("count-mine")).to_have_text("3")
    expect(page.get_by_test_id("count-unassigned")).to_have_text("9")
    # The unread marks go with "Mark as read", too.
    expect(page.get_by_test_id("unread-dot")).to_have_count(12)
    page.get_by_test_id("bulk-select-all").check()
    page.get_by_test_id("bulk-more").locator("summary").click()
    page.get_by_test_id("bulk-read").click()
    expect(page.get_by_test_id("bulk-summary")).to_contain_text("12 changed")
    expect(page.get_by_test_id("unread-dot")).to_have_count(0)
    assert page.evaluate("window.noReload") is True
    assert re.search(r"/inbox$", page.url)
