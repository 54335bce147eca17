"""Browser fixtures: Debian's Chromium driven by Playwright.

``playwright install`` cannot download browsers here, so the suite launches
Debian's Chromium. Most tests get its headless shell
(``/usr/bin/chromium-headless-shell``, Debian package ``chromium-headless-shell``,
or ``CHROMIUM_HEADLESS_SHELL_PATH``): the same engine without the browser's
windowing layer, what Playwright itself runs for headless tests, at about half the
CPU of the full browser (measured on tests/e2e/test_composer.py: 6.8 s instead of
12.2 s). A test marked ``full_chromium`` gets the full browser (``/usr/bin/chromium``
or ``CHROMIUM_PATH``): the shell grants no notification permission and does not
replay a service worker's queue when the network comes back. Without the shell,
every test gets the full browser. Outside CI a missing browser skips these tests
with a reason; with ``CI=true`` it fails them.

Every page of every browser test runs under the app's Content-Security-Policy,
and any violation fails the test (:class:`CspWatchedBrowser`): a script, style
or connection the policy blocks is a feature that silently stopped working.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.e2e.timeouts import ACTION_TIMEOUT_MS, NAVIGATION_TIMEOUT_MS

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
HEADLESS_SHELL_PATH = os.environ.get(
    "CHROMIUM_HEADLESS_SHELL_PATH", "/usr/bin/chromium-headless-shell"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


# Assertions wait as long as actions do (Playwright's own default is 5 s).
expect.set_options(timeout=ACTION_TIMEOUT_MS)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "full_chromium: needs the full browser, not its headless shell (notifications, "
        "a service worker's queue replayed when the network comes back)",
    )


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


# Chromium reports a violation on the console itself; the DOM event also catches
# the ones it only reports to a page (and names the directive and the source).
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked `
    + `${event.blockedURI || "inline code"} (${event.sourceFile}:${event.lineNumber})`);
});
"""
CSP_MARKERS = ("Content Security Policy", "CSP violation")


class CspWatchedBrowser:
    """The session's browser: every context it opens records CSP violations."""

    def __init__(self, browser) -> None:
        self._browser = browser
        self.violations: list[str] = []

    def new_context(self, **options):
        context = self._browser.new_context(**options)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        context.add_init_script(CSP_LISTENER)
        context.on("console", self._console)
        return context

    def new_page(self, **options):
        return self.new_context(**options).new_page()

    def _console(self, message) -> None:
        if any(marker in message.text for marker in CSP_MARKERS):
            self.violations.append(f"{message.page.url if message.page else '?'}: {message.text}")

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.fixture(scope="session")
def _playwright():
    with sync_playwright() as playwright:
        yield playwright


def _launch(playwright, path: str) -> CspWatchedBrowser:
    return CspWatchedBrowser(
        playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
    )


@pytest.fixture(scope="session")
def full_chromium(_playwright):
    if not Path(CHROMIUM_PATH).exists():
        message = f"Chromium not found at {CHROMIUM_PATH} (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    browser = _launch(_playwright, CHROMIUM_PATH)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def headless_shell(request, _playwright):
    if not Path(HEADLESS_SHELL_PATH).exists():
        yield request.getfixturevalue("full_chromium")
        return
    browser = _launch(_playwright, HEADLESS_SHELL_PATH)
    yield browser
    browser.close()


@pytest.fixture
def browser(request):
    """The session's headless shell, or its full browser for a ``full_chromium`` test."""
    if request.node.get_closest_marker("full_chromium"):
        return request.getfixturevalue("full_chromium")
    return request.getfixturevalue("headless_shell")


@pytest.fixture(autouse=True)
def no_csp_violations(request):
    """Fail any browser test during which a page broke the Content-Security-Policy."""
    if "browser" not in request.fixturenames:
        yield
        return
    browser = request.getfixturevalue("browser")
    browser.violations.clear()
    yield
    assert not browser.violations, "Content-Security-Policy violations:\n" + "\n".join(
        browser.violations
    )


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    page.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    yield page
    context.close()
