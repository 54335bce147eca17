"""What the rules admin page shows, and saving what an admin wrote."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _

from app.conversations.assignment.rules import (
    DEFAULT_KEY,
    ChannelRules,
    InvalidRules,
    rules_for,
    thread_type_label,
    validate_rules,
)
from app.conversations.assignment.rules_form import (
    RulesForm,
    attach_errors,
    field_name,
    form_from_document,
)
from app.conversations.assignment.services import CANDIDATE_ROLES, open_loads
from app.platform.audit.records import record_edit, snapshot
from app.platform.extensions import db
from app.platform.models import CommunicationChannel, Team, User
from app.platform.ui import AVAILABILITY_LABELS, ROLE_LABELS


class ChannelNotFound(LookupError):
    pass


@dataclass
class RulesCard:
    """One channel's editor: its rules as a form, in words, and any errors."""

    channel: CommunicationChannel
    form: RulesForm
    summary: list[str] = field(default_factory=list)
    # (the field in words, the problem), for the list above the form.
    errors: list[tuple[str, str]] = field(default_factory=list)


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
    submitted_form: RulesForm | None = None,
    errors: Mapping[str, str] | None = None,
) -> list[RulesCard]:
    """Every channel's card; a refused submission keeps what was typed and its errors."""
    cards = []
    channels = db.session.scalars(
        sa.select(CommunicationChannel).order_by(CommunicationChannel.channel_name)
    )
    for channel in channels:
        card = RulesCard(channel, form_from_document(channel.auto_assignment_rules))
        try:
            card.summary = summarise(rules_for(channel))
        except InvalidRules as exc:
            attach_errors(card.form, exc.fields)
            card.errors = [
                (_("saved rules: %(name)s", name=field_name(name)), text)
                for name, text in exc.fields.items()
            ]
        if submitted_channel_id == str(channel.id):
            card.form = submitted_form or card.form
            attach_errors(card.form, errors or {})
            card.errors = [(field_name(name), text) for name, text in (errors or {}).items()]
        cards.append(card)
    return cards


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


def save_rules(channel_id: str, document: dict) -> CommunicationChannel:
    """Validate and store a channel's rules; raises :class:`InvalidRules`. The caller commits."""
    try:
        channel = db.session.get(CommunicationChannel, uuid.UUID(channel_id))
    except ValueError:
        channel = None
    if channel is None:
        raise ChannelNotFound(channel_id)
    before = snapshot(channel, ("auto_assignment_rules",))
    channel.auto_assignment_rules = validate_rules(document)
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


@dataclass
class Choices:
    """What the form's lists offer: teams (by slug) and active people (by e-mail)."""

    teams: list[tuple[str, str]]
    people: list[tuple[str, str]]


def choices() -> Choices:
    teams = db.session.scalars(sa.select(Team).order_by(Team.name))
    people = db.session.scalars(
        sa.select(User).where(User.is_active_account.is_(True)).order_by(User.name)
    )
    return Choices(
        teams=[(team.slug, team.name) for team in teams],
        people=[(person.email, person.name) for person in people],
    )
