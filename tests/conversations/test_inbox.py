"""The inbox page and the threads API: order, filters, keyset pages, partials."""

from __future__ import annotations

from datetime import timedelta

from app.conversations.inbox.search import rebuild_search_documents
from app.conversations.inbox.services import InboxQuery, list_threads, sla_label
from app.platform.auth.tokens import issue_token
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models.enums import ChannelType, Priority, ThreadStatus, TokenKind
from tests.support import factories
from tests.support.helpers import inbox_page_by_page


def _inbox(n_whatsapp=3, n_email=2):
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    email = factories.channel(ChannelType.EMAIL_OUTLOOK)
    threads = []
    for i in range(n_whatsapp):
        threads.append(factories.thread(whatsapp, factories.contact(), minutes_ago=10 * i + 1))
    for i in range(n_email):
        threads.append(factories.thread(email, factories.contact(), minutes_ago=10 * i + 5))
    db.session.commit()
    return threads


def test_inbox_lists_newest_first(client, auth, make_user):
    make_user("agent", email="inbox@switchboard.test")
    threads = _inbox()
    auth.login("inbox@switchboard.test")
    html = client.get("/inbox").get_data(as_text=True)
    positions = [
        html.index(str(t.id))
        for t in sorted(threads, key=lambda t: t.last_message_at, reverse=True)
    ]
    assert positions == sorted(positions)


def test_filters_narrow_by_channel_and_htmx_gets_partial(client, auth, make_user):
    make_user("agent", email="inbox@switchboard.test")
    _inbox(n_whatsapp=3, n_email=2)
    auth.login("inbox@switchboard.test")
    full = client.get("/inbox?filter=email")
    assert full.get_data(as_text=True).count('class="thread-row') == 2
    assert b"<html" in full.data
    partial = client.get("/inbox?filter=whatsapp", headers={"HX-Request": "true"})
    assert partial.get_data(as_text=True).count('class="thread-row') == 3
    assert b"<html" not in partial.data


def test_unknown_filter_is_a_clear_400(client, auth, make_user):
    make_user("agent", email="inbox@switchboard.test")
    auth.login("inbox@switchboard.test")
    response = client.get("/inbox?filter=pigeons")
    assert response.status_code == 400
    assert b"Invalid filter" in response.data


def test_keyset_pages_cover_everything_once(app, make_user):
    viewer = make_user("agent")
    channel = factories.channel()
    base = utcnow()
    same_time = base - timedelta(minutes=3)
    expected = []
    for i in range(7):
        # Several threads share a timestamp: the id breaks the tie.
        t = factories.thread(channel, None, minutes_ago=0)
        t.last_message_at = same_time if i % 2 else base - timedelta(minutes=i)
        expected.append(t.id)
    db.session.commit()
    seen = inbox_page_by_page(viewer, limit=2)
    assert sorted(seen) == sorted(expected)
    assert len(seen) == len(set(seen))


def test_mine_and_overdue_filters(app, make_user):
    me = make_user("agent")
    channel = factories.channel()
    mine = factories.thread(channel, None, assigned_to_user_id=me.id)
    overdue = factories.thread(channel, None, response_due_at=utcnow() - timedelta(hours=2))
    factories.thread(
        channel, None, response_due_at=utcnow() - timedelta(hours=2), status=ThreadStatus.RESOLVED
    )
    db.session.commit()
    assert [t.id for t in list_threads(me, filter_name="mine").threads] == [mine.id]
    assert [t.id for t in list_threads(me, filter_name="overdue").threads] == [overdue.id]


def test_sla_labels(app):
    now = utcnow()
    channel = factories.channel()
    late = factories.thread(channel, None, response_due_at=now - timedelta(hours=2, minutes=5))
    soon = factories.thread(channel, None, response_due_at=now + timedelta(minutes=45, seconds=30))
    assert sla_label(late, now) == ("2h overdue", "overdue")
    assert sla_label(soon, now) == ("due in 45 min", "soon")


def test_threads_api_shape_and_cursor(client, make_user):
    user = make_user("agent")
    _inbox(n_whatsapp=3, n_email=0)
    _, token = issue_token(TokenKind.PERSONAL, "t", user_id=user.id)
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    first = client.get("/api/communication/threads?limit=2", headers=headers).json
    assert len(first["data"]) == 2
    assert set(first["data"][0]) >= {
        "id",
        "subject",
        "thread_type",
        "priority",
        "status",
        "channel",
        "contact",
        "assigned_to",
        "order_id",
        "last_message_at",
        "response_due_at",
        "tags",
    }
    assert first["data"][0]["channel"] == "whatsapp_business"
    second = client.get(
        f"/api/communication/threads?limit=2&cursor={first['next_cursor']}", headers=headers
    ).json
    assert len(second["data"]) == 1 and second["next_cursor"] is None
    bad = client.get("/api/communication/threads?cursor=zzz", headers=headers)
    assert bad.status_code == 422
    assert set(bad.json["error"]["fields"]) == {"cursor"}


