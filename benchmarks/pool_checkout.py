"""What the check for hung-up connections costs each pooled checkout.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/postgres \
    .venv/bin/python benchmarks/pool_checkout.py

Times checkouts of a connection used a moment ago (the hot path: a session takes
one per transaction), with the ``poll`` that looks for a server's goodbye and
without it, alternating rounds so both meet the same machine. Touches no table.
Prints figures only.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from app.platform import database  # noqa: E402

CHECKOUTS = 20_000
ROUNDS = 7


def _round(engine: sa.Engine) -> float:
    """Microseconds per checkout and return of a recently used connection."""
    began = time.perf_counter()
    for _ in range(CHECKOUTS):
        with engine.connect():
            pass
    return (time.perf_counter() - began) / CHECKOUTS * 1e6


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        sys.exit("set BENCH_DATABASE_URL (see the module docstring)")
    engine = sa.create_engine(url, pool_size=1)
    database.ping_when_idle(engine)
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))
    real = database._hung_up
    with_poll, without = [], []
    for _ in range(ROUNDS):
        database._hung_up = real
        with_poll.append(_round(engine))
        database._hung_up = lambda connection, info: False
        without.append(_round(engine))
    database._hung_up = real
    a, b = statistics.median(with_poll), statistics.median(without)
    print(f"checkouts per round          {CHECKOUTS:,} x {ROUNDS} rounds")
    print(f"checkout without the poll    {b:.2f} us (median)")
    print(f"checkout with the poll       {a:.2f} us (median)")
    print(f"the poll costs               {a - b:.2f} us a checkout ({(a - b) / b:+.1%})")


if __name__ == "__main__":
    main()
