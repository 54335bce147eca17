"""The workspace: unread marks, tab counts, pages, the sidebar."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import sqlalchemy as sa

from app.conversations.core import InboundMessage, mark_read, post_outbound
from app.conversations.inbox import counts
from app.conversations.inbox.counts import tab_counts
from app.conversations.inbox.services import InboxQuery, list_threads
from app.conversations.workspace.timeline import timeline_page
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    CommunicationMessage,
    CommunicationThread,
    Contact,
    ContactIdentity,
    InternalTask,
    Order,
    ThreadRead,
)
from app.platform.models.enums import ChannelType, OrderStatus, ThreadStatus
from app.platform.transactions import commit
from tests.support import factories
from tests.support.helpers import receive


def _inbound(contact, channel, text="Mijn laadpaal doet het niet", *, at=None):
    inbound = InboundMessage(
        external_message_id=f"wamid.{uuid.uuid4().hex}",
        content=text,
        received_at=at or utcnow(),
    )
    message = receive(channel, contact, inbound)
    commit()
    return message


def _unread_for(user) -> set[uuid.UUID]:
    db.session.expire_all()
    return list_threads(user, InboxQuery()).unread_ids


# --- unread ------------------------------------------------------------------


def test_a_customer_message_is_unread_for_everyone_until_each_opens_it(app, make_user):
    anouk, bram = make_user("agent"), make_user("agent")
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    jan = factories.contact(phone="+31612345678")
    thread = _inbound(jan, channel).thread
    thread.assigned_to_user_id = anouk.id
    commit()

    assert thread.id in _unread_for(anouk)
    assert thread.id in _unread_for(bram)

    opened = db.session.get(CommunicationThread, thread.id)
    mark_read(opened, anouk, up_to=opened.last_customer_message_at)
    commit()
    assert thread.id not in _unread_for(anouk)
    assert thread.id in _unread_for(bram), "opening marks it read only for who opened it"

    _inbound(jan, channel, "Nog een vraag")
    assert thread.id in _unread_for(anouk), "a newer customer message makes it unread again"


def test_our_own_reply_and_notes_never_make_a_conversation_unread(app, make_user):
    anouk = make_user("agent")
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    jan = factories.contact(phone="+31612345679")
    thread = _inbound(jan, channel).thread
    mark_read(thread, anouk, up_to=thread.last_customer_message_at)
    commit()
    post_outbound(
        thread, channel_id=channel.id, body="We komen eraan", recipient={"phone": jan.phone},
        author_id=anouk.id, answers_customer=True, send=False,
    )
    commit()
    assert thread.id not in _unread_for(anouk)


def test_the_unread_mark_is_our_ingest_time_and_never_moves_back(app, make_user):
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    jan = factories.contact(phone="+31612345670")
    before = utcnow()
    thread = _inbound(jan, channel, at=before - timedelta(hours=3)).thread
    db.session.expire_all()
    kept = db.session.get(CommunicationThread, thread.id).last_customer_message_at
    assert kept >= before, "our clock, not the provider's three-hour-old timestamp"
    ahead = utcnow() + timedelta(minutes=5)
    db.session.get(CommunicationThread, thread.id).last_customer_message_at = ahead
    commit()
    _inbound(jan, channel, "eerder verstuurd", at=before - timedelta(minutes=5))
    db.session.expire_all()
    assert db.session.get(CommunicationThread, thread.id).last_customer_message_at == ahead


def test_a_late_delivered_message_after_opening_is_unread(app, make_user):
    anouk = make_user("agent")
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    jan = factories.contact(phone="+31612345671")
    thread = _inbound(jan, channel).thread
    mark_read(thread, anouk, up_to=thread.last_customer_message_at)
    commit()
    assert thread.id not in _unread_for(anouk)
    # Sent 30 s ago by the customer, delivered to us only now: after the mark.
    _inbound(jan, channel, "Hallo?", at=utcnow() - timedelta(seconds=30))
    assert thread.id in _unread_for(anouk)


def test_a_message_arriving_between_render_and_mark_stays_unread(app, make_user):
    anouk = make_user("agent")
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    jan = factories.contact(phone="+31612345672")
    thread = _inbound(jan, channel).thread
    rendered = thread.last_customer_message_at  # what the timeline showed
    _inbound(jan, channel, "Nog iets")  # taken in before the mark is written
    mark_read(db.session.get(CommunicationThread, thread.id), anouk, up_to=rendered)
    commit()
    assert thread.id in _unread_for(anouk)
    # An older tab marking late does not undo a newer mark.
    newest = db.session.get(CommunicationThread, thread.id).last_customer_message_at
    mark_read(thread, anouk, up_to=newest)
    commit()
    mark_read(thread, anouk, up_to=rendered)
    commit()
    assert thread.id not in _unread_for(anouk)


def test_a_live_refresh_marks_read_only_when_the_page_is_visible(client, auth, make_user):
    make_user("agent", email="anouk@switchboard.test")
    thread = _inbound(factories.contact(), factories.channel()).thread
    auth.login("anouk@switchboard.test")
    hidden = client.get(f"/threads/{thread.id}/timeline", headers={"HX-Request": "true"})
    assert hidden.status_code == 200 and 'id="timeline"' in hidden.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ThreadRead)) == 0
    client.get(f"/threads/{thread.id}/timeline?visible=1", headers={"HX-Request": "true"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ThreadRead)) == 1


def test_mark_read_is_one_row_per_agent_and_thread(app, make_user):
    anouk = make_user("agent")
    thread = _inbound(factories.contact(), factories.channel()).thread
    for _ in range(3):
        mark_read(thread, anouk, up_to=thread.last_customer_message_at)
        commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ThreadRead)) == 1


# --- tab counts ----------------------------------------------------------------


def test_tab_counts_are_open_conversations_the_viewer_may_see(app, make_user):
    mine, other = factories.team(), factories.team()
    anouk = make_user("agent", team_id=mine.id)
    bram = make_user("agent", team_id=mine.id)
    channel = factories.channel()
    past = utcnow() - timedelta(hours=2)
    factories.thread(channel, factories.contact(), assigned_to_user_id=anouk.id)
    factories.thread(
        channel, factories.contact(), assigned_to_user_id=anouk.id, response_due_at=past
    )
    factories.thread(
        channel, factories.contact(), assigned_to_user_id=anouk.id, status=ThreadStatus.RESOLVED
    )
    factories.thread(channel, factories.contact(), assigned_to_user_id=bram.id)
    factories.thread(channel, factories.contact())  # unassigned, no team
    factories.thread(channel, factories.contact(), assigned_team_id=mine.id, response_due_at=past)
    factories.thread(channel, factories.contact(), assigned_team_id=other.id)  # not visible
    factories.thread(
        channel, factories.contact(), assigned_team_id=other.id, response_due_at=past
    )
    db.session.commit()

    assert tab_counts(anouk) == {"mine": 2, "unassigned": 2, "overdue": 2}
    assert tab_counts(bram) == {"mine": 1, "unassigned": 2, "overdue": 2}


def test_tab_counts_agree_with_the_tabs_for_every_kind_of_viewer(app, make_user):
    mine, other = factories.team(), factories.team()
    viewers = [
        make_user("agent", team_id=mine.id),
        make_user("team_lead"),  # no team: sees unteamed threads and their own
        make_user("manager"),
    ]
    channel = factories.channel()
    past = utcnow() - timedelta(hours=1)
    for team in (None, mine, other):
        for assignee in (None, *viewers):
            for due in (None, past):
                for status in (ThreadStatus.OPEN, ThreadStatus.RESOLVED, ThreadStatus.CLOSED):
                    factories.thread(
                        channel, factories.contact(), status=status,
                        assigned_team_id=team.id if team else None,
                        assigned_to_user_id=assignee.id if assignee else None,
                        response_due_at=due,
                    )
    db.session.commit()
    for viewer in viewers:
        listed = {
            name: len(list_threads(viewer, InboxQuery(filter_name=name), limit=500).threads)
            for name in ("mine", "unassigned", "overdue")
        }
        assert tab_counts(viewer) == listed, viewer.role
        assert listed["mine"] > 0 and listed["unassigned"] > 0, viewer.role


def test_a_status_filter_decides_on_the_mine_and_unassigned_tabs(app, make_user):
    anouk = make_user("agent")
    channel = factories.channel()
    factories.thread(channel, factories.contact(), assigned_to_user_id=anouk.id)
    resolved = factories.thread(
        channel, factories.contact(), assigned_to_user_id=anouk.id, status=ThreadStatus.RESOLVED
    )
    closed = factories.thread(channel, factories.contact(), status=ThreadStatus.CLOSED)
    db.session.commit()
    for name, expected in (("mine", resolved), ("unassigned", None)):
        shown = list_threads(anouk, InboxQuery(filter_name=name, status="resolved")).threads
        assert [t.id for t in shown] == ([expected.id] if expected else [])
    shown = list_threads(anouk, InboxQuery(filter_name="unassigned", status="closed")).threads
    assert [t.id for t in shown] == [closed.id]
    assert resolved.id not in {t.id for t in list_threads(anouk, filter_name="mine").threads}


def test_the_tabs_show_counts_and_the_unassigned_tab_lists_unassigned(
    client, auth, make_user
):
    anouk = make_user("agent", email="anouk@switchboard.test")
    channel = factories.channel()
    factories.thread(channel, factories.contact(), assigned_to_user_id=anouk.id)
    waiting = factories.thread(channel, factories.contact(), thread_subject="Niemand heeft mij")
    db.session.commit()
    auth.login("anouk@switchboard.test")
    html = client.get("/inbox").get_data(as_text=True)
    assert re.search(r'data-testid="count-mine"[^>]*>1<', html)
    assert re.search(r'data-testid="count-unassigned"[^>]*>1<', html)
    assert re.search(r'data-testid="count-overdue"[^>]*>0<', html)
    unassigned = client.get("/inbox?filter=unassigned").get_data(as_text=True)
    assert unassigned.count('class="thread-row') == 1 and str(waiting.id) in unassigned


def test_counts_stop_at_the_cap_and_read_as_more_than_it(client, auth, make_user, monkeypatch):
    # At millions of conversations an exact count visits every row; above the cap
    # (999, here 2 to keep the test small) the tab reads "2+" and the count stops.
    monkeypatch.setattr(counts, "COUNT_CAP", 2)
    team = factories.team()
    anouk = make_user("agent", email="anouk@switchboard.test", team_id=team.id)
    channel = factories.channel()
    past = utcnow() - timedelta(hours=2)
    for _ in range(2):
        factories.thread(channel, factories.contact(), assigned_to_user_id=anouk.id)
    # Unassigned: two without a team and two of Anouk's team, capped apart and summed.
    for team_id in (None, None, team.id, team.id):
        factories.thread(
            channel, factories.contact(), assigned_team_id=team_id, response_due_at=past
        )
    db.session.commit()

    assert tab_counts(anouk) == {"mine": 2, "unassigned": 3, "overdue": 3}
    auth.login("anouk@switchboard.test")
    html = client.get("/inbox").get_data(as_text=True)
    assert re.search(r'data-testid="count-mine"[^>]*>2<', html)
    assert re.search(r'data-testid="count-unassigned"[^>]*>2\+<', html)
    assert re.search(r'data-testid="count-overdue"[^>]*>2\+<', html)


# --- pages ---------------------------------------------------------------------


def test_opening_a_conversation_marks_it_read_and_the_list_shows_the_dot(
    client, auth, make_user
):
    anouk = make_user("agent", email="anouk@switchboard.test")
    thread = _inbound(factories.contact(), factories.channel()).thread
    auth.login("anouk@switchboard.test")
    assert 'data-testid="unread-dot"' in client.get("/inbox").get_data(as_text=True)

    pane = client.get(
        f"/threads/{thread.id}", headers={"HX-Request": "true", "HX-Target": "workspace-detail"}
    )
    assert pane.status_code == 200
    assert b"<html" not in pane.data and b'id="customer-panel"' in pane.data
    assert db.session.scalar(sa.select(ThreadRead.user_id)) == anouk.id
    assert 'data-testid="unread-dot"' not in client.get("/inbox").get_data(as_text=True)


def test_a_search_marks_unread_only_what_a_customer_wrote_after_the_agent_looked(
    client, auth, make_user
):
    # The list looks each row's read mark up after its sort
    # (app.conversations.inbox.counts.unread_for).
    make_user("agent", email="anouk@switchboard.test")
    seen = _inbound(factories.contact(), factories.channel(), text="laadpaal kapot").thread
    fresh = _inbound(factories.contact(), factories.channel(), text="laadpaal stuk").thread
    auth.login("anouk@switchboard.test")
    client.get(f"/threads/{seen.id}")

    html = client.get("/inbox?q=laadpaal").get_data(as_text=True)
    marked = set(re.findall(r'data-thread-id="([0-9a-f-]{36})" data-unread="true"', html))
    assert str(fresh.id) in html and str(seen.id) in html
    assert marked == {str(fresh.id)}


def test_a_direct_load_renders_the_workspace_with_the_list_and_the_thread(
    client, auth, make_user
):
    make_user("agent", email="anouk@switchboard.test")
    channel = factories.channel()
    thread = factories.thread(channel, factories.contact(), thread_subject="Open mij")
    other = factories.thread(channel, factories.contact(), thread_subject="Naast mij")
    db.session.commit()
    auth.login("anouk@switchboard.test")
    html = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert f'data-thread-id="{thread.id}"' in html and 'id="customer-panel"' in html
    # The list beside it is asked for once on screen, as the inbox component.
    assert re.search(r'id="inbox"[^>]*hx-get="/inbox"[^>]*hx-trigger="intersect once"', html)
    rows = client.get("/inbox", headers={"HX-Request": "true", "HX-Target": "inbox"})
    assert b"<html" not in rows.data and str(other.id) in rows.get_data(as_text=True)


# --- timeline pages --------------------------------------------------------------


def _long_thread(count: int, *, ties_every: int = 7):
    """``count`` messages, a minute apart except groups that share a timestamp."""
    channel = factories.channel()
    thread = factories.thread(channel, factories.contact())
    start = utcnow() - timedelta(days=2)
    ids = []
    for i in range(count):
        at = start + timedelta(minutes=i - i % ties_every if i % 3 == 0 else i)
        ids.append(factories.message(thread, f"bericht {i}", created_at=at).id)
    db.session.commit()
    return thread


def test_the_timeline_pages_cover_every_message_once_in_order(app):
    thread = _long_thread(123)
    expected = db.session.scalars(
        sa.select(CommunicationMessage.id).order_by(
            CommunicationMessage.created_at, CommunicationMessage.id
        )
    ).all()
    first = timeline_page(thread)
    assert len(first.entries) == 50 and first.earlier_cursor
    pages, cursor = [first], first.earlier_cursor
    while cursor:
        page = timeline_page(thread, before=cursor)
        pages.append(page)
        cursor = page.earlier_cursor
    assert [len(p.entries) for p in pages] == [50, 50, 23]
    seen = [e.item.id for p in reversed(pages) for e in p.entries]
    assert seen == expected, "oldest first, no gap, no message twice"


def test_a_task_shows_once_on_the_page_whose_span_holds_it(app):
    thread = _long_thread(60, ties_every=1)
    oldest = db.session.scalar(sa.select(sa.func.min(CommunicationMessage.created_at)))
    db.session.add(InternalTask(task_title="Terugbellen", thread_id=thread.id, created_at=oldest))
    db.session.commit()
    latest = timeline_page(thread)
    earlier = timeline_page(thread, before=latest.earlier_cursor)
    assert [e.kind for e in latest.entries].count("task") == 0
    assert [e.kind for e in earlier.entries].count("task") == 1


def test_the_thread_page_shows_the_latest_50_and_a_sentinel_for_earlier(
    client, auth, make_user
):
    make_user("manager", email="boss@switchboard.test")
    thread = _long_thread(80)
    auth.login("boss@switchboard.test")
    html = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert html.count("data-message-id=") == 50
    assert "bericht 79" in html and "bericht 0<" not in html
    url = re.search(r'hx-get="(/threads/[^"]+/timeline\?before=[^"]+)"', html).group(1)
    earlier = client.get(url.replace("&amp;", "&"), headers={"HX-Request": "true"})
    text = earlier.get_data(as_text=True)
    assert text.count("data-message-id=") == 30 and 'id="timeline"' not in text
    assert "timeline?before=" not in text, "the first page of the thread has no sentinel"
    assert client.get(f"/threads/{thread.id}/timeline?before=nonsense").status_code == 400


def _ordered_ids(thread) -> list[str]:
    return [
        str(i)
        for i in db.session.scalars(
            sa.select(CommunicationMessage.id)
            .where(CommunicationMessage.thread_id == thread.id)
            .order_by(CommunicationMessage.created_at, CommunicationMessage.id)
        )
    ]


def test_a_link_to_a_message_older_than_the_latest_page_shows_from_it(client, auth, make_user):
    make_user("manager", email="boss@switchboard.test")
    thread = _long_thread(80)
    ids = _ordered_ids(thread)
    target = ids[10]  # 70 messages from the newest: not on the latest page of 50
    auth.login("boss@switchboard.test")
    html = client.get(f"/threads/{thread.id}?message={target}").get_data(as_text=True)
    assert f'id="message-{target}"' in html
    assert re.findall(r'data-message-id="([^"]+)"', html) == ids[10:]
    url = re.search(r'hx-get="(/threads/[^"]+/timeline\?before=[^"]+)"', html).group(1)
    earlier = client.get(url.replace("&amp;", "&"), headers={"HX-Request": "true"})
    assert re.findall(r'data-message-id="([^"]+)"', earlier.get_data(as_text=True)) == ids[:10]

    other = _long_thread(3)
    elsewhere = _ordered_ids(other)[0]
    latest = client.get(f"/threads/{thread.id}?message={elsewhere}").get_data(as_text=True)
    assert latest.count("data-message-id=") == 50, "another thread's message: the latest page"
    assert client.get(f"/threads/{thread.id}?message=nonsense").status_code == 422


def test_a_live_refresh_answers_the_latest_part_from_where_it_starts(client, auth, make_user):
    make_user("manager", email="boss@switchboard.test")
    thread = _long_thread(60)
    auth.login("boss@switchboard.test")
    html = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    start = re.search(r'id="timeline-latest" data-from="([^"]+)"', html).group(1)
    newest = factories.message(thread, "net binnen", created_at=utcnow())
    db.session.commit()
    ids = _ordered_ids(thread)
    part = client.get(
        f"/threads/{thread.id}/timeline?from={start}", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert part.lstrip().startswith('<div class="tl-latest" id="timeline-latest"')
    assert 'id="timeline"' not in part and "timeline?before=" not in part
    # The 50 it showed plus the new one: nothing shifts out under the earlier pages.
    assert re.findall(r'data-message-id="([^"]+)"', part) == ids[10:]
    assert ids[-1] == str(newest.id)
    bad = client.get(f"/threads/{thread.id}/timeline?from=nonsense", headers={"HX-Request": "true"})
    assert bad.status_code == 400


def test_a_live_refresh_of_a_whole_conversation_shows_a_late_message_where_it_belongs(
    client, auth, make_user
):
    make_user("manager", email="boss@switchboard.test")
    thread = _long_thread(5)
    auth.login("boss@switchboard.test")
    html = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    # Everything is on screen: the part starts at the start, not at its first message.
    assert 'id="timeline-latest" data-from="start"' in html
    assert "timeline?before=" not in html
    # Delivered now, dated before every message shown (held up on the customer's phone).
    first = db.session.scalar(
        sa.select(sa.func.min(CommunicationMessage.created_at)).where(
            CommunicationMessage.thread_id == thread.id
        )
    )
    late = factories.message(thread, "laat bezorgd", created_at=first - timedelta(hours=1))
    db.session.commit()
    part = client.get(
        f"/threads/{thread.id}/timeline?from=start", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert part.lstrip().startswith('<div class="tl-latest" id="timeline-latest" data-from="start"')
    shown = re.findall(r'data-message-id="([^"]+)"', part)
    assert shown == _ordered_ids(thread) and shown[0] == str(late.id)
    assert "timeline?before=" not in part


# --- the customer sidebar ------------------------------------------------------


def test_the_sidebar_lists_channels_orders_and_other_conversations(client, auth, make_user):
    make_user("agent", email="anouk@switchboard.test")
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    email = factories.channel(ChannelType.EMAIL_OUTLOOK)
    jan = factories.contact(display_name="Jan Jansen", phone="+31612340000", email="jan@x.nl")
    db.session.add_all([
        ContactIdentity(contact_id=jan.id, kind="phone", address="+31612340000"),
        ContactIdentity(contact_id=jan.id, kind="email", address="jan@werk.nl"),
    ])
    order = Order(
        order_number="CC-2026-00042", status=OrderStatus.SCHEDULED, end_customer_contact_id=jan.id,
        scheduled_date=date.today() + timedelta(days=3),
    )
    db.session.add(order)
    thread = factories.thread(whatsapp, jan, thread_subject="Laadpaal")
    factories.thread(email, jan, thread_subject="Factuur vraag")
    db.session.commit()
    auth.login("anouk@switchboard.test")
    html = client.get(f"/threads/{thread.id}/customer").get_data(as_text=True)
    channels = html.split('data-testid="customer-channels"')[1].split("</ul>")[0]
    assert "+31612340000" in channels and "jan@werk.nl" in channels and "jan@x.nl" in channels
    orders = html.split('data-testid="customer-orders"')[1].split("</ul>")[0]
    assert "/orders/CC-2026-00042" in orders and "scheduled" in orders
    assert "Next visit " + order.scheduled_date.strftime("%d-%m-%Y") in orders
    assert "Factuur vraag" in html.split('data-testid="customer-threads"')[1]


def test_a_technician_sees_the_customer_but_not_their_orders(client, auth, make_user):
    tim = make_user("technician", email="tim@switchboard.test")
    jan = factories.contact(display_name="Jan Jansen", phone="+31612340000")
    visit = Order(order_number="CC-2026-00043", status=OrderStatus.SCHEDULED,
                  end_customer_contact_id=jan.id, assigned_technician_id=tim.id)
    db.session.add(visit)
    db.session.flush()
    thread = factories.thread(
        factories.channel(ChannelType.WHATSAPP_BUSINESS), jan, order_id=visit.id
    )
    db.session.commit()
    auth.login("tim@switchboard.test")
    response = client.get(f"/threads/{thread.id}/customer")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Jan Jansen" in html and "CC-2026-00043" not in html


def _edit(client, auth, thread, **fields):
    token = auth.csrf_token(f"/threads/{thread.id}")
    data = {"name": "Jan Jansen", "phone": "", "email": "", **fields, "csrf_token": token}
    return client.post(
        f"/threads/{thread.id}/customer", data=data, headers={"HX-Request": "true"}
    )


def test_contact_details_are_saved_with_the_phone_in_e164(client, auth, make_user):
    make_user("agent", email="anouk@switchboard.test")
    jan = factories.contact(display_name="Jan", phone=None, email=None)
    thread = factories.thread(factories.channel(), jan)
    db.session.commit()
    auth.login("anouk@switchboard.test")
    response = _edit(
        client, auth, thread, name="Jan  Jansen", phone="06-12345678", email="Jan@Example.NL"
    )
    assert response.status_code == 200
    db.session.expire_all()
    saved = db.session.get(Contact, jan.id)
    assert (saved.display_name, saved.phone, saved.email) == (
        "Jan Jansen", "+31612345678", "jan@example.nl"
    )
    identities = set(
        db.session.execute(
            sa.select(ContactIdentity.kind, ContactIdentity.address).where(
                ContactIdentity.contact_id == jan.id
            )
        ).all()
    )
    assert identities == {("phone", "+31612345678"), ("email", "jan@example.nl")}


def test_a_bad_contact_detail_is_refused_naming_the_field(client, auth, make_user):
    make_user("agent", email="anouk@switchboard.test")
    piet = factories.contact(display_name="Piet", phone="+31687654321", email="piet@x.nl")
    db.session.add(ContactIdentity(contact_id=piet.id, kind="phone", address="+31687654321"))
    jan = factories.contact(display_name="Jan", phone="+31611112222", email="jan@x.nl")
    thread = factories.thread(factories.channel(), jan)
    db.session.commit()
    auth.login("anouk@switchboard.test")
    cases = {
        "Phone:": dict(phone="12ab", email="jan@x.nl"),
        "Email:": dict(phone="+31611112222", email="jan-at-x.nl"),
        "Name:": dict(name="  ", phone="+31611112222"),
    }
    for field, fields in cases.items():
        response = _edit(client, auth, thread, **fields)
        assert response.status_code == 422
        assert field in response.get_data(as_text=True)
    taken = _edit(client, auth, thread, phone="06 87654321", email="jan@x.nl")
    assert taken.status_code == 422 and "already belongs to another customer" in taken.get_data(
        as_text=True
    )
    db.session.expire_all()
    kept = db.session.get(Contact, jan.id)
    assert (kept.display_name, kept.phone, kept.email) == ("Jan", "+31611112222", "jan@x.nl")
