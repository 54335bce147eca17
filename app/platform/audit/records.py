"""Writing audit entries: the one place every admin change is recorded.

Callers pass what changed; values under secret-looking keys are replaced by a
marker, so the log says *that* a key or password changed but never its value.
:func:`field_changes` builds the usual ``changes``: the fields whose value
differs between a record's :func:`snapshot` before and after the change.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from app.platform.audit.actor import current_actor
from app.platform.extensions import db
from app.platform.models import AuditLog

REDACTED = "[redacted]"
# What the log keeps of a secret that changed: its fate, never its value.
SECRET_SET = "set"  # noqa: S105 (markers, not secrets)
SECRET_CHANGED = "changed"  # noqa: S105
SECRET_REMOVED = "removed"  # noqa: S105
SECRET_MARKERS = frozenset({REDACTED, SECRET_SET, SECRET_CHANGED, SECRET_REMOVED})

_SECRET_KEY = re.compile(
    r"secret|token|password|passwd|api_?key|credential|private|otp|recovery", re.I
)
# Facts *about* a secret are not the secret: when a token expires, a key's
# prefix, which header names an endpoint sends, whether 2FA is on.
_ABOUT_A_SECRET = re.compile(r"_(at|id|ids|prefix|names|count|enabled)$", re.I)
# A callback URL may carry its credential in the query (``?token=…``): the log
# keeps where it points, not what it says.
_URL_WITH_QUERY = re.compile(r"^(https?://[^?#\s]+)\?[^#\s]*", re.I)


def is_secret_field(name: object) -> bool:
    """True for a key whose value must never be stored (``api_key``, ``webhook_secret``…)."""
    text = str(name)
    return bool(_SECRET_KEY.search(text)) and not _ABOUT_A_SECRET.search(text)


def redact(changes: Any) -> Any:
    """``changes`` with every value under a secret-looking key replaced by a marker.

    Empty values, flags and the markers above stay: "removed" or "on" tells
    nothing about a secret.
    """
    if isinstance(changes, dict):
        return {
            key: (_redacted(value) if is_secret_field(key) else redact(value))
            for key, value in changes.items()
        }
    if isinstance(changes, list):
        return [redact(item) for item in changes]
    if isinstance(changes, str) and _URL_WITH_QUERY.match(changes):
        return _URL_WITH_QUERY.sub(r"\1?" + REDACTED, changes)
    return changes


def _redacted(value: Any) -> Any:
    if value in (None, "") or isinstance(value, bool):
        return value
    if isinstance(value, str) and value in SECRET_MARKERS:
        return value
    return REDACTED


def plain(value: Any) -> Any:
    """``value`` as the log's JSON holds it: enums by value, times as ISO text, ids as text."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [plain(item) for item in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def snapshot(record: object, fields: Iterable[str]) -> dict[str, Any]:
    """The ``fields`` of ``record`` as plain values, to compare before and after a change."""
    return {name: plain(getattr(record, name)) for name in fields}


def field_changes(
    before: Mapping[str, Any], after: Mapping[str, Any], *, secret: Iterable[str] = ()
) -> dict[str, Any]:
    """The fields whose value differs, as ``{"from": old, "to": new}``.

    A new record is ``before={}``, a deleted one ``after={}``. A secret field
    (a secret-looking name, or one listed in ``secret``) appears only as
    "set", "changed" or "removed".
    """
    secret = set(secret)
    changes: dict[str, Any] = {}
    for name in [*before, *(key for key in after if key not in before)]:
        old, new = plain(before.get(name)), plain(after.get(name))
        if _empty(old) and _empty(new) or old == new:
            continue
        if name in secret or is_secret_field(name):
            changes[name] = (
                SECRET_SET if _empty(old) else SECRET_REMOVED if _empty(new) else SECRET_CHANGED
            )
        else:
            changes[name] = {"from": old, "to": new}
    return changes


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def record_change(
    table_name: str,
    record_id: uuid.UUID | None,
    action: str,
    changes: dict[str, Any],
    *,
    user_id: uuid.UUID | None = None,
    ip_address: str | None = None,
) -> AuditLog:
    """Add one audit entry to the session (no commit: it lands with the change).

    ``user_id`` and ``ip_address`` default to the current request's actor
    (:mod:`app.platform.audit.actor`): the signed-in user and the client's address.
    """
    actor = current_actor()
    if actor is not None:
        user_id = user_id or actor.user_id
        ip_address = ip_address or actor.ip_address
    entry = AuditLog(
        table_name=table_name,
        record_id=record_id,
        action=action,
        changed_by_user_id=user_id,
        changes=redact(plain(changes)),
        ip_address=ip_address,
    )
    db.session.add(entry)
    return entry


def record_edit(
    table_name: str,
    record_id: uuid.UUID | None,
    action: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    secret: Iterable[str] = (),
    user_id: uuid.UUID | None = None,
) -> AuditLog | None:
    """Record the :func:`field_changes` from ``before`` to ``after``; nothing if none changed."""
    changes = field_changes(before, after, secret=secret)
    if not changes:
        return None
    return record_change(table_name, record_id, action, changes, user_id=user_id)
