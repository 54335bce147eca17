"""Three vehicle-routing solvers on the same weeks: which one plans the visits.

    .venv/bin/pip install pyvroom==1.15.2 pyvrp==0.14.1 ortools==9.15.6755   # for this run
    .venv/bin/python benchmarks/planning_solvers.py [--seed 7 --weeks 0,1 --seconds 6]

Each solver does step 3 of :mod:`app.orders.planning.routing.solver` (the one-person
visits, around pinned and two-person visits already fixed), on the generated month of
``benchmarks/_planning_data.py`` cut into its weeks; steps 1, 2 and 4 are the app's
own, the same for all. How each is asked:

- VROOM (``pyvroom``): as the app asks it (:mod:`app.orders.planning.routing.search`):
  a vehicle per free stretch of a day, several time windows per job, skills,
  priorities; it stops on its own (exploration level 1, the app's, and 5).
- PyVRP: one vehicle type per free stretch (start and end depot at its ends, its
  time window); a job with several windows is a group of copies, one per window, of
  which at most one is visited; skills as load dimensions (a vehicle without the
  brand has capacity 0 for it); optional clients whose prize grows with age. Stops
  after ``--seconds`` (fixed seed).
- OR-Tools: the routing library with a time dimension, a vehicle per free stretch,
  windows as a cumul range with the gaps between windows removed, skills as allowed
  vehicles, a disjunction per job whose penalty grows with age; guided local search
  for ``--seconds``.

Printed per week: visits planned in all (and by the search alone, before the app's
last pass), driving in minutes, the rules a plan breaks (checked independently by
``tests/support/plan_checks.py``), the search's time and whether two runs agree.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import _planning_data as data  # noqa: E402

from app.orders.planning.routing import search  # noqa: E402
from app.orders.planning.routing.solver import propose_with  # noqa: E402
from app.orders.planning.routing.timeline import minutes  # noqa: E402
from tests.support.plan_checks import broken_rules  # noqa: E402

matrix_for = data.matrix_for


def _windows(job, first_day: date) -> list[tuple[int, int]]:
    """The job's allowed starts as minutes since the first day's midnight (none: any)."""
    spans = sorted(
        (
            (day - first_day).days * 1440 + minutes(start),
            (day - first_day).days * 1440 + minutes(end) - job.duration_minutes,
        )
        for day, start, end in job.windows
        if minutes(end) - minutes(start) >= job.duration_minutes
    )
    merged: list[list[int]] = []
    for begins, ends in spans:
        if merged and begins <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], ends)
        else:
            merged.append([begins, ends])
    return [tuple(span) for span in merged]


def _rank(jobs) -> dict[int, int]:
    distinct = sorted({job.priority for job in jobs})
    return {p: 1 + rank for rank, p in enumerate(distinct)}


def _common(jobs, shifts, fixed, legs):
    gaps = search.free_gaps(shifts, fixed, legs)
    first_day = min(gap.shift.day for gap in gaps)
    places = {job.place.key: job.place for job in jobs}
    for gap in gaps:
        for place in (gap.origin, gap.destination):
            places[place.key] = place
    keys = list(places)
    return gaps, first_day, places, keys


def _instant(gap, minute, first_day):
    return (gap.shift.day - first_day).days * 1440 + minute


# --- VROOM -------------------------------------------------------------------------


def vroom_router(level: int):
    def route(jobs, shifts, fixed, legs, seconds):
        search.EXPLORATION_LEVEL = level
        return search.route(jobs, shifts, fixed, legs, 600)

    return route


# --- PyVRP -------------------------------------------------------------------------


def pyvrp_router(seconds_allowed: float):
    def route(jobs, shifts, fixed, legs, _seconds):
        import pyvrp
        from pyvrp.stop import MaxRuntime

        gaps, first_day, places, keys = _common(jobs, shifts, fixed, legs)
        brands = sorted(
            {b for job in jobs for b in job.skills} | {b for s in shifts for b in s.skills}
        )
        model = pyvrp.Model()
        locations = {
            key: model.add_location(x=places[key].longitude, y=places[key].latitude) for key in keys
        }
        depot_keys = sorted({p.key for gap in gaps for p in (gap.origin, gap.destination)})
        depots = {key: model.add_depot(locations[key]) for key in depot_keys}
        for gap in gaps:
            model.add_vehicle_type(
                num_available=1,
                capacity=[len(jobs) if brand in gap.shift.skills else 0 for brand in brands],
                start_depot=depots[gap.origin.key],
                end_depot=depots[gap.destination.key],
                tw_early=_instant(gap, gap.free_from, first_day),
                tw_late=_instant(gap, gap.free_until, first_day),
                unit_distance_cost=1,
            )
        rank = _rank(jobs)
        copies = []  # pyvrp client, in order -> job
        for job in jobs:
            prize = 2000 + 40 * rank[job.priority]  # worth far more than any detour
            load = [1 if brand in job.skills else 0 for brand in brands]
            windows = _windows(job, first_day) or [(0, 60 * 1440)]
            group = model.add_client_group(required=False) if len(windows) > 1 else None
            for begins, ends in windows:
                model.add_client(
                    locations[job.place.key],
                    delivery=load,
                    service_duration=job.duration_minutes,
                    tw_early=begins,
                    tw_late=ends,
                    prize=prize,
                    required=False,
                    group=group,
                )
                copies.append(job)
        for a in keys:
            for b in keys:
                driving = legs.minutes(places[a], places[b])
                model.add_edge(locations[a], locations[b], distance=driving, duration=driving)
        result = model.solve(stop=MaxRuntime(seconds_allowed), seed=1, display=False)
        solution = result.best
        routes = []
        assigned = set()
        for route in solution.routes():
            gap = gaps[route.vehicle_type()]
            visited = [copies[a.idx] for a in route if a.type == pyvrp.ActivityType.CLIENT]
            routes.append((gap, visited))
            assigned |= {job.key for job in visited}
        left = [job for job in jobs if job.key not in assigned]
        routes.sort(key=lambda r: (r[0].shift.day, str(r[0].shift.technician_id), r[0].position))
        return search.Routed(routes, left, True)

    return route


# --- OR-Tools ----------------------------------------------------------------------


def ortools_router(seconds_allowed: float):
    def route(jobs, shifts, fixed, legs, _seconds):
        from ortools.constraint_solver import pywrapcp, routing_enums_pb2

        gaps, first_day, places, keys = _common(jobs, shifts, fixed, legs)
        depot_keys = sorted({p.key for gap in gaps for p in (gap.origin, gap.destination)})
        node_places = [job.place for job in jobs] + [places[key] for key in depot_keys]
        depot_node = {key: len(jobs) + i for i, key in enumerate(depot_keys)}
        starts = [depot_node[gap.origin.key] for gap in gaps]
        ends = [depot_node[gap.destination.key] for gap in gaps]
        manager = pywrapcp.RoutingIndexManager(len(node_places), len(gaps), starts, ends)
        routing = pywrapcp.RoutingModel(manager)
        driving = [[legs.minutes(a, b) for b in node_places] for a in node_places]
        service = [job.duration_minutes for job in jobs] + [0] * len(depot_keys)

        def travel(i, j):
            return driving[manager.IndexToNode(i)][manager.IndexToNode(j)]

        def elapsed(i, j):
            a, b = manager.IndexToNode(i), manager.IndexToNode(j)
            return service[a] + driving[a][b]

        routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(travel))
        horizon = 40 * 1440
        routing.AddDimension(routing.RegisterTransitCallback(elapsed), horizon, horizon, False, "t")
        clock = routing.GetDimensionOrDie("t")
        for vehicle, gap in enumerate(gaps):
            begins = _instant(gap, gap.free_from, first_day)
            ends_at = _instant(gap, gap.free_until, first_day)
            clock.CumulVar(routing.Start(vehicle)).SetRange(begins, ends_at)
            clock.CumulVar(routing.End(vehicle)).SetRange(begins, ends_at)
        rank = _rank(jobs)
        for node, job in enumerate(jobs):
            index = manager.NodeToIndex(node)
            windows = _windows(job, first_day)
            if windows:
                clock.CumulVar(index).SetRange(windows[0][0], windows[-1][1])
                for (_b, end), (start, _e) in zip(windows, windows[1:], strict=False):
                    if start > end + 1:
                        clock.CumulVar(index).RemoveInterval(end + 1, start - 1)
            # SetAllowedVehiclesForIndex takes no Python list in 9.15's bindings; the
            # vehicle variable does the same (-1: the job left out).
            allowed = [v for v, gap in enumerate(gaps) if job.skills <= gap.shift.skills]
            routing.VehicleVar(index).SetValues([-1, *allowed])
            routing.AddDisjunction([index], 2000 + 40 * rank[job.priority])
        parameters = pywrapcp.DefaultRoutingSearchParameters()
        parameters.first_solution_strategy = (
            routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
        )
        parameters.local_search_metaheuristic = (
            routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
        )
        parameters.time_limit.FromMilliseconds(int(seconds_allowed * 1000))
        solution = routing.SolveWithParameters(parameters)
        routes, assigned = [], set()
        if solution is not None:
            for vehicle, gap in enumerate(gaps):
                index, visited = solution.Value(routing.NextVar(routing.Start(vehicle))), []
                while not routing.IsEnd(index):
                    visited.append(jobs[manager.IndexToNode(index)])
                    index = solution.Value(routing.NextVar(index))
                if visited:
                    routes.append((gap, visited))
                    assigned |= {job.key for job in visited}
        left = [job for job in jobs if job.key not in assigned]
        return search.Routed(routes, left, True)

    return route


def measured(router):
    """``router``, timing each search and counting what it placed itself."""
    figures = {}

    def route(jobs, shifts, fixed, legs, seconds):
        began = time.perf_counter()
        routed = router(jobs, shifts, fixed, legs, seconds)
        figures["seconds"] = time.perf_counter() - began
        figures["by_search"] = sum(len(r) for _gap, r in routed.routes)
        figures["jobs"] = len(jobs)
        return routed

    return route, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--weeks", default="0,1", help="week numbers, or month")
    parser.add_argument("--seconds", type=float, default=6.0, help="PyVRP's and OR-Tools' time")
    parser.add_argument("--only", default="", help="solvers whose name holds this text")
    args = parser.parse_args()
    shifts, jobs = data.month(args.seed)
    solvers = [
        ("VROOM, exploration 1", lambda: vroom_router(1)),
        ("VROOM, exploration 5", lambda: vroom_router(5)),
        (f"PyVRP, {args.seconds:g} s", lambda: pyvrp_router(args.seconds)),
        (f"OR-Tools GLS, {args.seconds:g} s", lambda: ortools_router(args.seconds)),
    ]
    solvers = [(name, make) for name, make in solvers if args.only.lower() in name.lower()]
    for name, package in (("PyVRP", "pyvrp"), ("OR-Tools", "ortools")):
        if importlib.util.find_spec(package) is None:
            print(f"{name} is not installed (the app does not use it): install it as above")
            solvers = [(n, make) for n, make in solvers if not n.startswith(name)]
    print(
        f"{'week':<6} {'solver':<22} {'planned':>8} {'by search':>10} {'driving min':>12} "
        f"{'broken':>7} {'search s':>9} {'same twice':>11}"
    )
    for number in args.weeks.split(","):
        if number == "month":
            week_shifts, week_jobs = shifts, jobs
        else:
            week_shifts, week_jobs = data.week(shifts, jobs, int(number))
        for name, make in solvers:
            runs = []
            for _ in range(2):
                router, figures = measured(make())
                proposal = propose_with(router, week_jobs, week_shifts, matrix_for, 600)
                runs.append((proposal, dict(figures)))
            (proposal, figures), (again, _f) = runs
            broken = broken_rules(
                week_jobs, week_shifts, proposal.visits, matrix_for, proposal.unplanned
            )
            first_day = min(s.day for s in week_shifts)
            print(
                f"{first_day + timedelta(days=0):%d-%m} {name:<22} {len(proposal.visits):>8} "
                f"{figures['by_search']:>5}/{figures['jobs']:<4} {proposal.travel_minutes:>12,} "
                f"{len(broken):>7} {figures['seconds']:>9.1f} "
                f"{'yes' if again.visits == proposal.visits else 'no':>11}",
                flush=True,
            )


if __name__ == "__main__":
    main()
