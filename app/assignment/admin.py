"""What the rules admin page shows, and saving what an admin wrote."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _

from app.assignment.rules import (
    DEFAULT_KEY,
    RULE_SETTINGS,
    ChannelRules,
    InvalidRules,
    parse_rules_text,
    rules_for,
    thread_type_label,
    validate_rules,
)
from app.assignment.services import CANDIDATE_ROLES, open_loads
from app.audit.records import record_edit, snapshot
from app.extensions import db
from app.models import CommunicationChannel, Team, User
from app.models.enums import ThreadType
from app.ui import AVAILABILITY_LABELS, ROLE_LABELS


class ChannelNotFound(LookupError):
    pass


@dataclass
class RulesCard:
    """One channel's editor: its rules as JSON, in words, and any errors."""

    channel: CommunicationChannel
    text: str
    summary: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class MemberRow:
    name: str
    role: str
    availability: str
    skills: str
    load: int
    capacity: int
    candidate: bool


@dataclass
class TeamRow:
    team: Team
    members: list[MemberRow]


def rule_cards(
    submitted_channel_id: str | None = None,
    submitted_text: str | None = None,
    errors: dict[str, str] | None = None,
) -> list[RulesCard]:
    """Every channel's card; a refused submission keeps its text and errors."""
    cards = []
    channels = db.session.scalars(
        sa.select(CommunicationChannel).order_by(CommunicationChannel.channel_name)
    )
    for channel in channels:
        card = RulesCard(channel, rules_as_text(channel.auto_assignment_rules))
        try:
            card.summary = summarise(rules_for(channel))
        except InvalidRules as exc:
            card.errors = {
                _("saved rules: %(name)s", name=name): text for name, text in exc.fields.items()
            }
        if submitted_channel_id == str(channel.id):
            card.text = submitted_text or ""
            card.errors = errors or {}
        cards.append(card)
    return cards


def rules_as_text(rules: dict | None) -> str:
    return json.dumps(rules, indent=2, ensure_ascii=False) if rules else ""


def summarise(rules: ChannelRules | None) -> list[str]:
    """The rules in words, one line per thread type."""
    if rules is None:
        return []
    lines = []
    for key, rule in sorted(rules.by_type.items(), key=lambda item: item[0] == DEFAULT_KEY):
        line = f"{thread_type_label(key)} → {rule.team.name}"
        if rule.required_skills:
            line += _(", needs skills %(skills)s", skills=", ".join(rule.required_skills))
        if rule.skill_matching:
            line += _(", skills matched to the conversation's tags")
        if rule.escalation_after_hours:
            target = rule.escalation_user or rule.escalation_team
            line += _(
                "; unanswered after %(hours)s business hours → %(target)s",
                hours=f"{rule.escalation_after_hours:g}",
                target=target.name,
            )
        lines.append(line)
    if not rules.fallback_to_busy:
        lines.append(_("Busy people are never given conversations."))
    return lines


def save_rules(channel_id: str, text: str) -> CommunicationChannel:
    """Validate and store a channel's rules; raises :class:`InvalidRules`. The caller commits."""
    try:
        channel = db.session.get(CommunicationChannel, uuid.UUID(channel_id))
    except ValueError:
        channel = None
    if channel is None:
        raise ChannelNotFound(channel_id)
    before = snapshot(channel, ("auto_assignment_rules",))
    channel.auto_assignment_rules = validate_rules(parse_rules_text(text))
    db.session.flush()
    record_edit(
        CommunicationChannel.__tablename__,
        channel.id,
        "ASSIGNMENT_RULES_SAVED",
        before,
        snapshot(channel, ("auto_assignment_rules",)),
    )
    return channel


def team_rows() -> list[TeamRow]:
    """Teams with their people: who can be given threads, and how full they are."""
    teams = list(db.session.scalars(sa.select(Team).order_by(Team.name)))
    people = list(
        db.session.scalars(
            sa.select(User)
            .where(User.is_active_account.is_(True), User.team_id.is_not(None))
            .order_by(User.name)
        )
    )
    loads = open_loads([person.id for person in people])
    rows = []
    for team in teams:
        members = [
            MemberRow(
                name=person.name,
                role=ROLE_LABELS[person.role],
                availability=AVAILABILITY_LABELS[person.availability.value],
                skills=", ".join(str(skill) for skill in person.skills or []),
                load=loads.get(person.id, 0),
                capacity=person.max_open_threads,
                candidate=person.role in CANDIDATE_ROLES,
            )
            for person in people
            if person.team_id == team.id
        ]
        rows.append(TeamRow(team, members))
    return rows


def reference() -> dict:
    return {
        "thread_types": [*ThreadType.values(), DEFAULT_KEY],
        "settings": RULE_SETTINGS,
        "example": rules_as_text(
            {
                "enabled": True,
                "strategy": "least_loaded",
                "fallback_to_busy": True,
                "customer_support": {
                    "default_assignee": "customer-service",
                    "escalation_after_hours": 4,
                    "escalation_to": "manager@switchboard.test",
                },
                "technical_issue": {
                    "default_assignee": "tech",
                    "skill_matching": True,
                    "required_skills": ["laadpalen"],
                    "escalation_after_hours": 2,
                    "escalation_to": "management",
                },
            }
        ),
    }
