"""Auto-assignment: skills, capacity, availability, fairness and round-robin."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.conversations.assignment.services import assign_thread, open_loads
from app.conversations.core import InboundMessage
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationChannel, CommunicationThread, Notification
from app.platform.models.enums import Availability, ChannelType, ThreadStatus, ThreadType
from app.platform.transactions import commit
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL
from tests.support import factories
from tests.support.helpers import race, raised, receive


def _team_with(make_user, *people, name="Techniek"):
    """A team and its members; each person is a dict of user fields (role agent)."""
    team = factories.team(name)
    members = []
    for fields in people:
        fields = {"role": "agent", **fields}
        members.append(make_user(fields.pop("role"), team_id=team.id, **fields))
    return team, members


def _channel(rules: dict):
    channel = factories.channel(ChannelType.EMAIL_OUTLOOK, auto_assignment_rules=rules)
    db.session.commit()
    return channel


def _new_thread(channel, **fields):
    fields.setdefault("thread_type", ThreadType.TECHNICAL_ISSUE)
    return factories.thread(channel, **fields)


def _assign_many(channel, count: int, **fields) -> list[CommunicationThread]:
    threads = []
    for _ in range(count):
        thread = _new_thread(channel, **fields)
        assign_thread(thread)
        threads.append(thread)
    commit()
    return threads


def _spread(threads) -> Counter:
    return Counter(thread.assigned_to_user_id for thread in threads)


def _existing_load(channel, user, count: int) -> None:
    for _ in range(count):
        _new_thread(channel, assigned_to_user_id=user.id, assigned_team_id=user.team_id)
    db.session.commit()


def test_skills_are_respected(app, make_user):
    team, (plain, skilled, zaptec) = _team_with(
        make_user,
        {"skills": ["email"]},
        {"skills": ["Laadpalen", "alfen"]},
        {"skills": ["laadpalen", "zaptec"]},
    )
    channel = _channel(
        {
            "technical_issue": {
                "default_assignee": team.slug,
                "skill_matching": True,
                "required_skills": ["laadpalen"],
            }
        }
    )
    threads = _assign_many(channel, 20)
    assert set(_spread(threads)) == {skilled.id, zaptec.id}
    assert plain.id not in _spread(threads)
    # The thread's tags that are a team skill are required too: a Zaptec
    # charger goes to the Zaptec specialist however loaded.
    _existing_load(channel, zaptec, 5)
    [tagged] = _assign_many(channel, 1, tags=["zaptec", "klacht"])
    assert tagged.assigned_to_user_id == zaptec.id
    assert "skills laadpalen, zaptec" in tagged.assignment_reason


def test_nobody_with_the_skills_leaves_the_thread_in_the_team_queue(app, make_user):
    team, _ = _team_with(make_user, {"skills": ["email"]})
    channel = _channel(
        {"technical_issue": {"default_assignee": team.name, "required_skills": ["laadpalen"]}}
    )
    [thread] = _assign_many(channel, 1)
    assert thread.assigned_to_user_id is None
    assert thread.assigned_team_id == team.id
    assert thread.assignment_reason == (
        "Technical issue → Techniek; left in the Techniek queue: nobody has skills laadpalen"
    )


def test_no_agent_goes_over_capacity(app, make_user):
    team, members = _team_with(
        make_user,
        {"max_open_threads": 10},
        {"max_open_threads": 10},
        {"max_open_threads": 4},
    )
    channel = _channel({"technical_issue": {"default_assignee": team.slug}})
    _existing_load(channel, members[0], 3)
    threads = _assign_many(channel, 30)
    loads = open_loads([m.id for m in members])
    assert loads == {members[0].id: 10, members[1].id: 10, members[2].id: 4}
    queued = [t for t in threads if t.assigned_to_user_id is None]
    assert len(queued) == 30 - (7 + 10 + 4)
    assert all(t.assigned_team_id == team.id for t in queued)
    assert queued[-1].assignment_reason.endswith(
        "left in the Techniek queue: everyone who is in is at capacity"
    )
    # Closed threads free a place.
    first = next(t for t in threads if t.assigned_to_user_id == members[2].id)
    first.status = ThreadStatus.RESOLVED
    db.session.commit()
    [again] = _assign_many(channel, 1)
    assert again.assigned_to_user_id == members[2].id


def test_unavailable_agents_are_skipped_and_busy_ones_are_the_fallback(app, make_user):
    team, (away, offline, busy, available) = _team_with(
        make_user,
        {"availability": Availability.AWAY},
        {"availability": Availability.OFFLINE},
        {"availability": Availability.BUSY},
        {"availability": Availability.AVAILABLE, "max_open_threads": 2},
    )
    _team_with(make_user, {"role": "technician"}, name="Monteurs")
    channel = _channel({"technical_issue": {"default_assignee": team.slug}})
    threads = _assign_many(channel, 5)
    assert _spread(threads) == {available.id: 2, busy.id: 3}
    assert threads[0].assignment_reason.endswith("least loaded (0 open of 2)")
    assert threads[2].assignment_reason.endswith("busy, as nobody available had room")

    strict = _channel(
        {"fallback_to_busy": False, "technical_issue": {"default_assignee": team.slug}}
    )
    [queued] = _assign_many(strict, 1)
    assert queued.assigned_to_user_id is None
    assert queued.assignment_reason.endswith("everyone who is in is at capacity")


def test_technicians_are_never_given_conversations(app, make_user):
    team, (technician,) = _team_with(make_user, {"role": "technician"})
    channel = _channel({"default": {"default_assignee": team.slug}})
    [thread] = _assign_many(channel, 1, thread_type=ThreadType.COMPLAINT)
    assert thread.assigned_to_user_id is None
    assert "nobody is available" in thread.assignment_reason


def test_fair_spread_over_hundreds_of_threads(app, make_user):
    # 400 show the spread as well as 1,000 did; each new thread's commit makes its
    # listeners expire every object this one long session holds, so the cost grows
    # with the square of the count (1,000 cost a minute of the suite's time).
    team, members = _team_with(make_user, *[{"max_open_threads": 1000} for _ in range(4)])
    channel = _channel({"technical_issue": {"default_assignee": team.slug}})
    threads = _assign_many(channel, 400)
    assert sorted(_spread(threads).values()) == [100, 100, 100, 100]


def test_with_unequal_loads_the_least_loaded_fill_up_first(app, make_user):
    team, (light, middle, heavy) = _team_with(make_user, {}, {}, {})
    channel = _channel({"technical_issue": {"default_assignee": team.slug}})
    _existing_load(channel, middle, 4)
    _existing_load(channel, heavy, 8)
    first = _assign_many(channel, 4)
    assert _spread(first) == {light.id: 4}
    second = _assign_many(channel, 8)
    assert _spread(second) == {light.id: 4, middle.id: 4}
    # Now all carry 8: equal shares from here on.
    third = _assign_many(channel, 9)
    assert _spread(third) == {light.id: 3, middle.id: 3, heavy.id: 3}
    assert third[0].assignment_reason.endswith("(8 open of 25, next in turn among equals)")


def test_equal_loads_take_turns_across_two_app_instances_sharing_redis(app, make_app, make_user):
    """Two processes (here two apps) assign in turn; the rotation is shared through Redis."""
    team, members = _team_with(make_user, {}, {}, {})
    channel_id = _channel({"technical_issue": {"default_assignee": team.slug}}).id
    other = make_app(start_embedded_worker=False)
    if not TEST_REDIS_URL:
        # Embedded mode: each app has its own in-memory Redis; share the first
        # one's, as two processes share one real Redis.
        other.extensions["broker"].connection = app.extensions["broker"].connection
    chosen = []
    for round_number in range(9):
        with (other if round_number % 2 else app).app_context():
            thread = _new_thread(db.session.get(CommunicationChannel, channel_id))
            decision = assign_thread(thread)
            chosen.append(decision.user.id)
            # Resolved at once, so loads stay equal and only the turn decides.
            thread.status = ThreadStatus.RESOLVED
            commit()
    order = sorted((m.id for m in members), key=str)
    assert chosen == order * 3


def test_a_new_inbound_conversation_is_assigned_and_the_assignee_told(app, make_user):
    team, (agent,) = _team_with(make_user, {}, name="Klantenservice")
    channel = factories.channel(
        ChannelType.EMAIL_OUTLOOK,
        auto_assignment_rules={"customer_support": {"default_assignee": "klantenservice"}},
    )
    customer = factories.contact()
    db.session.commit()

    def inbound(external_id: str) -> InboundMessage:
        return InboundMessage(
            external_message_id=external_id,
            content="Mijn factuur klopt niet",
            subject="Factuur",
            received_at=utcnow() - timedelta(seconds=5),
        )

    message = receive(channel, customer, inbound("mail-1"))
    commit()
    thread = message.thread
    assert thread.assigned_to_user_id == agent.id
    assert thread.assignment_reason == (
        f"Customer support → Klantenservice; {agent.name}, least loaded (0 open of 25)"
    )
    [notification] = db.session.scalars(sa.select(Notification)).all()
    assert notification.user_id == agent.id
    assert notification.notification_type == "thread_assigned"
    assert notification.link == f"/threads/{thread.id}"

    # A later message in the same conversation does not reassign it.
    thread.assigned_to_user_id = None
    db.session.commit()
    receive(channel, customer, inbound("mail-2"))
    commit()
    assert db.session.get(CommunicationThread, thread.id).assigned_to_user_id is None


def test_channels_without_rules_leave_threads_alone(app, make_user):
    channel = _channel({})
    [thread] = _assign_many(channel, 1)
    assert thread.assigned_team_id is None and thread.assignment_reason is None


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL's row locks (CI runs it)")
def test_two_workers_assigning_at_once_never_overfill_an_agent(app, make_user):
    team, members = _team_with(make_user, {"max_open_threads": 15}, {"max_open_threads": 15})
    channel_id = _channel({"technical_issue": {"default_assignee": team.slug}}).id

    def assign_twenty(_index: int) -> None:
        channel = db.session.get(CommunicationChannel, channel_id)
        for _ in range(20):
            assign_thread(_new_thread(channel))
            commit()

    assert raised(race(app, assign_twenty)) == []
    assert open_loads([m.id for m in members]) == {members[0].id: 15, members[1].id: 15}
    queued = db.session.scalar(
        sa.select(sa.func.count()).where(
            CommunicationThread.assigned_to_user_id.is_(None),
            CommunicationThread.assigned_team_id == team.id,
        )
    )
    assert queued == 10


def test_the_thread_page_says_why_it_was_assigned_there(app, client, auth, make_user):
    team, (agent,) = _team_with(make_user, {"skills": ["laadpalen"]})
    channel = _channel(
        {"technical_issue": {"default_assignee": team.slug, "required_skills": ["laadpalen"]}}
    )
    [thread] = _assign_many(channel, 1)
    make_user("manager", email="manager@switchboard.test")
    auth.login("manager@switchboard.test")
    html = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert (
        "Why here: Technical issue → Techniek; skills laadpalen; "
        "Test agent, least loaded (0 open of 25)"
    ) in html
    assert "Techniek" in html.split('data-testid="assignment"', 1)[1].split("Why here", 1)[0]
