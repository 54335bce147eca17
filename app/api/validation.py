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
