"""Settings every inbound message reads and people seldom change, kept per worker.

A worker keeps what :meth:`Kept.get` loaded for ``CONFIGURATION_CACHE_SECONDS``
(a change shows that much later; ``0`` loads every time). Values must outlive
the session that read them: plain values, rows or frozen dataclasses, never
ORM objects.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from flask import current_app

T = TypeVar("T")


class Kept(Generic[T]):
    """Values by key, each kept ``CONFIGURATION_CACHE_SECONDS`` from when it was loaded."""

    def __init__(self) -> None:
        self._values: dict[Hashable, tuple[float, T]] = {}

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        keep = current_app.config.get("CONFIGURATION_CACHE_SECONDS", 0)
        if keep <= 0:
            return load()
        now = time.monotonic()
        kept = self._values.get(key)
        if kept is not None and kept[0] > now:
            return kept[1]
        value = load()
        self._values[key] = (now + keep, value)
        return value

    def clear(self) -> None:
        self._values.clear()
