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
- the least loaded wins; equal loads take turns (:mod:`app.conversations.assignment.rotation`).

Nobody eligible: the thread goes to the team's queue (team set, no person),
where every team member sees it. The decision is written to the thread as a
sentence of the system-text catalogue (:mod:`app.platform.system_texts`) for the page.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from app.conversations.assignment import rotation
from app.conversations.assignment.rules import InvalidRules, TypeRule, rules_for
from app.conversations.core import assign, note_routing
from app.platform.extensions import db
from app.platform.models import CommunicationChannel, CommunicationThread, Team, User
from app.platform.models.enums import Availability, Role, ThreadStatus
from app.platform.system_texts import Sentence, SystemText, text, thread_type_label

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
    why_nobody: SystemText | None = None


@dataclass(frozen=True)
class AssignmentDecision:
    """The outcome of :func:`assign_thread`; ``assigned`` is False when nothing changed."""

    assigned: bool
    reason: Sentence | None
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
        reason = text("routing.rules_broken", channel=channel.channel_name, error=str(exc))
        note_routing(thread, reason)
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
            why = text("routing.nobody_with_skills", skills=", ".join(skills))
            return Pick(None, skills=skills, why_nobody=why)
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
    why = text("routing.at_capacity" if present else "routing.nobody_available")
    if skills:
        why = text("routing.among_skills", why=why, skills=", ".join(skills))
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


def describe(rule: TypeRule, pick: Pick, prefix: SystemText | None = None) -> list[SystemText]:
    """The sentence on the thread page: "Technical issue → Techniek; skills …; least loaded …"."""
    first = prefix or text(
        "routing.rule", thread_type=thread_type_label(rule.key), team=rule.team.name
    )
    return [first, *describe_pick(pick, rule.team)]


def describe_pick(pick: Pick, team: Team) -> list[SystemText]:
    if pick.user is None:
        return [text("routing.queue", team=team.name, why=pick.why_nobody)]
    parts = []
    if pick.skills:
        parts.append(text("routing.skills", skills=", ".join(pick.skills)))
    parts.append(
        text(
            "routing.least_loaded_turn" if pick.took_turn else "routing.least_loaded",
            user=pick.user.name,
            load=pick.load,
            capacity=pick.capacity,
        )
    )
    if pick.busy_fallback:
        parts.append(text("routing.busy_fallback"))
    return parts


def apply_assignment(
    thread: CommunicationThread, team: Team | None, user: User | None, reason: Sentence
) -> bool:
    """Write the assignment made by a rule or an escalation; True if the assignee changed.

    The new assignee hears of it from the notifications feature, which listens
    to the conversation's ThreadAssigned; browsers are told after the commit.
    """
    return assign(thread, team=team, user=user, reason=reason)
