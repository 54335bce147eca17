"""Travel between places for planning: minutes and metres, by road or estimated.

Callers use :func:`travel_matrix` (every pair of a day's places) or :func:`leg`
(one drive). Behind them one small interface, :class:`TravelTimes`, with two
providers beside each other: the straight-line estimate (``estimate.py``, the
default and the fallback) and an OSRM server (``osrm.py``, when ``OSRM_BASE_URL``
is set), whose answers are kept per day in ``travel_legs`` (``cache.py``).
"""

from app.orders.planning.travel.matrix import (
    configured_travel_times,
    estimated_travel_times,
    leg,
    travel_matrix,
)
from app.orders.planning.travel.places import (
    Leg,
    Place,
    TravelMatrix,
    TravelTimes,
    TravelTimesUnavailable,
)

__all__ = [
    "Leg",
    "Place",
    "TravelMatrix",
    "TravelTimes",
    "TravelTimesUnavailable",
    "configured_travel_times",
    "estimated_travel_times",
    "leg",
    "travel_matrix",
]
