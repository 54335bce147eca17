"""The task board, the task form, the tasks API, assignment notices and reminders."""

from __future__ import annotations

import html as html_lib
import re
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.conversations.tasks import services
from app.conversations.tasks.board import board_columns, list_tasks
from app.conversations.tasks.jobs import send_due_reminders
from app.conversations.tasks.reminders import AMSTERDAM, reminder_moment
from app.platform.auth.tokens import issue_token
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.features import collect
from app.platform.jobs.periodic import enqueue_due_periodic_jobs
from app.platform.models import InternalTask, Notification, Order, Team
from app.platform.models.enums import Priority, TaskStatus, TokenKind
from tests.support import factories
from tests.support.helpers import csrf_token_from

HX = {"HX-Request": "true"}


def _team(slug: str) -> Team:
    team = Team(name=slug.title(), slug=slug)
    db.session.add(team)
    db.session.commit()
    return team


def _task(title: str = "Bel klant terug", **fields) -> InternalTask:
    fields.setdefault("status", TaskStatus.OPEN)
    fields.setdefault("reminder_settings", {})
    task = InternalTask(task_title=title, lock_version=1, **fields)
    db.session.add(task)
    db.session.commit()
    return task


def _signed_in(auth, make_user, role: str = "agent", **fields):
    user = make_user(role, email=f"{role}@switchboard.test", **fields)
    auth.login(f"{role}@switchboard.test")
    return user


def _bearer(user) -> dict[str, str]:
    _, token = issue_token(TokenKind.PERSONAL, "tests", user_id=user.id)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _cards(html: str) -> dict[str, list[str]]:
    """Card titles per board column, in order."""
    columns = {}
    for match in re.finditer(
        r'<section class="task-column" data-status="(\w+)".*?</section>', html, re.S
    ):
        titles = re.findall(r'class="task-title"[^>]*>([^<]+)</a>', match.group(0))
        columns[match.group(1)] = [html_lib.unescape(title) for title in titles]
    return columns


def _notifications(user_id, kind: str) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification).where(
                Notification.user_id == user_id, Notification.notification_type == kind
            )
        )
    )


# --- the board ----------------------------------------------------------------


def test_board_shows_four_columns_with_cards(client, auth, make_user):
    agent = _signed_in(auth, make_user)
    thread = factories.thread(None, None, thread_subject="Laadpaal werkt niet")
    order = Order(order_number="CC-2026-00042")
    db.session.add(order)
    db.session.commit()
    _task(
        "Offerte nabellen",
        assigned_to_user_id=agent.id,
        thread_id=thread.id,
        order_id=order.id,
        priority=Priority.URGENT,
        due_date=date(2030, 1, 15),
        due_time="09:30",
    )
    _task("Monteur inplannen", status=TaskStatus.IN_PROGRESS)
    _task("Wachten op foto's", status=TaskStatus.WAITING)
    _task("Factuur gestuurd", status=TaskStatus.COMPLETED, completed_at=utcnow())
    _task("Oud werk", status=TaskStatus.COMPLETED, completed_at=utcnow() - timedelta(days=30))
    _task("Geannuleerd", status=TaskStatus.CANCELLED)

    response = client.get("/tasks")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _cards(html) == {
        "open": ["Offerte nabellen"],
        "in_progress": ["Monteur inplannen"],
        "waiting": ["Wachten op foto's"],
        "completed": ["Factuur gestuurd"],
    }
    assert f'href="/threads/{thread.id}"' in html and "Laadpaal werkt niet" in html
    assert "CC-2026-00042" in html
    assert "Tue 15 Jan 09:30" in html  # Amsterdam wall-clock time, as entered
    assert "Test agent" in html


