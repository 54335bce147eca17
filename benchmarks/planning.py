"""Planning a week and a month of installations: the solver against two baselines.

    .venv/bin/python benchmarks/planning.py [--seed 7 --orders 300 --slot-samples 200]

The month is generated (``benchmarks/_planning_data.py`` says how): 20 technicians in
towns across the Netherlands, 300 orders at real postcode areas, customers' wishes,
skills, two-person jobs, days off, a few visits already planned by hand. Travel is the
app's straight-line estimate. No database, nothing leaves the process.

On the same orders, three ways of planning:

- **solver**: :func:`app.orders.planning.routing.propose` (VROOM, default time limit);
- **greedy**: each order, oldest first, at its cheapest slot at the time
  (:func:`app.orders.planning.routing.solver.plan_greedily`);
- **nearest free day**: the hand-made style: oldest first, the first day on which a
  skilled technician (in a fixed order) has room in the customer's window, visits
  back to back from the start of the day, the drives not considered.

Then like for like: the solver asked to plan only the orders greedy planned.

Each plan is then driven as planned (``tests/support/plan_checks.py``): the driving,
the visits that end outside their windows and the technician-days past working hours
once the drives are in; and checked against every rule. *Week*: the first week's
shifts and the orders that could go in it (more than fit). *Month*: all of it.

Last, the best three slots for one more order on the solver's planned month, as the
planner asks while the customer is on the phone, for ``--slot-samples`` new orders.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import _planning_data as data  # noqa: E402

from app.orders.planning.routing import (  # noqa: E402
    Job,
    ProposedVisit,
    Shift,
    cheapest_insertion,
    planned_jobs,
    propose,
)
from app.orders.planning.routing.solver import plan_greedily  # noqa: E402
from tests.support.plan_checks import as_driven, broken_rules  # noqa: E402


def _m(value) -> int:
    return value.hour * 60 + value.minute


def _clock(value: int):
    from datetime import time as clock_time

    return clock_time(value // 60, value % 60)


def nearest_free_day(jobs: list[Job], shifts: list[Shift]) -> tuple[list[ProposedVisit], int]:
    """The hand-made style (see the module docstring); answers the visits and how many
    orders found no day."""
    booked: dict[tuple, list[tuple[int, int]]] = {}
    visits = []
    for job in jobs:
        if job.pinned is not None:
            pin = job.pinned
            for technician_id in pin.technician_ids:
                booked.setdefault((technician_id, pin.day), []).append((_m(pin.start), _m(pin.end)))
            visits.append(
                ProposedVisit(job.key, pin.technician_ids, pin.day, pin.start, pin.end, 0, 0.0)
            )
    by_day: dict = {}
    for shift in sorted(shifts, key=lambda s: (s.day, s.technician_id)):
        by_day.setdefault(shift.day, []).append(shift)
    unplaced = 0
    for job in sorted((j for j in jobs if j.pinned is None), key=lambda j: (-j.priority, j.key)):
        placed = _first_free(job, by_day, booked) if job.place is not None else None
        if placed is None:
            unplaced += 1
            continue
        crew, day, start = placed
        for technician_id in crew:
            booked.setdefault((technician_id, day), []).append(
                (start, start + job.duration_minutes)
            )
        visits.append(
            ProposedVisit(
                job.key, crew, day, _clock(start), _clock(start + job.duration_minutes), 0, 0.0
            )
        )
    return visits, unplaced


def _first_free(job: Job, by_day: dict, booked: dict):
    for day in sorted(by_day):
        windows = [(_m(s), _m(e)) for d, s, e in job.windows if d == day]
        if job.windows and not windows:
            continue
        shifts = by_day[day]
        crews = (
            [(s,) for s in shifts if job.skills <= s.skills]
            if job.crew_size == 1
            else [
                (a, b)
                for i, a in enumerate(shifts)
                for b in shifts[i + 1 :]
                if job.skills <= a.skills | b.skills
            ]
        )
        for crew in crews:
            start = _earliest(job, crew, windows, booked)
            if start is not None:
                return tuple(s.technician_id for s in crew), day, start
    return None


def _earliest(job: Job, crew: tuple, windows: list, booked: dict) -> int | None:
    first = max(_m(s.start) for s in crew)
    last = min(_m(s.end) for s in crew)
    taken = sorted(span for s in crew for span in booked.get((s.technician_id, s.day), []))
    for begins, ends in windows or [(first, last)]:
        begins, ends = max(begins, first), min(ends, last)
        candidates = sorted({begins, *(e for _s, e in taken if e >= begins)})
        for start in candidates:
            end = start + job.duration_minutes
            if end <= ends and all(e <= start or s >= end for s, e in taken):
                return start
    return None


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def compare(label: str, jobs: list[Job], shifts: list[Shift]):
    """Plan ``jobs`` three ways and print a row for each; answers the solver's proposal."""
    open_jobs = sum(1 for j in jobs if j.pinned is None)
    pinned = len(jobs) - open_jobs
    capacity = sum(_m(s.end) - _m(s.start) for s in shifts)
    work = sum(j.duration_minutes * j.crew_size for j in jobs)
    print(
        f"\n{label}: {len(shifts)} technician-days ({capacity:,} working minutes), "
        f"{open_jobs} orders to plan ({work:,} minutes on site incl. crews) and {pinned} pinned"
    )
    print(
        f"  {'method':<18} {'visits':>7} {'driving min':>12} {'min/visit':>10} "
        f"{'windows missed':>15} {'days over hours':>16} {'rules broken':>13} "
        f"{'seconds':>8} {'cpu s':>6}"
    )
    rows = {}
    began, cpu = time.perf_counter(), _cpu()
    solved = propose(jobs, shifts, data.matrix_for)
    rows["solver"] = (solved.visits, time.perf_counter() - began, _cpu() - cpu)
    began, cpu = time.perf_counter(), _cpu()
    greedy = plan_greedily(jobs, shifts, data.matrix_for)
    rows["greedy"] = (greedy.visits, time.perf_counter() - began, _cpu() - cpu)
    began, cpu = time.perf_counter(), _cpu()
    hand_made, _unplaced = nearest_free_day(jobs, shifts)
    rows["nearest free day"] = (hand_made, time.perf_counter() - began, _cpu() - cpu)
    driving = {}
    for method, (visits, seconds, cpu_seconds) in rows.items():
        driven = as_driven(jobs, shifts, visits, data.matrix_for)
        broken = broken_rules(jobs, shifts, visits, data.matrix_for)
        driving[method] = driven.travel_minutes
        print(
            f"  {method:<18} {len(visits):>7} {driven.travel_minutes:>12,} "
            f"{driven.travel_minutes / max(1, len(visits)):>10.1f} {driven.windows_missed:>15} "
            f"{driven.days_over_hours:>16} {len(broken):>13} {seconds:>8.2f} {cpu_seconds:>6.1f}"
        )
    saved = 1 - driving["solver"] / driving["greedy"]
    print(
        f"  solver's driving against greedy: {saved:.1%} less; left out by the solver: "
        f"{_reasons(solved.unplanned)}"
    )
    # Like for like: the solver asked to plan just the orders greedy planned, so the
    # driving compares the same visits (above, the solver also plans more of them).
    greedy_keys = {v.job_key for v in greedy.visits}
    same_jobs = [j for j in jobs if j.key in greedy_keys or j.pinned is not None]
    same = propose(same_jobs, shifts, data.matrix_for)
    same_driving = as_driven(same_jobs, shifts, same.visits, data.matrix_for).travel_minutes
    print(
        f"  solver on greedy's {len(greedy.visits)} visits: {len(same.visits)} planned, "
        f"{same_driving:,} min driving, {1 - same_driving / driving['greedy']:.1%} less"
    )
    older = sorted((j for j in jobs if j.pinned is None), key=lambda j: -j.priority)
    half = {j.key for j in older[: len(older) // 2]}
    for name, proposal in (("solver", solved), ("greedy", greedy)):
        planned = {v.job_key for v in proposal.visits}
        print(
            f"  {name}: of the older half of the orders {len(half & planned)}/{len(half)} "
            f"planned, of the newer half {len(planned - half) - pinned}/{open_jobs - len(half)}"
        )
    return solved


def _reasons(unplanned: dict[str, str]) -> str:
    counts: dict[str, int] = {}
    for reason in unplanned.values():
        counts[reason] = counts.get(reason, 0) + 1
    return ", ".join(f"{count} {reason}" for reason, count in sorted(counts.items())) or "none"


def slot_suggestions(jobs, shifts, proposal, samples: int, seed: int) -> None:
    """Time the best three slots for new orders on the planned month (none asked: skipped)."""
    if samples <= 0:
        return
    routes = planned_jobs(jobs, proposal.visits)
    new_orders = data.orders(random.Random(seed + 1), data.working_days(), samples)
    timings, found = [], 0
    for job in new_orders:
        began = time.perf_counter()
        slots = cheapest_insertion(job, routes, shifts, data.matrix_for, limit=3)
        timings.append(1000 * (time.perf_counter() - began))
        found += bool(slots)
    print(
        f"\nbest 3 slots for one more order on the planned month ({len(routes)} visits, "
        f"{len(shifts)} technician-days), {samples} new orders: "
        f"p50 {statistics.median(timings):.0f} ms, p95 {_percentile(timings, 95):.0f} ms, "
        f"max {max(timings):.0f} ms; {found} of them had a slot"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--slot-samples", type=int, default=200)
    args = parser.parse_args()
    shifts, jobs = data.month(args.seed, args.orders)
    print(
        f"month of {data.FIRST_DAY:%d-%m-%Y}: {len({s.technician_id for s in shifts})} "
        f"technicians, {len(jobs)} orders (seed {args.seed}); "
        f"{sum(1 for j in jobs if j.crew_size == 2)} for two, "
        f"{sum(1 for j in jobs if j.pinned)} pinned, "
        f"{sum(1 for j in jobs if j.windows)} with wishes"
    )
    week_shifts, week_jobs = data.week(shifts, jobs, 0)
    compare("week 1", week_jobs, week_shifts)
    solved = compare("month", jobs, shifts)
    slot_suggestions(jobs, shifts, solved, args.slot_samples, args.seed)


if __name__ == "__main__":
    main()
