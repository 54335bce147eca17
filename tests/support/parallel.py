"""One database and one Redis database per test process, for ``pytest -n``.

pytest-xdist names its processes ``gw0``, ``gw1`` …; every one of them empties
the database and Redis between tests, so two of them sharing either would wipe
each other's rows mid-test. Process ``gwN`` uses the database ``<name>_gwN``
(created here when missing) and Redis database ``<number> - N``. A run without
xdist (``pytest`` alone, or ``-n 0``) uses the configured ones as they are.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.engine import make_url


def _index(worker: str) -> int | None:
    match = re.fullmatch(r"gw(\d+)", worker or "")
    return int(match.group(1)) if match else None


def own_database(url: str | None, worker: str) -> str | None:
    index = _index(worker)
    if not url or index is None:
        return url
    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    if parsed.get_backend_name() == "postgresql":
        server = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with server.connect() as connection:
                exists = connection.scalar(
                    sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                )
                if not exists:
                    connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        except sa.exc.OperationalError:
            pass  # unreachable: the session fixture reports it (and fails under CI)
        finally:
            server.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def own_redis_database(url: str | None, worker: str) -> str | None:
    index = _index(worker)
    if not url or index is None:
        return url
    base, _, number = url.rpartition("/")
    if not number.isdigit():
        return f"{url.rstrip('/')}/{15 - index}"
    return f"{base}/{int(number) - index}"
