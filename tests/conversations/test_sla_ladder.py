"""The escalation ladder: every step once per cycle, with one worker or two.

Moments are in 2030, far from the real clock, so the embedded worker's own
15-second scans never find these threads due.
"""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.conversations.business_time import clock
from app.conversations.sla import delivery
from app.conversations.sla.ladder import advance, due_threads_query, scan
from app.platform.extensions import db
from app.platform.models import CommunicationThread, InternalTask, Notification
from app.platform.models.enums import ChannelType, TaskType, ThreadStatus
from app.platform.models.sla import SlaAlert
from app.platform.transactions import commit
from tests.support import factories

AMS = ZoneInfo("Europe/Amsterdam")
SECOND = timedelta(seconds=1)


def ams(*args) -> datetime:
    return datetime(*args, tzinfo=AMS).astimezone(timezone.utc)


# An e-mail at Monday 17 June 2030 09:00 has four business hours: the ladder's
# moments are 12:00 (75 %), 12:36 (90 %), 13:00 (100 %) and Tuesday 13:00 (+24 h).
STARTED = ams(2030, 6, 17, 9, 0)
MOMENTS = {
    1: ams(2030, 6, 17, 12, 0),
    2: ams(2030, 6, 17, 12, 36),
    3: ams(2030, 6, 17, 13, 0),
    4: ams(2030, 6, 18, 13, 0),
}


@pytest.fixture
def sent(monkeypatch):
    """What the ladder sends live and to Teams, recorded instead of emitted."""
    record = {"live": [], "teams": []}
    monkeypatch.setattr(
        delivery,
        "publish_to_users",
        lambda event, data, users: record["live"].append((event, data, [str(u) for u in users])),
    )
    monkeypatch.setattr(
        delivery, "notify_teams", lambda trigger, data: record["teams"].append((trigger, data))
    )
    return record


@pytest.fixture
def desk(make_user):
    """A team with an agent and its lead, plus a manager and an admin."""
    team = factories.team("Klantenservice")
    db.session.commit()
    people = {
        "agent": make_user("agent", team_id=team.id),
        "lead": make_user("team_lead", team_id=team.id),
        "other_lead": make_user("team_lead"),  # another team's lead hears nothing
        "manager": make_user("manager"),
        "admin": make_user("admin"),
    }
    people["team"] = team
    return people


def _waiting_thread(desk, subject="Laadpaal storing", started=STARTED) -> CommunicationThread:
    channel = db.session.scalar(
        sa.select(factories.CommunicationChannel).where(
            factories.CommunicationChannel.channel_type == ChannelType.EMAIL_OUTLOOK
        )
    ) or factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Outlook")
    thread = factories.thread(
        channel,
        thread_subject=subject,
        assigned_to_user_id=desk["agent"].id,
        assigned_team_id=desk["team"].id,
    )
    clock.start_cycle(thread, started)
    db.session.commit()
    return thread


def _alerts(thread_id, step=None) -> list[SlaAlert]:
    query = sa.select(SlaAlert).where(SlaAlert.thread_id == thread_id)
    if step is not None:
        query = query.where(SlaAlert.step == step)
    return list(db.session.scalars(query))


def _notices(user) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at)
        )
    )


def _check_step(step, thread_id, desk, sent):
    """After ``step`` fired: one alert row, the right people told, the next moment set."""
    db.session.expire_all()
    assert len(_alerts(thread_id, step)) == 1
    thread = db.session.get(CommunicationThread, thread_id)
    assert thread.sla_stage == step
    assert thread.sla_next_check_at == MOMENTS.get(step + 1)
    expected = {
        1: [desk["agent"]],
        2: [desk["lead"]],
        3: [desk["manager"]],
        4: [desk["manager"], desk["admin"]],
    }[step]
    for person in expected:
        kinds = [n.notification_type for n in _notices(person)]
        assert kinds.count(f"sla_{delivery.STEP_NAMES[step]}") == 1, (person.role, kinds)
    assert not _notices(desk["other_lead"])
    live = [(data["step"], users) for event, data, users in sent["live"] if event == "sla:alert"]
    assert sorted(live) == sorted(
        [(s, [str(p.id)]) for s, people in _told_so_far(desk, step) for p in people]
    )


def _told_so_far(desk, last_step):
    told = {
        1: [desk["agent"]],
        2: [desk["lead"]],
        3: [desk["manager"]],
        4: [desk["manager"], desk["admin"]],
    }
    return [(s, told[s]) for s in range(1, last_step + 1)]


