"""Rewriting rows in place: each named attribute gets a new value made from its old one."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

Redactor = Callable[[Any], Any]


def rewrite(rows: Iterable[Any], redactors: dict[str, Redactor]) -> int:
    """Apply ``redactors`` (attribute → new value from old) to ``rows``; how many changed.

    Only attributes whose value really changes are set, so a row erased before
    is not counted (or written) again.
    """
    changed = 0
    for row in rows:
        updates = {}
        for name, redact in redactors.items():
            old = getattr(row, name)
            new = redact(old)
            if new != old:
                updates[name] = new
        for name, value in updates.items():
            setattr(row, name, value)
        changed += bool(updates)
    return changed


def constant(value: Any) -> Redactor:
    """A redactor that puts ``value`` in place of whatever was there."""
    return lambda _old: value
