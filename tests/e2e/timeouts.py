"""How long the browser tests wait, in milliseconds.

Waits end as soon as the page is ready, so a passing test costs nothing for a
long one; a short one fails a test on a slow machine instead of on the page.
On a loaded 2-core CI machine (three test processes, their worker processes and
browsers) the live server was seen to take over 10 s for a page and for a
search's answer now and then.
"""

# A click, a fill, an assertion's wait for what it expects.
ACTION_TIMEOUT_MS = 20_000
# A page load.
NAVIGATION_TIMEOUT_MS = 30_000
