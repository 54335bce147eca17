"""A day's travel legs as a routing service answered them, kept in ``travel_legs``.

The legs are written in a short transaction of their own, committed at once: a
cache is shared by every planner, so it must not wait for (or be rolled back
with) the caller's unit of work, and a page that only reads still keeps what it
asked. ``ON CONFLICT DO NOTHING`` under the unique key lets two planners write
the same legs at once; writing them in key order keeps two such writers from
each waiting on a row the other holds. (On SQLite, one writer at a time: a caller
that has written in its own open transaction makes this wait for it, up to the
busy timeout, and then the legs are simply not kept.)

Old days' rows are not removed yet; a day's legs are a few thousand rows at most.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa

from app.platform.database import upsert_insert
from app.platform.extensions import db
from app.platform.models import TravelLeg

log = logging.getLogger(__name__)

# (origin key, destination key) -> (seconds, metres)
Legs = dict[tuple[str, str], tuple[int, int]]


def kept_legs(provider: str, day: date, keys: Iterable[str]) -> Legs:
    """What ``provider`` answered on ``day`` between any two of ``keys``."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    rows = db.session.execute(
        sa.select(
            TravelLeg.origin_key, TravelLeg.destination_key, TravelLeg.seconds, TravelLeg.metres
        ).where(
            TravelLeg.provider == provider,
            TravelLeg.day == day,
            TravelLeg.origin_key.in_(keys),
            TravelLeg.destination_key.in_(keys),
        )
    )
    return {(origin, destination): (s, m) for origin, destination, s, m in rows}


def keep_legs(provider: str, day: date, legs: Legs) -> None:
    """Keep ``legs``; a leg already kept stays as it was. Never raises: it is a cache."""
    rows = [
        {
            "provider": provider,
            "day": day,
            "origin_key": origin,
            "destination_key": destination,
            "seconds": seconds,
            "metres": metres,
        }
        for (origin, destination), (seconds, metres) in sorted(legs.items())
    ]
    if not rows:
        return
    try:
        with db.engine.begin() as connection:
            insert = upsert_insert(TravelLeg, connection.dialect.name)
            connection.execute(
                insert.on_conflict_do_nothing(
                    index_elements=["provider", "day", "origin_key", "destination_key"]
                ),
                rows,
            )
    except sa.exc.SQLAlchemyError as exc:
        log.warning("could not keep %d %s travel legs of %s: %s", len(rows), provider, day, exc)
