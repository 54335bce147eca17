"""What a deployment keeps in its instance folder: the signing and encryption keys
(made once for ``make run`` on SQLite, required from the environment elsewhere),
and the SQLite database file, created readable by its owner only.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url


def is_sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite:")


DEPLOYMENT_SECRETS = ("SECRET_KEY", "ENCRYPTION_KEYS")


def ensure_instance_secrets(instance_path: str, config: dict) -> None:
    """Fill SECRET_KEY and ENCRYPTION_KEYS from ``instance/`` or create them there.

    Only on SQLite, which is one machine's database (``make run``): files are
    written with mode 0600 and the environment always wins. With any other
    database several hosts share the data, so both must come from the
    environment and the app refuses to start without them.
    """
    # No database set means the default, SQLite in the instance folder.
    if not is_sqlite(config.get("SQLALCHEMY_DATABASE_URI") or "sqlite:"):
        missing = [name for name in DEPLOYMENT_SECRETS if not config.get(name)]
        if missing:
            raise RuntimeError(missing_secrets_message(missing))
        refuse_weak_secret_key(config["SECRET_KEY"])
    folder = Path(instance_path)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _read_or_create(
            folder / "secret_key", lambda: secrets.token_urlsafe(48)
        )
    if not config.get("ENCRYPTION_KEYS"):
        config["ENCRYPTION_KEYS"] = _read_or_create(
            folder / "encryption_keys", lambda: Fernet.generate_key().decode()
        )


# A session cookie is as strong as the key that signs it: a short key can be
# found offline from one cookie, and a default one is known to everybody.
SECRET_KEY_MIN_LENGTH = 32
KNOWN_DEFAULT_KEYS = frozenset(
    {
        "secret",
        "secret-key",
        "secret_key",
        "changeme",
        "change-me",
        "change_me",
        "dev",
        "development",
        "default",
        "test",
        "test-secret",
        "switchboard",
        "please-change-me",
    }
)
MAKE_SECRET_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"  # noqa: S105 (a command)


def refuse_weak_secret_key(key: str) -> None:
    """Refuse a deployment's ``SECRET_KEY`` that is short or a well-known default.

    Only outside the embedded demo: ``make run`` on SQLite makes a strong key itself.
    """
    problem = None
    if key.strip().lower() in KNOWN_DEFAULT_KEYS:
        problem = "is a well-known default"
    elif len(key) < SECRET_KEY_MIN_LENGTH:
        problem = f"is {len(key)} characters long, fewer than {SECRET_KEY_MIN_LENGTH}"
    if problem:
        raise RuntimeError(
            f"SECRET_KEY {problem}: anyone who guesses it can sign session cookies. "
            f"Make one with: SECRET_KEY=$({MAKE_SECRET_KEY}) and give every web and "
            "worker process the same value."
        )


def missing_secrets_message(missing: list[str]) -> str:
    names = " and ".join(missing)
    return (
        f"{names} must be set in the environment when DATABASE_URL is not SQLite. "
        "Every web and worker process of a deployment has to use the same keys: a key "
        "generated on each host would make one host's sessions and CSRF tokens invalid "
        "on the others, and credentials stored encrypted by one host unreadable on the "
        "others. Generate them once and give every process the same values: SECRET_KEY="
        "$(python -c 'import secrets; print(secrets.token_urlsafe(48))') ENCRYPTION_KEYS="
        "$(python -c 'from cryptography.fernet import Fernet; "
        "print(Fernet.generate_key().decode())')"
    )


def ensure_private_sqlite_file(instance_path: str, database_url: str) -> None:
    """Create the SQLite database file readable by its owner only (0600).

    SQLite would create it with the process's umask (usually world-readable);
    an empty file is a valid empty database, and SQLite gives its journal and
    WAL files the database file's mode.
    """
    if not is_sqlite(database_url):
        return
    database = make_url(database_url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.is_absolute():  # Flask-SQLAlchemy reads relative paths from the instance folder
        path = Path(instance_path) / path
    if not path.parent.is_dir():
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def _read_or_create(path: Path, make) -> str:
    if path.exists():
        value = path.read_text().strip()
        if value:
            return value
    value = make()
    # O_EXCL: when two processes start together only one writes; the other reads.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value
