"""A database world built once per test process and copied back for the next test.

Walks that crawl many pages start from the whole demo (every model, hundreds of
rows): building it through the models costs seconds of the test process's CPU each
time, copying its rows back with PostgreSQL's binary COPY a tenth of a second. The
copy holds the rows as the first seeding wrote them, so a later test's demo is as
many seconds older as the tests in between took. On SQLite the world is built for
each test, as before.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.platform.extensions import db


class SeededOnce:
    """Rows kept after a first build (:meth:`keep`), put back for later tests
    (:meth:`restore`) on an emptied database."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, bytes]] | None = None

    def keep(self) -> None:
        if db.engine.dialect.name != "postgresql":
            return
        cursor = db.session.connection().connection.driver_connection.cursor()
        rows = []
        for table in db.metadata.sorted_tables:
            with cursor.copy(f'COPY "{table.name}" TO STDOUT (FORMAT BINARY)') as copy:
                rows.append((table.name, b"".join(bytes(chunk) for chunk in copy)))
        db.session.commit()
        self.rows = rows

    def restore(self) -> None:
        connection = db.session.connection()
        # Every row goes back as it was: the foreign keys held when it was copied.
        connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        cursor = connection.connection.driver_connection.cursor()
        for name, data in self.rows:
            with cursor.copy(f'COPY "{name}" FROM STDIN (FORMAT BINARY)') as copy:
                copy.write(data)
        db.session.commit()

    def seed(self, build) -> None:
        """Build with ``build()`` the first time, then put the kept rows back."""
        if self.rows is not None:
            self.restore()
            return
        build()
        self.keep()
