"""Travel between places for planning: the estimate, OSRM, the day's cache, failures."""

from __future__ import annotations

import logging
import threading
from datetime import date

import pytest
import sqlalchemy as sa

from app.orders.planning.travel import Place, leg, travel_matrix
from app.orders.planning.travel import cache as travel_cache
from app.orders.planning.travel import osrm as osrm_client
from app.orders.planning.travel.estimate import great_circle_metres
from app.platform.extensions import db
from app.platform.models import TravelLeg
from tests.fakes.osrm import FakeOsrm, road_metres, road_seconds

UTRECHT_CENTRAAL = Place(52.0894, 5.1101)
AMSTERDAM_DAM = Place(52.3731, 4.8932)
ROTTERDAM_CENTRAAL = Place(51.9244, 4.4690)
EINDHOVEN = Place(51.4416, 5.4697)
GRONINGEN = Place(53.2194, 6.5665)
MONDAY = date(2026, 12, 7)
TUESDAY = date(2026, 12, 8)


@pytest.fixture
def fake_osrm(app):
    """A fake OSRM server, with ``OSRM_BASE_URL`` of ``app`` pointed at it."""
    server = FakeOsrm().start()
    app.config["OSRM_BASE_URL"] = server.url
    yield server
    server.stop()


def kept_rows() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(TravelLeg))


def fake_road(a: Place, b: Place) -> tuple[int, int]:
    """What the fake answers for a → b, rounded as the cache keeps it."""
    a_point, b_point = (a.longitude, a.latitude), (b.longitude, b.latitude)
    return round(road_seconds(a_point, b_point)), round(road_metres(a_point, b_point))


def table_size(asked) -> tuple[int, int]:
    """How many sources and destinations a recorded table request named."""
    coordinates = asked.path.rsplit("/", 1)[1].count(";") + 1
    counts = []
    for name in ("sources", "destinations"):
        text = asked.args.get(name, "all")
        counts.append(coordinates if text == "all" else text.count(";") + 1)
    return counts[0], counts[1]


# The estimate ------------------------------------------------------------------------


def test_the_estimate_between_utrecht_and_amsterdam_is_plausible_and_symmetric(app):
    assert 34_000 < great_circle_metres(UTRECHT_CENTRAAL, AMSTERDAM_DAM) < 36_000

    matrix = travel_matrix([UTRECHT_CENTRAAL, AMSTERDAM_DAM], MONDAY)

    assert matrix.provider == "estimate"
    there = matrix.leg(UTRECHT_CENTRAAL, AMSTERDAM_DAM)
    back = matrix.leg(AMSTERDAM_DAM, UTRECHT_CENTRAAL)
    assert there == back
    # By road it is about 45 km and 40-50 minutes; the estimate adds parking.
    assert 40 < there.kilometres < 52
    assert 40 < there.minutes < 60
    assert matrix.seconds[0][0] == matrix.metres[1][1] == 0
    assert kept_rows() == 0  # an estimate is cheaper to make again than to keep


def test_the_same_place_is_no_travel_and_other_places_cost_parking_at_least(app):
    nearby = Place(52.08941, 5.11012)  # the next house
    matrix = travel_matrix([UTRECHT_CENTRAAL, UTRECHT_CENTRAAL, nearby], MONDAY)

    assert matrix.seconds[0][1] == matrix.metres[0][1] == 0
    assert matrix.seconds[0][2] >= 5 * 60
    assert matrix.metres[0][2] < 10


def test_the_estimate_follows_its_settings(app):
    before = leg(UTRECHT_CENTRAAL, AMSTERDAM_DAM, MONDAY)
    app.config.update(TRAVEL_SPEED_KMH=120.0, TRAVEL_PARKING_MINUTES=0, TRAVEL_DETOUR_FACTOR=1.0)

    after = leg(UTRECHT_CENTRAAL, AMSTERDAM_DAM, MONDAY)

    straight = great_circle_metres(UTRECHT_CENTRAAL, AMSTERDAM_DAM)
    assert after.metres == round(straight)
    assert after.seconds == round(straight / (120 / 3.6))
    assert before.seconds > after.seconds


