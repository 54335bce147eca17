"""The pages work under the Content-Security-Policy.

Every browser test fails on a CSP violation (tests/e2e/conftest.py), so every page
the accessibility crawl opens, as each role, is checked under the policy there. Here:
the watcher itself notices a violation, and the API documentation (Swagger UI,
which no crawl renders) works under it.
"""

from __future__ import annotations

from playwright.sync_api import expect

DESKTOP = (1440, 900)


def test_a_violation_is_noticed(live_server, page, browser):
    page.goto(f"{live_server.url}/login")
    # An inline style attribute, which the policy refuses (CSSOM styles are fine).
    page.evaluate("() => document.body.setAttribute('style', 'background: red')")
    page.wait_for_timeout(200)
    assert any("style-src" in violation for violation in browser.violations)
    browser.violations.clear()  # noticed: this test's purpose, not a failure


def test_the_api_docs_and_the_sign_in_work_under_the_policy(live_server, browser):
    """The pages no crawl renders whole: Swagger UI draws /api/docs with its own
    scripts; every staff page, as each role sees it, is loaded under the policy by
    the accessibility crawl (tests/e2e/test_accessibility.py), which also waits for
    htmx's settings and the Socket.IO connection on each (the walk this test once
    made over the main pages loaded the same pages a second time)."""
    context = browser.new_context(viewport=viewport_of(DESKTOP))
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login")
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        assert_htmx_as_configured(page)
        assert page.goto(f"{live_server.url}/api/docs").status == 200
        page.locator(".opblock-summary").first.click()  # Swagger UI renders more
        expect(page.locator(".opblock-body").first).to_be_visible()
        page.wait_for_timeout(300)
    finally:
        context.close()


def viewport_of(size: tuple[int, int]) -> dict[str, int]:
    return {"width": size[0], "height": size[1]}


def assert_htmx_as_configured(page) -> None:
    """htmx loaded, with our settings (no injected styles, no eval)."""
    page.wait_for_function("() => window.htmx && document.readyState === 'complete'")
    settings = page.evaluate(
        "() => [htmx.config.includeIndicatorStyles, htmx.config.allowEval, "
        "document.querySelectorAll('head style').length]"
    )
    assert settings == [False, False, 0]
