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


def wait_for_live_refreshes(page) -> None:
    """Return once a refresh that was due has been made and swapped in."""
    page.wait_for_timeout(DEBOUNCE_SECONDS * 1000)
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
