"""Message templates: listing, validation, saving and usage counting.

Nothing here commits: the route (or the send that used a template) owns the
transaction, so a template's use is counted only when its message is stored. The
one exception, :func:`record_use_soon`, counts an automatic answer's uses after
the answers are committed, in a transaction of its own.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from app.conversations.message_templates.rendering import (
    KNOWN_VARIABLES,
    is_variable_name,
    malformed_message,
    malformed_placeholders,
    placeholders_in,
)
from app.platform.audit.records import record_edit
from app.platform.extensions import db
from app.platform.jobs.coalescing import hold
from app.platform.models import CommunicationTemplate, CommunicationThread
from app.platform.models.enums import TemplateBusinessEntity, TemplateCategory, TemplateChannelType
from app.platform.models.templates import humanize_template_name
from app.platform.transactions import commit

NAME_MAX = 120
DESCRIPTION_MAX = 500
TEXT_FIELDS = ("subject_template", "message_template", "html_template")
# Meta's rule for approved WhatsApp template names.
WHATSAPP_NAME = re.compile(r"[a-z0-9_]{1,120}")
LANGUAGE = re.compile(r"[a-z]{2,3}([_-][A-Za-z]{2,4})?")


class TemplateValidationError(ValueError):
    """The data cannot be saved; ``fields`` maps each field name to what is wrong."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{name}: {problem}" for name, problem in fields.items()))
        self.fields = fields


class StaleTemplate(Exception):
    """The template changed since the editor loaded it."""


def version_of(template: CommunicationTemplate) -> str:
    """An opaque token that changes with every edit (the update time, in µs)."""
    return str(int(template.updated_at.timestamp() * 1_000_000))


# --- reading --------------------------------------------------------------


def _enum_value(enum_cls, value: object, field: str) -> str:
    text = str(value)
    if text not in enum_cls.values():
        known = ", ".join(enum_cls.values())
        raise TemplateValidationError({field: _("must be one of %(values)s", values=known)})
    return text


def list_templates(
    channel: str | None = None, category: str | None = None, active: bool | None = None
) -> list[CommunicationTemplate]:
    """Templates for the admin list and the API, by name; filters are exact matches.

    Raises ``TemplateValidationError`` for a channel or category that does not exist.
    """
    query = sa.select(CommunicationTemplate).order_by(
        sa.func.lower(CommunicationTemplate.display_name)
    )
    if channel:
        value = _enum_value(TemplateChannelType, channel, "channel")
        query = query.where(CommunicationTemplate.channel_type == TemplateChannelType(value))
    if category:
        value = _enum_value(TemplateCategory, category, "category")
        query = query.where(CommunicationTemplate.template_category == TemplateCategory(value))
    if active is not None:
        query = query.where(CommunicationTemplate.is_active.is_(active))
    return list(db.session.scalars(query))


def templates_for_channel(
    channel_type: str | None, category: str | None = None, language: str | None = None
) -> list[CommunicationTemplate]:
    """Active templates an agent can use on ``channel_type``: its own and the "any" ones.

    A channel no template targets (a task, a phone call) gets the "any" ones; no
    channel at all (None) gets every active template. Those in ``language`` (the
    customer's, ISO 639-1) first, then most used first, then by name.
    Raises ``TemplateValidationError`` for a category that does not exist.
    """
    order = [
        CommunicationTemplate.usage_count.desc(),
        sa.func.lower(CommunicationTemplate.display_name),
    ]
    if language:
        # "en" and "en_US" alike: the stored code may name a region (Meta's codes do).
        in_language = sa.func.lower(sa.func.substr(CommunicationTemplate.language, 1, 2))
        order.insert(0, sa.case((in_language == language[:2].lower(), 0), else_=1))
    query = (
        sa.select(CommunicationTemplate)
        .where(CommunicationTemplate.is_active.is_(True))
        .order_by(*order)
    )
    if channel_type is not None:
        usable = [TemplateChannelType.ANY]
        if str(channel_type) in TemplateChannelType.values():
            usable.append(TemplateChannelType(str(channel_type)))
        query = query.where(CommunicationTemplate.channel_type.in_(usable))
    if category:
        value = _enum_value(TemplateCategory, category, "category")
        query = query.where(CommunicationTemplate.template_category == TemplateCategory(value))
    return list(db.session.scalars(query))


