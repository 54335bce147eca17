"""Choosing a team and an agent for a thread, and writing down why.

The thread's type picks the team (the channel's rules). Inside the team:

- only agents, team leads and managers are candidates: technicians see only
  threads of their own orders, so a conversation given to one would vanish;
- with skill matching, only people whose skills cover every required skill
  (the rule's ``required_skills`` plus the thread's tags that are a skill
  somebody in the team has, such as a charger brand);
- nobody at or above their ``max_open_threads`` (open = not resolved/closed);
- people who are *available* first. If none of them has room, people who are
  *busy* (at work, just occupied) are next, unless the rules set
  ``fallback_to_busy`` to false. *Away* and *offline* people never get one;
- the least loaded wins; equal loads take turns (:mod:`app.assignment.rotation`).

Nobody eligible: the thread goes to the team's queue (team set, no person),
where every team member sees it. The decision is written to
``thread.assignment_reason`` as a sentence for the thread page.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from app.assignment import rotation
from app.assignment.rules import InvalidRules, TypeRule, rules_for, thread_type_label
from app.conversations import assign
from app.extensions import db
from app.models import CommunicationChannel, CommunicationThread, Team, User
from app.models.enums import Availability, Role, ThreadStatus
from app.notifications.services import announce, create_notification
from app.transactions import after_commit

log = logging.getLogger(__name__)

CANDIDATE_ROLES = (Role.AGENT, Role.TEAM_LEAD, Role.MANAGER)
CLOSED_STATUSES = (ThreadStatus.RESOLVED, ThreadStatus.CLOSED)


@dataclass(frozen=True)
class Pick:
    """Who in a team gets the next thread, and the facts behind the choice."""

    user: User | None
    load: int = 0
    capacity: int = 0
    took_turn: bool = False  # several were equally loaded; the rotation chose
    busy_fallback: bool = False
    skills: tuple[str, ...] = ()
    why_nobody: str | None = None


@dataclass(frozen=True)
class AssignmentDecision:
    """The outcome of :func:`assign_thread`; ``assigned`` is False when nothing changed."""

    assigned: bool
    reason: str | None
    team: Team | None = None
    user: User | None = None
    rule_key: str | None = None


def assign_thread(thread: CommunicationThread) -> AssignmentDecision:
    """Route ``thread`` by its channel's rules and record why; the caller commits.

    Leaves the thread alone when the channel has no rules or none for its type.
    The new assignee is notified and browsers are told once the caller commits.
    """
    channel = thread.channel or (
        db.session.get(CommunicationChannel, thread.channel_id) if thread.channel_id else None
    )
    try:
        rules = rules_for(channel)
    except InvalidRules as exc:
        log.warning("auto-assignment rules of channel %s are invalid: %s", channel.id, exc)
        reason = f"Not auto-assigned: the rules of {channel.channel_name} need fixing ({exc})"
        thread.assignment_reason = reason
        return AssignmentDecision(False, reason)
    rule = rules.rule_for(thread.thread_type) if rules else None
    if rule is None:
        return AssignmentDecision(False, None)
    pick = pick_agent(
        rule.team,
        required_skills=rule.required_skills,
        tags=thread.tags if rule.skill_matching else (),
        fallback_to_busy=rules.fallback_to_busy,
    )
    reason = describe(rule, pick)
    apply_assignment(thread, rule.team, pick.user, reason)
    return AssignmentDecision(True, reason, rule.team, pick.user, rule.key)


def pick_agent(
    team: Team,
    *,
    required_skills: tuple[str, ...] = (),
    tags=(),
    fallback_to_busy: bool = True,
    ignore_skills: bool = False,
) -> Pick:
    """The member of ``team`` who should get the next thread (``user`` None: nobody).

    Holds a row lock on the team until the caller's transaction ends, so two
    processes assigning to one team decide one after the other and never both
    fill the last free place of the same agent.
    """
    db.session.execute(sa.select(Team.id).where(Team.id == team.id).with_for_update())
    members = list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.team_id == team.id,
                User.is_active_account.is_(True),
                User.role.in_(CANDIDATE_ROLES),
            )
            .order_by(User.id)
        )
    )
    skills = () if ignore_skills else _needed_skills(members, required_skills, tags)
    if skills:
        members = [m for m in members if set(skills) <= {str(s).lower() for s in m.skills or []}]
        if not members:
            return Pick(None, skills=skills, why_nobody=f"nobody has skills {', '.join(skills)}")
    loads = open_loads([m.id for m in members])
    tiers = [(Availability.AVAILABLE, False)]
    if fallback_to_busy:
        tiers.append((Availability.BUSY, True))
    present = False
    for availability, is_fallback in tiers:
        tier = [m for m in members if m.availability == availability]
        present = present or bool(tier)
        with_room = [m for m in tier if loads.get(m.id, 0) < m.max_open_threads]
        if not with_room:
            continue
        lowest = min(loads.get(m.id, 0) for m in with_room)
        tied = [m for m in with_room if loads.get(m.id, 0) == lowest]
        chosen_id = rotation.next_in_turn(team.id, [m.id for m in tied])
        chosen = next(m for m in tied if m.id == chosen_id)
        rotation.record_turn(team.id, chosen.id)
        return Pick(
            chosen,
            load=lowest,
            capacity=chosen.max_open_threads,
            took_turn=len(tied) > 1,
            busy_fallback=is_fallback,
            skills=skills,
        )
    why = "everyone who is in is at capacity" if present else "nobody is available"
    if skills:
        why = f"{why} among people with skills {', '.join(skills)}"
    return Pick(None, skills=skills, why_nobody=why)


def _needed_skills(members: list[User], required: tuple[str, ...], tags) -> tuple[str, ...]:
    """The rule's skills, plus the thread's tags that are somebody's skill in the team."""
    needed = list(required)
    known = {str(skill).lower() for member in members for skill in member.skills or []}
    for tag in tags or ():
        word = str(tag).strip().lower()
        if word in known and word not in needed:
            needed.append(word)
    return tuple(needed)


