"""Merging two conversations of one customer, and two contacts (with undo)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

import app.platform.transactions as transactions
from app.conversations.core import (
    InboundMessage,
    MergeRefused,
    Sender,
    mark_read,
    merge_threads,
    record_inbound,
)
from app.conversations.gdpr.erasure import erase_contact
from app.conversations.merges.contacts import (
    ContactMergeRefused,
    merge_contacts,
    merge_preview,
    undo_contact_merge,
)
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    AuditLog,
    CommunicationMessage,
    CommunicationThread,
    Contact,
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
from tests.support.helpers import HX, csrf_token_from, race, raised


def _customer(**fields):
    return factories.contact(**fields)


def _two_conversations(contact=None):
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    mail = factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Outlook")
    jan = contact or _customer(display_name="Jan Jansen", phone="+31612345678")
    kept = factories.thread(
        mail, jan, thread_subject="Offerte laadpaal", minutes_ago=60, tags=["offerte"]
    )
    other = factories.thread(
        whatsapp, jan, thread_subject="Vraag over installatie", minutes_ago=30, tags=["storing"]
    )
    return jan, kept, other


def _message(thread, content, minutes_ago, **fields):
    return factories.message(
        thread, content, created_at=utcnow() - timedelta(minutes=minutes_ago), **fields
    )


def _audit(action):
    return db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.created_at)
    ).all()


# --- conversations --------------------------------------------------------------------


def test_a_merge_makes_one_timeline_and_closes_the_other_with_a_pointer(
    client, auth, make_user, monkeypatch
):
    agent = make_user("agent", email="agent@switchboard.test")
    jan, kept, other = _two_conversations()
    order = Order(order_number="CC-2026-00042")
    db.session.add(order)
    db.session.flush()
    other.order_id = order.id
    _message(kept, "Wat kost een laadpaal?", 60, sender_contact_id=jan.id)
    _message(other, "Wanneer komt de monteur?", 30, sender_contact_id=jan.id)
    _message(kept, "Ongeveer 1200 euro.", 20, message_type=MessageType.OUTGOING)
    _message(other, "Klant belt terug", 10, message_type=MessageType.INTERNAL_NOTE)
    photo = _message(
        other,
        "[Photo]",
        5,
        sender_contact_id=jan.id,
        attachments=[{"status": "stored", "filename": "meterkast.jpg", "path": "x/meterkast.jpg"}],
    )
    task = InternalTask(task_title="Monteur inplannen", thread_id=other.id, reminder_settings={})
    db.session.add(task)
    db.session.commit()

    dispatched = []
    original = transactions.dispatch
    monkeypatch.setattr(transactions, "dispatch", lambda e: (dispatched.append(e), original(e)))
    auth.login("agent@switchboard.test")
    page = client.get(f"/threads/{other.id}/merge")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'value="{kept.id}"' in html and f'value="{other.id}"' not in html
    token = csrf_token_from(html)
    response = client.post(
        f"/threads/{other.id}/merge",
        data={"csrf_token": token, "into": str(kept.id), "confirm": "yes"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/threads/{kept.id}")

    db.session.expire_all()
    contents = db.session.scalars(
        sa.select(CommunicationMessage.message_content)
        .where(CommunicationMessage.thread_id == kept.id)
        .order_by(CommunicationMessage.created_at)
    ).all()
    assert contents[:5] == [
        "Wat kost een laadpaal?",
        "Wanneer komt de monteur?",
        "Ongeveer 1200 euro.",
        "Klant belt terug",
        "[Photo]",
    ]
    assert "merged the conversation “Vraag over installatie” into this one" in contents[5]
    assert db.session.get(CommunicationMessage, photo.id).attachments[0]["filename"] == (
        "meterkast.jpg"
    )
    assert db.session.get(InternalTask, task.id).thread_id == kept.id
    kept_now = db.session.get(CommunicationThread, kept.id)
    assert kept_now.tags == ["offerte", "storing"]
    assert kept_now.order_id == order.id
    closed = db.session.get(CommunicationThread, other.id)
    assert closed.status == ThreadStatus.CLOSED
    lines = db.session.scalars(
        sa.select(CommunicationMessage.message_content).where(
            CommunicationMessage.thread_id == other.id
        )
    ).all()
    assert len(lines) == 1 and "merged this conversation into “Offerte laadpaal”" in lines[0]
    pointer = db.session.scalar(sa.select(ConversationMerge))
    assert (pointer.kept_thread_id, pointer.merged_thread_id) == (kept.id, other.id)
    assert pointer.moved == {"messages": 3, "tasks": 1, "feedback": 0}
    entry = _audit("conversation_merge")[0]
    assert entry.changed_by_user_id == agent.id
    assert entry.changes["merged_thread_id"] == str(other.id)
    merged_events = [e for e in dispatched if getattr(e, "reason", None) == "merged"]
    assert {e.thread_id for e in merged_events} == {kept.id, other.id}

    # The merged conversation's page points to the kept one, and takes no reply.
    html = client.get(f"/threads/{other.id}").get_data(as_text=True)
    assert 'data-testid="merged-into"' in html and f"/threads/{kept.id}" in html
    assert 'name="content"' not in html
    # A notification's link to a moved message finds it where it lives now.
    linked = client.get(f"/threads/{other.id}?message={photo.id}")
    assert linked.status_code == 303
    assert f"/threads/{kept.id}?message={photo.id}" in linked.headers["Location"]


@pytest.mark.parametrize(
    ("case", "status", "words"),
    [
        ("different_customers", 409, "different customers"),
        ("itself", 409, "cannot be merged into itself"),
        ("closed", 409, "is closed"),
        ("no_choice", 422, "Choose the conversation"),
    ],
)
def test_merges_that_cannot_be_made_are_refused_saying_why(
    client, auth, make_user, case, status, words
):
    make_user("agent", email="agent@switchboard.test")
    jan, kept, other = _two_conversations()
    if case == "different_customers":
        kept.contact_id = _customer(display_name="Piet Pietersen").id
    if case == "closed":
        kept.status = ThreadStatus.CLOSED
    db.session.commit()
    auth.login("agent@switchboard.test")
    token = auth.csrf_token(f"/threads/{other.id}")
    into = {"itself": str(other.id), "no_choice": ""}.get(case, str(kept.id))
    response = client.post(
        f"/threads/{other.id}/merge", data={"csrf_token": token, "into": into, "confirm": "yes"}
    )
    assert response.status_code == status
    assert words in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConversationMerge)) == 0
    assert db.session.get(CommunicationThread, other.id).status != ThreadStatus.CLOSED


def test_an_agent_cannot_merge_into_a_conversation_they_may_not_open(client, auth, make_user):
    mine, theirs = factories.team("Klantenservice"), factories.team("Techniek")
    make_user("agent", email="agent@switchboard.test", team_id=mine.id)
    jan, kept, other = _two_conversations()
    kept.assigned_team_id = theirs.id
    other.assigned_team_id = mine.id
    db.session.commit()
    auth.login("agent@switchboard.test")
    form = client.get(f"/threads/{other.id}/merge").get_data(as_text=True)
    assert "Offerte laadpaal" not in form  # not offered
    token = csrf_token_from(form)
    response = client.post(
        f"/threads/{other.id}/merge",
        data={"csrf_token": token, "into": str(kept.id), "confirm": "yes"},
    )
    assert response.status_code == 403
    assert "You may not open that conversation" in response.get_data(as_text=True)
    # Nor is it previewed, confirmed or not.
    preview = client.get(f"/threads/{other.id}/merge/preview?into={kept.id}")
    assert preview.status_code == 403 and "Offerte laadpaal" not in preview.get_data(as_text=True)
    unconfirmed = client.post(
        f"/threads/{other.id}/merge", data={"csrf_token": token, "into": str(kept.id)}
    )
    assert unconfirmed.status_code == 403
    assert client.get(f"/threads/{kept.id}/merge").status_code == 403


def test_a_merged_conversation_cannot_be_merged_again_or_merged_into(app, make_user):
    agent = make_user("agent")
    jan, kept, other = _two_conversations()
    third = factories.thread(kept.channel, jan, thread_subject="Factuur")
    merge_threads(kept.id, other.id, actor=agent)
    commit()
    with pytest.raises(MergeRefused) as again:
        merge_threads(third.id, other.id, actor=agent)
    assert again.value.reason == "already_merged"
    db.session.rollback()
    with pytest.raises(MergeRefused) as into:
        merge_threads(other.id, third.id, actor=agent)
    assert into.value.reason == "kept_merged"


def test_the_kept_conversation_takes_the_earlier_deadline_and_unread_marks_stay_true(
    app, make_user
):
    agent, colleague = make_user("agent"), make_user("agent")
    jan, kept, other = _two_conversations()
    now = utcnow()
    # The customer on the merged conversation has waited longer: their deadline is first.
    for thread, due, wrote in ((kept, 50, 10), (other, 20, 40)):
        thread.sla_started_at = now - timedelta(minutes=wrote)
        thread.sla_target_seconds = 3600
        thread.sla_cycle = 1
        thread.response_due_at = now + timedelta(minutes=due)
        thread.last_customer_message_at = now - timedelta(minutes=wrote)
    other.priority = Priority.HIGH
    db.session.flush()
    # The agent has read both to the end; the colleague only the kept one.
    mark_read(kept, agent, up_to=kept.last_customer_message_at)
    mark_read(other, agent, up_to=other.last_customer_message_at)
    mark_read(kept, colleague, up_to=kept.last_customer_message_at)
    commit()

    merge_threads(kept.id, other.id, actor=agent)
    commit()
    db.session.expire_all()
    kept = db.session.get(CommunicationThread, kept.id)
    other = db.session.get(CommunicationThread, other.id)
    assert kept.response_due_at == now + timedelta(minutes=20)
    assert kept.sla_cycle == 2 and kept.priority == Priority.HIGH
    assert other.response_due_at is None and other.sla_next_check_at is None
    assert kept.last_customer_message_at == now - timedelta(minutes=10)
    marks = {
        row.user_id: row.last_read_at
        for row in db.session.scalars(sa.select(ThreadRead).where(ThreadRead.thread_id == kept.id))
    }
    assert marks[agent.id] >= kept.last_customer_message_at  # read both: still read
    assert marks[colleague.id] >= kept.last_customer_message_at  # the newest was the kept one's


def test_a_resolved_kept_conversation_reopens_when_the_merged_one_was_still_open(app, make_user):
    agent = make_user("agent")
    jan, kept, other = _two_conversations()
    kept.status, kept.resolved_at = ThreadStatus.RESOLVED, utcnow()
    other.status = ThreadStatus.IN_PROGRESS
    commit()
    merge_threads(kept.id, other.id, actor=agent)
    commit()
    db.session.expire_all()
    kept = db.session.get(CommunicationThread, kept.id)
    assert kept.status == ThreadStatus.IN_PROGRESS and kept.resolved_at is None


def test_replies_to_a_merged_conversation_reach_the_kept_one(app, make_user):
    agent = make_user("agent")
    jan, kept, other = _two_conversations()
    other.external_references = {"conversation_key": "graph-conv-1"}
    mail = kept.channel
    email_thread = factories.thread(
        mail, jan, thread_subject="Mail", external_references={"conversation_key": "graph-conv-2"}
    )
    jan.email = "jan@example.nl"
    commit()
    merge_threads(kept.id, other.id, actor=agent)
    merge_threads(kept.id, email_thread.id, actor=agent)
    commit()

    # An e-mail in the merged conversation's Outlook conversation.
    by_key = record_inbound(
        mail,
        Sender("email", "jan@example.nl"),
        InboundMessage("mail-1", "Nog een vraag", utcnow(), conversation_key="graph-conv-2"),
    )
    # A WhatsApp message: the kept conversation is an e-mail one, so it is found by the
    # pointer of the customer's latest WhatsApp conversation.
    by_phone = record_inbound(
        other.channel, Sender("phone", "+31612345678"), InboundMessage("wamid.1", "Hoi", utcnow())
    )
    commit()
    assert by_key.thread_id == kept.id
    assert by_phone.thread_id == kept.id


def test_two_people_merging_the_same_conversations_at_once_make_one_merge(app, make_user):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    anouk, sanne = make_user("agent"), make_user("agent")
    jan, kept, other = _two_conversations()
    commit()
    pairs = [(kept.id, other.id, anouk.id), (other.id, kept.id, sanne.id)]

    def work(index):
        kept_id, merged_id, user_id = pairs[index]
        from app.platform.models import User

        return merge_threads(kept_id, merged_id, actor=db.session.get(User, user_id)).id

    results = race(app, work)
    refused = raised(results)
    assert len(refused) == 1 and isinstance(refused[0], MergeRefused)
    assert refused[0].reason in ("already_merged", "kept_merged")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConversationMerge)) == 1


# --- contacts -------------------------------------------------------------------------


def _duplicates():
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    mail = factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Outlook")
    kept = _customer(display_name="Jan Jansen", phone="+31612345678", email=None)
    other = _customer(
        display_name="J. Jansen", phone="+31687654321", email="jan@example.nl", job_title="Eigenaar"
    )
    db.session.add_all(
        [
            ContactIdentity(contact_id=kept.id, kind="phone", address="+31612345678"),
            ContactIdentity(contact_id=other.id, kind="phone", address="+31687654321"),
        ]
    )
    kept_thread = factories.thread(whatsapp, kept, thread_subject="Laadpaal")
    other_thread = factories.thread(mail, other, thread_subject="Offerte per mail")
    message = factories.message(other_thread, "Graag een offerte", sender_contact_id=other.id)
    order = Order(order_number="CC-2026-00077", end_customer_contact_id=other.id)
    db.session.add(order)
    commit()
    return kept, other, kept_thread, other_thread, message, order


def test_a_contact_merge_moves_everything_and_fills_only_blanks(app, make_user):
    agent = make_user("agent")
    kept, other, kept_thread, other_thread, message, order = _duplicates()

    preview = merge_preview(kept, other)
    assert preview.counts["threads"] == 1 and preview.counts["orders_as_customer"] == 1
    assert preview.counts["identities"] == 2  # its number, and its e-mail claimed on merging
    assert {fill.name: fill.value for fill in preview.fills} == {
        "email": "jan@example.nl",
        "job_title": "Eigenaar",
    }

    merge = merge_contacts(kept.id, other.id, agent)
    commit()
    db.session.expire_all()
    assert db.session.get(CommunicationThread, other_thread.id).contact_id == kept.id
    assert db.session.get(CommunicationMessage, message.id).sender_contact_id == kept.id
    assert db.session.get(Order, order.id).end_customer_contact_id == kept.id
    identities = set(
        db.session.execute(
            sa.select(ContactIdentity.kind, ContactIdentity.address).where(
                ContactIdentity.contact_id == kept.id
            )
        ).all()
    )
    assert identities == {
        ("phone", "+31612345678"),
        ("phone", "+31687654321"),
        ("email", "jan@example.nl"),
    }
    kept = db.session.get(Contact, kept.id)
    assert kept.display_name == "Jan Jansen" and kept.phone == "+31612345678"  # not overwritten
    assert (kept.email, kept.job_title) == ("jan@example.nl", "Eigenaar")
    entry = _audit("contact_merge")[0]
    assert entry.record_id == merge.id and entry.changed_by_user_id == agent.id
    assert entry.changes["moved"]["threads"] == 1
    assert sorted(entry.changes["filled_fields"]) == ["email", "job_title"]

    # The merged contact's number now reaches the kept contact.
    inbound = record_inbound(
        kept_thread.channel,
        Sender("phone", "+31687654321"),
        InboundMessage("wamid.77", "Hallo", utcnow()),
    )
    commit()
    assert db.session.get(CommunicationThread, inbound.thread_id).contact_id == kept.id


def test_undo_moves_back_exactly_what_moved(app, make_user):
    agent = make_user("agent")
    kept, other, kept_thread, other_thread, message, order = _duplicates()
    merge = merge_contacts(kept.id, other.id, agent)
    commit()
    # After the merge: a new conversation of the kept contact stays theirs.
    later = factories.thread(kept_thread.channel, db.session.get(Contact, kept.id))
    commit()

    undo_contact_merge(merge.id, agent)
    commit()
    db.session.expire_all()
    assert db.session.get(CommunicationThread, other_thread.id).contact_id == other.id
    assert db.session.get(CommunicationThread, kept_thread.id).contact_id == kept.id
    assert db.session.get(CommunicationThread, later.id).contact_id == kept.id
    assert db.session.get(CommunicationMessage, message.id).sender_contact_id == other.id
    assert db.session.get(Order, order.id).end_customer_contact_id == other.id
    assert set(
        db.session.scalars(
            sa.select(ContactIdentity.address).where(ContactIdentity.contact_id == other.id)
        )
    ) == {"+31687654321", "jan@example.nl"}
    kept = db.session.get(Contact, kept.id)
    assert (kept.email, kept.job_title, kept.phone) == (None, None, "+31612345678")
    assert db.session.get(ContactMerge, merge.id).undone_at is not None
    undone = _audit("contact_merge_undone")[0]
    assert undone.changes["moved_back"]["threads"] == 1

    with pytest.raises(ContactMergeRefused) as twice:
        undo_contact_merge(merge.id, agent)
    assert twice.value.reason == "undone"


def test_after_a_day_the_merge_stands(client, auth, make_user, monkeypatch):
    agent = make_user("agent", email="agent@switchboard.test")
    kept, other, *_ = _duplicates()
    merge = merge_contacts(kept.id, other.id, agent, now=utcnow() - timedelta(hours=25))
    commit()
    with pytest.raises(ContactMergeRefused) as late:
        undo_contact_merge(merge.id, agent)
    assert late.value.reason == "expired"
    db.session.rollback()

    auth.login("agent@switchboard.test")
    page = client.get(f"/contact-merges/{merge.id}").get_data(as_text=True)
    assert 'data-testid="undo-merge"' not in page and "can no longer be undone" in page
    response = client.post(
        f"/contact-merges/{merge.id}/undo", data={"csrf_token": csrf_token_from(page)}
    )
    assert response.status_code == 409
    assert "more than 24 hours old" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ContactMerge, merge.id).undone_at is None


def test_undo_within_the_day_by_the_clock(app, make_user, monkeypatch):
    agent = make_user("agent")
    kept, other, *_ = _duplicates()
    merge = merge_contacts(kept.id, other.id, agent)
    commit()
    later = utcnow() + timedelta(hours=23, minutes=59)
    monkeypatch.setattr("app.conversations.merges.contacts.utcnow", lambda: later)
    undo_contact_merge(merge.id, agent)
    commit()
    assert db.session.get(ContactMerge, merge.id).undone_at == later


@pytest.mark.parametrize("who", ["kept", "other"])
def test_an_erased_contact_cannot_be_merged(app, make_user, who):
    admin, agent = make_user("admin"), make_user("agent")
    kept, other, *_ = _duplicates()
    erase_contact((kept if who == "kept" else other).id, actor_id=admin.id)
    commit()
    with pytest.raises(ContactMergeRefused) as refused:
        merge_contacts(kept.id, other.id, agent)
    assert refused.value.reason == "erased"
    assert "erased" in refused.value.message


def test_contact_merge_refusals(client, auth, make_user):
    mine, theirs = factories.team("Klantenservice"), factories.team("Techniek")
    agent = make_user("agent", email="agent@switchboard.test", team_id=mine.id)
    kept, other, kept_thread, other_thread, *_ = _duplicates()
    with pytest.raises(ContactMergeRefused) as itself:
        merge_contacts(kept.id, kept.id, agent)
    assert itself.value.reason == "same_contact"
    # One of the other contact's conversations is another team's.
    other_thread.assigned_team_id = theirs.id
    kept_thread.assigned_team_id = mine.id
    commit()
    auth.login("agent@switchboard.test")
    page = client.get(f"/contacts/{kept.id}/merge/{other.id}")
    response = client.post(
        f"/contacts/{kept.id}/merge/{other.id}",
        data={"csrf_token": csrf_token_from(page.get_data(as_text=True)), "confirm": "yes"},
    )
    assert response.status_code in (403, 409)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ContactMerge)) == 0
    # A contact merged away is not merged again.
    third = _customer(display_name="Jan J.")
    manager = make_user("manager")
    merge_contacts(kept.id, other.id, manager)
    commit()
    with pytest.raises(ContactMergeRefused) as away:
        merge_contacts(third.id, other.id, manager)
    assert away.value.reason == "merged_away"


def test_technicians_may_not_merge(client, auth, make_user):
    make_user("technician", email="tech@switchboard.test")
    kept, other, *_ = _duplicates()
    auth.login("tech@switchboard.test")
    assert client.get(f"/contacts/{kept.id}/merge?q=Jansen").status_code == 403


def test_the_contact_merge_pages_search_preview_merge_and_undo(client, auth, make_user):
    make_user("agent", email="agent@switchboard.test")
    kept, other, kept_thread, other_thread, *_ = _duplicates()
    auth.login("agent@switchboard.test")
    sidebar = client.get(f"/threads/{kept_thread.id}/customer", headers=HX).get_data(as_text=True)
    assert f"/contacts/{kept.id}/merge" in sidebar
    found = client.get(f"/contacts/{kept.id}/merge?q=0687654321").get_data(as_text=True)
    assert "J. Jansen" in found and f"/contacts/{kept.id}/merge/{other.id}" in found
    assert "J. Jansen" in client.get(f"/contacts/{kept.id}/merge?q=jan@exa").get_data(as_text=True)
    preview = client.get(f"/contacts/{kept.id}/merge/{other.id}").get_data(as_text=True)
    assert "Eigenaar" in preview and "Offerte per mail" in preview
    merged = client.post(
        f"/contacts/{kept.id}/merge/{other.id}",
        data={
            "csrf_token": csrf_token_from(preview),
            "back": str(kept_thread.id),
            "confirm": "yes",
        },
    )
    assert merged.status_code == 303
    record = client.get(merged.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="undo-merge"' in record and "Offerte per mail" in record
    sidebar = client.get(f"/threads/{kept_thread.id}/customer", headers=HX).get_data(as_text=True)
    assert 'data-testid="customer-undo-merge"' in sidebar
    merge_id = db.session.scalar(sa.select(ContactMerge.id))
    undone = client.post(
        f"/contact-merges/{merge_id}/undo", data={"csrf_token": csrf_token_from(record)}
    )
    assert undone.status_code == 303
    db.session.expire_all()
    assert db.session.get(CommunicationThread, other_thread.id).contact_id == other.id
    sidebar = client.get(f"/threads/{kept_thread.id}/customer", headers=HX).get_data(as_text=True)
    assert 'data-testid="customer-undo-merge"' not in sidebar


def test_two_merges_and_two_undos_at_once_each_happen_once(app, make_user):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    anouk, sanne = make_user("manager"), make_user("manager")
    kept, other, *_ = _duplicates()
    users = [anouk.id, sanne.id]
    from app.platform.models import User

    # A into B and B into A at once: one merge, the other refused.
    order = [(kept.id, other.id), (other.id, kept.id)]
    results = race(
        app,
        lambda i: merge_contacts(*order[i], db.session.get(User, users[i])).id,
    )
    refused = raised(results)
    assert len(refused) == 1 and refused[0].reason == "merged_away"
    merge_id = next(r for r in results if isinstance(r, uuid.UUID))

    results = race(app, lambda i: undo_contact_merge(merge_id, db.session.get(User, users[i])).id)
    refused = raised(results)
    assert len(refused) == 1 and refused[0].reason == "undone"
    assert len(_audit("contact_merge_undone")) == 1
