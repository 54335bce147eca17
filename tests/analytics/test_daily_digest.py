"""The daily digest: once per agent per working morning, listing what is pending."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from app.analytics.digest import (
    TEMPLATE_KEY,
    build_digest,
    is_digest_morning,
    send_daily_digests,
)
from app.platform.auth.services import create_user
from app.platform.extensions import db
from app.platform.features import collect
from app.platform.models import (
    CommunicationMessage,
    CommunicationThread,
    InternalTask,
    Notification,
    SandboxSend,
)
from app.platform.models.enums import MessageType, Role, TaskStatus, ThreadStatus
from tests.support.helpers import PASSWORD, race
from tests.support.jobs import drain_queues

# Tuesday 4 March 2025, 07:45 in Amsterdam (CET).
MORNING = datetime(2025, 3, 4, 6, 45, tzinfo=timezone.utc)
TODAY = date(2025, 3, 4)


def user(email, role=Role.AGENT, **fields):
    return create_user(email, email.split("@")[0].title(), role, PASSWORD, **fields)


def thread(who, subject, *, due=None, status=ThreadStatus.OPEN):
    record = CommunicationThread(
        thread_subject=subject,
        assigned_to_user_id=who.id,
        response_due_at=due,
        status=status,
        created_at=MORNING - timedelta(days=1),
        last_message_at=MORNING - timedelta(days=1),
    )
    db.session.add(record)
    return record


def task(who, title, due_date, due_time=None, status=TaskStatus.OPEN):
    db.session.add(
        InternalTask(
            task_title=title,
            assigned_to_user_id=who.id,
            due_date=due_date,
            due_time=due_time,
            status=status,
        )
    )


def digests_of(email) -> list[CommunicationMessage]:
    return [
        m
        for m in db.session.scalars(
            sa.select(CommunicationMessage).where(
                CommunicationMessage.message_type == MessageType.OUTGOING
            )
        )
        if m.extra.get("template_key") == TEMPLATE_KEY and m.recipient_external["email"] == email
    ]


def setup_people():
    anna = user("anna@switchboard.test")
    thread(anna, "Laadpaal geeft foutcode", due=MORNING + timedelta(hours=2))
    thread(anna, "Offerte kwijt", due=MORNING - timedelta(hours=3))  # overdue
    thread(anna, "Wacht op foto", status=ThreadStatus.WAITING_CUSTOMER)  # no deadline
    thread(anna, "Opgelost", due=MORNING - timedelta(days=2), status=ThreadStatus.RESOLVED)
    task(anna, "Bel klant terug", TODAY, "14:00")
    task(anna, "Factuur nakijken", TODAY - timedelta(days=1))  # overdue
    task(anna, "Morgen pas", TODAY + timedelta(days=1))  # not due yet
    task(anna, "Al gedaan", TODAY, status=TaskStatus.COMPLETED)
    for read in (None, None, MORNING):
        db.session.add(
            Notification(user_id=anna.id, notification_type="x", title="t", read_at=read)
        )
    lead = user("lead@switchboard.test", Role.TEAM_LEAD)
    task(lead, "Rooster maken", TODAY)
    idle = user("idle@switchboard.test")  # nothing pending: skipped
    gone = user("gone@switchboard.test", is_active_account=False)
    thread(gone, "Oud werk", due=MORNING)
    tech = user("tech@switchboard.test", Role.TECHNICIAN)
    task(tech, "Installatie", TODAY)
    db.session.commit()
    return anna, lead, idle, gone, tech


def test_digest_lists_open_threads_overdue_first_tasks_and_unread_count(app):
    anna, *_ = setup_people()
    digest = build_digest(anna, TODAY, MORNING)
    assert [t["subject"] for t in digest.threads] == [
        "Offerte kwijt",
        "Laadpaal geeft foutcode",
        "Wacht op foto",
    ]
    assert [t["overdue"] for t in digest.threads] == [True, False, False]
    assert digest.threads[0]["due_text"] == "Tue 04 Mar 04:45"  # Amsterdam time
    assert (digest.threads_total, digest.threads_overdue) == (3, 1)
    assert [(t["title"], t["overdue"]) for t in digest.tasks] == [
        ("Factuur nakijken", True),
        ("Bel klant terug", False),
    ]
    assert digest.tasks[1]["due_text"] == "Tue 04 Mar 14:00"
    assert digest.unread_notifications == 2
    assert digest.subject() == "Your day, Tue 04 Mar: 1 overdue, 3 open threads, 2 tasks due"


def test_each_agent_gets_one_digest_per_day_through_the_sandbox(app):
    anna, lead, idle, gone, tech = setup_people()
    assert send_daily_digests(MORNING) == 2  # Anna and the team lead
    drain_queues(app)
    sends = {s.recipient: s for s in db.session.scalars(sa.select(SandboxSend))}
    assert set(sends) == {anna.email, lead.email}
    data = sends[anna.email].request_body["personalizations"][0]["dynamic_template_data"]
    assert sends[anna.email].request_body["template_id"] == "d-daily-digest-2025"
    assert [t["subject"] for t in data["threads"]] == [
        "Offerte kwijt",
        "Laadpaal geeft foutcode",
        "Wacht op foto",
    ]
    overdue = db.session.scalar(
        sa.select(CommunicationThread.id).where(
            CommunicationThread.thread_subject == "Offerte kwijt"
        )
    )
    assert data["threads"][0]["url"] == f"http://127.0.0.1:5000/threads/{overdue}"
    assert [t["title"] for t in data["tasks"]] == ["Factuur nakijken", "Bel klant terug"]
    assert data["unread_notifications"] == 2
    assert data["date"] == "2025-03-04"

    # Later runs the same morning (another worker, the next 5-minute slot) send nothing.
    assert send_daily_digests(MORNING + timedelta(minutes=5)) == 0
    # Even with Redis emptied, the recorded mails stop a second digest.
    app.extensions["broker"].connection.flushdb()
    assert send_daily_digests(MORNING + timedelta(minutes=10)) == 0
    drain_queues(app)
    assert len(digests_of(anna.email)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SandboxSend)) == 2

    # The next working morning brings a new one.
    assert send_daily_digests(MORNING + timedelta(days=1)) == 2
    assert len(digests_of(anna.email)) == 2


def test_two_workers_racing_send_once(app):
    anna, lead, *_ = setup_people()
    results = race(app, lambda _index: send_daily_digests(MORNING))
    assert sorted(results) == [0, 2]
    db.session.expire_all()
    assert len(digests_of(anna.email)) == 1 and len(digests_of(lead.email)) == 1


def test_a_failed_agent_is_retried_by_the_next_run(app, monkeypatch):
    anna, lead, *_ = setup_people()
    import app.analytics.digest as digest_module

    real = digest_module.send_digest

    def flaky(digest):
        if digest.user.email == anna.email:
            raise RuntimeError("template store down")
        return real(digest)

    monkeypatch.setattr(digest_module, "send_digest", flaky)
    assert send_daily_digests(MORNING) == 1  # the lead's
    monkeypatch.setattr(digest_module, "send_digest", real)
    assert send_daily_digests(MORNING + timedelta(minutes=5)) == 1  # Anna's, not the lead's again
    assert len(digests_of(anna.email)) == 1 and len(digests_of(lead.email)) == 1


def test_only_on_working_mornings(app):
    setup_people()
    amsterdam = timezone(timedelta(hours=1))
    assert not is_digest_morning(datetime(2025, 3, 4, 7, 29, tzinfo=amsterdam))
    assert is_digest_morning(datetime(2025, 3, 4, 7, 30, tzinfo=amsterdam))
    assert not is_digest_morning(datetime(2025, 3, 4, 12, 0, tzinfo=amsterdam))
    assert not is_digest_morning(datetime(2025, 3, 8, 8, 0, tzinfo=amsterdam))  # Saturday
    assert not is_digest_morning(datetime(2025, 12, 25, 8, 0, tzinfo=amsterdam))  # Christmas
    # King's Day 2026 falls on a Monday.
    assert not is_digest_morning(datetime(2026, 4, 27, 8, 0, tzinfo=timezone(timedelta(hours=2))))
    assert send_daily_digests(datetime(2025, 3, 8, 7, 0, tzinfo=timezone.utc)) == 0
    assert send_daily_digests(MORNING - timedelta(minutes=30)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CommunicationMessage)) == 0


def test_the_scheduler_runs_the_digest():
    job = next(job for job in collect().periodic_jobs if job.name == "daily-digest")
    assert job.func_path == "app.analytics.digest.send_daily_digests"
    assert job.every_seconds <= 600