def _check_escalated(thread_id, desk, sent):
    thread = db.session.get(CommunicationThread, thread_id)
    assert thread.status == ThreadStatus.ESCALATED
    assert thread.sla_cycle == 1  # the ladder's escalation keeps the cycle going
    [task] = db.session.scalars(sa.select(InternalTask).where(InternalTask.thread_id == thread_id))
    assert task.task_type == TaskType.ESCALATE
    assert task.assigned_to_user_id == desk["manager"].id
    assert [card["stage"][:1] for trigger, card in sent["teams"]] == ["3"]
    assert sent["teams"][0][0] == "sla_escalation"
    assert sent["teams"][0][1]["thread_id"] == str(thread_id)


def test_one_thread_climbs_every_step_once(app, desk, sent):
    thread_id = _waiting_thread(desk).id
    for step, moment in MOMENTS.items():
        assert scan(moment - SECOND) == 0
        assert scan(moment) == 1
        assert scan(moment + timedelta(seconds=30)) == 0  # a second scan finds nothing
        _check_step(step, thread_id, desk, sent)
        if step == 3:
            _check_escalated(thread_id, desk, sent)
    assert [card["stage"][:1] for _, card in sent["teams"]] == ["3", "4"]
    assert scan(MOMENTS[4] + timedelta(days=30)) == 0
    assert len(_alerts(thread_id)) == 4


def test_two_workers_at_each_step_fire_each_alert_once(app, make_app, desk, sent):
    """Two app instances (two workers) scan at the same instant at every step."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("two concurrent writers need PostgreSQL; SQLite runs the sequential test")
    second_worker = make_app(start_embedded_worker=False)
    thread_id = _waiting_thread(desk).id
    for step, moment in MOMENTS.items():
        handled = _scan_concurrently([app, second_worker], moment)
        assert sum(handled) == 1, handled  # one worker took the thread, the other skipped it
        _check_step(step, thread_id, desk, sent)
    assert len(_alerts(thread_id)) == 4


def _scan_concurrently(apps, moment) -> list[int]:
    barrier = threading.Barrier(len(apps))
    results, errors = [0] * len(apps), []

    def work(index, flask_app):
        try:
            with flask_app.app_context():
                barrier.wait()
                results[index] = scan(moment)
                db.session.remove()
        except Exception as exc:  # surfaced below, with the worker that failed
            errors.append((index, exc))

    workers = [threading.Thread(target=work, args=(i, a)) for i, a in enumerate(apps)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert not errors, errors
    return results


def test_the_unique_key_decides_when_row_locks_do_not(app, make_app, desk, sent):
    """Both workers load the thread before either commits; only one insert may win."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("two concurrent writers need PostgreSQL")
    second_worker = make_app(start_embedded_worker=False)
    thread_id = _waiting_thread(desk).id
    moment = MOMENTS[1]
    barrier = threading.Barrier(2)
    fired, errors = [], []

    def work(flask_app):
        try:
            with flask_app.app_context():
                thread = db.session.get(CommunicationThread, thread_id)  # no row lock
                context = delivery.RoundContext.for_threads([thread], moment)
                barrier.wait()
                alerts = advance(thread, moment, context)
                delivery.deliver(alerts, context)
                commit()
                fired.append(len(alerts))
                db.session.remove()
        except Exception as exc:
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(a,)) for a in (app, second_worker)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert not errors, errors
    assert sorted(fired) == [0, 1]
    db.session.expire_all()
    assert len(_alerts(thread_id, 1)) == 1
    assert [n.notification_type for n in _notices(desk["agent"])] == ["sla_reminder"]


def test_a_locked_thread_is_skipped_not_waited_on(app, desk, sent):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("FOR UPDATE SKIP LOCKED is PostgreSQL's")
    thread_id = _waiting_thread(desk).id
    with db.engine.connect() as other_worker:
        other_worker.execute(
            sa.select(CommunicationThread.id)
            .where(CommunicationThread.id == thread_id)
            .with_for_update()
        )
        assert scan(MOMENTS[1]) == 0
        other_worker.rollback()
    assert scan(MOMENTS[1]) == 1


def test_a_first_response_takes_the_thread_off_the_ladder(app, desk, sent):
    thread = _waiting_thread(desk)
    assert scan(MOMENTS[1]) == 1
    clock.record_first_response(thread, MOMENTS[1] + timedelta(minutes=5))
    db.session.commit()
    assert scan(MOMENTS[4] + timedelta(days=1)) == 0
    assert [a.step for a in _alerts(thread.id)] == [1]


