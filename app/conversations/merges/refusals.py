"""A merge (or its undo) refused, with the reason as a key and in words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class RefusedMerge(ValueError):
    """Why a merge cannot happen: ``reason`` a key of ``refusals``, ``message`` its words."""

    refusals: Mapping[str, Any] = {}

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def message(self) -> str:
        return str(self.refusals[self.reason])
