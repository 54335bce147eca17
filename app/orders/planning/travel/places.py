"""Places, the travel between them, and what a provider of travel times answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

# About a metre: two geocodings of one address meet, two houses do not.
KEY_DECIMALS = 5


@dataclass(frozen=True)
class Place:
    """A point on the map, as an address's latitude and longitude (WGS84)."""

    latitude: float
    longitude: float

    @property
    def key(self) -> str:
        """``"52.08940,5.11010"``: the same address always gives the same key."""
        # ``+ 0.0`` makes -0.0 plain 0.0, so a key never starts "-0.00000".
        latitude = round(self.latitude, KEY_DECIMALS) + 0.0
        longitude = round(self.longitude, KEY_DECIMALS) + 0.0
        return f"{latitude:.{KEY_DECIMALS}f},{longitude:.{KEY_DECIMALS}f}"


@dataclass(frozen=True)
class Leg:
    """Driving from one place to the next."""

    seconds: int
    metres: int

    @property
    def minutes(self) -> float:
        return self.seconds / 60

    @property
    def kilometres(self) -> float:
        return self.metres / 1000


@dataclass(frozen=True)
class TravelMatrix:
    """Travel between every pair of ``places``: ``seconds[i][j]`` from place i to place j.

    ``provider`` says who answered the whole matrix (``"osrm"`` or ``"estimate"``):
    when the routing service fails, every leg is estimated, never a mix.
    """

    places: tuple[Place, ...]
    seconds: tuple[tuple[int, ...], ...]
    metres: tuple[tuple[int, ...], ...]
    provider: str

    @property
    def minutes(self) -> tuple[tuple[float, ...], ...]:
        return tuple(tuple(seconds / 60 for seconds in row) for row in self.seconds)

    def leg(self, origin: Place, destination: Place) -> Leg:
        """The leg between two of the matrix's places (found by their keys)."""
        i, j = self._positions[origin.key], self._positions[destination.key]
        return Leg(self.seconds[i][j], self.metres[i][j])

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {place.key: i for i, place in reversed(list(enumerate(self.places)))}


class TravelTimesUnavailable(Exception):
    """A provider could not answer (down, slow, an error, a place it cannot reach)."""


class TravelTimes(Protocol):
    """Who knows how long driving takes: the estimate, or a routing service.

    ``matrix`` answers seconds and metres from every place to every place, in the
    order given, or raises :class:`TravelTimesUnavailable`. ``kept`` says whether
    its answers are worth keeping per day (a remote service's are; an estimate is
    cheaper to make again than to read).
    """

    name: str
    kept: bool

    def matrix(self, places: Sequence[Place]) -> tuple[list[list[float]], list[list[float]]]: ...