def get_template(template_id: uuid.UUID | str) -> CommunicationTemplate | None:
    try:
        key = template_id if isinstance(template_id, uuid.UUID) else uuid.UUID(str(template_id))
    except ValueError:
        return None
    return db.session.get(CommunicationTemplate, key)


def preview_thread(thread_id: uuid.UUID) -> CommunicationThread | None:
    """The conversation whose details fill a template's preview."""
    return db.session.get(CommunicationThread, thread_id)


def template_to_dict(template: CommunicationTemplate) -> dict[str, Any]:
    """The API's shape of a template."""
    return {
        "id": str(template.id),
        "template_name": template.template_name,
        "display_name": template.display_name,
        "description": template.description,
        "template_category": str(template.template_category),
        "channel_type": str(template.channel_type),
        "subject_template": template.subject_template,
        "message_template": template.message_template,
        "html_template": template.html_template,
        "variables": list(template.variables or []),
        "business_entity": str(template.business_entity),
        "whatsapp_template_name": template.whatsapp_template_name,
        "language": template.language,
        "is_active": template.is_active,
        "usage_count": template.usage_count,
        "created_at": template.created_at.isoformat(),
        "updated_at": template.updated_at.isoformat(),
    }


def record_use(template_id: uuid.UUID) -> None:
    """Count one use, in the caller's transaction.

    A single ``UPDATE ... SET usage_count = usage_count + 1``, so concurrent sends
    never lose a count. ``updated_at`` is left alone: a use is not an edit, and an
    admin's open edit form must not become stale because an agent sent a message.
    A template deleted meanwhile is simply not counted.
    """
    db.session.execute(_count_use(), {"template_id": template_id})
    template = db.session.identity_map.get(
        db.session.identity_key(CommunicationTemplate, template_id)
    )
    if template is not None:
        db.session.expire(template, ["usage_count"])


def record_use_soon(template_id: uuid.UUID) -> None:
    """Count one use of a template that answers automatically, after the commit.

    An out-of-hours answer goes to every new customer of a closed desk, each in a
    transaction of its own: counting in it locked the one template row until that
    commit, so the workers answering a burst waited for each other on it. Inside a
    batch (:mod:`app.platform.jobs.coalescing`) the batch's uses are counted
    together once its answers are committed (a worker killed before then loses
    those counts, a statistic); elsewhere at once, in the caller's transaction.
    """
    if not hold("template-uses", _count_uses, template_id):
        record_use(template_id)


def _count_uses(template_ids: list[uuid.UUID]) -> None:
    for template_id, uses in sorted(Counter(template_ids).items()):
        db.session.execute(_count_use(), {"template_id": template_id, "uses": uses})
    commit()


@functools.cache
def _count_use() -> sa.Update:
    # On the table, built once: an automatic answer counts a use with every message.
    table = CommunicationTemplate.__table__
    return (
        sa.update(table)
        .where(table.c.id == sa.bindparam("template_id"))
        .values(
            usage_count=table.c.usage_count + sa.bindparam("uses", 1),
            updated_at=table.c.updated_at,
        )
    )


# --- validation -----------------------------------------------------------


def _optional_text(data: Mapping[str, Any], field: str, errors: dict[str, str]) -> str | None:
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        errors[field] = _("must be text")
        return None
    return value if value.strip() else None


