"""No serious or critical WCAG 2.1 A/AA violation on any page.

For each role a crawl signs in on the demo data and visits every page the role
can reach: the app's GET pages without arguments, then one page of each further
page kind a visited page links to (a thread, an order, a partner...). axe-core
checks each page in light colours (tests/e2e/axe.py), then the same page again
in dark colours (the system's dark mode, which the theme follows) for the rules
that depend on colour. The test lists every page with its violations.

One test per role, so test processes share them. The suite's time budget is
tight, so no page is loaded twice: light and dark share one visit (switching the
colour scheme re-styles the page without loading it again), and the desk pages
all staff share are checked in the agent's crawl only.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import HTTPException

from app.platform.extensions import db
from app.platform.models import CommunicationThread, Contact, Integration, User
from app.seed.demo import DEMO_PASSWORD, load_demo_data
from tests.e2e.axe import axe_violations, load_axe_on_every_page
from tests.e2e.test_content_security_policy import assert_htmx_as_configured
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support.helpers import PASSWORD, enroll_two_factor, has_second_factor, second_factor_code
from tests.support.portal_support import build_world
from tests.support.seeded_once import SeededOnce

DESK = {"viewport": {"width": 1440, "height": 900}}
PHONE = {"viewport": {"width": 375, "height": 812}, "has_touch": True, "is_mobile": True}
# The desk pages every staff member has, checked once, as the agent sees them;
# a manager's and an admin's crawl pass them by (their own pages show their
# top bar, menus included). The agent's test fails if it did not check them all.
DESK_PAGES = {
    "inbox.index",
    "threads.show",
    "orders.show",
    "tasks.board",
    "tasks.new",
    "tasks.edit",
    "email_intake.queue",
    "email_intake.show",
    "merges.thread_form",
    "merges.contact_search",
    "saved_views.manage",
    "preferences.edit",
    "security.index",
    "security.change_password",
    "signatures.edit",
    "calendar.settings",
    "api_docs.partners_guide",
}
# role: (e-mail, browser, first page, page kinds it must check, page kinds left to others)
ROLES = {
    "agent": ("agent@switchboard.test", DESK, "/inbox", DESK_PAGES | {"planning.board"}, set()),
    "manager": (
        "manager@switchboard.test",
        DESK,
        "/analytics",
        {"analytics.index", "planning.board", "planning.technician"},
        DESK_PAGES,
    ),
    "admin": (
        "admin@switchboard.test",
        DESK,
        "/admin/users",
        {
            "admin.users",
            "partners.show",
            "integrations.show",
            "message_templates.edit",
            "gdpr.show",
        },
        DESK_PAGES,
    ),
    "technician": (
        "tech@switchboard.test",
        PHONE,
        "/m/",
        {"mobile.today", "mobile.conversation"},
        set(),
    ),
    "partner": ("alpha@portal.test", DESK, "/portal/", {"portal.orders", "portal.order"}, set()),
}
# What the dark colours can change; every other rule reads the page's structure.
COLOUR_RULES = ["color-contrast", "link-in-text-block"]
# Not pages: files, feeds, probes, and hand-offs to a sign-in provider.
NOT_PAGES = {
    "static",
    "favicon",
    "metrics",
    "health.healthz",
    "health.readyz",
    "attachments.download",
    "analytics.export_csv",
    "partners.performance_export",
    "calendar.feed",
    "mobile_offline.manifest",
    "mobile_offline.service_worker",
    "api_docs.openapi_json",
    "api_docs.partners_guide_markdown",
    "microsoft_sign_in.start",
    "microsoft_sign_in.callback",
    "integrations.oauth_callback",
    "auth.root",
}
# Under /api/ only the partner guide is a page of ours (Swagger UI draws /api/docs).
HTML_UNDER_API = {"api_docs.partners_guide"}


def _is_page(rule) -> bool:
    if rule.endpoint in NOT_PAGES or "GET" not in rule.methods:
        return False
    return not rule.rule.startswith("/api/") or rule.endpoint in HTML_UNDER_API


def _is_document(response) -> bool:
    """A whole HTML page, not a partial, a file or JSON."""
    if "text/html" not in response.headers.get("content-type", ""):
        return False
    return response.text().lstrip()[:15].lower() == "<!doctype html>"


def _settled(page) -> None:
    """Loaded, htmx's first requests answered, the live connection made and fonts in:
    what axe should see. On the way, the page's scripts run as the Content-Security-
    Policy allows (tests/e2e/conftest.py fails the test on any violation): htmx with
    our settings, and Socket.IO connected where the page opens it."""
    page.wait_for_load_state("load")
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    if page.evaluate("() => !!window.htmx"):
        assert_htmx_as_configured(page)
    page.wait_for_function("() => !window.switchboardSocket || window.switchboardSocket.connected")
    page.evaluate("() => document.fonts.ready.then(() => true)")


def check_both_schemes(page) -> list[str]:
    """axe on the page in light colours, then its colour rules in dark ones."""
    page.emulate_media(color_scheme="light")
    found = axe_violations(page)
    page.emulate_media(color_scheme="dark")
    found += [f"dark: {line}" for line in axe_violations(page, rules=COLOUR_RULES)]
    page.emulate_media(color_scheme="light")
    return found


def crawl(app, page, base_url: str, starts: list[str], skip=frozenset()) -> dict[str, list[str]]:
    """Check each page kind the signed-in user reaches once; {endpoint: violations}.

    ``starts`` come first, then the argument-less GET pages, then the first
    link on a checked page to each page kind not seen yet. A refusal (403, 404), a redirect or
    anything that is not a whole HTML document (a partial, a file) is passed by,
    and so are the page kinds in ``skip`` (checked in another role's crawl).
    """
    adapter = app.url_map.bind("localhost")
    rules = [rule for rule in app.url_map.iter_rules() if _is_page(rule)]
    wanted = {rule.endpoint for rule in rules}
    queue = starts + sorted(rule.rule for rule in rules if not rule.arguments)
    seen: set[str] = set()
    results: dict[str, list[str]] = {}
    while queue:
        path = queue.pop(0)
        try:
            endpoint, _args = adapter.match(path, method="GET")
        except HTTPException:
            continue
        if endpoint in seen or endpoint not in wanted or endpoint in skip:
            continue
        seen.add(endpoint)
        # Asked first without rendering (the page's cookies, no scripts, no
        # styles): refusals, redirects and files never cost a page load.
        probe = page.request.get(f"{base_url}{path}", max_redirects=0)
        assert probe.status < 500, f"{path} answered {probe.status}"
        if probe.status != 200 or not _is_document(probe):
            continue
        page.goto(f"{base_url}{path}")
        _settled(page)
        results[endpoint] = check_both_schemes(page)
        links = page.eval_on_selector_all(
            "a[href^='/']", "links => links.map(link => link.getAttribute('href'))"
        )
        queue.extend(urlsplit(link).path for link in links)
    return results


def sign_in_checking(page, base_url: str, email: str, password: str) -> dict[str, list[str]]:
    """Sign in through the forms, checking the sign-in page and the code page on the way."""
    page.goto(f"{base_url}/login")
    _settled(page)
    results = {"auth.login": check_both_schemes(page)}
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("form button[type=submit]").click()
    if has_second_factor(email):
        page.wait_for_url("**/login/verify")
        _settled(page)
        results["auth.verify"] = check_both_schemes(page)
        page.locator("input[name=code]").fill(second_factor_code(email))
        page.locator("form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)
    return results


def _seed(role: str, make_user) -> str:
    """The demo data for staff, or partners with orders, callbacks and keys; the password."""
    if role == "partner":
        build_world(make_user, language="nl")
        db.session.remove()
        return PASSWORD
    if _DEMO.rows is not None:
        _DEMO.restore()
        db.session.remove()
        return DEMO_PASSWORD
    load_demo_data()
    # The demo has no connected integration: one waiting for its OAuth step.
    db.session.add(
        Integration(
            provider="hubspot",
            name="HubSpot",
            category="crm",
            auth_method="oauth2",
            status="pending",
            credentials={},
            config={},
        )
    )
    db.session.commit()
    for email in ("manager@switchboard.test", "admin@switchboard.test"):
        enroll_two_factor(db.session.scalar(sa.select(User).where(User.email == email)))
    _DEMO.keep()
    db.session.remove()
    return DEMO_PASSWORD


_DEMO = SeededOnce()


def _linked_nowhere(role: str) -> list[str]:
    """This role's pages whose only links are on pages its crawl passes by."""
    if role == "agent":
        # The customer pane links "merge with another contact" only where the agent may
        # merge that contact; the first conversation's customer may be one they may not.
        agent_id = db.session.scalar(
            sa.select(User.id).where(User.email == "agent@switchboard.test")
        )
        contacts = db.session.scalars(
            sa.select(CommunicationThread.contact_id)
            .where(
                CommunicationThread.assigned_to_user_id == agent_id,
                CommunicationThread.contact_id.is_not(None),
            )
            .distinct()
            .limit(10)
        ).all()
        return [f"/contacts/{contact_id}/merge" for contact_id in contacts]
    if role != "admin":
        return []
    # A customer's privacy page is linked from the conversation's customer pane,
    # which the agent's crawl checks; the admin alone may open it.
    contact_id = db.session.scalar(sa.select(Contact.id).order_by(Contact.created_at).limit(1))
    return [f"/admin/contacts/{contact_id}/privacy"]


@pytest.mark.parametrize("role", list(ROLES))
def test_no_serious_or_critical_violations(app, live_server, browser, make_user, role):
    email, device, start, must_check, skip = ROLES[role]
    password = _seed(role, make_user)
    context = browser.new_context(locale="nl-NL", **device)
    load_axe_on_every_page(context)
    try:
        page = context.new_page()
        page.set_default_timeout(ACTION_TIMEOUT_MS)
        results = sign_in_checking(page, live_server.url, email, password)
        results.update(crawl(app, page, live_server.url, [start, *_linked_nowhere(role)], skip))
        # The error page, as a mistyped address shows it to this role.
        assert page.goto(f"{live_server.url}/geen-pagina").status == 404
        _settled(page)
        results["404"] = check_both_schemes(page)
    finally:
        context.close()
    print(f"{role}: {len(results)} pages checked: {', '.join(sorted(results))}")
    failing = {endpoint: lines for endpoint, lines in results.items() if lines}
    report = "\n".join(
        f"{endpoint}:\n  " + "\n  ".join(lines) for endpoint, lines in sorted(failing.items())
    )
    missing = sorted(must_check - set(results))
    assert not failing and not missing, (
        f"never checked: {missing}\n"
        f"{len(failing)} of {len(results)} pages fail WCAG 2.1 AA:\n{report}"
    )
