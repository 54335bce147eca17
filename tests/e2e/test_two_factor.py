"""Two-factor sign-in in the browser: setup, a code, a recovery code, the admin gate.

With ``SECURITY_SHOTS=<dir>`` the pages are also photographed (1440 px and a
375 px phone) for a person to look at.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import expect

from tests.e2e.test_sign_in import sign_in
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support.helpers import PASSWORD

SHOTS = os.environ.get("SECURITY_SHOTS")


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture(params=[(1440, 900), (375, 812)], ids=["desktop", "phone"])
def sized_page(browser, request):
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    page.size = "phone" if width < 600 else "desktop"
    yield page
    context.close()


def set_up_two_factor(page) -> tuple[pyotp.TOTP, list[str]]:
    """From the security page: scan (read) the key, type a code, read the codes."""
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    expect(page.get_by_test_id("qr-code").locator("svg")).to_be_visible()
    shot(page, f"setup-{page.size}")
    secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    page.get_by_label("Type the 6-digit code the app shows").fill(totp.now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.get_by_test_id("recovery-codes").locator("code").all_inner_texts()
    shot(page, f"recovery-codes-{page.size}")
    return totp, codes


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").first.click()
    expect(page).to_have_url(re.compile(r"/login$"))


def type_password(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/login/verify$"))


def test_agent_sets_up_and_signs_in_with_a_code_then_a_recovery_code(
    live_server, sized_page, make_user
):
    page = sized_page
    email = f"anouk-{page.size}@switchboard.test"
    make_user("agent", email=email)
    sign_in(page, live_server.url, email)
    expect(page).to_have_url(re.compile(r"/inbox$"))

    page.goto(f"{live_server.url}/settings/security")
    expect(page.get_by_role("heading", name="Security", exact=True)).to_be_visible()
    shot(page, f"security-off-{page.size}")
    totp, codes = set_up_two_factor(page)
    assert len(codes) == 10
    page.get_by_role("link", name="I have saved them, continue").click()
    expect(page.get_by_test_id("two-factor-card")).to_contain_text("On")
    expect(page.get_by_test_id("codes-left")).to_have_text("10 recovery codes left.")
    shot(page, f"security-on-{page.size}")
    sign_out(page)

    # The password alone opens nothing; the app's code does.
    type_password(page, live_server.url, email)
    page.goto(f"{live_server.url}/inbox")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    type_password(page, live_server.url, email)
    shot(page, f"verify-{page.size}")
    page.get_by_label("Code").fill("000000" if totp.now() != "000000" else "111111")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_test_id("code-error")).to_have_text(
        "That code is not right, or it was just used. Wait for the next code in your app."
    )
    shot(page, f"verify-wrong-{page.size}")
    # The setup used this step's code: the app's next one (a step ahead) is taken.
    page.get_by_label("Code").fill(totp.at(time.time() + 30))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/inbox$"))
    sign_out(page)

    # Phone lost: a recovery code, once.
    type_password(page, live_server.url, email)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/inbox$"))
    page.goto(f"{live_server.url}/settings/security")
    expect(page.get_by_test_id("codes-left")).to_have_text("9 recovery codes left.")
    sign_out(page)
    type_password(page, live_server.url, email)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_test_id("code-error")).to_be_visible()


def test_admin_without_two_factor_is_sent_to_setup_and_back(live_server, sized_page, make_user):
    page = sized_page
    email = f"admin-{page.size}@switchboard.test"
    make_user("admin", email=email, two_factor=False)
    sign_in(page, live_server.url, email)
    expect(page).to_have_url(re.compile(r"/inbox$"))

    page.goto(f"{live_server.url}/admin/users")
    expect(page).to_have_url(re.compile(r"/settings/security\?next=/admin/users"))
    expect(page.get_by_role("status")).to_contain_text(
        "Admin pages and integrations need two-factor sign-in."
    )
    expect(page.get_by_test_id("two-factor-required")).to_be_visible()
    shot(page, f"admin-sent-to-setup-{page.size}")

    set_up_two_factor(page)
    page.get_by_role("link", name="I have saved them, continue").click()
    expect(page).to_have_url(re.compile(r"/admin/users$"))
    expect(page.get_by_test_id(f"two-factor-{email}")).to_contain_text("on")
    page.get_by_test_id(f"two-factor-{email}").get_by_text("Reset…").click()
    expect(page.get_by_role("button", name="Reset two-factor sign-in")).to_be_visible()
    shot(page, f"admin-users-{page.size}")


def test_password_change_page(live_server, sized_page, make_user):
    page = sized_page
    email = f"bram-{page.size}@switchboard.test"
    make_user("agent", email=email)
    sign_in(page, live_server.url, email)
    expect(page).to_have_url(re.compile(r"/inbox$"))
    page.goto(f"{live_server.url}/settings/password")
    page.get_by_label("Current password").fill("not-the-password")
    page.get_by_label("New password", exact=True).fill("a-new-long-password")
    page.get_by_label("New password again").fill("a-new-long-password")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("That is not your password.")).to_be_visible()
    shot(page, f"password-error-{page.size}")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("a-new-long-password")
    page.get_by_label("New password again").fill("a-new-long-password")
    page.get_by_role("button", name="Change password").click()
    expect(page).to_have_url(re.compile(r"/settings/security$"))
    expect(page.get_by_role("status")).to_contain_text("Your password is changed.")
    shot(page, f"password-changed-{page.size}")


def test_a_failed_sign_in_states_the_lockout_policy(live_server, sized_page, make_user):
    page = sized_page
    make_user("agent", email="anouk@switchboard.test")
    sign_in(page, live_server.url, "anouk@switchboard.test", "not-the-password")
    expect(page.get_by_test_id("login-error")).to_have_text("Invalid e-mail or password.")
    expect(page.get_by_test_id("lockout-note")).to_have_text(
        "After 5 failed attempts an account is locked for 15 minutes."
    )
    shot(page, f"login-failed-{page.size}")
