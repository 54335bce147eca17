"""Deployment defaults.

- On PostgreSQL the app refuses to start without SECRET_KEY and ENCRYPTION_KEYS
  in the environment, saying why; SQLite (``make run``) still generates them.
- The SQLite file, the generated secrets and the instance folder are private.
- CSV exports never hand a spreadsheet a formula.
"""

from __future__ import annotations

import csv
import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import create_app
from app.analytics.export import cell
from app.analytics.tables import COUNT, DURATION, PERCENT, TEXT
from app.platform.auth.services import create_user
from app.platform.extensions import db
from app.platform.instance_secrets import ensure_instance_secrets, ensure_private_sqlite_file
from app.platform.models import Team
from app.platform.models.enums import Role
from app.platform.security.spreadsheets import inert_cell, inert_text
from tests.conftest import base_config
from tests.support.helpers import PASSWORD
from tests.support.topology import ROOT

POSTGRES = "postgresql+psycopg://switchboard@127.0.0.1:9/switchboard"


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# --- secrets on a shared database -------------------------------------------------


@pytest.mark.parametrize("script", ["wsgi.py", "worker.py"])
def test_processes_refuse_to_start_on_postgresql_without_the_secrets(script, tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SECRET_KEY", "ENCRYPTION_KEYS", "REDIS_URL")
        and not key.startswith(("TEST_", "PYTEST_"))
    }
    env.update(DATABASE_URL=POSTGRES, SWITCHBOARD_INSTANCE_PATH=str(tmp_path / "instance"))
    started = subprocess.run(  # noqa: S603  (our own entry point)
        [sys.executable, script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode != 0
    message = started.stderr.strip().splitlines()[-1]
    assert "SECRET_KEY and ENCRYPTION_KEYS must be set in the environment" in message
    assert "sessions and CSRF tokens invalid on the others" in message
    assert "unreadable on the others" in message
    assert not (tmp_path / "instance" / "secret_key").exists()  # nothing generated


@pytest.mark.parametrize("key", ["x", "test-secret", "change-me", "s" * 31])
def test_a_short_or_default_secret_key_is_refused_with_how_to_make_one(key, tmp_path):
    """The web process does not start on such a key."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name != "REDIS_URL" and not name.startswith(("TEST_", "PYTEST_"))
    }
    env.update(
        DATABASE_URL=POSTGRES,
        SECRET_KEY=key,
        ENCRYPTION_KEYS=base_config()["ENCRYPTION_KEYS"],
        SWITCHBOARD_INSTANCE_PATH=str(tmp_path / "instance"),
    )
    started = subprocess.run(  # noqa: S603  (our own entry point)
        [sys.executable, "wsgi.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert started.returncode != 0
    message = started.stderr.strip().splitlines()[-1]
    assert "SECRET_KEY " in message and "secrets.token_urlsafe(48)" in message


def test_a_long_random_secret_key_is_accepted(tmp_path):
    config = {"SQLALCHEMY_DATABASE_URI": POSTGRES, "SECRET_KEY": "k" * 32, "ENCRYPTION_KEYS": "e"}
    ensure_instance_secrets(str(tmp_path), config)


def test_the_message_names_only_what_is_missing(tmp_path):
    config = {"SQLALCHEMY_DATABASE_URI": POSTGRES, "SECRET_KEY": "s" * 48, "ENCRYPTION_KEYS": None}
    with pytest.raises(RuntimeError, match=r"^ENCRYPTION_KEYS must be set in the environment"):
        ensure_instance_secrets(str(tmp_path), config)
    # Even a key file left in the instance folder is not used on a shared database.
    (tmp_path / "encryption_keys").write_text("a-local-key\n")
    with pytest.raises(RuntimeError):
        ensure_instance_secrets(str(tmp_path), config)


def test_postgresql_with_both_secrets_starts(tmp_path, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_INSTANCE_PATH", str(tmp_path / "instance"))
    config = base_config(SQLALCHEMY_DATABASE_URI=POSTGRES, REDIS_URL=None)
    app = create_app(config, start_embedded_worker=False)  # connects to nothing yet
    assert app.config["SECRET_KEY"] == config["SECRET_KEY"]
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_sqlite_still_generates_private_secrets_from_nothing(tmp_path):
    instance = tmp_path / "instance"
    config = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'switchboard.db'}"}
    ensure_instance_secrets(str(instance), config)
    assert config["SECRET_KEY"] and config["ENCRYPTION_KEYS"]
    assert mode(instance) == 0o700
    assert mode(instance / "secret_key") == 0o600
    assert mode(instance / "encryption_keys") == 0o600


# --- the SQLite file --------------------------------------------------------------


def test_the_sqlite_file_is_created_private(tmp_path, monkeypatch):
    previous = os.umask(0o022)  # the usual umask, which would make it world-readable
    try:
        monkeypatch.setenv("SWITCHBOARD_INSTANCE_PATH", str(tmp_path / "instance"))
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
        app = create_app(base_config(SQLALCHEMY_DATABASE_URI=url), start_embedded_worker=False)
        assert mode(tmp_path / "fresh.db") == 0o600
        with app.app_context():
            db.session.execute(sa.text("CREATE TABLE probe (id INTEGER)"))
            db.session.commit()
            db.engine.dispose()
        assert mode(tmp_path / "fresh.db") == 0o600
    finally:
        os.umask(previous)


def test_a_relative_sqlite_path_is_made_where_flask_sqlalchemy_opens_it(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    monkeypatch.setenv("SWITCHBOARD_INSTANCE_PATH", str(instance))
    url = "sqlite:///relative.db"
    app = create_app(base_config(SQLALCHEMY_DATABASE_URI=url), start_embedded_worker=False)
    assert mode(instance / "relative.db") == 0o600
    with app.app_context():
        assert Path(db.engine.url.database) == instance / "relative.db"
    ensure_private_sqlite_file(str(instance), "sqlite:///:memory:")  # nothing to create
    ensure_private_sqlite_file(str(instance), POSTGRES)


def test_an_existing_database_file_is_left_as_it_is(tmp_path):
    existing = tmp_path / "kept.db"
    existing.write_bytes(b"")
    existing.chmod(0o640)
    ensure_private_sqlite_file(str(tmp_path), f"sqlite:///{existing}")
    assert mode(existing) == 0o640


# --- CSV cells --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "written"),
    [
        (
            '=HYPERLINK("https://evil.example","Klik")',
            '\'=HYPERLINK("https://evil.example","Klik")',
        ),
        ("+31 6 12345678", "'+31 6 12345678"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Anna de Vries", "Anna de Vries"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_text_that_a_spreadsheet_would_run_is_made_inert(text, written):
    assert inert_text(text) == written
    assert inert_cell(cell(text, TEXT)) == written  # as the export's writer writes it


def test_numbers_stay_numbers_even_when_negative():
    assert inert_cell(cell(-90, DURATION)) == "-1,5"
    assert inert_cell(cell(-12.5, PERCENT)) == "-12,5"
    assert inert_cell(cell(-3, COUNT)) == "-3"
    assert inert_cell(cell(-3, TEXT)) == -3


def test_an_agent_named_like_a_formula_is_exported_as_text(app, client, auth, make_user):
    team = Team(name="=cmd|' /C calc'!A0", slug="kwaad")
    db.session.add(team)
    db.session.flush()
    create_user(
        "kwaad@switchboard.test",
        '=HYPERLINK("https://evil.example")',
        Role.AGENT,
        PASSWORD,
        team_id=team.id,
    )
    db.session.commit()
    manager = make_user("manager")  # with the two-factor sign-in analytics asks of managers
    auth.login(manager.email)

    workload = client.get("/analytics.csv", query_string={"figure": "workload"})
    assert workload.status_code == 200
    rows = list(csv.reader(io.StringIO(workload.get_data(as_text=True)[1:]), delimiter=";"))
    names = [row[0] for row in rows[1:]]
    assert '\'=HYPERLINK("https://evil.example")' in names
    assert not any(name.startswith("=") for name in names)
