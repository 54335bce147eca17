"""A customer's reply, an assignment and an @mention notify the right person, live."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.conversations.core import assign
from app.conversations.notifications import services as notification_services
from app.conversations.notifications.mentions import mentioned_in
from app.conversations.workspace.editing import update_thread
from app.conversations.workspace.services import add_note
from app.platform.auth.services import create_user
from app.platform.extensions import db
from app.platform.models import Notification
from app.platform.models.enums import ChannelType
from app.platform.system_texts import text
from app.platform.transactions import commit
from tests.support import factories
from tests.support.helpers import PASSWORD, customer_writes


@pytest.fixture
def pushed(monkeypatch):
    """Every live push of a notification: (event, payload, user ids)."""
    sent = []
    original = notification_services.publish_to_users

    def record(event, data, user_ids):
        sent.append((event, data, list(user_ids)))
        original(event, data, user_ids)

    monkeypatch.setattr(notification_services, "publish_to_users", record)
    return sent


def _person(name: str, email: str, role: str = "agent", **fields):
    user = create_user(email, name, role, PASSWORD, **fields)
    db.session.commit()
    return user


def _desk():
    anouk = _person("Anouk de Vries", "anouk@switchboard.test")
    daan = _person("Daan Bakker", "daan.b@switchboard.test")
    sanne = _person("Sanne Bakker", "sanne@switchboard.test", role="team_lead")
    return anouk, daan, sanne


def _notifications() -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Notification).order_by(Notification.created_at)))


def _thread(assignee=None):
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    jan = factories.contact(display_name="Jan Jansen", phone="+31612345678")
    thread = factories.thread(
        channel,
        jan,
        thread_subject="Laadpaal knippert rood",
        assigned_to_user_id=assignee.id if assignee else None,
    )
    db.session.commit()
    return channel, jan, thread


def _reply(channel, contact, external_id: str, content: str = "Hij doet het nog steeds niet"):
    return customer_writes(channel, contact, external_id, content)


def test_a_customer_reply_tells_the_assignee_once(app, pushed):
    anouk, daan, _ = _desk()
    channel, jan, thread = _thread(assignee=anouk)

    message = _reply(channel, jan, "wamid.1")

    [notification] = _notifications()
    assert notification.user_id == anouk.id
    assert notification.notification_type == "customer_reply"
    assert notification.title == "Jan Jansen replied: Laadpaal knippert rood"
    assert notification.message == "Hij doet het nog steeds niet"
    assert notification.link == f"/threads/{thread.id}?message={message.id}#message-{message.id}"
    assert [(event, users) for event, _, users in pushed] == [("notification:new", [anouk.id])]

    # A second message while the first notice is unread is the same thing to look at.
    _reply(channel, jan, "wamid.2", "Hallo?")
    assert len(_notifications()) == 1
    # Once read, the next reply is news again.
    notification_services.mark_all_read(anouk.id)
    commit()
    _reply(channel, jan, "wamid.3", "Nog iemand?")
    assert [n.user_id for n in _notifications()] == [anouk.id, anouk.id]


def test_two_workers_racing_on_a_burst_write_one_notice(app, pushed, monkeypatch):
    """The unread check passes in both workers before either inserts: the
    database's unique key keeps the second notice out, and nobody is pushed twice."""
    from app.conversations.notifications import listeners

    anouk, _, _ = _desk()
    channel, jan, thread = _thread(assignee=anouk)
    monkeypatch.setattr(listeners, "_has_unread_about", lambda user_id, thread_id: False)

    first = _reply(channel, jan, "wamid.race.1", "Hallo")
    _reply(channel, jan, "wamid.race.2", "Is daar iemand?")

    [notification] = _notifications()
    assert notification.link.endswith(f"#message-{first.id}")
    assert [users for _, _, users in pushed] == [[anouk.id]]
    # Both customer messages are kept: only the second notice was dropped.
    db.session.expire_all()
    assert len(db.session.get(type(thread), thread.id).messages) == 2


def test_a_reply_on_an_unassigned_thread_tells_nobody(app, pushed):
    _desk()
    channel, jan, _ = _thread(assignee=None)
    _reply(channel, jan, "wamid.9")
    assert _notifications() == []
    assert pushed == []