def test_urgency_order_puts_most_overdue_first(app, make_user):
    viewer = make_user("manager")
    channel = factories.channel()
    now = utcnow()
    closed = factories.thread(channel, None, status=ThreadStatus.CLOSED, minutes_ago=1)
    no_deadline = factories.thread(channel, None, minutes_ago=2)
    due_later = factories.thread(channel, None, response_due_at=now + timedelta(hours=3))
    overdue = factories.thread(channel, None, response_due_at=now - timedelta(hours=2))
    due_soon = factories.thread(channel, None, response_due_at=now + timedelta(minutes=20))
    db.session.commit()
    order = [t.id for t in list_threads(viewer).threads]
    assert order == [overdue.id, due_soon.id, due_later.id, no_deadline.id, closed.id]
    newest = list_threads(viewer, InboxQuery(sort="newest")).threads
    stamps = [t.last_message_at for t in newest]
    assert stamps == sorted(stamps, reverse=True) and {t.id for t in newest} == set(order)


def test_urgency_pages_cover_everything_once(app, make_user):
    viewer = make_user("manager")
    channel = factories.channel()
    now = utcnow()
    ids = set()
    for i in range(9):
        due = now + timedelta(minutes=10 * (i % 3)) if i % 2 else None
        ids.add(factories.thread(channel, None, response_due_at=due, minutes_ago=i).id)
    db.session.commit()
    seen = inbox_page_by_page(viewer, limit=4)
    assert len(seen) == len(set(seen)) == 9 and set(seen) == ids


def test_search_finds_subject_contact_and_message_text(app, make_user):
    viewer = make_user("manager")
    channel = factories.channel()
    jansen = factories.contact(
        display_name="Piet Jansen", email="piet@voorbeeld.nl", phone="+31611112222"
    )
    other = factories.contact(
        display_name="Eva de Boer", email="eva@example.nl", phone="+31633334444"
    )
    by_subject = factories.thread(channel, other, thread_subject="Factuur klopt niet")
    by_contact = factories.thread(channel, jansen, thread_subject="Vraag")
    by_message = factories.thread(channel, other, thread_subject="Overig")
    factories.message(by_message, "De laadpalen in de garage doen het niet")
    db.session.flush()
    rebuild_search_documents()
    db.session.commit()

    def found(q):
        return {t.id for t in list_threads(viewer, InboxQuery(q=q)).threads}

    assert found("factuur") == {by_subject.id}
    assert found("jans") == {by_contact.id}
    assert found("piet@voorbeeld") == {by_contact.id}
    assert found("0611112222") == {by_contact.id}
    assert found("garage") == {by_message.id}
    assert found("garage laadpalen") == {by_message.id}
    assert found("onbekendwoord") == set()


def test_status_priority_tag_and_team_filters(app, make_user):
    viewer = make_user("manager")
    channel = factories.channel()
    team = factories.team()
    tagged = factories.thread(channel, None, tags=["storing", "vip"])
    waiting = factories.thread(channel, None, status=ThreadStatus.WAITING_CUSTOMER)
    urgent = factories.thread(channel, None, priority=Priority.URGENT, assigned_team_id=team.id)
    db.session.commit()

    def ids(**kw):
        return [t.id for t in list_threads(viewer, InboxQuery(**kw)).threads]

    assert ids(tag="vip") == [tagged.id]
    assert ids(status="waiting_customer") == [waiting.id]
    assert ids(priority="urgent") == [urgent.id]
    assert ids(team_id=team.id) == [urgent.id]


def test_agent_sees_own_team_and_unrouted_threads_only(app, make_user):
    mine, theirs = factories.team(), factories.team()
    agent = make_user("agent", team_id=mine.id)
    channel = factories.channel()
    own = factories.thread(channel, None, assigned_team_id=mine.id)
    unrouted = factories.thread(channel, None)
    foreign = factories.thread(channel, None, assigned_team_id=theirs.id)
    personal = factories.thread(
        channel, None, assigned_team_id=theirs.id, assigned_to_user_id=agent.id
    )
    db.session.commit()
    seen = {t.id for t in list_threads(agent).threads}
    assert seen == {own.id, unrouted.id, personal.id}
    assert foreign.id not in seen


def test_search_box_swaps_the_inbox_and_keeps_the_url(client, auth, make_user):
    make_user("agent", email="inbox@switchboard.test")
    _inbox()
    auth.login("inbox@switchboard.test")
    response = client.get("/inbox?q=zzzz&filter=email", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert 'id="inbox"' in html and "<html" not in html
    assert "match “zzzz”" in html
    assert 'value="zzzz"' in html
