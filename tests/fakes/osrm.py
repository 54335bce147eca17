"""A fake OSRM server: the ``table`` service (API v1) over the Netherlands.

``GET /table/v1/driving/{lon},{lat};…`` with ``sources``, ``destinations``
(``0;2`` or ``all``) and ``annotations`` (``duration``, ``distance`` or both)
answers in OSRM's wire format: ``{"code": "Ok", "durations": [[…]], "distances":
[[…]], "sources": [waypoint…], "destinations": [waypoint…]}``, seconds and metres
to one decimal, from the great-circle distance times :data:`ROAD_FACTOR` at
:data:`SPEED_KMH`. Errors are OSRM's too: HTTP 400 with ``{"code": "TooBig" |
"InvalidQuery" | "InvalidOptions" | "NoSegment", "message": …}``.

A coordinate outside the Netherlands has no road here (``NoSegment``), as on a
server loaded with the Dutch extract, so latitude and longitude swapped fail.
``max_table_size`` is the server's ``--max-table-size``; ``unreachable`` holds
``"lon,lat"`` coordinates no road reaches (their cells are ``null``).
"""

from __future__ import annotations

import math
import time

from flask import jsonify, request

from tests.fakes import FakeServer

ROAD_FACTOR = 1.2
SPEED_KMH = 72.0
# The Netherlands, roughly: lon 3.2-7.3, lat 50.7-53.6.
AREA = ((3.2, 7.3), (50.7, 53.6))


def great_circle_metres(lon_a: float, lat_a: float, lon_b: float, lat_b: float) -> float:
    phi_a, phi_b = math.radians(lat_a), math.radians(lat_b)
    d_phi, d_lambda = phi_b - phi_a, math.radians(lon_b - lon_a)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi_a) * math.cos(phi_b) * math.sin(d_lambda / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(h)))


def road_metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """What this fake answers as the road distance between two ``(lon, lat)``."""
    return round(great_circle_metres(*a, *b) * ROAD_FACTOR, 1)


def road_seconds(a: tuple[float, float], b: tuple[float, float]) -> float:
    return round(great_circle_metres(*a, *b) * ROAD_FACTOR / (SPEED_KMH / 3.6), 1)


class FakeOsrm(FakeServer):
    def __init__(self, max_table_size: int = 100) -> None:
        super().__init__("fake-osrm")
        self.max_table_size = max_table_size
        self.unreachable: set[str] = set()
        self._slow: list[float] = []

        @self.app.get("/table/v1/<profile>/<path:coordinates>")
        def table(profile: str, coordinates: str):
            if self._slow:
                time.sleep(self._slow.pop(0))
            if profile != "driving":
                return _error("InvalidQuery", f"profile {profile!r} is not loaded")
            try:
                points = [_point(text) for text in coordinates.split(";")]
                sources = _indexes(request.args.get("sources", "all"), len(points))
                destinations = _indexes(request.args.get("destinations", "all"), len(points))
            except ValueError as exc:
                return _error("InvalidQuery", f"Query string malformed: {exc}")
            if len(sources) * len(destinations) > self.max_table_size**2:
                return _error("TooBig", "Too many table coordinates")
            annotations = set(request.args.get("annotations", "duration").split(","))
            if not annotations <= {"duration", "distance"}:
                return _error("InvalidOptions", f"annotations {sorted(annotations)}")
            for i, (lon, lat) in enumerate(points):
                if not (AREA[0][0] <= lon <= AREA[0][1] and AREA[1][0] <= lat <= AREA[1][1]):
                    return _error(
                        "NoSegment", f"Could not find a matching segment for coordinate {i}"
                    )
            answer: dict = {"code": "Ok"}
            if "duration" in annotations:
                answer["durations"] = self._cells(points, sources, destinations, road_seconds)
            if "distance" in annotations:
                answer["distances"] = self._cells(points, sources, destinations, road_metres)
            answer["sources"] = [_waypoint(points[i]) for i in sources]
            answer["destinations"] = [_waypoint(points[j]) for j in destinations]
            return jsonify(answer)

    def answer_slowly(self, seconds: float) -> None:
        """Make the next table request take ``seconds`` before answering."""
        self._slow.append(seconds)

    def tables(self) -> list:
        """The table requests received."""
        return [r for r in self.requests if r.path.startswith("/table/")]

    def _cells(self, points, sources, destinations, measure) -> list[list[float | None]]:
        return [
            [
                None
                if self._cut_off(points[i]) or self._cut_off(points[j])
                else (0.0 if i == j else measure(points[i], points[j]))
                for j in destinations
            ]
            for i in sources
        ]

    def _cut_off(self, point: tuple[float, float]) -> bool:
        return any(_point(text) == point for text in self.unreachable)


def _point(text: str) -> tuple[float, float]:
    lon, lat = text.split(",")
    return float(lon), float(lat)


def _indexes(text: str, count: int) -> list[int]:
    if text == "all":
        return list(range(count))
    indexes = [int(part) for part in text.split(";")]
    if any(not 0 <= i < count for i in indexes):
        raise ValueError(f"index out of range in {text!r}")
    return indexes


def _waypoint(point: tuple[float, float]) -> dict:
    return {"hint": "", "distance": 0.0, "name": "", "location": [point[0], point[1]]}


def _error(code: str, message: str):
    return jsonify(code=code, message=message), 400
