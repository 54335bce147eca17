"""Waiting for the page's live refreshes to be over before a click.

Socket.IO events make the page fetch and swap parts of itself (the list, the
timeline) after a short debounce. A click that lands while its target is being
swapped is lost or lands on whatever moved under the pointer, which a loaded CI
machine made happen. The page keeps polling and saving drafts, so Playwright's
"networkidle" never comes; what counts is that no htmx request is in flight.
"""

from __future__ import annotations

# Longer than the page's refresh debounces (150 and 300 ms, static/js/app.js).
DEBOUNCE_SECONDS = 0.5


# A refresh whose Socket.IO event comes late (a loaded machine) still swaps the
# page after the first quiet moment: quiet means no swap for this long.
QUIET_SECONDS = 1.0
SETTLE_TIMEOUT_SECONDS = 15.0

_COUNT_SWAPS = """() => {
  if (window.__settleSwaps === undefined) {
    window.__settleSwaps = 0;
    document.body.addEventListener('htmx:afterSwap', () => { window.__settleSwaps += 1; });
  }
  return window.__settleSwaps;
}"""


def wait_for_live_refreshes(page) -> None:
    """Return once a refresh that was due has been made and swapped in, and no other
    came within :data:`QUIET_SECONDS` (at most :data:`SETTLE_TIMEOUT_SECONDS`)."""
    swaps = page.evaluate(_COUNT_SWAPS)
    page.wait_for_timeout(DEBOUNCE_SECONDS * 1000)
    waited = DEBOUNCE_SECONDS
    while True:
        page.wait_for_function("() => !document.querySelector('.htmx-request')")
        page.wait_for_timeout(QUIET_SECONDS * 1000)
        waited += QUIET_SECONDS
        now = page.evaluate(_COUNT_SWAPS)
        if now == swaps or waited >= SETTLE_TIMEOUT_SECONDS:
            return
        swaps = now


def wait_until_wired(locator) -> None:
    """Wait until htmx has set up ``locator``'s element (its hx-* attributes work).

    htmx sets up what a swap brought in only when the swap settles (20 ms later, in a
    task of its own): an element can be seen, and changed, before its hx-get is
    listening, and that change sends nothing. No person is that fast; a test is.
    """
    locator.wait_for()
    locator.page.wait_for_function(
        "el => !!(el['htmx-internal-data'] && el['htmx-internal-data'].initHash)",
        arg=locator.element_handle(),
    )