def test_a_place_key_is_stable_to_five_decimals():
    assert Place(52.089400001, 5.11010).key == "52.08940,5.11010"
    assert Place(52.0894, 5.1101).key == Place(52.08940, 5.110099999).key
    assert Place(-0.000001, 0.0).key == "0.00000,0.00000"


# OSRM -----------------------------------------------------------------------------------


def test_osrm_answers_when_configured_and_is_asked_longitude_first(app, fake_osrm):
    matrix = travel_matrix([UTRECHT_CENTRAAL, AMSTERDAM_DAM], MONDAY)

    assert matrix.provider == "osrm"
    (asked,) = fake_osrm.tables()
    assert asked.path == "/table/v1/driving/5.11010,52.08940;4.89320,52.37310"
    assert set(asked.args["annotations"].split(",")) == {"duration", "distance"}
    there = matrix.leg(UTRECHT_CENTRAAL, AMSTERDAM_DAM)
    assert (there.seconds, there.metres) == fake_road(UTRECHT_CENTRAAL, AMSTERDAM_DAM)
    assert matrix.seconds[1][1] == 0


def test_a_place_listed_twice_is_asked_about_once(app, fake_osrm):
    matrix = travel_matrix([UTRECHT_CENTRAAL, AMSTERDAM_DAM, UTRECHT_CENTRAAL], MONDAY)

    (asked,) = fake_osrm.tables()
    assert asked.path.count(";") == 1
    assert matrix.seconds[0][2] == matrix.seconds[2][0] == 0
    assert matrix.seconds[2][1] == matrix.seconds[0][1] > 0


def test_osrm_answers_are_kept_per_day(app, fake_osrm):
    first = travel_matrix([UTRECHT_CENTRAAL, AMSTERDAM_DAM], MONDAY)
    assert len(fake_osrm.tables()) == 1
    assert kept_rows() == 2

    again = travel_matrix([AMSTERDAM_DAM, UTRECHT_CENTRAAL], MONDAY)
    one_leg = leg(UTRECHT_CENTRAAL, AMSTERDAM_DAM, MONDAY)

    assert len(fake_osrm.tables()) == 1  # both read from the day's legs
    assert again.provider == "osrm"
    assert again.seconds[1][0] == first.seconds[0][1] == one_leg.seconds

    travel_matrix([UTRECHT_CENTRAAL, AMSTERDAM_DAM], TUESDAY)
    assert len(fake_osrm.tables()) == 2  # another day is asked again
    assert kept_rows() == 4


def test_only_a_day_with_missing_legs_asks_and_then_for_the_places_involved(app, fake_osrm):
    travel_matrix([UTRECHT_CENTRAAL, AMSTERDAM_DAM], MONDAY)
    travel_matrix([UTRECHT_CENTRAAL, AMSTERDAM_DAM, ROTTERDAM_CENTRAAL], MONDAY)

    first, second = fake_osrm.tables()
    assert "4.46900,51.92440" in second.path
    assert kept_rows() == 6


def test_a_list_longer_than_the_table_cap_is_asked_in_blocks(app, fake_osrm, monkeypatch):
    places = [UTRECHT_CENTRAAL, AMSTERDAM_DAM, ROTTERDAM_CENTRAAL, EINDHOVEN, GRONINGEN]
    fake_osrm.max_table_size = 2
    monkeypatch.setattr(osrm_client, "MAX_TABLE_SIZE", 2)

    matrix = travel_matrix(places, MONDAY)

    assert matrix.provider == "osrm"
    tables = fake_osrm.tables()
    assert len(tables) == 9  # blocks of 2, 2 and 1: every pair of blocks
    for asked in tables:
        sources, destinations = table_size(asked)
        assert sources * destinations <= 4
    for i, a in enumerate(places):
        for j, b in enumerate(places):
            expected = (0, 0) if i == j else fake_road(a, b)
            assert (matrix.seconds[i][j], matrix.metres[i][j]) == expected, (i, j)
    assert kept_rows() == 20