def open_loads(user_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Open (not resolved or closed) threads assigned to each person, in one grouped query."""
    if not user_ids:
        return {}
    rows = db.session.execute(
        sa.select(CommunicationThread.assigned_to_user_id, sa.func.count())
        .where(
            CommunicationThread.assigned_to_user_id.in_(user_ids),
            CommunicationThread.status.not_in(CLOSED_STATUSES),
        )
        .group_by(CommunicationThread.assigned_to_user_id)
    )
    return {user_id: count for user_id, count in rows}


def describe(rule: TypeRule, pick: Pick, prefix: str | None = None) -> str:
    """The sentence on the thread page: "Technical issue → Techniek; skills …; least loaded …"."""
    parts = [prefix or f"{thread_type_label(rule.key)} → {rule.team.name}"]
    parts.append(describe_pick(pick, rule.team))
    return "; ".join(part for part in parts if part)


def describe_pick(pick: Pick, team: Team) -> str:
    if pick.user is None:
        return f"left in the {team.name} queue: {pick.why_nobody}"
    parts = []
    if pick.skills:
        parts.append(f"skills {', '.join(pick.skills)}")
    load = f"{pick.load} open of {pick.capacity}"
    if pick.took_turn:
        load += ", next in turn among equals"
    parts.append(f"{pick.user.name}, least loaded ({load})")
    if pick.busy_fallback:
        parts.append("busy, as nobody available had room")
    return "; ".join(parts)


def apply_assignment(
    thread: CommunicationThread, team: Team | None, user: User | None, reason: str
) -> None:
    """Write the assignment; after the commit, notify the new assignee and the browsers."""
    if assign(thread, team=team, user=user, reason=reason) and user is not None:
        notification = create_notification(
            user.id,
            "thread_assigned",
            f"Thread assigned to you: {thread.thread_subject}"[:255],
            reason,
            priority=thread.priority,
            source_table="communication_thread",
            source_record_id=thread.id,
            link=f"/threads/{thread.id}",
        )
        after_commit(lambda: announce(notification))
