"""The daily roll-ups give exactly the figures of the direct computation.

On the hand-computed fixture of tests/analytics/test_analytics.py every figure is
computed twice, from the roll-ups and directly from the source rows (the
reference), for the whole week, per team, and over ranges that reach today
(read directly) or days whose deadlines ran out since the roll-up.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.analytics.coverage import coverage, day_runs
from app.analytics.figures import compute_all
from app.analytics.filters import AnalyticsFilter, local_today
from app.analytics.listeners import thread_days_changed
from app.analytics.rollups import rebuild, refresh
from app.conversations.core.events import ThreadAssigned
from app.platform.extensions import db
from app.platform.models import (
    AnalyticsDay,
    AnalyticsDirtyDay,
    AnalyticsTaskDaily,
    AnalyticsThreadDaily,
    CommunicationThread,
    InternalTask,
)
from app.platform.models.enums import TaskStatus
from tests.analytics.test_analytics import NOW, at, data, week  # noqa: F401 - the fixture
from tests.conftest import opened

FIRST = date(2025, 3, 1)


@pytest.fixture
def app(make_app):
    # No embedded worker: its periodic jobs (the SLA scan, the roll-up refresh)
    # would run on today's clock against the 2025 fixture in the middle of a test.
    with opened(make_app(start_embedded_worker=False)) as app:
        yield app


def figures(f: AnalyticsFilter, now=NOW, *, direct: bool) -> list:
    return [(t.key, t.rows, t.total) for t in compute_all(f, now, direct=direct)]


def assert_equal_to_direct(f: AnalyticsFilter, now=NOW) -> None:
    rolled, reference = figures(f, now, direct=False), figures(f, now, direct=True)
    for (key, rows, total), (_, want_rows, want_total) in zip(rolled, reference, strict=True):
        assert rows == want_rows, (key, f)
        assert total == want_total, key


def test_every_figure_from_rollups_equals_the_direct_computation(data):  # noqa: F811
    written = rebuild(FIRST, now=NOW, batch_days=3)
    assert written > 0
    # NOW is Monday 10 March: the whole week is past and read from the roll-ups.
    assert coverage(week(), NOW, {}).rolled == ((date(2025, 3, 3), date(2025, 3, 9)),)
    assert coverage(week(), NOW, {}).direct == ()
    for team in (None, data.team_a.id, data.team_b.id):
        assert_equal_to_direct(week(team))
    # Part roll-ups, part direct (today) and a single day.
    assert_equal_to_direct(AnalyticsFilter(date(2025, 3, 5), date(2025, 3, 10)))
    assert_equal_to_direct(AnalyticsFilter(date(2025, 3, 7), date(2025, 3, 7)))


def test_the_rollups_hold_the_hand_computed_numbers(data):  # noqa: F811
    rebuild(FIRST, now=NOW)
    tables = {t.key: t for t in compute_all(week(), NOW)}
    # The numbers tests/analytics/test_analytics.py works out by hand.
    assert tables["first_response_channel"].total["n"] == 5
    assert tables["first_response_channel"].total["average"] == 22800 / 5


def test_a_day_whose_deadline_passed_is_read_directly_until_recomputed(data):  # noqa: F811
    rebuild(FIRST, now=NOW)
    held = db.session.scalars(
        sa.select(AnalyticsDay).where(AnalyticsDay.valid_until.is_not(None))
    ).all()
    assert held, "t5 still waits in time at NOW: its day holds only until its deadline"
    later = max(day.valid_until for day in held) + timedelta(minutes=1)
    stale = {day.day for day in held}
    assert not stale & {d for run in coverage(week(), later, {}).rolled for d in _days(run)}
    assert_equal_to_direct(week(), later)
    # The periodic job recomputes them; then they are read from the roll-ups again.
    assert refresh(later) >= len(stale)
    assert coverage(week(), later, {}).direct == ()
    assert_equal_to_direct(week(), later)


def _days(run):
    first, last = run
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def test_a_reassignment_marks_the_old_days_and_the_job_recomputes_them(data):  # noqa: F811
    rebuild(FIRST, now=NOW)
    thread = db.session.scalar(
        sa.select(CommunicationThread)
        .where(CommunicationThread.assigned_team_id == data.team_a.id)
        .order_by(CommunicationThread.created_at)
        .limit(1)
    )
    # The owner moves the thread to team B and publishes the assignment.
    thread.assigned_team_id = data.team_b.id
    db.session.commit()
    thread_days_changed(ThreadAssigned(thread.id, None, data.team_b.id, None, "test"))

    dirty = set(db.session.scalars(sa.select(AnalyticsDirtyDay.day)))
    assert local_today(thread.created_at) in dirty
    in_week = {d for d in dirty if week().first_day <= d <= week().last_day}
    assert in_week, "the thread has messages in the week"
    assert {d for run in coverage(week(), NOW, {}).direct for d in _days(run)} == in_week
    for team in (None, data.team_a.id, data.team_b.id):
        assert_equal_to_direct(week(team))  # the marked days are read directly meanwhile

    assert refresh(NOW) >= len(dirty)
    # The app's own SLA scan (the embedded worker, on today's clock) may have
    # escalated fixture threads meanwhile: those days are marked, and read directly.
    still = set(db.session.scalars(sa.select(AnalyticsDirtyDay.day)))
    in_week = {d for d in still if week().first_day <= d <= week().last_day}
    assert {d for run in coverage(week(), NOW, {}).direct for d in _days(run)} == in_week
    for team in (None, data.team_a.id, data.team_b.id):
        assert_equal_to_direct(week(team))


def test_recomputing_a_day_twice_leaves_one_copy(data):  # noqa: F811
    rebuild(FIRST, now=NOW)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(AnalyticsThreadDaily))
    rebuild(FIRST, now=NOW, batch_days=1)
    after = db.session.scalar(sa.select(sa.func.count()).select_from(AnalyticsThreadDaily))
    assert before == after
    assert_equal_to_direct(week())


def marked_in_week() -> set[date]:
    # The fixture's k5 (completed on NOW's day, before today's real date) marks the 10th.
    days = db.session.scalars(sa.select(AnalyticsDirtyDay.day))
    return {d for d in days if week().first_day <= d <= week().last_day}


def tasks_table(f, now=NOW, *, direct: bool = False):
    return next(t for t in compute_all(f, now, direct=direct) if t.key == "tasks")


def test_the_tasks_figure_reads_its_rollups(data):  # noqa: F811
    rebuild(FIRST, now=NOW)
    # k1 .. k4 completed in the week; k5 on the 10th (local), NOW's day: not rolled up.
    assert db.session.scalar(sa.select(sa.func.sum(AnalyticsTaskDaily.completed))) == 4
    # Emptied behind the page's back, the week's tasks vanish: the figure reads the roll-ups.
    db.session.execute(sa.delete(AnalyticsTaskDaily))
    assert tasks_table(week()).total is None
    assert tasks_table(week(), direct=True).total["n"] == 4


def test_a_person_moving_teams_moves_their_tasks_without_a_recompute(data):  # noqa: F811
    rebuild(FIRST, now=NOW)
    # k1 has no team of its own: it counts for Anna's team, whichever that is now.
    data.anna.team_id = data.team_b.id
    db.session.commit()
    assert not marked_in_week()
    for team in (None, data.team_a.id, data.team_b.id):
        assert_equal_to_direct(week(team))
    techniek = next(r for r in tasks_table(week()).rows if r["label"] == "Techniek")
    assert (techniek["n"], techniek["on_time"]) == (3, 2)


def test_changing_or_reopening_a_completed_task_marks_its_day(data):  # noqa: F811
    rebuild(FIRST, now=NOW)
    k2 = db.session.scalar(sa.select(InternalTask).where(InternalTask.task_title == "k2"))
    k3 = db.session.scalar(sa.select(InternalTask).where(InternalTask.task_title == "k3"))
    k2.due_time = "11:00"  # 10:30 local is now on time
    k3.status, k3.completed_at = TaskStatus.OPEN, None  # reopened: no longer counted
    db.session.commit()
    assert marked_in_week() == {date(2025, 3, 5), date(2025, 3, 6)}
    for team in (None, data.team_a.id, data.team_b.id):
        assert_equal_to_direct(week(team))  # the marked days are read directly meanwhile
    techniek = next(r for r in tasks_table(week()).rows if r["label"] == "Techniek")
    assert (techniek["n"], techniek["on_time"]) == (1, 1)
    assert refresh(NOW) >= 2
    assert coverage(week(), NOW, {}).direct == ()
    assert_equal_to_direct(week())
    # A title edit is not something the figure reads: no mark.
    k2.task_title = "k2, renamed"
    db.session.commit()
    assert not marked_in_week()


def test_day_runs_join_consecutive_days():
    d = date(2025, 3, 1)
    days = [d, d + timedelta(1), d + timedelta(2), d + timedelta(5)]
    assert day_runs(days) == ((d, d + timedelta(2)), (d + timedelta(5), d + timedelta(5)))
