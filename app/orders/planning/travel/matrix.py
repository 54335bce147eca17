"""How long driving takes between a day's places: the one entry point planning calls.

The configured provider answers (OSRM when ``OSRM_BASE_URL`` is set, otherwise the
estimate). A routing service's answers are kept per day (:mod:`.cache`), so only
legs not yet known are asked for; when it fails, the whole matrix is estimated and
nothing is kept. Planning never fails for want of travel times.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

from flask import current_app

from app.orders.planning.travel.cache import keep_legs, kept_legs
from app.orders.planning.travel.estimate import EstimatedTravelTimes
from app.orders.planning.travel.osrm import OsrmTravelTimes
from app.orders.planning.travel.places import (
    Leg,
    Place,
    TravelMatrix,
    TravelTimes,
    TravelTimesUnavailable,
)

log = logging.getLogger(__name__)


def estimated_travel_times() -> EstimatedTravelTimes:
    """The estimate with this app's ``TRAVEL_*`` settings."""
    config = current_app.config
    return EstimatedTravelTimes(
        detour_factor=config["TRAVEL_DETOUR_FACTOR"],
        speed_kmh=config["TRAVEL_SPEED_KMH"],
        parking_minutes=config["TRAVEL_PARKING_MINUTES"],
    )


def configured_travel_times() -> TravelTimes:
    """OSRM when ``OSRM_BASE_URL`` is set, otherwise the estimate."""
    base_url = current_app.config.get("OSRM_BASE_URL")
    return OsrmTravelTimes(base_url) if base_url else estimated_travel_times()


def travel_matrix(places: Sequence[Place], day: date) -> TravelMatrix:
    """Seconds and metres from every place to every place on ``day``. Never raises
    for a provider's failure: the estimate answers instead."""
    provider = configured_travel_times()
    # Each place's key made once (a day's matrix is thousands of legs), and each place
    # asked about once, however often it is listed (two visits at one address).
    keys = [place.key for place in places]
    distinct = list(dict(zip(keys, places, strict=True)).values())
    if not provider.kept:
        return _whole(provider, places, keys, distinct)
    try:
        legs = _legs(provider, distinct, day)
    except TravelTimesUnavailable as exc:
        log.warning(
            "%s travel times for %d places on %s unavailable, estimating: %s",
            provider.name,
            len(distinct),
            day,
            exc,
        )
        return _whole(estimated_travel_times(), places, keys, distinct)
    rows = [[_leg(legs, a, b) for b in keys] for a in keys]
    seconds = tuple(tuple(leg[0] for leg in row) for row in rows)
    metres = tuple(tuple(leg[1] for leg in row) for row in rows)
    return TravelMatrix(tuple(places), seconds, metres, provider.name)


def _whole(
    provider: TravelTimes, places: Sequence[Place], keys: list[str], distinct: list[Place]
) -> TravelMatrix:
    """The matrix of a provider whose answers are not kept (the estimate), asked as a
    whole: cheaper than a leg at a time."""
    seconds, metres = provider.matrix(distinct)
    row_of = {place.key: row for row, place in enumerate(distinct)}
    rows = [row_of[key] for key in keys]
    return TravelMatrix(
        tuple(places),
        tuple(tuple(round(seconds[i][j]) for j in rows) for i in rows),
        tuple(tuple(round(metres[i][j]) for j in rows) for i in rows),
        provider.name,
    )


def leg(origin: Place, destination: Place, day: date) -> Leg:
    """Driving from ``origin`` to ``destination`` on ``day``."""
    return travel_matrix([origin, destination], day).leg(origin, destination)


def _legs(
    provider: TravelTimes, places: list[Place], day: date
) -> dict[tuple[str, str], tuple[int, int]]:
    """Every leg between two of ``places`` (distinct keys), kept ones read, not asked."""
    keys = [place.key for place in places]
    known = kept_legs(provider.name, day, keys) if provider.kept else {}
    missing = {(a, b) for a in keys for b in keys if a != b and (a, b) not in known}
    if not missing:
        return known
    # Every place of a missing leg, asked about as one matrix: simpler than asking
    # per leg, and a day's places are mostly missing together or not at all.
    involved_keys = {key for pair in missing for key in pair}
    involved = [place for place in places if place.key in involved_keys]
    seconds, metres = provider.matrix(involved)
    asked = {
        (a.key, b.key): (round(seconds[i][j]), round(metres[i][j]))
        for i, a in enumerate(involved)
        for j, b in enumerate(involved)
        if i != j
    }
    if provider.kept:
        keep_legs(provider.name, day, asked)
    return {**known, **asked}


def _leg(legs: dict[tuple[str, str], tuple[int, int]], a: str, b: str) -> tuple[int, int]:
    return (0, 0) if a == b else legs[a, b]
