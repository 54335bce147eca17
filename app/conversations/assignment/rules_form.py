"""The assignment rules as a form: one row of fields per thread type.

Admins edit fields, not JSON. The form is turned into the same document the
rules have always been stored as (see :mod:`app.conversations.assignment.rules`)
and checked by the one validator; its errors, keyed ``complaint.escalation_to``,
come back to the field they are about, named in words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from babel.numbers import format_decimal
from flask_babel import lazy_gettext as _l

from app.conversations.assignment.rules import DEFAULT_KEY, thread_type_label
from app.platform.models.enums import ThreadType
from app.platform.ui import display_locale

# What each setting is called on the form (and in its errors).
SETTING_LABELS = {
    "default_assignee": _l("Team"),
    "skill_matching": _l("Match skills to tags"),
    "required_skills": _l("Required skills"),
    "escalation_after_hours": _l("Escalate after (business hours)"),
    "escalation_to": _l("Escalate to"),
    "enabled": _l("Auto-assignment on"),
    "fallback_to_busy": _l("Busy people next when nobody available has room"),
    "strategy": _l("Strategy"),
}


@dataclass
class RuleRow:
    """One thread type's fields as the form shows them (text, as typed)."""

    key: str
    label: str
    team: str = ""
    skill_matching: bool = False
    required_skills: str = ""
    escalation_after_hours: str = ""
    escalation_to: str = ""
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class RulesForm:
    enabled: bool = True
    fallback_to_busy: bool = True
    rows: list[RuleRow] = field(default_factory=list)
    # Errors not about one row ("enabled", "strategy", a stored unknown type).
    errors: dict[str, str] = field(default_factory=dict)


def rule_keys() -> list[str]:
    return [*ThreadType.values(), DEFAULT_KEY]


def form_from_document(document: Mapping | None) -> RulesForm:
    """The form filled in from stored rules."""
    document = document or {}
    form = RulesForm(
        enabled=document.get("enabled", True) is not False,
        fallback_to_busy=document.get("fallback_to_busy", True) is not False,
    )
    for key in rule_keys():
        rule = document.get(key)
        row = RuleRow(key, thread_type_label(key))
        if isinstance(rule, Mapping):
            row.team = str(rule.get("default_assignee") or "")
            row.skill_matching = rule.get("skill_matching") is True
            skills = rule.get("required_skills")
            if isinstance(skills, list):
                row.required_skills = ", ".join(str(skill) for skill in skills)
            row.escalation_after_hours = _hours_text(rule.get("escalation_after_hours"))
            row.escalation_to = str(rule.get("escalation_to") or "")
        form.rows.append(row)
    return form


def form_from_submission(values: Mapping[str, str]) -> RulesForm:
    """The form as the admin submitted it (``rule-<type>-<setting>`` fields)."""
    form = RulesForm(
        enabled=values.get("enabled") == "on",
        fallback_to_busy=values.get("fallback_to_busy") == "on",
    )
    for key in rule_keys():
        def value(setting: str, key: str = key) -> str:
            return (values.get(f"rule-{key}-{setting}") or "").strip()

        form.rows.append(
            RuleRow(
                key,
                thread_type_label(key),
                team=value("default_assignee"),
                skill_matching=value("skill_matching") == "on",
                required_skills=value("required_skills"),
                escalation_after_hours=value("escalation_after_hours"),
                escalation_to=value("escalation_to"),
            )
        )
    return form


def document_from_form(form: RulesForm) -> dict:
    """The rules document the form describes; ``{}`` when no thread type has a rule.

    Values stay as typed where they do not parse (hours "vier"), so the
    validator names the field rather than this function guessing.
    """
    document: dict[str, Any] = {}
    for row in form.rows:
        if not (row.team or row.required_skills or row.escalation_after_hours or row.escalation_to):
            continue  # an empty row: this type has no rule of its own
        rule: dict[str, Any] = {"default_assignee": row.team}
        if row.skill_matching:
            rule["skill_matching"] = True
        if row.required_skills:
            skills = (skill.strip() for skill in row.required_skills.split(","))
            rule["required_skills"] = [skill for skill in skills if skill]
        if row.escalation_after_hours:
            rule["escalation_after_hours"] = _number(row.escalation_after_hours)
        if row.escalation_to:
            rule["escalation_to"] = row.escalation_to
        document[row.key] = rule
    if not document:
        return {}
    return {"enabled": form.enabled, "fallback_to_busy": form.fallback_to_busy, **document}


def attach_errors(form: RulesForm, errors: Mapping[str, str]) -> None:
    """Put the validator's errors (``type.setting``) on the rows they are about."""
    rows = {row.key: row for row in form.rows}
    for name, problem in errors.items():
        key, _dot, setting = name.partition(".")
        if key in rows and setting:
            rows[key].errors[setting] = problem
        elif key in rows:
            rows[key].errors["default_assignee"] = problem
        else:
            form.errors[name] = problem


def field_name(name: str) -> str:
    """An error key in words: ``complaint.escalation_to`` → "Complaint · Escalate to"."""
    key, _dot, setting = name.partition(".")
    if key in SETTING_LABELS and not setting:
        return str(SETTING_LABELS[key])
    words = thread_type_label(key) if key in rule_keys() else key
    return f"{words} · {SETTING_LABELS.get(setting, setting)}" if setting else words


def _hours_text(hours: object) -> str:
    if hours is None:
        return ""
    is_number = isinstance(hours, (int, float)) and not isinstance(hours, bool)
    # "1,5" for a Dutch reader; the form reads either decimal sign back.
    return format_decimal(hours, "0.##", locale=display_locale()) if is_number else str(hours)


def _number(text: str) -> float | str:
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        return text
    return int(number) if number.is_integer() else number
