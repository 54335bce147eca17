"""The channels page's words for stored provider bodies and settings: readable
fields instead of raw JSON, secrets masked."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

# Keys and setting names whose values are never shown, only that they are set.
SECRET_NAME = re.compile(
    r"token|secret|password|api_?key|authorization|signature|webhook_?url", re.I
)
MASK = "••••••"
# One shown value is at most this long; the full request stays in the database.
LONGEST_VALUE = 160


@dataclass(frozen=True)
class Field:
    label: str
    value: str


def masked(name: str, value: object) -> str:
    """``value`` as text, or the mask when ``name`` says it is a secret."""
    if SECRET_NAME.search(name):
        return MASK
    if isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    return text if len(text) <= LONGEST_VALUE else text[: LONGEST_VALUE - 1] + "…"


def readable_fields(body: object) -> list[Field]:
    """A provider request body as "path: value" fields, nested keys joined by dots.

    Lists of plain values read as one comma-separated field; lists of objects
    number their items ("personalizations 1 · to 1 · email").
    """
    fields: list[Field] = []
    _flatten(body, "", fields)
    return fields


def _flatten(value: object, path: str, into: list[Field]) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            name = f"{path} · {key}" if path else str(key)
            if SECRET_NAME.search(str(key)):
                into.append(Field(name, MASK))
            else:
                _flatten(inner, name, into)
    elif isinstance(value, list) and any(isinstance(item, (Mapping, list)) for item in value):
        for number, item in enumerate(value, start=1):
            _flatten(item, f"{path} {number}", into)
    elif isinstance(value, list):
        into.append(Field(path, masked(path, ", ".join(str(item) for item in value))))
    elif value not in (None, ""):
        into.append(Field(path or "—", masked(path, value)))


def summary(body: object) -> str:
    """One line saying what was sent: the subject, template or first words of the text."""
    fields = {field.label.rsplit(" · ", 1)[-1]: field.value for field in readable_fields(body)}
    for key in ("subject", "text", "body", "template_id", "template", "name", "content"):
        if fields.get(key):
            return fields[key]
    return ""


def setting_fields(requires: tuple[str, ...], config: Mapping) -> list[Field]:
    """The settings a real provider needs: set ones shown (secrets masked), unset named."""
    return [
        Field(name, masked(name, config[name]) if config.get(name) else str(_l("not set")))
        for name in requires
    ]
