"""Jobs used only by tests, importable by dotted path like real ones."""

from __future__ import annotations

from flask import current_app


def fail_first_time(key: str) -> int:
    """Count calls in Redis; the first call fails so RQ schedules a retry."""
    calls = current_app.extensions["broker"].connection.incr(key)
    if calls == 1:
        raise RuntimeError("first attempt fails on purpose")
    return calls
