"""The sandbox endpoints' JSON bodies, read and checked.

Each function returns what the body asks for, or raises :class:`SandboxRequestInvalid`
naming every wrong field (English, as the partner API documents its errors).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from app.orders.partners.sandbox import timeline
from app.orders.partners.sandbox.moves import MAX_TEXT, UnknownStatus, parse_sandbox_status
from app.platform.models import PartnerIntegration
from app.platform.models.enums import OrderStatus


class SandboxRequestInvalid(ValueError):
    """``fields`` maps each wrong field of the body to what is wrong with it."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


class MoveRequest(NamedTuple):
    to_status: OrderStatus
    reason: str | None
    partner_note: str | None


class TimelineRequest(NamedTuple):
    to_status: OrderStatus
    step_seconds: float


def read_move(body: dict, integration: PartnerIntegration) -> MoveRequest:
    """A status move: ``status`` in the partner's words; ``reason`` and ``partner_note``
    are optional."""
    errors: dict[str, str] = {}
    to_status = None
    try:
        to_status = parse_sandbox_status(body.get("status"), integration)
    except UnknownStatus as exc:
        errors["status"] = str(exc)
    reason = _text(body, "reason", errors)
    partner_note = _text(body, "partner_note", errors)
    if errors:
        raise SandboxRequestInvalid(errors)
    return MoveRequest(to_status, reason, partner_note)


def read_timeline(body: dict, integration: PartnerIntegration) -> TimelineRequest:
    """A timeline run: up to ``to`` (default: the path's end), ``step_seconds`` apart."""
    errors: dict[str, str] = {}
    to_status = timeline.PATH[-1]
    if "to" in body:
        try:
            to_status = parse_sandbox_status(body.get("to"), integration)
        except UnknownStatus as exc:
            errors["to"] = str(exc)
    step_seconds = _step_seconds(body, errors)
    if errors:
        raise SandboxRequestInvalid(errors)
    return TimelineRequest(to_status, step_seconds)


def _text(body: dict, name: str, errors: dict) -> str | None:
    value = body.get(name)
    if value is not None and (not isinstance(value, str) or len(value) > MAX_TEXT):
        errors[name] = f"must be text of at most {MAX_TEXT} characters"
        return None
    return value


def _step_seconds(body: dict, errors: dict) -> float:
    value = body.get("step_seconds")
    if value is None:
        return timeline.default_step_seconds()
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 < value <= timeline.MAX_STEP_SECONDS
    ):
        errors["step_seconds"] = (
            f"must be a number of seconds above 0, at most {timeline.MAX_STEP_SECONDS}"
        )
        return 0.0
    return float(value)