def test_a_paused_thread_is_not_alerted_and_resumes_later(app, desk, sent):
    thread = _waiting_thread(desk)
    clock.pause(thread, ams(2030, 6, 17, 11, 0))
    db.session.commit()
    assert scan(MOMENTS[3]) == 0
    clock.resume(thread, ams(2030, 6, 17, 14, 0))  # three business hours later
    db.session.commit()
    assert thread.sla_next_check_at == MOMENTS[1] + timedelta(hours=3)
    assert scan(MOMENTS[1] + timedelta(hours=3)) == 1


def test_a_new_cycle_climbs_the_ladder_again(app, desk, sent):
    thread = _waiting_thread(desk)
    assert scan(MOMENTS[1]) == 1
    clock.record_first_response(thread, MOMENTS[1])
    clock.start_cycle(thread, ams(2030, 6, 18, 9, 0))
    db.session.commit()
    assert scan(ams(2030, 6, 18, 12, 0)) == 1
    assert sorted((a.sla_cycle, a.step) for a in _alerts(thread.id)) == [(1, 1), (2, 1)]


def test_an_unassigned_thread_reminds_the_team_lead(app, desk, sent):
    thread = _waiting_thread(desk)
    thread.assigned_to_user_id = None
    db.session.commit()
    assert scan(MOMENTS[1]) == 1
    assert [n.notification_type for n in _notices(desk["lead"])] == ["sla_reminder"]
    assert not _notices(desk["agent"])


def test_many_alerts_at_once_become_one_digest_each(app, desk, sent):
    many = [_waiting_thread(desk, subject=f"Vraag {i}") for i in range(7)]
    assert scan(MOMENTS[3]) == 7  # steps 1, 2 and 3 of seven threads, all due now
    for person, kind in ((desk["agent"], 1), (desk["lead"], 1), (desk["manager"], 1)):
        notices = _notices(person)
        assert [n.notification_type for n in notices] == ["sla_digest"] * kind
        assert notices[0].title.startswith("7 conversations")
        assert "Vraag 0" in notices[0].message
    live = [data for event, data, _ in sent["live"] if event == "sla:alert"]
    assert len(live) == 3 and all(d["digest"] and d["count"] == 7 for d in live)
    assert len(sent["teams"]) == 1 and sent["teams"][0][1]["stage"] == "digest"
    digest_ids = {a.digest_id for t in many for a in _alerts(t.id)}
    assert len(digest_ids) == 1 and None not in digest_ids
    tasks = db.session.scalar(
        sa.select(sa.func.count(InternalTask.id)).where(InternalTask.task_type == TaskType.ESCALATE)
    )
    assert tasks == 7


def test_a_few_alerts_go_out_one_by_one(app, desk, sent):
    threads = [_waiting_thread(desk, subject=f"Vraag {i}") for i in range(3)]
    assert scan(MOMENTS[1]) == 3
    assert [n.notification_type for n in _notices(desk["agent"])] == ["sla_reminder"] * 3
    assert all(a.digest_id is None for t in threads for a in _alerts(t.id))


def test_the_scan_reads_the_next_check_index(app, desk):
    """Populate the table, then ask the database how it would find due threads."""
    channel = factories.channel(ChannelType.EMAIL_OUTLOOK)
    now = ams(2030, 6, 17, 12, 0)
    rows = [
        {
            "id": uuid.uuid4(),
            "thread_subject": f"Vraag {i}",
            "channel_id": channel.id,
            "status": "open",
            # Most threads have nothing due (None) or are due later; a few are due now.
            "sla_next_check_at": (
                None if i % 3 else now + timedelta(minutes=i - 10 if i < 30 else i)
            ),
            "last_message_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(3000)
    ]
    db.session.execute(sa.insert(CommunicationThread), rows)
    db.session.commit()
    compiled = due_threads_query(now).compile(dialect=db.engine.dialect)
    sql = str(compiled)
    assert "sla_next_check_at <=" in sql
    with db.engine.connect() as connection:
        if db.engine.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE communication_thread")
            plan = connection.exec_driver_sql("EXPLAIN " + sql, compiled.params).scalars().all()
        else:
            params = tuple(compiled.params[name] for name in compiled.positiontup)
            params = tuple(p.isoformat(" ") if isinstance(p, datetime) else p for p in params)
            plan = [
                row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
            ]
    text = "\n".join(plan)
    assert "ix_communication_thread_sla_next_check" in text, text
    assert "Seq Scan" not in text and "SCAN communication_thread\n" not in text + "\n", text
