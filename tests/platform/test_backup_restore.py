"""Back up and restore as docs/operations.md says.

A dump of a working database (``pg_dump --format=custom``) is restored into an
empty database (``pg_restore``); the app, started on the restored database with
the same ``ENCRYPTION_KEYS``, serves the customer's conversation through its API
and still reads the credentials it stored encrypted. With other keys it cannot:
the keys are part of the backup.
"""

from __future__ import annotations

import subprocess
import uuid

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models import Integration
from app.platform.models.enums import ChannelType, TokenKind
from tests.conftest import TEST_DATABASE_URL
from tests.support import factories
from tests.support.helpers import customer_writes
from tests.support.topology import postgres_binaries

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs TEST_DATABASE_URL")


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def restored_url():
    """An empty database beside the test database, dropped after the test."""
    name = f"switchboard_restored_{uuid.uuid4().hex[:8]}"
    server = sa.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(TEST_DATABASE_URL).set(database=name)
    yield url.render_as_string(hide_password=False)
    with server.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


def test_a_restored_dump_serves_the_conversation_with_the_same_keys(
    app, make_app, make_user, restored_url, tmp_path
):
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    jan = factories.contact(display_name="Jan Jansen", phone="+31612345678")
    db.session.commit()
    thread = customer_writes(whatsapp, jan, "wamid.b1", "Wanneer komt de monteur?").thread
    factories.integration("stripe", credentials={"api_key": "sk_live_bewaard"})
    manager = make_user("manager")
    _, token = issue_token(TokenKind.PERSONAL, "desk", user_id=manager.id)
    db.session.commit()

    bin_dir = postgres_binaries()
    dump = tmp_path / "switchboard.dump"
    subprocess.run(  # noqa: S603  (the commands docs/operations.md gives)
        [
            str(bin_dir / "pg_dump"),
            "--format=custom",
            "--no-owner",
            "-f",
            str(dump),
            _plain(TEST_DATABASE_URL),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    subprocess.run(  # noqa: S603
        [
            str(bin_dir / "pg_restore"),
            "--no-owner",
            "--exit-on-error",
            "-d",
            _plain(restored_url),
            str(dump),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )

    restored = make_app(SQLALCHEMY_DATABASE_URI=restored_url, start_embedded_worker=False)
    answer = restored.test_client().get(
        f"/api/communication/threads/{thread.id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    assert "Wanneer komt de monteur?" in answer.get_data(as_text=True)
    with restored.app_context():
        stored = db.session.scalar(sa.select(Integration).where(Integration.provider == "stripe"))
        assert stored.credentials == {"api_key": "sk_live_bewaard"}

    # Without the keys the rows come back, the secrets do not.
    strange_keys = make_app(
        SQLALCHEMY_DATABASE_URI=restored_url,
        ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        start_embedded_worker=False,
    )
    with strange_keys.app_context():
        integration = db.session.scalar(
            sa.select(Integration).where(Integration.provider == "stripe")
        )
        with pytest.raises(RuntimeError, match="could not be decrypted with ENCRYPTION_KEYS"):
            _ = integration.credentials
