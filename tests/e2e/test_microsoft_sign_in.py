"""A person presses "Sign in with Microsoft", passes the (fake) Entra ID and lands in the inbox."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import opened
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support.microsoft_support import CALLBACK_PATH, entra_fake

pytestmark = pytest.mark.filterwarnings("ignore:response_mode='form_post':UserWarning")


@pytest.fixture
def entra(monkeypatch):
    yield from entra_fake(monkeypatch, "http://127.0.0.1:5000")


@pytest.fixture
def app(make_app, entra):
    with opened(make_app(**entra.app_config())) as app:
        yield app


@pytest.fixture
def microsoft_page(browser, live_server, app, entra):
    """A browser page that trusts the fake authority's certificate, the app served live."""
    app.config["PUBLIC_BASE_URL"] = live_server.url
    entra.redirect_uris.add(live_server.url + CALLBACK_PATH)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, ignore_https_errors=True)
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    yield page
    context.close()


def test_sign_in_with_microsoft_lands_in_the_inbox(microsoft_page, live_server, entra, make_user):
    make_user("agent", email="anouk@chargecars.nl")
    entra.sign_in_as("Anouk@chargecars.nl", name="Anouk de Vries")

    microsoft_page.goto(f"{live_server.url}/inbox")
    expect(microsoft_page).to_have_url(re.compile(r"/login\?next="))
    microsoft_page.get_by_role("link", name="Sign in with Microsoft").click()

    expect(microsoft_page).to_have_url(re.compile(r"/inbox$"))
    expect(microsoft_page.get_by_test_id("whoami")).to_contain_text("Test agent")
    assert entra.requests_to("/oauth2/v2.0/authorize", "GET")
    assert entra.requests_to("/oauth2/v2.0/token", "POST")


def test_unknown_microsoft_account_sees_why_on_the_login_page(
    microsoft_page, live_server, entra, make_user
):
    make_user("agent", email="anouk@chargecars.nl")
    entra.sign_in_as("stranger@chargecars.nl")

    microsoft_page.goto(f"{live_server.url}/login")
    microsoft_page.get_by_role("link", name="Sign in with Microsoft").click()

    expect(microsoft_page.get_by_test_id("microsoft-error")).to_have_text(
        "No Switchboard account uses stranger@chargecars.nl. "
        "Ask an admin to add you, then try again."
    )
    expect(microsoft_page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
