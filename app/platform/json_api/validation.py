"""Pydantic validation errors as the field map every JSON error of ours carries."""

from __future__ import annotations

import re

from pydantic import ValidationError


def field_errors(exc: ValidationError) -> dict[str, str]:
    """``{"customer.email": "must be …"}`` from a pydantic error.

    A model-level check names its field in its message (``"line_items: …"``);
    that prefix becomes the field path.
    """
    fields: dict[str, str] = {}
    for error in exc.errors():
        path = ".".join(str(part) for part in error["loc"] if part != "[key]")
        message = error["msg"].removeprefix("Value error, ")
        field, sep, rest = message.partition(": ")
        if sep and re.fullmatch(r"[a-z_]+", field):
            path = f"{path}.{field}" if path else field
            message = rest
        fields.setdefault(path or "body", message)
    return fields


NUL_MESSAGE = "must not contain the NUL character (U+0000)"


def nul_fields(body: object, path: str = "") -> dict[str, str]:
    """The dotted paths of every text in ``body`` holding U+0000 (PostgreSQL stores none)."""
    found: dict[str, str] = {}
    if isinstance(body, str):
        if "\x00" in body:
            found[path or "body"] = NUL_MESSAGE
    elif isinstance(body, dict):
        for key, value in body.items():
            where = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                found[where] = NUL_MESSAGE
            found.update(nul_fields(value, where))
    elif isinstance(body, list):
        for index, value in enumerate(body):
            found.update(nul_fields(value, f"{path}[{index}]"))
    return found