def test_the_fake_refuses_a_table_over_its_cap_as_osrm_does(app, fake_osrm, monkeypatch):
    # Without blocks the client would be refused: the cap above is really tested.
    fake_osrm.max_table_size = 2
    monkeypatch.setattr(osrm_client, "MAX_TABLE_SIZE", 3)

    matrix = travel_matrix([UTRECHT_CENTRAAL, AMSTERDAM_DAM, EINDHOVEN], MONDAY)

    assert matrix.provider == "estimate"


# Failures ---------------------------------------------------------------------------------


def fail_with_a_server_error(server: FakeOsrm) -> None:
    server.answer_next(500, "<html>Internal Server Error</html>")


def fail_with_invalid_query(server: FakeOsrm) -> None:
    server.answer_next(400, {"code": "InvalidQuery", "message": "Query string malformed"})


def fail_with_ok_status_but_an_error_code(server: FakeOsrm) -> None:
    server.answer_next(200, {"code": "NoTable", "message": "No table found"})


def fail_with_no_road(server: FakeOsrm) -> None:
    server.unreachable.add("4.89320,52.37310")


def fail_slowly(server: FakeOsrm) -> None:
    server.answer_slowly(1.5)


@pytest.mark.parametrize(
    "fail",
    [
        fail_with_a_server_error,
        fail_with_invalid_query,
        fail_with_ok_status_but_an_error_code,
        fail_with_no_road,
        fail_slowly,
    ],
)
def test_a_failing_osrm_is_estimated_instead_and_not_kept(
    app, fake_osrm, monkeypatch, caplog, fail
):
    monkeypatch.setattr(osrm_client, "TIMEOUT_SECONDS", 0.3)
    fail(fake_osrm)

    with caplog.at_level(logging.WARNING):
        matrix = travel_matrix([UTRECHT_CENTRAAL, AMSTERDAM_DAM], MONDAY)

    assert len(fake_osrm.tables()) == 1
    assert matrix.provider == "estimate"
    app.config["OSRM_BASE_URL"] = None
    assert matrix == travel_matrix([UTRECHT_CENTRAAL, AMSTERDAM_DAM], MONDAY)
    assert kept_rows() == 0
    assert "estimating" in caplog.text


def test_osrm_is_asked_again_after_a_failure(app, fake_osrm):
    fail_with_a_server_error(fake_osrm)
    assert travel_matrix([UTRECHT_CENTRAAL, AMSTERDAM_DAM], MONDAY).provider == "estimate"

    assert travel_matrix([UTRECHT_CENTRAAL, AMSTERDAM_DAM], MONDAY).provider == "osrm"
    assert len(fake_osrm.tables()) == 2


def test_an_unreachable_server_is_estimated_too(app):
    app.config["OSRM_BASE_URL"] = "http://127.0.0.1:9/osrm"  # nothing listens on port 9

    assert travel_matrix([UTRECHT_CENTRAAL, AMSTERDAM_DAM], MONDAY).provider == "estimate"


# Writers at once ----------------------------------------------------------------------------


def test_the_same_legs_written_twice_stay_once(app):
    legs = {("52.08940,5.11010", "52.37310,4.89320"): (2400, 45_000)}
    travel_cache.keep_legs("osrm", MONDAY, legs)
    travel_cache.keep_legs(
        "osrm", MONDAY, {**legs, ("52.37310,4.89320", "52.08940,5.11010"): (1, 2)}
    )

    assert kept_rows() == 2
    kept = travel_cache.kept_legs("osrm", MONDAY, ["52.08940,5.11010", "52.37310,4.89320"])
    assert kept[("52.08940,5.11010", "52.37310,4.89320")] == (2400, 45_000)


def test_two_planners_keeping_the_same_legs_at_once_both_succeed(app):
    keys = [Place(52.0 + i / 100, 5.0).key for i in range(12)]
    legs = {(a, b): (60, 1000) for a in keys for b in keys if a != b}
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def keep(order: int) -> None:
        try:
            with app.app_context():
                start.wait(timeout=5)
                items = sorted(legs.items(), reverse=bool(order))
                travel_cache.keep_legs("osrm", MONDAY, dict(items))
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)

    writers = [threading.Thread(target=keep, args=(order,)) for order in (0, 1)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=30)

    assert failures == []
    assert kept_rows() == len(legs)
