"""Travel by road from an OSRM server's ``table`` service.

``GET {base}/table/v1/driving/{lon},{lat};{lon},{lat};…?annotations=duration,distance``
answers ``{"code": "Ok", "durations": [[s, …]], "distances": [[m, …]]}``: row i
is from coordinate i, column j to coordinate j, in seconds and metres. Note the
order: longitude first. ``code`` other than ``"Ok"`` is an error (``TooBig``,
``InvalidQuery``, ``NoSegment`` …), and a ``null`` cell a pair with no road
between them.

A server answers at most ``--max-table-size`` sources times as many destinations
(100 by default), so a longer list is asked in blocks of :data:`MAX_TABLE_SIZE`
places: one request per pair of blocks, naming which coordinates are
``sources`` and which ``destinations``.

Any failure raises :class:`TravelTimesUnavailable`; the caller then estimates.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import requests

from app.orders.planning.travel.places import Place, TravelTimesUnavailable

log = logging.getLogger(__name__)

# A planner waits for this: better an estimate at once than a road time later.
TIMEOUT_SECONDS = 5
# OSRM's own default of --max-table-size; a server started with a smaller one
# needs this lowered too.
MAX_TABLE_SIZE = 100


@dataclass(frozen=True)
class OsrmTravelTimes:
    """The ``driving`` profile of the OSRM server at ``base_url``."""

    base_url: str

    name = "osrm"
    kept = True

    def matrix(self, places: Sequence[Place]) -> tuple[list[list[float]], list[list[float]]]:
        count = len(places)
        seconds = [[0.0] * count for _ in range(count)]
        metres = [[0.0] * count for _ in range(count)]
        size = MAX_TABLE_SIZE
        blocks = [range(start, min(start + size, count)) for start in range(0, count, size)]
        for sources in blocks:
            for destinations in blocks:
                block_seconds, block_metres = self._table(places, sources, destinations)
                for row, i in enumerate(sources):
                    for column, j in enumerate(destinations):
                        seconds[i][j] = block_seconds[row][column]
                        metres[i][j] = block_metres[row][column]
        return seconds, metres

    def _table(
        self, places: Sequence[Place], sources: range, destinations: range
    ) -> tuple[list[list[float]], list[list[float]]]:
        """One request: from ``places[sources]`` to ``places[destinations]``."""
        same = sources == destinations
        asked = [places[i] for i in sources] + ([] if same else [places[j] for j in destinations])
        coordinates = ";".join(_coordinate(place) for place in asked)
        # Written out, not through ``params``: OSRM reads ``;`` and ``,`` as they are.
        query = "annotations=duration,distance"
        if not same:
            query += "&sources=" + ";".join(str(i) for i in range(len(sources)))
            query += "&destinations=" + ";".join(
                str(len(sources) + j) for j in range(len(destinations))
            )
        url = f"{self.base_url.rstrip('/')}/table/v1/driving/{coordinates}?{query}"
        try:
            response = requests.get(url, timeout=TIMEOUT_SECONDS)
            answer = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise TravelTimesUnavailable(f"OSRM table request failed: {exc}") from exc
        code = answer.get("code") if isinstance(answer, dict) else None
        if response.status_code != 200 or code != "Ok":
            raise TravelTimesUnavailable(f"OSRM answered {response.status_code} {code}")
        durations = _grid(answer.get("durations"), len(sources), len(destinations))
        distances = _grid(answer.get("distances"), len(sources), len(destinations))
        return durations, distances


def _coordinate(place: Place) -> str:
    """``lon,lat`` at the key's precision, so what is kept under a key is what was asked."""
    latitude, longitude = place.key.split(",")
    return f"{longitude},{latitude}"


def _grid(cells: object, rows: int, columns: int) -> list[list[float]]:
    """``cells`` as ``rows`` x ``columns`` numbers; unavailable if not, or if any is null."""
    if not isinstance(cells, list) or len(cells) != rows:
        raise TravelTimesUnavailable("OSRM table has the wrong number of rows")
    grid = []
    for row in cells:
        if not isinstance(row, list) or len(row) != columns:
            raise TravelTimesUnavailable("OSRM table has the wrong number of columns")
        if any(not isinstance(cell, (int, float)) or isinstance(cell, bool) for cell in row):
            # null: no road between the two (an island without a ferry, a bad point).
            raise TravelTimesUnavailable("OSRM found no route between some places")
        grid.append([float(cell) for cell in row])
    return grid
