"""Configuration from the environment, generated secrets and key rotation."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from app.platform.config import Config, normalise_database_url, parse_pairs
from app.platform.crypto import KeyRing
from app.platform.instance_secrets import ensure_instance_secrets


def test_defaults_when_nothing_is_set(monkeypatch, tmp_path):
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "PUBLIC_BASE_URL",
        "WHATSAPP_API_VERSION",
        "PORT",
        "DELIVERY_RETRY_BASE_SECONDS",
        "ATTACHMENTS_DIR",
        "GRAPH_TENANT_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    config = Config.from_env(str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/switchboard.db"
    assert config["REDIS_URL"] is None
    assert config["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"
    assert config["WHATSAPP_API_BASE"] == "https://graph.facebook.com"
    assert config["WHATSAPP_API_VERSION"] == "v18.0"
    assert config["DELIVERY_RETRY_BASE_SECONDS"] == 60
    assert config["PORT"] == 5000
    assert config["ATTACHMENTS_DIR"] == f"{tmp_path}/attachments"
    assert config["SESSION_COOKIE_SECURE"] is False


def test_environment_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/switchboard")
    monkeypatch.setenv(
        "TEAMS_WEBHOOK_URLS", "operations=https://a.example/1, tech=https://b.example/2"
    )
    monkeypatch.setenv("GRAPH_TENANT_ID", "contoso")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://switchboard.chargecars.nl")
    monkeypatch.setenv("ALLOW_PRIVATE_WEBHOOK_URLS", "1")
    config = Config.from_env(str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/switchboard"
    assert config["TEAMS_WEBHOOK_URLS"] == {
        "operations": "https://a.example/1",
        "tech": "https://b.example/2",
    }
    assert config["GRAPH_AUTHORITY"] == "https://login.microsoftonline.com/contoso"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["ALLOW_PRIVATE_WEBHOOK_URLS"] is True


def test_bad_numbers_are_named(monkeypatch, tmp_path):
    monkeypatch.setenv("PORT", "five thousand")
    with pytest.raises(RuntimeError, match="PORT"):
        Config.from_env(str(tmp_path))


def test_parse_pairs_rejects_garbage():
    assert parse_pairs(None) == {}
    with pytest.raises(RuntimeError, match="key=value"):
        parse_pairs("operations")


def test_normalise_database_url():
    assert normalise_database_url("postgres://x/y") == "postgresql+psycopg://x/y"
    assert normalise_database_url("sqlite:///a.db") == "sqlite:///a.db"


def test_missing_secrets_are_generated_once(tmp_path):
    first: dict = {}
    ensure_instance_secrets(str(tmp_path), first)
    assert len(first["SECRET_KEY"]) > 40
    Fernet(first["ENCRYPTION_KEYS"].encode())  # a valid key
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"
    second: dict = {}
    ensure_instance_secrets(str(tmp_path), second)
    assert second == first
    given = {"SECRET_KEY": "from-env", "ENCRYPTION_KEYS": first["ENCRYPTION_KEYS"]}
    ensure_instance_secrets(str(tmp_path), given)
    assert given["SECRET_KEY"] == "from-env"


def test_key_rotation():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = KeyRing()
    before.configure(old)
    token = before.encrypt("whsec_abc")
    after = KeyRing()
    after.configure(f"{new},{old}")
    assert after.decrypt(token) == "whsec_abc"
    rotated = after.rotate(token)
    only_new = KeyRing()
    only_new.configure(new)
    assert only_new.decrypt(rotated) == "whsec_abc"
    with pytest.raises(RuntimeError, match="could not be decrypted"):
        only_new.decrypt(token)


def test_invalid_keys_are_reported():
    ring = KeyRing()
    with pytest.raises(RuntimeError, match="Fernet"):
        ring.configure("not-a-key")
