"""The pages work under the Content-Security-Policy (issue 14, point 9).

Every browser test fails on a CSP violation (tests/e2e/conftest.py); this one
walks the main pages of the demo data as each role sees them, waits for htmx and
Socket.IO, and checks that the watcher itself notices a violation.

Set ``SECURITY_SHOTS=<dir>`` to keep the screenshots of the walk.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from app.models import Integration, Order, Organization
from app.models.enums import OrganizationType
from app.seed.demo import load_demo_data
from tests.e2e.test_sign_in import sign_in

DESKTOP = (1440, 900)
PHONE = (375, 812)
# A page reached by a link on the page before (one this user may open).
FIRST_THREAD = "#thread-list .thread-link"
FIRST_DRAFT = "table a[href*='/intake/drafts/']"
DEMO_PASSWORD = "demo1234"  # noqa: S105  (the demo users' documented password)


def test_a_violation_is_noticed(live_server, page, browser):
    page.goto(f"{live_server.url}/login")
    # An inline style attribute, which the policy refuses (CSSOM styles are fine).
    page.evaluate("() => document.body.setAttribute('style', 'background: red')")
    page.wait_for_timeout(200)
    assert any("style-src" in violation for violation in browser.violations)
    browser.violations.clear()  # noticed: this test's purpose, not a failure


def test_the_main_pages_work_under_the_policy(live_server, browser, tmp_path):
    load_demo_data()
    db.session.commit()
    partner = db.session.scalars(
        sa.select(Organization).where(Organization.organization_type == OrganizationType.PARTNER)
    ).first()
    order = db.session.scalars(sa.select(Order).order_by(Order.order_number)).first()
    hubspot = Integration(
        provider="hubspot",
        name="HubSpot",
        category="crm",
        auth_method="oauth2",
        status="pending",
        credentials={},
        config={},
    )
    db.session.add(hubspot)
    db.session.commit()
    shots = Path(os.environ.get("SECURITY_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)

    walks = {
        ("agent", DESKTOP): [
            "/inbox",
            FIRST_THREAD,
            "/tasks",
            "/settings/signature",
            "/intake/drafts",
            FIRST_DRAFT,
        ],
        ("manager", DESKTOP): ["/analytics"],
        ("admin", DESKTOP): [
            "/admin/users",
            "/admin/templates/",
            "/admin/templates/new",
            "/admin/channels/",
            "/admin/assignment/",
            "/admin/sla/",
            "/admin/events/",
            "/admin/intake-forms/",
            "/partners/",
            f"/partners/{partner.id}",
            f"/partners/{partner.id}/deliveries",
            f"/orders/{order.order_number}",
            "/integrations/",
            f"/integrations/{hubspot.id}",
            "/integrations/webhooks/",
            "/api/docs",
        ],
        ("tech", PHONE): ["/m/"],
    }
    anonymous = browser.new_context(viewport=viewport_of(DESKTOP))
    login = anonymous.new_page()
    login.goto(f"{live_server.url}/login")
    expect(login.get_by_role("button", name="Sign in")).to_be_visible()
    _wait_for_htmx(login)
    login.screenshot(path=str(shots / "login.png"))
    anonymous.close()

    for (role, viewport), paths in walks.items():
        context = browser.new_context(viewport=viewport_of(viewport), is_mobile=viewport == PHONE)
        page = context.new_page()
        sign_in(page, live_server.url, f"{role}@switchboard.test", DEMO_PASSWORD)
        page.wait_for_url(lambda url: "/login" not in url)
        for path in paths:
            if path in (FIRST_THREAD, FIRST_DRAFT):
                path = page.locator(path).first.get_attribute("href")
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == 200, path
            if path == "/api/docs":
                page.locator(".opblock-summary").first.click()  # Swagger UI renders more
                expect(page.locator(".opblock-body").first).to_be_visible()
            else:
                _wait_for_htmx(page)
                page.wait_for_function(
                    "() => window.switchboardSocket && window.switchboardSocket.connected"
                )
            page.wait_for_timeout(300)
            name = f"{role}-{path.strip('/').replace('/', '-') or 'root'}"[:80]
            page.screenshot(path=str(shots / f"{name}.png"))
        context.close()


def viewport_of(size: tuple[int, int]) -> dict[str, int]:
    return {"width": size[0], "height": size[1]}


def _wait_for_htmx(page) -> None:
    """htmx loaded, with our settings (no injected styles, no eval)."""
    page.wait_for_function("() => window.htmx && document.readyState === 'complete'")
    settings = page.evaluate(
        "() => [htmx.config.includeIndicatorStyles, htmx.config.allowEval, "
        "document.querySelectorAll('head style').length]"
    )
    assert settings == [False, False, 0]