def test_board_filters_swap_through_htmx(client, auth, make_user):
    team = _team("support")
    other_team = _team("tech")
    agent = _signed_in(auth, make_user, team_id=team.id)
    colleague = make_user("agent", team_id=team.id)
    yesterday = (utcnow().astimezone(AMSTERDAM) - timedelta(days=1)).date()
    _task("Mijn taak", assigned_to_user_id=agent.id)
    _task("Teamtaak", assigned_team_id=team.id)
    _task("Collega taak", assigned_to_user_id=colleague.id, due_date=yesterday)
    _task("Niemands taak")
    _task("Ander team", assigned_team_id=other_team.id)

    everything = _cards(client.get("/tasks").get_data(as_text=True))["open"]
    assert sorted(everything) == ["Mijn taak", "Niemands taak", "Teamtaak"]
    mine = client.get("/tasks?filter=mine", headers=HX)
    assert b"<html" not in mine.data
    assert _cards(mine.get_data(as_text=True))["open"] == ["Mijn taak"]
    # The team's work, including mine; the colleague's own task is not the agent's to see.
    team_view = _cards(client.get("/tasks?filter=team", headers=HX).get_data(as_text=True))
    assert sorted(team_view["open"]) == ["Mijn taak", "Teamtaak"]
    full = client.get("/tasks?filter=overdue")
    assert b"<html" in full.data and 'aria-current="true">Overdue' in full.get_data(as_text=True)
    assert client.get("/tasks?filter=pigeons").status_code == 400


def test_team_filter_includes_teammates_tasks_for_a_manager(client, auth, make_user):
    team = _team("support")
    _signed_in(auth, make_user, role="manager", team_id=team.id)
    colleague = make_user("agent", team_id=team.id)
    _task("Collega taak", assigned_to_user_id=colleague.id)
    _task("Iemand anders")
    view = _cards(client.get("/tasks?filter=team", headers=HX).get_data(as_text=True))
    assert view["open"] == ["Collega taak"]


def test_overdue_filter_uses_amsterdam_time(app, make_user):
    agent = make_user("agent")
    # 23:30 UTC on 14 Jan is 00:30 on 15 Jan in Amsterdam.
    now = datetime(2030, 1, 14, 23, 30, tzinfo=timezone.utc)
    _task("Gisteren", due_date=date(2030, 1, 14))
    _task("Vannacht", due_date=date(2030, 1, 15), due_time="00:15")
    _task("Straks", due_date=date(2030, 1, 15), due_time="09:00")
    _task("Vandaag zonder tijd", due_date=date(2030, 1, 15))
    _task("Klaar", due_date=date(2030, 1, 1), status=TaskStatus.COMPLETED, completed_at=now)
    columns = board_columns(agent, "overdue", now)
    titles = sorted(card.task.task_title for column in columns for card in column.cards)
    assert titles == ["Gisteren", "Vannacht"]
    assert all(card.overdue for column in columns[:3] for card in column.cards)


def test_move_card_with_htmx_sets_and_clears_completed_at(client, auth, make_user):
    _signed_in(auth, make_user)
    task = _task("Offerte nabellen")
    token = auth.csrf_token("/tasks")
    headers = {**HX, "X-CSRFToken": token}

    moved = client.post(
        f"/tasks/{task.id}/move",
        data={"status": "in_progress", "lock_version": "1", "filter": "all"},
        headers=headers,
    )
    assert moved.status_code == 200 and b"<html" not in moved.data
    assert _cards(moved.get_data(as_text=True))["in_progress"] == ["Offerte nabellen"]
    assert "Moved “Offerte nabellen” to In progress." in moved.get_data(as_text=True)

    done = client.post(
        f"/tasks/{task.id}/move",
        data={"status": "completed", "completion_notes": "Klant akkoord", "lock_version": "2"},
        headers=headers,
    )
    assert "Klant akkoord" in done.get_data(as_text=True)
    db.session.expire_all()
    task = db.session.get(InternalTask, task.id)
    assert task.status == TaskStatus.COMPLETED and task.completed_at is not None
    assert task.completion_notes == "Klant akkoord" and task.lock_version == 3

    client.post(f"/tasks/{task.id}/move", data={"status": "open"}, headers=headers)
    db.session.expire_all()
    task = db.session.get(InternalTask, task.id)
    assert task.status == TaskStatus.OPEN and task.completed_at is None


def test_move_from_a_stale_card_changes_nothing(client, auth, make_user):
    _signed_in(auth, make_user)
    task = _task("Offerte nabellen")
    task.lock_version = 4
    db.session.commit()
    response = client.post(
        f"/tasks/{task.id}/move",
        data={"status": "waiting", "lock_version": "3"},
        headers={**HX, "X-CSRFToken": auth.csrf_token("/tasks")},
    )
    assert "Someone else changed" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(InternalTask, task.id).status == TaskStatus.OPEN