def test_a_colleague_assigning_a_thread_tells_the_new_assignee(app, pushed):
    anouk, daan, sanne = _desk()
    _, _, thread = _thread(assignee=None)

    update_thread(
        thread,
        sanne,
        expected_version=thread.lock_version,
        changes={"assigned_to_user_id": str(anouk.id)},
    )
    commit()

    [notification] = _notifications()
    assert notification.user_id == anouk.id
    assert notification.notification_type == "thread_assigned"
    assert notification.title == "Sanne Bakker assigned you: Laadpaal knippert rood"
    assert notification.message == "Assigned by Sanne Bakker"
    assert notification.link == f"/threads/{thread.id}"
    assert [users for _, _, users in pushed] == [[anouk.id]]


def test_taking_a_thread_yourself_tells_nobody(app, pushed):
    anouk, _, _ = _desk()
    _, _, thread = _thread(assignee=None)
    update_thread(
        thread,
        anouk,
        expected_version=thread.lock_version,
        changes={"assigned_to_user_id": str(anouk.id)},
    )
    commit()
    assert _notifications() == []
    assert pushed == []


def test_a_reassignment_by_a_rule_tells_the_new_assignee_not_the_old(app, pushed):
    anouk, daan, _ = _desk()
    _, _, thread = _thread(assignee=anouk)
    assign(thread, team=None, user=daan, reason=text("routing.manual", actor="the rules"))
    commit()
    [notification] = _notifications()
    assert (notification.user_id, notification.title) == (
        daan.id,
        "Thread assigned to you: Laadpaal knippert rood",
    )


def test_a_mention_in_a_note_tells_each_mentioned_colleague_once(app, pushed):
    anouk, daan, sanne = _desk()
    _person("Anouk Smit", "asmit@switchboard.test", is_active_account=False)
    _, _, thread = _thread(assignee=anouk)

    note = add_note(
        thread,
        anouk,
        "@Daan Bakker kun jij bellen? @daan.b weet ervan, @ANOUK ook. Mail anouk@example.nl "
        "of @sanne, en nog eens @Daan.",
    )
    commit()

    notifications = _notifications()
    assert sorted(n.user_id for n in notifications) == sorted([daan.id, sanne.id])
    for notification in notifications:
        assert notification.notification_type == "mention"
        assert notification.title == "Anouk de Vries mentioned you: Laadpaal knippert rood"
        assert notification.link == f"/threads/{thread.id}?message={note.id}#message-{note.id}"
    assert sorted(users[0] for _, _, users in pushed) == sorted([daan.id, sanne.id])


def test_a_note_without_mentions_tells_nobody(app, pushed):
    anouk, _, _ = _desk()
    _, _, thread = _thread(assignee=anouk)
    add_note(thread, anouk, "Klant teruggebeld, mail naar info@chargecars.nl gestuurd.")
    commit()
    assert _notifications() == []


def test_mentions_match_first_names_full_names_and_handles(app):
    anouk, daan, sanne = _desk()
    users = [anouk, daan, sanne]
    assert mentioned_in("@anouk de vries", users) == [anouk]
    assert mentioned_in("vraag @Anouk", users) == [anouk]
    assert mentioned_in("@daan.b: graag", users) == [daan]
    assert mentioned_in("@sannebakker", users) == [sanne]
    # Longer words are not a mention of a shorter name, nor is an address.
    assert mentioned_in("@Anouks @daniel sanne@example.nl", users) == []


def test_a_mention_tells_only_colleagues_who_may_open_the_conversation(app, pushed):
    anouk, daan, _ = _desk()
    mine, other = factories.team(), factories.team()
    anouk.team_id = daan.team_id = mine.id
    outsider = _person("Emma Peters", "emma@switchboard.test", team_id=other.id)
    technician = _person("Tim Monteur", "tim@switchboard.test", role="technician")
    _, _, thread = _thread(assignee=anouk)
    thread.assigned_team_id = mine.id
    commit()

    add_note(thread, anouk, "@Daan, @Emma en @Tim: kijk even mee.")
    commit()

    assert [n.user_id for n in _notifications()] == [daan.id]
    assert outsider.id not in [users[0] for _, _, users in pushed]
    assert technician.id not in [users[0] for _, _, users in pushed]
