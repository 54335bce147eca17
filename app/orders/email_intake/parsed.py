"""What the parser hands back: per-field findings and the draft body."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# At or above this overall confidence an order is created without a person.
AUTO_CREATE_CONFIDENCE = 90


@dataclass
class ParsedField:
    value: Any
    confidence: int
    source: str  # label, table, pattern, subject (or reviewer, once corrected)
    note: str | None = None

    def as_dict(self) -> dict:
        data = {"value": self.value, "confidence": self.confidence, "source": self.source}
        if self.note:
            data["note"] = self.note
        return data


@dataclass
class ParsedOrder:
    body: dict
    fields: dict[str, ParsedField]
    confidence: int
    warnings: list[str] = field(default_factory=list)
    # The text the fields were read from (an HTML mail's as text), for reviewers.
    text: str = ""

    @property
    def certain(self) -> bool:
        return self.confidence >= AUTO_CREATE_CONFIDENCE
