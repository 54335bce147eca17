"""Irreversible acts ask first and say what they do; bulk counts.

A merge shows what stays and what moves and happens only on the confirmed POST;
same-name contacts are put side by side; who may not merge is told before
clicking; the bulk bar's answer carries the list's counts.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.conversations.inbox.counts import cached_tab_counts
from app.conversations.merges.comparison import contact_merge_refusal, contact_side, same_name
from app.conversations.merges.conversations import conversation_merge_preview, merge_not_allowed
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    CommunicationThread,
    ContactIdentity,
    ContactMerge,
    ConversationMerge,
    InternalTask,
    Order,
    ThreadRead,
)
from app.platform.models.enums import ChannelType, MessageType, Priority, ThreadStatus
from app.platform.transactions import commit
from tests.support import factories
from tests.support.helpers import HX, csrf_token_from


def _merges(model) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _two_conversations():
    mail = factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Outlook")
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    jan = factories.contact(display_name="Jan Jansen", phone="+31612345678", email="jan@a.nl")
    kept = factories.thread(mail, jan, thread_subject="Offerte laadpaal", tags=["offerte"])
    other = factories.thread(
        whatsapp,
        jan,
        thread_subject="Vraag over installatie",
        tags=["offerte", "storing"],
        priority=Priority.URGENT,
    )
    return jan, kept, other


# --- conversations ----------------------------------------------------------------------


def test_the_conversation_preview_counts_exactly_what_the_merge_moves(app, make_user):
    agent = make_user("agent")
    jan, kept, other = _two_conversations()
    order = Order(order_number="CC-2026-00042", end_customer_contact_id=jan.id)
    db.session.add(order)
    db.session.flush()
    other.order_id = order.id
    factories.message(other, "Wanneer komt de monteur?", sender_contact_id=jan.id)
    factories.message(other, "Morgen", message_type=MessageType.OUTGOING)
    factories.message(other, "Klant belt terug", message_type=MessageType.INTERNAL_NOTE)
    photo = factories.message(other, "[Photo]", sender_contact_id=jan.id)
    photo.attachments = [
        {"status": "stored", "filename": "a.jpg", "path": "x/a.jpg"},
        {"status": "stored", "filename": "b.jpg", "path": "x/b.jpg"},
    ]
    db.session.add(InternalTask(task_title="Bellen", thread_id=other.id, reminder_settings={}))
    commit()

    preview = conversation_merge_preview(other, kept, agent)
    assert preview.counts == {
        "messages": 3,
        "notes": 1,
        "status_lines": 0,
        "files": 2,
        "tasks": 1,
        "feedback": 0,
    }
    assert preview.tags_added == ["storing"]
    assert preview.order_taken == order
    assert preview.priority_raised is True
    assert preview.refusal is None
    # Read only: nothing was merged by looking.
    assert _merges(ConversationMerge) == 0

    kept.status = ThreadStatus.CLOSED
    commit()
    assert "is closed" in conversation_merge_preview(other, kept, agent).refusal


def test_a_conversation_merges_only_on_the_confirmed_post(client, auth, make_user):
    make_user("agent", email="agent@switchboard.test")
    _jan, kept, other = _two_conversations()
    commit()
    auth.login("agent@switchboard.test")

    chooser = client.get(f"/threads/{other.id}/merge").get_data(as_text=True)
    assert f'action="/threads/{other.id}/merge/preview"' in chooser and 'method="get"' in chooser
    preview = client.get(f"/threads/{other.id}/merge/preview?into={kept.id}")
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    assert 'data-testid="merge-survives"' in page and "Offerte laadpaal" in page
    assert "+31612345678" in page and "jan@a.nl" in page
    assert 'name="confirm" value="yes"' in page and "cannot be undone" in page
    token = csrf_token_from(page)

    unconfirmed = client.post(
        f"/threads/{other.id}/merge", data={"csrf_token": token, "into": str(kept.id)}
    )
    assert unconfirmed.status_code == 422
    assert "Nothing was merged" in unconfirmed.get_data(as_text=True)
    assert _merges(ConversationMerge) == 0
    assert db.session.get(CommunicationThread, other.id).status != ThreadStatus.CLOSED

    confirmed = client.post(
        f"/threads/{other.id}/merge",
        data={"csrf_token": token, "into": str(kept.id), "confirm": "yes"},
    )
    assert confirmed.status_code == 303
    assert _merges(ConversationMerge) == 1


def test_who_may_not_merge_conversations_is_told_before_clicking(client, auth, make_user):
    technician = make_user("technician", email="tech@switchboard.test")
    assert "Only customer service agents" in merge_not_allowed(technician)
    assert merge_not_allowed(make_user("agent")) is None
    jan, kept, other = _two_conversations()
    # A technician opens the conversations of the orders they install.
    order = Order(
        order_number="CC-2026-00043",
        end_customer_contact_id=jan.id,
        assigned_technician_id=technician.id,
    )
    db.session.add(order)
    db.session.flush()
    other.order_id = order.id
    commit()
    auth.login("tech@switchboard.test")
    header = client.get(f"/threads/{other.id}/header", headers=HX).get_data(as_text=True)
    assert 'data-testid="merge-into-disabled"' in header and " disabled " in header
    assert "Only customer service agents, team leads, managers and admins" in header
    assert 'data-testid="merge-into"' not in header
    # The server still refuses.
    assert client.get(f"/threads/{other.id}/merge").status_code == 403


# --- contacts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("Jan de Vries", "Jan de Vries", True),
        ("Jan de Vries", "jan  de vries.", True),
        ("José Peña", "Jose Pena", True),
        ("Jan de Vries", "Jan de Vriess", True),
        ("Jan de Vries", "Piet Jansen", False),
        ("Jan de Vries", "", False),
    ],
)
def test_same_or_nearly_the_same_names(first, second, same):
    assert same_name(first, second) is same


def _namesakes():
    mail = factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Outlook")
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    first = factories.contact(display_name="Jan de Vries", phone="+31611111111", email=None)
    second = factories.contact(
        display_name="Jan de Vries", phone="+31622222222", email="jdv@voorbeeld.nl"
    )
    db.session.add(ContactIdentity(contact_id=second.id, kind="phone", address="+31622222222"))
    first_thread = factories.thread(mail, first, thread_subject="Offerte thuislader")
    second_thread = factories.thread(
        whatsapp,
        second,
        thread_subject="Storing in Zwolle",
        last_message_preview="Mijn laadpaal in Zwolle geeft foutcode E4 sinds vanochtend",
    )
    commit()
    return first, second, first_thread, second_thread


def test_a_contact_side_tells_a_namesake_apart(app, make_user):
    agent = make_user("agent")
    _first, second, _t, second_thread = _namesakes()
    side = contact_side(second, agent)
    assert side.phones == ["+31622222222"] and side.emails == ["jdv@voorbeeld.nl"]
    assert side.conversations == 1
    assert side.last_conversation.thread.id == second_thread.id
    assert side.last_conversation.first_words.startswith("Mijn laadpaal in Zwolle")


def test_namesakes_are_put_side_by_side_and_merge_only_when_confirmed(client, auth, make_user):
    make_user("agent", email="agent@switchboard.test")
    first, second, _t, _t2 = _namesakes()
    auth.login("agent@switchboard.test")
    page = client.get(f"/contacts/{first.id}/merge/{second.id}").get_data(as_text=True)
    assert 'data-testid="merge-same-name"' in page and "Both contacts are called" in page
    compare = page[page.index('data-testid="merge-compare"') :]
    for text in ("+31611111111", "+31622222222", "jdv@voorbeeld.nl", "Storing in Zwolle"):
        assert text in compare
    assert "Offerte thuislader" in compare and "WhatsApp" in compare
    assert 'data-testid="kept-facts"' in page
    assert re.search(r'data-testid="merge-contact-submit"\s*>', page)  # enabled

    token = csrf_token_from(page)
    unconfirmed = client.post(f"/contacts/{first.id}/merge/{second.id}", data={"csrf_token": token})
    assert unconfirmed.status_code == 422 and "Nothing was merged" in unconfirmed.get_data(
        as_text=True
    )
    assert _merges(ContactMerge) == 0
    confirmed = client.post(
        f"/contacts/{first.id}/merge/{second.id}", data={"csrf_token": token, "confirm": "yes"}
    )
    assert confirmed.status_code == 303 and _merges(ContactMerge) == 1

    # Different names: no warning, the comparison still there.
    other = factories.contact(display_name="Piet Jansen", phone="+31633333333")
    commit()
    page = client.get(f"/contacts/{first.id}/merge/{other.id}").get_data(as_text=True)
    assert 'data-testid="merge-same-name"' not in page and 'data-testid="merge-compare"' in page


def test_an_agent_who_may_not_merge_sees_why_before_and_is_refused_after(client, auth, make_user):
    mine, theirs = factories.team("Klantenservice"), factories.team("Techniek")
    agent = make_user("agent", email="agent@switchboard.test", team_id=mine.id)
    first, second, first_thread, second_thread = _namesakes()
    first_thread.assigned_team_id = mine.id
    second_thread.assigned_team_id = mine.id
    # Another team's conversation of the first contact: a merge would move it.
    factories.thread(
        factories.channel(), first, thread_subject="Techniek", assigned_team_id=theirs.id
    )
    commit()
    assert "may open every conversation" in contact_merge_refusal(agent, first)
    assert contact_merge_refusal(agent, second) is None

    auth.login("agent@switchboard.test")
    sidebar = client.get(f"/threads/{first_thread.id}/customer", headers=HX).get_data(as_text=True)
    assert 'data-testid="customer-merge-disabled"' in sidebar
    assert "Only someone who may open every conversation of this contact" in sidebar
    assert 'data-testid="customer-merge-link"' not in sidebar

    page = client.get(f"/contacts/{first.id}/merge/{second.id}").get_data(as_text=True)
    assert 'data-testid="merge-refusal"' in page
    assert re.search(r'data-testid="merge-contact-submit"\s+disabled', page)
    refused = client.post(
        f"/contacts/{first.id}/merge/{second.id}",
        data={"csrf_token": csrf_token_from(page), "confirm": "yes"},
    )
    assert refused.status_code == 403
    assert _merges(ContactMerge) == 0


# --- bulk: the counts come with the answer ------------------------------------------------


def test_the_bulk_answer_carries_the_tab_counts_counted_afresh(client, auth, make_user):
    team = factories.team("Klantenservice")
    agent = make_user("agent", email="agent@switchboard.test", team_id=team.id)
    channel = factories.channel()
    threads = [factories.thread(channel, assigned_team_id=team.id) for _ in range(3)]
    commit()
    auth.login("agent@switchboard.test")
    # The list shows the counts, and keeps them for a while (app.conversations.inbox.counts).
    assert cached_tab_counts(agent)["unassigned"] == 3
    answer = client.post(
        "/inbox/bulk",
        data={
            "csrf_token": auth.csrf_token("/inbox"),
            "thread_ids": [str(t.id) for t in threads[:2]],
            "action": "assign",
            "assign_to": f"user:{agent.id}",
        },
        headers=HX,
    )
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert re.search(r'id="tab-count-mine"[^>]*hx-swap-oob="true">2<', html)
    assert re.search(r'id="tab-count-unassigned"[^>]*hx-swap-oob="true">1<', html)
    # The next list refresh shows the same, not the counts kept before the action.
    assert cached_tab_counts(agent) == {"mine": 2, "unassigned": 1, "overdue": 0}


def test_bulk_mark_read_is_the_actors_and_leaves_open_forms_valid(client, auth, make_user):
    agent = make_user("agent", email="agent@switchboard.test")
    colleague = make_user("agent")
    channel = factories.channel()
    unread = [factories.thread(channel, last_customer_message_at=utcnow()) for _ in range(2)]
    commit()
    auth.login("agent@switchboard.test")
    answer = client.post(
        "/inbox/bulk",
        data={
            "csrf_token": auth.csrf_token("/inbox"),
            "thread_ids": [str(t.id) for t in unread],
            "action": "read",
        },
        headers=HX,
    )
    assert answer.status_code == 200 and "2 changed" in answer.get_data(as_text=True)
    db.session.expire_all()
    for thread in unread:
        assert db.session.get(CommunicationThread, thread.id).lock_version == 1
    read_by = db.session.scalars(sa.select(ThreadRead.user_id)).all()
    assert read_by == [agent.id, agent.id] and colleague.id not in read_by
    again = client.post(
        "/inbox/bulk",
        data={
            "csrf_token": auth.csrf_token("/inbox"),
            "thread_ids": [str(t.id) for t in unread],
            "action": "read",
        },
        headers=HX,
    )
    assert "0 changed, 2 already so" in again.get_data(as_text=True)


def test_bulk_mark_read_leaves_a_message_that_came_after_the_list_unread(client, auth, make_user):
    agent = make_user("agent", email="agent@switchboard.test")
    thread = factories.thread(factories.channel(), last_customer_message_at=utcnow())
    commit()
    auth.login("agent@switchboard.test")
    listed = client.get("/inbox?tab=all").get_data(as_text=True)
    shown = re.search(rf'name="seen_{thread.id}" value="([^"]+)"', listed).group(1)
    # A customer writes again after the list was drawn, before the agent clicks.
    thread.last_customer_message_at = utcnow() + timedelta(seconds=5)
    commit()

    answer = client.post(
        "/inbox/bulk",
        data={
            "csrf_token": auth.csrf_token("/inbox"),
            "thread_ids": [str(thread.id)],
            "action": "read",
            f"seen_{thread.id}": shown,
        },
        headers=HX,
    )

    assert "1 changed" in answer.get_data(as_text=True)
    read_up_to = db.session.scalar(
        sa.select(ThreadRead.last_read_at).where(ThreadRead.user_id == agent.id)
    )
    assert read_up_to.isoformat() == shown
    assert 'data-unread="true"' in client.get("/inbox?tab=all").get_data(as_text=True)
