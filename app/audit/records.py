"""Writing audit entries: the one place every admin change is recorded.

Callers pass what changed; values under secret-looking keys are replaced by a
marker, so the log says *that* a key or password changed but never its value.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from app.extensions import db
from app.models import AuditLog

REDACTED = "[redacted]"
_SECRET_KEY = re.compile(
    r"secret|token|password|passwd|api_?key|credential|private|otp|recovery", re.I
)


def redact(changes: Any) -> Any:
    """``changes`` with every value under a secret-looking key replaced by a marker."""
    if isinstance(changes, dict):
        return {
            key: (
                REDACTED
                if _SECRET_KEY.search(str(key)) and value not in (None, "")
                else redact(value)
            )
            for key, value in changes.items()
        }
    if isinstance(changes, list):
        return [redact(item) for item in changes]
    return changes


def record_change(
    table_name: str,
    record_id: uuid.UUID | None,
    action: str,
    changes: dict[str, Any],
    *,
    user_id: uuid.UUID | None = None,
    ip_address: str | None = None,
) -> AuditLog:
    """Add one audit entry to the session (no commit: it lands with the change)."""
    entry = AuditLog(
        table_name=table_name,
        record_id=record_id,
        action=action,
        changed_by_user_id=user_id,
        changes=redact(changes),
        ip_address=ip_address,
    )
    db.session.add(entry)
    return entry
