"""One naming rule for the providers' URL settings, old names
reported as renamed, unknown ``*_API_BASE`` / ``*_OAUTH_*`` variables reported at start-up."""

from __future__ import annotations

import logging
import os

import pytest

from app.integrations.registry import PROVIDERS
from app.platform.config import PROVIDER_URL_DEFAULTS, Config

ZOHO_EU_TOKEN = "https://accounts.zoho.eu/oauth/v2/token"


@pytest.fixture
def clean_env(monkeypatch):
    """No URL setting from the machine running the tests."""
    for name in list(os.environ):
        if name.endswith("_API_BASE") or "_OAUTH_" in name:
            monkeypatch.delenv(name)
    return monkeypatch


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_every_provider_reads_the_three_names_of_the_rule(clean_env, tmp_path, caplog):
    config = Config.from_env(str(tmp_path))
    assert set(PROVIDER_URL_DEFAULTS) == set(PROVIDERS)
    for key, provider in PROVIDERS.items():
        upper = key.upper()
        assert provider.api_base_key == f"{upper}_API_BASE"
        assert provider.api_base_key in config
        if provider.is_oauth:
            assert provider.oauth_authorize_url_key == f"{upper}_OAUTH_AUTHORIZE_URL"
            assert provider.oauth_token_url_key == f"{upper}_OAUTH_TOKEN_URL"
            assert config[provider.oauth_authorize_url_key].startswith("https://")
            assert config[provider.oauth_token_url_key].startswith("https://")
    assert config["ZOHO_CRM_OAUTH_TOKEN_URL"] == ZOHO_EU_TOKEN
    assert "ZOHO_OAUTH_TOKEN_URL" not in config
    assert _warnings(caplog) == []


def test_the_new_name_is_read(clean_env, tmp_path):
    clean_env.setenv("ZOHO_CRM_OAUTH_TOKEN_URL", "https://accounts.zoho.com/oauth/v2/token")
    config = Config.from_env(str(tmp_path))
    assert config["ZOHO_CRM_OAUTH_TOKEN_URL"] == "https://accounts.zoho.com/oauth/v2/token"


def test_the_old_zoho_name_still_works_and_is_reported_as_renamed(clean_env, tmp_path, caplog):
    clean_env.setenv("ZOHO_OAUTH_AUTHORIZE_URL", "https://accounts.zoho.com/oauth/v2/auth")
    config = Config.from_env(str(tmp_path))
    assert config["ZOHO_CRM_OAUTH_AUTHORIZE_URL"] == "https://accounts.zoho.com/oauth/v2/auth"
    assert _warnings(caplog) == [
        "configuration: ZOHO_OAUTH_AUTHORIZE_URL is renamed to ZOHO_CRM_OAUTH_AUTHORIZE_URL; "
        "the old name works for now"
    ]
    # The new name wins when both are set.
    clean_env.setenv("ZOHO_CRM_OAUTH_AUTHORIZE_URL", "https://accounts.zoho.in/oauth/v2/auth")
    assert Config.from_env(str(tmp_path))["ZOHO_CRM_OAUTH_AUTHORIZE_URL"] == (
        "https://accounts.zoho.in/oauth/v2/auth"
    )


def test_unknown_names_are_reported_at_start_up_with_the_name_meant(clean_env, make_app, caplog):
    clean_env.setenv("HUBSPOT_OAUTH_AUTHORISE_URL", "http://127.0.0.1:9/authorize")
    clean_env.setenv("ZOHO_API_BASE", "https://www.zohoapis.com/crm/v6")
    clean_env.setenv("WHATSAPP_API_BASE", "https://graph.facebook.com")  # known: silent
    caplog.set_level(logging.WARNING, logger="app.platform.config")
    app = make_app(start_embedded_worker=False)
    warnings = _warnings(caplog)
    assert (
        "configuration: HUBSPOT_OAUTH_AUTHORISE_URL is not a setting Switchboard knows and is "
        "ignored (did you mean HUBSPOT_OAUTH_AUTHORIZE_URL?)"
    ) in warnings
    assert (
        "configuration: ZOHO_API_BASE is not a setting Switchboard knows and is ignored "
        "(did you mean ZOHO_CRM_API_BASE?)"
    ) in warnings
    assert not any("WHATSAPP" in w for w in warnings)
    assert app.config["HUBSPOT_OAUTH_AUTHORIZE_URL"] == "https://app.hubspot.com/oauth/authorize"


def test_a_name_like_nothing_known_is_still_reported(clean_env, tmp_path, caplog):
    clean_env.setenv("QQQQQQQQQQQQ_OAUTH_ZZZZZZZZZZZZZZZZ", "x")
    Config.from_env(str(tmp_path))
    assert _warnings(caplog) == [
        "configuration: QQQQQQQQQQQQ_OAUTH_ZZZZZZZZZZZZZZZZ is not a setting Switchboard "
        "knows and is ignored"
    ]