def test_move_without_htmx_redirects_and_needs_csrf(client, auth, make_user):
    _signed_in(auth, make_user)
    task = _task()
    refused = client.post(f"/tasks/{task.id}/move", data={"status": "waiting"})
    assert refused.status_code == 400
    page = client.get("/tasks").get_data(as_text=True)
    response = client.post(
        f"/tasks/{task.id}/move",
        data={"status": "waiting", "csrf_token": csrf_token_from(page), "filter": "mine"},
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("filter=mine")


# --- the form -----------------------------------------------------------------


def test_create_form_names_each_invalid_field(client, auth, make_user):
    _signed_in(auth, make_user)
    page = client.get("/tasks/new").get_data(as_text=True)
    response = client.post(
        "/tasks/new",
        data={
            "csrf_token": csrf_token_from(page),
            "task_title": "",
            "task_type": "callback",
            "priority": "high",
            "status": "open",
            "due_date": "2030-01-15",
            "due_time": "25:99",
            "order_number": "CC-2026-99999",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    summary = html[html.index('data-testid="form-errors"') :]
    assert '<a href="#task_title">Title</a>: Enter a title.' in summary
    assert '<a href="#due_time">Due time</a>: Enter a time as HH:MM' in summary
    assert db.session.scalar(sa.select(sa.func.count(InternalTask.id))) == 0

    # The form is fine, but the order does not exist and a reminder "30 minutes before"
    # has no due time to count from: the service names those fields.
    response = client.post(
        "/tasks/new",
        data={
            "csrf_token": csrf_token_from(page),
            "task_title": "Bellen",
            "task_type": "callback",
            "priority": "high",
            "status": "open",
            "due_date": "2030-01-15",
            "order_number": "CC-2026-99999",
            "remind_minutes_before": "30",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<a href="#order_number">Order number</a>: No order has this number.' in html
    assert (
        '<a href="#remind_minutes_before">Remind the assignee (minutes before due)</a>: '
        "A reminder before the due time needs a due date and time." in html
    )


def test_create_form_from_a_thread_saves_links_and_reminder(client, auth, make_user):
    agent = _signed_in(auth, make_user)
    colleague = make_user("agent")
    order = Order(order_number="CC-2026-00007")
    db.session.add(order)
    db.session.flush()
    thread = factories.thread(None, None, thread_subject="Laadpaal werkt niet", order_id=order.id)
    db.session.commit()

    page = client.get(f"/tasks/new?thread_id={thread.id}").get_data(as_text=True)
    assert "Linked: Laadpaal werkt niet" in page
    assert 'value="CC-2026-00007"' in page
    response = client.post(
        "/tasks/new",
        data={
            "csrf_token": csrf_token_from(page),
            "task_title": "Monteur terugbellen",
            "task_type": "callback",
            "priority": "high",
            "status": "open",
            "assigned_to_user_id": str(colleague.id),
            "due_date": "2030-07-01",
            "due_time": "10:00",
            "thread_id": str(thread.id),
            "order_number": "cc-2026-00007",
            "remind_minutes_before": "30",
        },
    )
    assert response.status_code == 303
    task = db.session.scalar(sa.select(InternalTask))
    assert (task.thread_id, task.order_id, task.created_by_user_id) == (
        thread.id,
        order.id,
        agent.id,
    )
    assert task.reminder_settings == {"minutes_before": 30}
    # 10:00 in Amsterdam in summer (UTC+2), 30 minutes early.
    assert task.next_reminder_at == datetime(2030, 7, 1, 7, 30, tzinfo=timezone.utc)
    assert len(_notifications(colleague.id, "task_assigned")) == 1


def test_thread_link_must_be_a_conversation_the_user_can_open(client, auth, make_user):
    team = _team("support")
    _signed_in(auth, make_user, team_id=team.id)
    hidden = factories.thread(None, None, assigned_team_id=_team("tech").id)
    db.session.commit()
    page = client.get(f"/tasks/new?thread_id={hidden.id}").get_data(as_text=True)
    assert str(hidden.id) not in page
    response = client.post(
        "/tasks/new",
        data={
            "csrf_token": csrf_token_from(page),
            "task_title": "Spieken",
            "task_type": "other",
            "priority": "normal",
            "status": "open",
            "thread_id": str(hidden.id),
        },
    )
    assert response.status_code == 422
    assert "No conversation you can open has this id." in response.get_data(as_text=True)


def test_edit_with_a_stale_lock_version_is_refused(client, auth, make_user):
    _signed_in(auth, make_user)
    task = _task("Offerte nabellen")
    page = client.get(f"/tasks/{task.id}/edit").get_data(as_text=True)
    assert 'name="lock_version" type="hidden" value="1"' in page
    # Someone else saves first.
    task.task_title = "Offerte nabellen (door collega)"
    task.lock_version = 2
    db.session.commit()

    response = client.post(
        f"/tasks/{task.id}/edit",
        data={
            "csrf_token": csrf_token_from(page),
            "lock_version": "1",
            "task_title": "Mijn versie",
            "task_type": "other",
            "priority": "normal",
            "status": "open",
        },
    )
    assert response.status_code == 409
    assert "Someone else changed this task" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(InternalTask, task.id).task_title == "Offerte nabellen (door collega)"

    fresh = client.get(f"/tasks/{task.id}/edit").get_data(as_text=True)
    saved = client.post(
        f"/tasks/{task.id}/edit",
        data={
            "csrf_token": csrf_token_from(fresh),
            "lock_version": "2",
            "task_title": "Mijn versie",
            "task_type": "other",
            "priority": "normal",
            "status": "completed",
            "completion_notes": "Gedaan",
        },
    )
    assert saved.status_code == 303
    db.session.expire_all()
    task = db.session.get(InternalTask, task.id)
    assert (task.task_title, task.lock_version, task.status) == (
        "Mijn versie",
        3,
        TaskStatus.COMPLETED,
    )
    assert task.completed_at is not None


def test_tasks_of_another_team_are_403(client, auth, make_user):
    mine, theirs = _team("support"), _team("tech")
    _signed_in(auth, make_user, team_id=mine.id)
    task = _task("Geheim", assigned_team_id=theirs.id)
    assert client.get(f"/tasks/{task.id}/edit").status_code == 403
    token = auth.csrf_token("/tasks")
    moved = client.post(
        f"/tasks/{task.id}/move", data={"status": "waiting"}, headers={**HX, "X-CSRFToken": token}
    )
    assert moved.status_code == 403
    missing = "00000000-0000-0000-0000-000000000000"
    assert client.get(f"/tasks/{missing}/edit").status_code == 404


def test_a_task_about_a_visible_thread_is_visible(app, make_user):
    mine, theirs = _team("support"), _team("tech")
    agent = make_user("agent", team_id=mine.id)
    thread = factories.thread(None, None, assigned_team_id=mine.id)
    db.session.commit()
    linked = _task("Via thread", assigned_team_id=theirs.id, thread_id=thread.id)
    _task("Niet zichtbaar", assigned_team_id=theirs.id)
    assert [t.id for t in list_tasks(agent).tasks] == [linked.id]


def test_technicians_see_only_their_own_tasks(client, make_user):
    tech = make_user("technician")
    own = _task("Foto's uploaden", assigned_to_user_id=tech.id)
    _task("Niemands taak")
    listed = client.get("/api/tasks", headers=_bearer(tech)).json["data"]
    assert [t["id"] for t in listed] == [str(own.id)]


# --- the JSON API -------------------------------------------------------------


def test_api_create_list_and_update(client, make_user):
    agent = make_user("agent")
    colleague = make_user("agent")
    thread = factories.thread(None, None)
    db.session.commit()
    headers = _bearer(agent)

    created = client.post(
        "/api/tasks",
        json={
            "task_title": "Klant terugbellen",
            "task_type": "callback",
            "priority": "high",
            "assigned_to_user_id": str(colleague.id),
            "thread_id": str(thread.id),
            "due_date": "2030-01-15",
            "due_time": "10:00",
            "reminder_settings": {"minutes_before": 30},
        },
        headers=headers,
    )
    assert created.status_code == 201, created.json
    task = created.json["data"]
    assert set(task) == {
        "id",
        "task_title",
        "task_description",
        "task_type",
        "priority",
        "status",
        "assigned_to",
        "assigned_team_id",
        "created_by",
        "thread_id",
        "order_id",
        "due_date",
        "due_time",
        "completed_at",
        "completion_notes",
        "reminder_settings",
        "next_reminder_at",
        "lock_version",
        "created_at",
        "updated_at",
    }
    assert task["assigned_to"] == {"id": str(colleague.id), "name": colleague.name}
    assert task["created_by"]["id"] == str(agent.id)
    assert task["status"] == "open" and task["lock_version"] == 1
    # 10:00 in Amsterdam in winter (UTC+1), 30 minutes early.
    assert task["next_reminder_at"] == "2030-01-15T08:30:00+00:00"

    for i in range(3):
        _task(f"Ouder {i}", created_at=utcnow() - timedelta(days=i + 1))
    first = client.get("/api/tasks?limit=2", headers=headers).json
    assert [t["task_title"] for t in first["data"]] == ["Klant terugbellen", "Ouder 0"]
    rest = client.get(f"/api/tasks?limit=2&cursor={first['next_cursor']}", headers=headers).json
    assert [t["task_title"] for t in rest["data"]] == ["Ouder 1", "Ouder 2"]
    assert rest["next_cursor"] is None
    by_thread = client.get(f"/api/tasks?thread_id={thread.id}", headers=headers).json["data"]
    assert [t["id"] for t in by_thread] == [task["id"]]
    assert client.get("/api/tasks?assigned=me", headers=headers).json["data"] == []

    updated = client.put(
        f"/api/tasks/{task['id']}",
        json={"status": "completed", "completion_notes": "Gebeld", "lock_version": 1},
        headers=headers,
    )
    assert updated.status_code == 200
    body = updated.json["data"]
    assert body["status"] == "completed" and body["completed_at"] is not None
    assert body["lock_version"] == 2 and body["next_reminder_at"] is None
    assert body["task_title"] == "Klant terugbellen"  # untouched by a partial update
    done = client.get("/api/tasks?status=completed", headers=headers).json["data"]
    assert [t["id"] for t in done] == [task["id"]]


def test_api_validation_errors_are_422_with_fields(client, make_user):
    headers = _bearer(make_user("agent"))
    bad = {
        "task_type": "pigeon",
        "due_date": "15-01-2030",
        "due_time": "9.30",
        "order_id": "CC-2026-99999",
        "reminder_settings": {"minutes_before": 30, "remind_at": "2030-01-01T09:00"},
    }
    response = client.post("/api/tasks", json={**bad, "colour": "blue"}, headers=headers)
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"colour": "unknown field"}
    response = client.post("/api/tasks", json=bad, headers=headers)
    assert response.status_code == 422
    body = response.json
    assert body["success"] is False and body["error"]["code"] == "validation_failed"
    assert set(body["error"]["fields"]) == {
        "task_title",
        "task_type",
        "due_date",
        "due_time",
        "order_id",
        "reminder_settings",
    }
    assert body["error"]["fields"]["due_time"].startswith("must be a time as HH:MM")
    needs_time = client.post(
        "/api/tasks",
        json={"task_title": "x", "reminder_settings": {"minutes_before": 10}},
        headers=headers,
    )
    assert needs_time.status_code == 422
    assert "needs a due date and time" in needs_time.json["error"]["fields"]["reminder_settings"]


def test_api_stale_update_is_409_forbidden_403_unknown_404(client, make_user):
    mine, theirs = _team("support"), _team("tech")
    agent = make_user("agent", team_id=mine.id)
    headers = _bearer(agent)
    task = _task("Offerte", assigned_team_id=mine.id)
    task.lock_version = 3
    db.session.commit()

    stale = client.put(
        f"/api/tasks/{task.id}", json={"priority": "high", "lock_version": 2}, headers=headers
    )
    assert stale.status_code == 409
    assert stale.json["error"]["code"] == "stale_task"
    db.session.expire_all()
    assert db.session.get(InternalTask, task.id).priority == Priority.NORMAL

    bad_version = client.put(f"/api/tasks/{task.id}", json={"lock_version": "2"}, headers=headers)
    assert bad_version.status_code == 422

    hidden = _task("Geheim", assigned_team_id=theirs.id)
    assert client.put(f"/api/tasks/{hidden.id}", json={}, headers=headers).status_code == 403
    assert client.get(f"/api/tasks/{hidden.id}", headers=headers).status_code == 403
    missing = "00000000-0000-0000-0000-000000000000"
    assert client.put(f"/api/tasks/{missing}", json={}, headers=headers).status_code == 404
    assert client.put("/api/tasks/nope", json={}, headers=headers).status_code == 404


def test_api_with_a_session_needs_the_csrf_header(client, auth, make_user):
    _signed_in(auth, make_user)
    assert client.post("/api/tasks", json={"task_title": "x"}).status_code == 400
    response = client.post(
        "/api/tasks",
        json={"task_title": "Met sessie"},
        headers={"X-CSRFToken": auth.csrf_token("/tasks")},
    )
    assert response.status_code == 201


# --- assignment ----------------------------------------------------------------


def test_assignment_notifies_and_publishes_task_assigned(app, make_user, monkeypatch):
    published = []
    monkeypatch.setattr(
        services, "publish", lambda event, data, rooms: published.append((event, data, rooms))
    )
    lead = make_user("team_lead")
    first, second = make_user("agent"), make_user("agent")
    outcome = services.create_task(lead, {"task_title": "Nabellen", "due_date": "2030-01-15"})
    db.session.commit()
    services.publish_task_outcome(outcome)
    assert published == []  # nobody assigned yet

    task = outcome.task
    for assignee in (first, first, second):
        outcome = services.update_task(lead, task, {"assigned_to_user_id": str(assignee.id)})
        db.session.commit()
        services.publish_task_outcome(outcome)

    assert len(_notifications(first.id, "task_assigned")) == 1  # re-saving is not re-assigning
    notice = _notifications(second.id, "task_assigned")[0]
    assert notice.link == "/tasks" and notice.source_record_id == task.id
    assert [(event, rooms) for event, _, rooms in published] == [
        ("task:assigned", [f"user:{first.id}"]),
        ("task:assigned", [f"user:{second.id}"]),
    ]
    assert published[-1][1] == {
        "task_id": str(task.id),
        "title": "Nabellen",
        "due_date": "2030-01-15",
        "due_time": None,
        "assigned_to": {"id": str(second.id), "name": second.name},
    }


# --- reminders ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "expected_utc"),
    [
        (date(2030, 1, 15), datetime(2030, 1, 15, 8, 30, tzinfo=timezone.utc)),  # CET, UTC+1
        (date(2030, 7, 1), datetime(2030, 7, 1, 7, 30, tzinfo=timezone.utc)),  # CEST, UTC+2
    ],
)
def test_reminder_fires_once_at_minutes_before_in_amsterdam(app, make_user, due, expected_utc):
    agent = make_user("agent")
    creator = make_user("manager")
    outcome = services.create_task(
        creator,
        {
            "task_title": "Klant bellen",
            "assigned_to_user_id": str(agent.id),
            "due_date": due.isoformat(),
            "due_time": "10:00",
            "reminder_settings": {"minutes_before": 30},
        },
    )
    db.session.commit()
    task_id = outcome.task.id
    assert outcome.task.next_reminder_at == expected_utc

    # Times far from the real clock, so the embedded worker's own runs never match.
    assert send_due_reminders(now=expected_utc - timedelta(seconds=1)) == 0
    assert send_due_reminders(now=expected_utc) == 1
    assert send_due_reminders(now=expected_utc + timedelta(minutes=1)) == 0
    reminders = _notifications(agent.id, "task_reminder")
    assert len(reminders) == 1
    assert reminders[0].title == "Reminder: Klant bellen"
    assert reminders[0].priority == Priority.NORMAL
    db.session.expire_all()
    task = db.session.get(InternalTask, task_id)
    assert task.next_reminder_at is None
    assert task.reminder_settings["reminder_sent_for"] == expected_utc.isoformat()

    # Saving the task again does not re-arm a reminder already sent...
    services.update_task(creator, task, {"task_description": "Nummer staat in de thread"})
    assert task.next_reminder_at is None
    # ...moving the due time does.
    services.update_task(creator, task, {"due_time": "11:00"})
    assert task.next_reminder_at == expected_utc + timedelta(hours=1)
    db.session.rollback()


def test_overdue_remind_at_reminder_is_high_priority_and_closed_tasks_stay_quiet(app, make_user):
    agent = make_user("agent")
    moment = datetime(2031, 3, 1, 8, 0, tzinfo=timezone.utc)
    late = _task(
        "Te laat",
        assigned_to_user_id=agent.id,
        due_date=date(2031, 2, 27),
        reminder_settings={"remind_at": moment.isoformat()},
        next_reminder_at=moment,
    )
    _task(
        "Al klaar",
        assigned_to_user_id=agent.id,
        status=TaskStatus.COMPLETED,
        next_reminder_at=moment,
    )
    _task("Niemand", next_reminder_at=moment)
    assert send_due_reminders(now=moment + timedelta(seconds=5)) == 1
    [reminder] = _notifications(agent.id, "task_reminder")
    assert reminder.priority == Priority.HIGH and reminder.source_record_id == late.id
    assert reminder.message.startswith("Overdue since 27-02-2031")  # no English month name
    remaining = db.session.scalar(
        sa.select(sa.func.count(InternalTask.id)).where(
            InternalTask.next_reminder_at.is_not(None),
            InternalTask.status != TaskStatus.COMPLETED,
        )
    )
    assert remaining == 0


def test_two_workers_never_send_the_same_reminder(app, make_user):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks (FOR UPDATE SKIP LOCKED) are PostgreSQL's; SQLite has one writer")
    agent = make_user("agent")
    moment = datetime(2031, 5, 1, 8, 0, tzinfo=timezone.utc)
    task = _task("Bellen", assigned_to_user_id=agent.id, next_reminder_at=moment)
    with db.engine.connect() as other_worker:
        other_worker.execute(
            sa.select(InternalTask.id).where(InternalTask.id == task.id).with_for_update()
        )
        assert send_due_reminders(now=moment) == 0  # the row is taken: skipped, not waited on
        other_worker.rollback()
    assert send_due_reminders(now=moment) == 1


def test_a_save_racing_another_save_is_refused(app, make_user):
    """Both read version 1; the other commits first; this save must not overwrite it."""
    agent = make_user("agent")
    task = _task("Offerte")
    assert task.lock_version == 1
    with db.engine.begin() as other_request:
        other_request.execute(
            sa.update(InternalTask)
            .where(InternalTask.id == task.id)
            .values(lock_version=2, task_title="Offerte (collega)")
        )
    with pytest.raises(services.StaleTaskError):
        services.update_task(agent, task, {"task_title": "Mijn titel"}, expected_lock_version=1)
    db.session.rollback()
    assert db.session.get(InternalTask, task.id).task_title == "Offerte (collega)"


def test_periodic_slot_enqueues_task_reminders_once(app):
    broker = app.extensions["broker"]
    jobs = [job for job in collect().periodic_jobs if job.name == "task-reminders"]
    assert jobs and jobs[0].func_path == "app.conversations.tasks.jobs.send_due_reminders"
    # A fixed moment in the past: the embedded worker's own ticks use other slots.
    slot_start = 1_000_000_020.0
    assert enqueue_due_periodic_jobs(broker, now=slot_start, jobs=jobs) == ["task-reminders"]
    assert enqueue_due_periodic_jobs(broker, now=slot_start + 10, jobs=jobs) == []
    assert enqueue_due_periodic_jobs(broker, now=slot_start + 30, jobs=jobs) == ["task-reminders"]


def test_demo_style_reminder_settings_are_understood(app, make_user):
    agent = make_user("agent")
    task = _task(
        "Demo",
        assigned_to_user_id=agent.id,
        due_date=date(2030, 1, 15),
        due_time="09:00",
        reminder_settings={"remind_before_minutes": 60, "channels": ["in_app"]},
    )
    assert reminder_moment(task) == datetime(2030, 1, 15, 7, 0, tzinfo=timezone.utc)


def test_board_is_for_desk_roles_only(client, auth, make_user):
    _signed_in(auth, make_user, role="technician")
    assert client.get("/tasks").status_code == 403
