"""Travel estimated from the straight line: always there, free, roughly right.

What planning uses when no routing service is configured, and whenever the
configured one fails. The great-circle distance times a detour factor is the
road distance; that at an average speed, plus a fixed time to park and walk to
the door, is the time. Good enough to order a day's visits and to see a day that
cannot fit; not to promise a customer a minute.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from app.orders.planning.travel.places import Place

# Dutch roads: the road distance between two towns is 1.2-1.4 times the straight
# line (more where water or a motorway junction lies between), so 1.3.
DETOUR_FACTOR = 1.3
# A van door to door: 100 km/h on the motorway by day, 30-50 in towns and
# villages, traffic lights and some congestion in between. Over the 20-80 km an
# installer drives between visits that averages about 60 km/h.
SPEED_KMH = 60.0
# Finding a place to park a van and walking to the door with the tools, once for
# every drive between two different places.
PARKING_MINUTES = 5.0

EARTH_RADIUS_METRES = 6_371_008.8  # the mean radius


def great_circle_metres(a: Place, b: Place) -> float:
    """The shortest distance over the earth's surface (haversine)."""
    lat_a, lat_b = math.radians(a.latitude), math.radians(b.latitude)
    d_lat = lat_b - lat_a
    d_lon = math.radians(b.longitude - a.longitude)
    h = math.sin(d_lat / 2) ** 2 + math.cos(lat_a) * math.cos(lat_b) * math.sin(d_lon / 2) ** 2
    return 2 * EARTH_RADIUS_METRES * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class EstimatedTravelTimes:
    """The straight line times ``detour_factor`` at ``speed_kmh``, plus parking."""

    detour_factor: float = DETOUR_FACTOR
    speed_kmh: float = SPEED_KMH
    parking_minutes: float = PARKING_MINUTES

    name = "estimate"
    kept = False

    def matrix(self, places: Sequence[Place]) -> tuple[list[list[float]], list[list[float]]]:
        count = len(places)
        seconds = [[0.0] * count for _ in range(count)]
        metres = [[0.0] * count for _ in range(count)]
        # Each key made once: a month's plan asks for a hundred thousand legs. The
        # straight line is the same both ways, so each pair is worked out once.
        keys = [place.key for place in places]
        for i in range(count):
            for j in range(i + 1, count):
                if keys[i] != keys[j]:
                    driven, taken = self._leg(places[i], places[j])
                    seconds[i][j] = seconds[j][i] = taken
                    metres[i][j] = metres[j][i] = driven
        return seconds, metres

    def _leg(self, origin: Place, destination: Place) -> tuple[float, float]:
        driven = great_circle_metres(origin, destination) * self.detour_factor
        driving = driven / (self.speed_kmh / 3.6)
        return driven, driving + self.parking_minutes * 60
