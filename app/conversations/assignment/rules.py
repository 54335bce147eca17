"""A channel's auto-assignment rules: their shape, validation and reading.

The document lives in ``communication_channel.auto_assignment_rules`` and keeps
the key names it has always had: one entry per thread type (or ``default`` for every type
without its own), each naming the team as ``default_assignee``::

    {
      "enabled": true,
      "strategy": "least_loaded",
      "fallback_to_busy": true,
      "customer_support": {"default_assignee": "customer-service",
                           "escalation_after_hours": 4,
                           "escalation_to": "manager@switchboard.test"},
      "technical_issue": {"default_assignee": "tech", "skill_matching": true,
                          "required_skills": ["laadpalen"],
                          "escalation_after_hours": 2, "escalation_to": "management"}
    }

Teams are named by slug, name or id, people by e-mail or id; the validator
stores teams by slug and people by e-mail, which survive renames and read well.
``escalation_after_hours`` counts business hours of the channel's calendar.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from app.conversations.workspace.services import InvalidInput
from app.platform import system_texts
from app.platform.extensions import db
from app.platform.models import CommunicationChannel, Team, User
from app.platform.models.enums import ThreadType
from app.platform.security.bodies import JSONTooDeep
from app.platform.security.bodies import loads as load_json

log = logging.getLogger(__name__)

DEFAULT_KEY = "default"
STRATEGIES = ("least_loaded",)
RULE_SETTINGS = (
    "default_assignee",
    "skill_matching",
    "required_skills",
    "escalation_after_hours",
    "escalation_to",
)
TOP_SETTINGS = ("enabled", "strategy", "fallback_to_busy")
MAX_ESCALATION_HOURS = 720  # 30 days; more is a typo, not a policy
MAX_SKILL_LENGTH = 40


class InvalidRules(InvalidInput):
    """Unusable rules; ``fields`` names each bad key, e.g. ``complaint.escalation_to``."""


@dataclass(frozen=True)
class TypeRule:
    """How threads of one type (or every other type) are routed."""

    key: str
    team: Team
    skill_matching: bool = False
    required_skills: tuple[str, ...] = ()
    escalation_after_hours: float | None = None
    escalation_team: Team | None = None
    escalation_user: User | None = None


@dataclass(frozen=True)
class ChannelRules:
    enabled: bool = True
    fallback_to_busy: bool = True
    by_type: dict[str, TypeRule] = field(default_factory=dict)

    def rule_for(self, thread_type: ThreadType | str) -> TypeRule | None:
        key = getattr(thread_type, "value", thread_type)
        return self.by_type.get(key) or self.by_type.get(DEFAULT_KEY)


def thread_type_label(key: str) -> str:
    return system_texts.thread_type_label(key).render()


# --- reading what is stored ---------------------------------------------------


def rules_for(channel: CommunicationChannel | None) -> ChannelRules | None:
    """The channel's rules, or None when it has none (or they are switched off).

    Raises :class:`InvalidRules` when the stored rules no longer resolve (a
    team deleted since they were saved, say); the caller reports that.
    """
    if channel is None or not channel.auto_assignment_rules:
        return None
    _canonical, parsed = _parse(channel.auto_assignment_rules, _Directory.load())
    return parsed if parsed.enabled and parsed.by_type else None


# --- validating what an admin writes -----------------------------------------


def parse_rules_text(text: str) -> dict:
    """The JSON an admin typed, as a dict; raises :class:`InvalidRules` naming the spot."""
    if not (text or "").strip():
        return {}
    try:
        data = load_json(text)
    except JSONTooDeep as exc:
        raise InvalidRules({"rules": _("not accepted: %(error)s", error=exc)}) from exc
    except json.JSONDecodeError as exc:
        raise InvalidRules(
            {
                "rules": _(
                    "not valid JSON: %(error)s at line %(line)s, column %(column)s",
                    error=exc.msg,
                    line=exc.lineno,
                    column=exc.colno,
                )
            }
        ) from exc
    return data


def validate_rules(data: Any) -> dict:
    """Check a rules document and return it in canonical form.

    Raises :class:`InvalidRules` whose ``fields`` name every bad key or value:
    an unknown thread type or setting, a team or person that does not exist,
    hours that are not a positive number, an escalation without a target.
    """
    canonical, _parsed = _parse(data, _Directory.load())
    return canonical


@dataclass
class _Directory:
    """Teams and active people, looked up by any of the names the rules may use."""

    teams: dict[str, Team]
    users: dict[str, User]
    team_names: list[str]

    @classmethod
    def load(cls) -> "_Directory":
        teams: dict[str, Team] = {}
        all_teams = list(db.session.scalars(sa.select(Team).order_by(Team.name)))
        for team in all_teams:
            for name in (str(team.id), team.slug, team.name):
                teams[name.strip().lower()] = team
        users: dict[str, User] = {}
        for user in db.session.scalars(sa.select(User).where(User.is_active_account.is_(True))):
            users[user.email.lower()] = user
            users[str(user.id)] = user
        return cls(teams, users, [team.slug for team in all_teams])

    def team(self, reference: str) -> Team | None:
        return self.teams.get(reference.strip().lower())

    def user(self, reference: str) -> User | None:
        return self.users.get(reference.strip().lower())

    def teams_hint(self) -> str:
        return ", ".join(self.team_names) if self.team_names else "no teams exist yet"


def _parse(data: Any, directory: _Directory) -> tuple[dict, ChannelRules]:
    if not isinstance(data, dict):
        raise InvalidRules({"rules": "must be a JSON object of thread types"})
    errors: dict[str, str] = {}
    canonical: dict[str, Any] = {}
    top = {"enabled": True, "fallback_to_busy": True}
    for key in ("enabled", "fallback_to_busy"):
        if key in data:
            if isinstance(data[key], bool):
                top[key] = canonical[key] = data[key]
            else:
                errors[key] = _("must be true or false")
    if "strategy" in data:
        if data["strategy"] in STRATEGIES:
            canonical["strategy"] = data["strategy"]
        else:
            errors["strategy"] = _("must be one of: %(values)s", values=", ".join(STRATEGIES))

    known_types = ThreadType.values()
    by_type: dict[str, TypeRule] = {}
    for key, value in data.items():
        if key in TOP_SETTINGS:
            continue
        if key not in known_types and key != DEFAULT_KEY:
            errors[key] = _(
                "unknown thread type; use one of %(types)s, or %(default)s",
                types=", ".join(known_types),
                default=DEFAULT_KEY,
            )
            continue
        parsed = _parse_type_rule(key, value, directory, errors)
        if parsed is not None:
            rule, stored = parsed
            by_type[key] = rule
            canonical[key] = stored
    if errors:
        raise InvalidRules(errors)
    return canonical, ChannelRules(
        enabled=top["enabled"], fallback_to_busy=top["fallback_to_busy"], by_type=by_type
    )


def _parse_type_rule(key: str, value: Any, directory: _Directory, errors: dict):
    if not isinstance(value, dict):
        errors[key] = _('must be an object such as {"default_assignee": "<team>"}')
        return None
    before = len(errors)
    for setting in value:
        if setting not in RULE_SETTINGS:
            errors[f"{key}.{setting}"] = _(
                "unknown setting; use %(settings)s", settings=", ".join(RULE_SETTINGS)
            )

    stored: dict[str, Any] = {}
    team = None
    reference = value.get("default_assignee")
    if not isinstance(reference, str) or not reference.strip():
        errors[f"{key}.default_assignee"] = _("required: the team that gets these threads")
    else:
        team = directory.team(reference)
        if team is None:
            errors[f"{key}.default_assignee"] = _(
                "no team %(name)s; teams: %(teams)s",
                name=repr(reference),
                teams=directory.teams_hint(),
            )
        else:
            stored["default_assignee"] = team.slug

    skill_matching = value.get("skill_matching", False)
    if not isinstance(skill_matching, bool):
        errors[f"{key}.skill_matching"] = _("must be true or false")
    elif "skill_matching" in value:
        stored["skill_matching"] = skill_matching

    skills = _skills(value.get("required_skills", []), f"{key}.required_skills", errors)
    if "required_skills" in value and skills is not None:
        stored["required_skills"] = list(skills)

    hours = value.get("escalation_after_hours")
    if hours is not None:
        is_number = isinstance(hours, (int, float)) and not isinstance(hours, bool)
        if not is_number or not math.isfinite(hours):
            errors[f"{key}.escalation_after_hours"] = _("must be a number of hours")
            hours = None
        elif hours <= 0:
            errors[f"{key}.escalation_after_hours"] = _("must be more than 0 hours")
            hours = None
        elif hours > MAX_ESCALATION_HOURS:
            errors[f"{key}.escalation_after_hours"] = _(
                "at most %(max)s hours", max=MAX_ESCALATION_HOURS
            )
            hours = None
        else:
            stored["escalation_after_hours"] = hours

    escalation_team = escalation_user = None
    target = value.get("escalation_to")
    if target is not None:
        if not isinstance(target, str) or not target.strip():
            errors[f"{key}.escalation_to"] = _("must name a team or a person's e-mail")
        elif "@" not in target and (escalation_team := directory.team(target)) is not None:
            stored["escalation_to"] = escalation_team.slug
        elif (escalation_user := directory.user(target)) is not None:
            stored["escalation_to"] = escalation_user.email
        else:
            errors[f"{key}.escalation_to"] = _(
                "no team or active person %(name)s; teams: %(teams)s",
                name=repr(target),
                teams=directory.teams_hint(),
            )
    if "escalation_after_hours" in value and target is None:
        errors[f"{key}.escalation_to"] = _(
            "required when an escalation time is set: who takes over"
        )
    if target is not None and "escalation_after_hours" not in value:
        errors[f"{key}.escalation_after_hours"] = _(
            "required when someone to escalate to is set: after how many business hours"
        )

    if len(errors) > before or team is None:
        return None
    rule = TypeRule(
        key=key,
        team=team,
        skill_matching=skill_matching,
        required_skills=skills or (),
        escalation_after_hours=float(hours) if hours is not None else None,
        escalation_team=escalation_team,
        escalation_user=escalation_user,
    )
    return rule, stored


def _skills(raw: Any, name: str, errors: dict) -> tuple[str, ...] | None:
    if not isinstance(raw, list) or not all(isinstance(skill, str) for skill in raw):
        errors[name] = _("must be a list of skill words")
        return None
    skills = []
    for skill in raw:
        word = skill.strip().lower()
        if not word or len(word) > MAX_SKILL_LENGTH:
            errors[name] = _("each skill is 1 to %(max)s characters", max=MAX_SKILL_LENGTH)
            return None
        if word not in skills:
            skills.append(word)
    return tuple(skills)
