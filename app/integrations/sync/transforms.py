"""Mapping value conversions: the transform table, data types and dot paths.

A transform is picked by name from :data:`TRANSFORMS`, a fixed table of plain
functions, so a mapping stays data: no user-supplied code is ever evaluated.
:func:`to_remote_type` and :func:`to_local_type` turn values into what a
provider's JSON or our models hold; :func:`get_path` and :func:`set_path` read
and write a remote dot path (a number segment indexes a list, as in
``Line.0.Amount``). Bad values raise ``ValueError`` saying what is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from app.conversations.contacts.phones import normalise_phone

CENT = Decimal("0.01")


# --- transforms: a fixed table, chosen by name --------------------------------


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _e164(value: Any) -> str:
    phone = normalise_phone(_text(value))
    if phone is None:
        raise ValueError("is not a phone number")
    return phone


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("is not a number")
    try:
        return Decimal(_text(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation as exc:
        raise ValueError("is not a number") from exc


def _cents_to_euros(value: Any) -> Decimal:
    return (_decimal(value) / 100).quantize(CENT, ROUND_HALF_UP)


def _euros_to_cents(value: Any) -> int:
    return int((_decimal(value) * 100).quantize(Decimal(1), ROUND_HALF_UP))


def _date_iso(value: Any) -> str:
    return _as_date(value).isoformat()


TRANSFORMS: dict[str, Callable[[Any], Any]] = {
    "none": lambda value: value,
    "upper": lambda value: _text(value).upper(),
    "lower": lambda value: _text(value).lower(),
    "trim": lambda value: _text(value).strip(),
    "e164": _e164,
    "cents_to_euros": _cents_to_euros,
    "euros_to_cents": _euros_to_cents,
    "date_iso": _date_iso,
}
# Reading a value back undoes a unit change; the normalising transforms apply as they are.
INVERSE = {"cents_to_euros": "euros_to_cents", "euros_to_cents": "cents_to_euros"}


# --- data types ----------------------------------------------------------------


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return datetime.fromisoformat(_text(value).strip().replace("Z", "+00:00")).date()
    except ValueError as exc:
        raise ValueError("is not a date (YYYY-MM-DD)") from exc


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).strip().lower()
    if text in ("true", "1", "yes", "y", "on"):
        return True
    if text in ("false", "0", "no", "n", "off", ""):
        return False
    raise ValueError("is not true or false")


def _number_out(value: Any) -> int | float:
    number = _decimal(value)
    return int(number) if number == number.to_integral_value() else float(number)


def to_remote_type(data_type: str, value: Any) -> Any:
    """``value`` as the JSON value a provider expects for ``data_type``."""
    if data_type == "number":
        return _number_out(value)
    if data_type == "money":
        return float(_decimal(value).quantize(CENT, ROUND_HALF_UP))
    if data_type == "boolean":
        return _as_bool(value)
    if data_type == "date":
        return _as_date(value).isoformat()
    return _text(value)


def to_local_type(data_type: str, value: Any) -> Any:
    """A provider's value as the Python value our models hold."""
    if data_type == "number":
        return _decimal(value)
    if data_type == "money":
        return _decimal(value).quantize(CENT, ROUND_HALF_UP)
    if data_type == "boolean":
        return _as_bool(value)
    if data_type == "date":
        return _as_date(value)
    return _text(value)


# --- dot paths -----------------------------------------------------------------


def get_path(record: Any, path: str) -> Any:
    """The value at ``path`` in nested dicts/lists, or None when any step is missing."""
    node = record
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit():
            index = int(part)
            node = node[index] if index < len(node) else None
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
        if node is None:
            return None
    return node


def set_path(payload: dict, path: str, value: Any) -> None:
    """Put ``value`` at ``path``, building dicts (and lists, for number segments) on the way."""
    parts = path.split(".")
    node: Any = payload
    for part, following in zip(parts, parts[1:], strict=False):
        empty: Any = [] if following.isdigit() else {}
        if isinstance(node, list):
            index = int(part)
            while len(node) <= index:
                node.append(None)
            if not isinstance(node[index], (dict, list)):
                node[index] = empty
            node = node[index]
        else:
            if not isinstance(node.get(part), (dict, list)):
                node[part] = empty
            node = node[part]
    last = parts[-1]
    if isinstance(node, list):
        index = int(last)
        while len(node) <= index:
            node.append(None)
        node[index] = value
    else:
        node[last] = value
