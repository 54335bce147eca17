"""The admin partner page's webhook events: each name stays inside its own checkbox's
column at desk and phone width ("installation_completed" once ran into the next
checkbox)."""

from __future__ import annotations

import os

import pytest

from tests.e2e.test_sign_in import sign_in
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support.partner_support import make_partner

SHOTS = os.environ.get("SCREENSHOT_DIR")

OVERLAPS = """
(root) => {
  const found = [];
  for (const grid of root.querySelectorAll('.checks')) {
    const labels = [...grid.querySelectorAll('label.checkbox')];
    const boxes = labels.map((l) => l.getBoundingClientRect());
    labels.forEach((label, i) => {
      const own = boxes[i];
      for (const part of label.querySelectorAll('code, input')) {
        const r = part.getBoundingClientRect();
        if (r.right > own.right + 0.5 || r.left < own.left - 0.5) {
          found.push(`${label.textContent.trim()} sticks out of its box`);
        }
        boxes.forEach((other, j) => {
          if (j === i) return;
          const apart = r.right <= other.left + 0.5 || r.left >= other.right - 0.5
            || r.bottom <= other.top + 0.5 || r.top >= other.bottom - 0.5;
          const name = labels[j].textContent.trim();
          if (!apart) found.push(`${label.textContent.trim()} runs into ${name}`);
        });
      }
    });
  }
  return found;
}
"""


@pytest.mark.parametrize(
    ("width", "height", "phone"), [(1440, 900, False), (375, 812, True)], ids=["desk", "phone"]
)
def test_event_names_stay_in_their_own_checkbox(
    live_server, browser, make_user, width, height, phone
):
    make_user("admin", email="admin@switchboard.test")
    partner = make_partner()
    options = {"viewport": {"width": width, "height": height}}
    if phone:
        options.update(has_touch=True, is_mobile=True)
    context = browser.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in(page, live_server.url, "admin@switchboard.test")
        page.goto(f"{live_server.url}/partners/{partner.id}")
        page.wait_for_load_state("load")
        events = page.locator("#webhook .checks")
        events.scroll_into_view_if_needed()
        if SHOTS:
            events.screenshot(path=f"{SHOTS}/partner-events-{width}.png")
        assert page.locator("#webhook code", has_text="installation_completed").count() == 1
        assert page.evaluate(OVERLAPS, page.locator("body").element_handle()) == []
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{scroll}px wide on a {width}px screen"
    finally:
        context.close()
