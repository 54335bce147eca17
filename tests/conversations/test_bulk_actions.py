"""Bulk actions on the inbox list: one request, one transaction, access per conversation."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.conversations.workspace.bulk import MAX_THREADS
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread
from app.platform.models.enums import MessageType, Priority, ThreadStatus
from app.platform.transactions import commit
from tests.support import factories
from tests.support.helpers import HX


def _post(client, auth, ids, **form):
    data = {"csrf_token": auth.csrf_token("/inbox"), "thread_ids": [str(i) for i in ids], **form}
    return client.post("/inbox/bulk", data=data, headers=HX)


def _threads(ids):
    db.session.expire_all()
    return [db.session.get(CommunicationThread, i) for i in ids]


def _world(make_user):
    ours = factories.team("Klantenservice")
    theirs = factories.team("Techniek")
    agent = make_user("agent", email="agent@switchboard.test", team_id=ours.id)
    colleague = make_user("agent", email="sanne@switchboard.test", team_id=ours.id)
    colleague.name = "Sanne"
    channel = factories.channel()
    mine = [factories.thread(channel, assigned_team_id=ours.id) for _ in range(3)]
    foreign = factories.thread(channel, assigned_team_id=theirs.id, thread_subject="Andermans")
    commit()
    return agent, colleague, ours, theirs, mine, foreign


def test_bulk_assign_changes_what_the_agent_may_change_and_lists_the_refused(
    app, auth, client, make_user
):
    agent, colleague, _ours, _theirs, mine, foreign = _world(make_user)
    auth.login("agent@switchboard.test")
    answer = _post(
        client,
        auth,
        [t.id for t in mine] + [foreign.id],
        action="assign",
        assign_to=f"user:{colleague.id}",
    )
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "3 changed" in page and "1 refused" in page
    assert "Andermans (no access)" in page
    changed = _threads([t.id for t in mine])
    assert all(t.assigned_to_user_id == colleague.id for t in changed)
    assert all(t.lock_version == 2 for t in changed)  # open header forms are now stale
    assert _threads([foreign.id])[0].assigned_to_user_id is None
    lines = db.session.scalars(
        sa.select(CommunicationMessage.message_content).where(
            CommunicationMessage.message_type == MessageType.SYSTEM_NOTIFICATION
        )
    ).all()
    assert lines.count("Test agent assigned the thread to Sanne") == 3


def test_bulk_status_priority_tag_team_and_snooze(app, auth, client, make_user):
    agent, _colleague, _ours, theirs, mine, _foreign = _world(make_user)
    ids = [t.id for t in mine]
    auth.login("agent@switchboard.test")
    assert _post(client, auth, ids, action="priority", priority="urgent").status_code == 200
    assert _post(client, auth, ids, action="tag", tag="Storing").status_code == 200
    again = _post(client, auth, ids, action="tag", tag="storing")
    assert "0 changed, 3 already so" in again.get_data(as_text=True)
    assert _post(client, auth, ids, action="snooze", snooze="until_reply").status_code == 200
    threads = _threads(ids)
    assert all(t.priority == Priority.URGENT and t.tags == ["storing"] for t in threads)
    assert all(t.snoozed_at is not None for t in threads)
    assert _post(client, auth, ids[:1], action="status", status="resolved").status_code == 200
    resolved = _threads(ids[:1])[0]
    assert resolved.status == ThreadStatus.RESOLVED and resolved.snoozed_at is None
    # A closed conversation cannot be snoozed: refused, the others still are.
    snoozed = _post(client, auth, ids, action="snooze", snooze="next_working_day")
    assert "2 changed, 1 refused" in snoozed.get_data(as_text=True)
    moved = _post(client, auth, ids[1:], action="assign", assign_to=f"team:{theirs.id}")
    assert "2 changed" in moved.get_data(as_text=True)
    assert all(t.assigned_team_id == theirs.id for t in _threads(ids[1:]))


def test_bulk_input_is_checked_and_names_the_field(app, auth, client, make_user):
    _agent, _colleague, _ours, _theirs, mine, _foreign = _world(make_user)
    auth.login("agent@switchboard.test")
    ids = [t.id for t in mine]
    cases = [
        ([], {"action": "priority", "priority": "high"}, "thread_ids"),
        (["not-an-id"], {"action": "priority", "priority": "high"}, "thread_ids"),
        ([uuid.uuid4()], {"action": "priority", "priority": "high"}, "thread_ids"),
        (
            [uuid.uuid4() for _ in range(MAX_THREADS + 1)],
            {"action": "tag", "tag": "x"},
            "thread_ids",
        ),
        (ids, {"action": "delete"}, "action"),
        (ids, {"action": "priority", "priority": "sky-high"}, "priority"),
        (ids, {"action": "assign", "assign_to": "user:nobody"}, "assign_to"),
        (ids, {"action": "tag", "tag": ""}, "tag"),
        (ids, {"action": "snooze", "snooze": "custom", "snooze_until": ""}, "snooze_until"),
    ]
    for thread_ids, form, field in cases:
        answer = _post(client, auth, thread_ids, **form)
        assert answer.status_code == 422, (form, field)
        assert f"{field}:" in answer.get_data(as_text=True), (form, field)
    # Nothing was written by any of them.
    assert all(t.priority == Priority.NORMAL and t.lock_version == 1 for t in _threads(ids))


def test_only_desk_staff_may_use_it(app, auth, client, make_user):
    make_user("technician", email="tech@switchboard.test")
    auth.login("tech@switchboard.test")
    assert client.get("/inbox/bulk").status_code == 403


def test_the_bar_names_statuses_as_the_header_does_and_sits_above_the_rows(
    app, auth, client, make_user
):
    make_user("agent", email="agent@switchboard.test", language="nl")
    factories.thread(factories.channel())
    commit()
    auth.login("agent@switchboard.test")

    bar = client.get("/inbox/bulk").get_data(as_text=True)
    # Lower case, as the thread header's status and priority (not "Open", "Laag").
    assert '<option value="open">open</option>' in bar
    assert '<option value="low">laag</option>' in bar
    # The list's place for the bar keeps it through refreshes; on the bar itself
    # hx-preserve would keep the empty place out of the bar's own swaps.
    assert "hx-preserve" not in bar

    page = client.get("/inbox").get_data(as_text=True)
    # In reading order where it shows: after the filters and the search, before the rows.
    places = [page.index(f'id="{name}"') for name in ("inbox-filters", "bulk-bar", "thread-list")]
    assert places == sorted(places)
    assert page.count('id="bulk-bar"') == 1