def _variable_list(value: object, errors: dict[str, str]) -> list[str]:
    """Declared names from a list or a comma/space separated string."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items: Iterable[object] = [part for part in re.split(r"[\s,]+", value) if part]
    elif isinstance(value, list | tuple):
        items = value
    else:
        errors["variables"] = _("must be a list of names")
        return []
    names: list[str] = []
    for item in items:
        name = item.strip().strip("{} ") if isinstance(item, str) else item
        if not is_variable_name(name):
            errors["variables"] = _(
                "%(item)s is not a valid name: use lowercase letters, digits and _",
                item=repr(item),
            )
            return []
        if name not in names:
            names.append(name)
    return names


def clean_template_data(
    data: Mapping[str, Any], current: CommunicationTemplate | None = None
) -> dict[str, Any]:
    """Check and normalise template fields; raise ``TemplateValidationError`` naming each.

    ``variables`` comes back as the placeholders used, in order, followed by any
    other declared names.
    """
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}

    name = data.get("template_name")
    if name is None or (isinstance(name, str) and not name.strip()):
        errors["template_name"] = _("required")
    elif not isinstance(name, str):
        errors["template_name"] = _("must be text")
    elif len(name.strip()) > NAME_MAX:
        errors["template_name"] = _("must be at most %(count)s characters", count=NAME_MAX)
    else:
        cleaned["template_name"] = name.strip()
        taken = sa.select(CommunicationTemplate.id).where(
            sa.func.lower(CommunicationTemplate.template_name) == name.strip().lower()
        )
        if current is not None:
            taken = taken.where(CommunicationTemplate.id != current.id)
        if db.session.scalar(taken.limit(1)) is not None:
            errors["template_name"] = _("another template already has this name")

    _clean_human_name(data, cleaned, errors)

    for field, enum_cls, default in (
        ("template_category", TemplateCategory, None),
        ("channel_type", TemplateChannelType, TemplateChannelType.ANY),
        ("business_entity", TemplateBusinessEntity, TemplateBusinessEntity.ALL),
    ):
        value = data.get(field) or default
        if value is None:
            errors[field] = _("required")
        elif str(value) not in enum_cls.values():
            errors[field] = _("must be one of %(values)s", values=", ".join(enum_cls.values()))
        else:
            cleaned[field] = enum_cls(str(value))

    for field in TEXT_FIELDS:
        cleaned[field] = _optional_text(data, field, errors)
    if cleaned["message_template"] is None and "message_template" not in errors:
        errors["message_template"] = _("required")

    whatsapp_name = _optional_text(data, "whatsapp_template_name", errors)
    if whatsapp_name is not None and not WHATSAPP_NAME.fullmatch(whatsapp_name.strip()):
        errors["whatsapp_template_name"] = _(
            "use lowercase letters, digits and _ (at most 120), as approved by Meta"
        )
    cleaned["whatsapp_template_name"] = whatsapp_name.strip() if whatsapp_name else None

    language = _optional_text(data, "language", errors) or "nl"
    if not LANGUAGE.fullmatch(language.strip()):
        errors["language"] = _("use a language code such as nl, en or en_US")
    cleaned["language"] = language.strip()

    active = data.get("is_active", True)
    if not isinstance(active, bool):
        errors["is_active"] = _("must be true or false")
    cleaned["is_active"] = bool(active)

    declared = _variable_list(data.get("variables"), errors)
    for field in TEXT_FIELDS:
        if field in errors:
            continue
        text = cleaned[field]
        problems = [malformed_message(snippet) for snippet in malformed_placeholders(text)]
        problems += [
            _(
                "Unknown placeholder %(name)s: use a known variable or declare it under variables",
                name="{{" + name + "}}",
            )
            for name in placeholders_in(text)
            if name not in KNOWN_VARIABLES and name not in declared
        ]
        if problems:
            errors[field] = "; ".join(problems)
    used = placeholders_in(*(cleaned[field] for field in TEXT_FIELDS))
    cleaned["variables"] = used + [name for name in declared if name not in used]

    if errors:
        raise TemplateValidationError(errors)
    return cleaned


def _clean_human_name(data: Mapping[str, Any], cleaned: dict, errors: dict[str, str]) -> None:
    """``display_name`` (made from the internal name when left out) and ``description``."""
    display_name = _optional_text(data, "display_name", errors)
    if display_name is None and "display_name" not in errors:
        internal = cleaned.get("template_name")
        display_name = humanize_template_name(internal) if internal else None
    if display_name is not None:
        if len(display_name.strip()) > NAME_MAX:
            errors["display_name"] = _("must be at most %(count)s characters", count=NAME_MAX)
        cleaned["display_name"] = display_name.strip()
    description = _optional_text(data, "description", errors)
    if description is not None and len(description.strip()) > DESCRIPTION_MAX:
        errors["description"] = _("must be at most %(count)s characters", count=DESCRIPTION_MAX)
    cleaned["description"] = description.strip() if description else None


def _editable_fields(template: CommunicationTemplate) -> dict[str, Any]:
    return {
        "template_name": template.template_name,
        "display_name": template.display_name,
        "description": template.description,
        "template_category": template.template_category,
        "channel_type": template.channel_type,
        "subject_template": template.subject_template,
        "message_template": template.message_template,
        "html_template": template.html_template,
        "variables": list(template.variables or []),
        "business_entity": template.business_entity,
        "whatsapp_template_name": template.whatsapp_template_name,
        "language": template.language,
        "is_active": template.is_active,
    }


# --- writing ---------------------------------------------------------------


def create_template(data: Mapping[str, Any]) -> CommunicationTemplate:
    """Validate ``data`` and add a new template (flushed, not committed)."""
    template = CommunicationTemplate(**clean_template_data(data), usage_count=0)
    try:
        # A savepoint, so losing a race for the same name leaves the session usable.
        with db.session.begin_nested():
            db.session.add(template)
    except IntegrityError as exc:
        raise TemplateValidationError(
            {"template_name": _("another template already has this name")}
        ) from exc
    _audit(template, "TEMPLATE_CREATED", {})
    return template


def update_template(
    template: CommunicationTemplate,
    data: Mapping[str, Any],
    expected_version: str | None = None,
) -> CommunicationTemplate:
    """Apply ``data`` (fields not given keep their value); refuse a stale edit.

    ``expected_version`` is the ``version_of`` the editor saw; when the template
    changed since, ``StaleTemplate`` is raised and nothing is written.
    """
    if expected_version is not None:
        # Re-read under a row lock (PostgreSQL) so two saves cannot both pass.
        db.session.refresh(template, with_for_update=True)
        if version_of(template) != expected_version:
            raise StaleTemplate(
                _(
                    "Someone else changed this template since you opened it. "
                    "Reload the page to see their version."
                )
            )
    before = _editable_fields(template)
    merged = {**before, **data}
    cleaned = clean_template_data(merged, current=template)
    try:
        with db.session.begin_nested():
            for field, value in cleaned.items():
                setattr(template, field, value)
    except IntegrityError as exc:
        raise TemplateValidationError(
            {"template_name": _("another template already has this name")}
        ) from exc
    _audit(template, "TEMPLATE_UPDATED", before)
    return template


def deactivate_template(template: CommunicationTemplate) -> None:
    """Hide the template from composers; past messages keep their link to it."""
    _set_active(template, False)


def activate_template(template: CommunicationTemplate) -> None:
    _set_active(template, True)


def _set_active(template: CommunicationTemplate, active: bool) -> None:
    before = _editable_fields(template)
    template.is_active = active
    db.session.flush()
    _audit(template, "TEMPLATE_ACTIVATED" if active else "TEMPLATE_DEACTIVATED", before)


def _audit(template: CommunicationTemplate, action: str, before: dict[str, Any]) -> None:
    record_edit(
        CommunicationTemplate.__tablename__,
        template.id,
        action,
        before,
        _editable_fields(template),
    )
