"""The ``flask`` commands print JSON and create what they say."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import ApiToken, Organization, PartnerIntegration, User


def test_users_create_and_token(runner, client):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "new@switchboard.test",
            "--name",
            "Nieuw",
            "--role",
            "manager",
            "--password",
            "longenough1",
        ]
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert created["role"] == "manager"
    assert db.session.scalar(sa.select(User).where(User.email == "new@switchboard.test"))

    result = runner.invoke(args=["users", "token", "new@switchboard.test"])
    assert result.exit_code == 0, result.output
    token = json.loads(result.output)["token"]
    response = client.get(
        "/api/communication/threads", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200


def test_users_create_refuses_bad_input(runner):
    def create(role: str, password: str):
        return runner.invoke(
            args=["users", "create", "x@switchboard.test", "--name", "X"]
            + ["--role", role, "--password", password]
        )

    result = create("agent", "short")
    assert result.exit_code != 0
    assert "password" in result.output
    result = create("pilot", "longenough1")
    assert result.exit_code != 0


def test_users_token_for_unknown_user_fails(runner):
    result = runner.invoke(args=["users", "token", "ghost@switchboard.test"])
    assert result.exit_code != 0
    assert "no user" in result.output


def test_partners_create(runner):
    result = runner.invoke(
        args=["partners", "create", "Groendus", "--webhook-url", "https://partner.example/hook"]
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert set(created) == {"partner_id", "api_key", "webhook_secret", "sandbox_webhook_secret"}
    assert created["webhook_secret"].startswith("whsec_")
    org = db.session.get(Organization, uuid.UUID(created["partner_id"]))
    assert org.name == "Groendus"
    integration = db.session.scalar(
        sa.select(PartnerIntegration).where(PartnerIntegration.partner_organization_id == org.id)
    )
    assert integration.webhook_url == "https://partner.example/hook"
    assert integration.webhook_secret == created["webhook_secret"]
    # The key is only stored hashed, the secret only encrypted.
    assert not db.session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == created["api_key"])
    )
    raw = db.session.execute(
        sa.text("SELECT webhook_secret FROM partner_integrations")
    ).scalar_one()
    assert created["webhook_secret"] not in raw

    again = runner.invoke(args=["partners", "create", "groendus"])
    assert again.exit_code != 0
    assert "already exists" in again.output


def test_partners_create_refuses_plain_http_without_allowance(make_app):
    app = make_app(start_embedded_worker=False, ALLOW_PRIVATE_WEBHOOK_URLS=False)
    with app.app_context():
        result = app.test_cli_runner().invoke(
            args=["partners", "create", "Essent", "--webhook-url", "http://partner.example/hook"]
        )
    assert result.exit_code != 0
    assert "https" in result.output


@pytest.mark.parametrize(
    ("name", "url"),
    [("Essent", "http://127.0.0.1:8765/callbacks"), ("Eneco", "https://localhost:8443/callbacks")],
)
def test_a_local_callback_url_is_refused_with_the_way_to_try_it_locally(make_app, name, url):
    """The quick start on `make run` gave a local receiver's URL and got only
    "must be an https:// URL": the refusal names the way out."""
    app = make_app(start_embedded_worker=False, ALLOW_PRIVATE_WEBHOOK_URLS=False)
    with app.app_context():
        refused = app.test_cli_runner().invoke(
            args=["partners", "create", name, "--webhook-url", url]
        )
    assert refused.exit_code != 0
    assert "ALLOW_PRIVATE_WEBHOOK_URLS=1" in refused.output, refused.output
    assert "make run" in refused.output and "--webhook-url out" in refused.output

    allowed = make_app(start_embedded_worker=False, ALLOW_PRIVATE_WEBHOOK_URLS=True)
    with allowed.app_context():
        created = allowed.test_cli_runner().invoke(
            args=["partners", "create", name, "--webhook-url", url]
        )
    assert created.exit_code == 0, created.output


def test_first_run_commands_run_nothing_before_the_schema_exists(tmp_path):
    """`make run` migrates and seeds with the `flask` command before serving. Building
    the app there starts no background thread: an embedded worker in that process ran
    periodic jobs against tables not made yet ("no such table: internal_task")."""
    root = Path(__file__).resolve().parents[2]
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ENCRYPTION_KEYS")
        and not key.startswith(("TEST_", "PYTEST_"))
    }
    # A fresh SQLite file, as on a fresh clone.
    env["SWITCHBOARD_INSTANCE_PATH"] = str(tmp_path / "instance")
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'first-run.db'}"
    for command in (["db", "upgrade"], ["seed", "demo"]):
        ran = subprocess.run(  # noqa: S603  (our own entry point)
            [sys.executable, "-m", "flask", "--app", "wsgi", *command],
            cwd=root, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        output = ran.stderr + ran.stdout
        assert ran.returncode == 0, ran.stderr
        assert "Traceback" not in output, command
        assert "no such table" not in output, command
        assert "embedded worker loop failed" not in output, command


def test_building_the_app_starts_no_thread(tmp_path):
    """Only serving starts the embedded worker (wsgi.py's main, gunicorn's hook)."""
    root = Path(__file__).resolve().parents[2]
    probe = (
        "import threading, wsgi; "
        "names = [t.name for t in threading.enumerate()]; "
        "assert 'embedded-rq-worker' not in names, names; "
        "wsgi.start_background_work(); "
        "assert 'embedded-rq-worker' in [t.name for t in threading.enumerate()]"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["SWITCHBOARD_INSTANCE_PATH"] = str(tmp_path / "instance")
    ran = subprocess.run(  # noqa: S603  (our own entry point)
        [sys.executable, "-c", probe],
        cwd=root, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr


def test_gunicorn_starts_the_embedded_worker_after_forking(make_app):
    """Without REDIS_URL a gunicorn worker process runs the queues (gunicorn.conf.py)."""
    settings = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    app = make_app(start_embedded_worker=False, REDIS_URL=None)
    broker = app.extensions["broker"]
    assert broker.embedded and not broker.embedded_worker_busy()
    settings["post_worker_init"](SimpleNamespace(wsgi=app))
    assert broker._embedded_worker is not None and broker._embedded_worker.is_alive()
