"""Two refreshes of the list asked for at once keep the bulk bar on the page.

htmx.ajax without a source puts every call in one queue (the body's): the second
waits for the first and still aims at the list it found when it was asked for, which
the first then replaces. Swapped into that detached list, it pulled the kept bulk bar
(hx-preserve) out of the page: after a bulk action, the bar and its summary vanished
now and then (a live refresh and the bar's own refresh meeting). static/js/app.js
drops such a swap and asks for the list as it is now.
"""

from __future__ import annotations

from playwright.sync_api import expect

from app.platform.extensions import db
from app.platform.models.enums import ChannelType
from tests.e2e.test_sign_in import sign_in
from tests.support import factories


def inbox_with_one_row_ticked(live_server, page, make_user, rows: int) -> None:
    """An agent's inbox of ``rows`` conversations at 1440x900, the first one ticked."""
    team = factories.team("Klantenservice")
    make_user("agent", email="anouk@switchboard.test", team_id=team.id)
    channel = factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Outlook")
    for number in range(rows):
        factories.thread(
            channel,
            factories.contact(),
            thread_subject=f"Offerte {number}",
            assigned_team_id=team.id,
        )
    db.session.commit()

    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, "anouk@switchboard.test")
    page.wait_for_load_state()
    expect(page.get_by_test_id("bulk-select-all")).to_be_visible()
    page.get_by_test_id("bulk-select").first.check()
    expect(page.get_by_test_id("bulk-count")).to_have_text("1 selected")


def test_a_refresh_aimed_at_a_replaced_list_keeps_the_bulk_bar(live_server, page, make_user):
    inbox_with_one_row_ticked(live_server, page, make_user, rows=3)

    # The first refresh is on its way when the second is asked for: the second waits,
    # aimed at the list the first replaces.
    page.evaluate(
        """() => {
          window.swaps = 0;
          document.body.addEventListener("htmx:afterSwap", () => { window.swaps += 1; });
          const url = document.getElementById("inbox").dataset.refreshUrl;
          htmx.ajax("GET", url, {target: "#inbox", swap: "outerHTML"});
          htmx.ajax("GET", url, {target: "#inbox", swap: "outerHTML"});
        }"""
    )
    # The first swap, the dropped one, and the list asked for again: three answers.
    page.wait_for_function("() => window.swaps >= 2 && !document.querySelector('.htmx-request')")
    page.wait_for_timeout(300)
    expect(page.get_by_test_id("bulk-bar")).to_be_visible()
    expect(page.locator("#inbox #bulk-bar")).to_have_count(1)
    expect(page.get_by_test_id("bulk-count")).to_have_text("1 selected")
    expect(page.get_by_test_id("bulk-select").first).to_be_checked()


def test_a_refresh_landing_while_the_bar_settles_keeps_its_summary(live_server, page, make_user):
    """An action's bar comes back with its summary, and clears the old selection only
    once htmx has settled it (20 ms on). A live refresh of the list landing in between
    found the selection still there and took the summary for read: after "Mark as
    read" on twelve rows its "12 changed" vanished now and then. Only a person's tick
    takes the summary away now."""
    inbox_with_one_row_ticked(live_server, page, make_user, rows=2)

    # The moment in between, held still: the summary is in the bar, the selection not
    # yet cleared, and the list's refresh lands.
    page.evaluate(
        """() => {
          const note = document.createElement("div");
          note.className = "bulk-summary";
          note.dataset.testid = "bulk-summary";
          note.textContent = "1 changed";
          document.getElementById("bulk-bar").append(note);
          window.swaps = 0;
          document.body.addEventListener("htmx:afterSwap", () => { window.swaps += 1; });
          const url = document.getElementById("inbox").dataset.refreshUrl;
          htmx.ajax("GET", url, {target: "#inbox", swap: "outerHTML"});
        }"""
    )
    page.wait_for_function("() => window.swaps >= 1 && !document.querySelector('.htmx-request')")
    expect(page.get_by_test_id("bulk-summary")).to_have_text("1 changed")

    # A person's next tick reads it away.
    page.get_by_test_id("bulk-select").nth(1).check()
    expect(page.get_by_test_id("bulk-summary")).to_have_count(0)
