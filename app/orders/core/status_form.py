"""The order page's status form, read and checked: the new status, a reason, a note.

:func:`parse_status_change` returns what the form asks for, or raises
:class:`StatusFormRefused` with the message to show and the texts as typed.
"""

from __future__ import annotations

from typing import NamedTuple

from flask_babel import gettext

from app.orders.core.status_engine import parse_status
from app.platform.labels import label
from app.platform.models.enums import OrderStatus

MAX_REASON = 2000


class StatusChange(NamedTuple):
    to_status: OrderStatus
    reason: str
    partner_note: str

    @property
    def typed(self) -> dict[str, str]:
        """The texts as the page shows them again."""
        return {"reason": self.reason, "partner_note": self.partner_note}


class StatusFormRefused(ValueError):
    """``message`` for the page; ``typed`` the reason and note to show again."""

    def __init__(self, message: str, typed: dict[str, str]) -> None:
        super().__init__(message)
        self.message = message
        self.typed = typed


def parse_status_change(form) -> StatusChange:
    """``to_status``, ``reason`` and ``partner_note`` (each text at most :data:`MAX_REASON`)."""
    reason = form.get("reason", "").strip()
    partner_note = form.get("partner_note", "").strip()
    typed = {"reason": reason, "partner_note": partner_note}
    try:
        to_status = parse_status(form.get("to_status", ""))
    except ValueError:
        known = ", ".join(label(status, "order") for status in OrderStatus)
        error = gettext("Status: must be one of %(statuses)s", statuses=known)
        raise StatusFormRefused(error, typed) from None
    if len(reason) > MAX_REASON:
        error = gettext("Internal reason: at most %(count)s characters", count=MAX_REASON)
        raise StatusFormRefused(error, typed)
    if len(partner_note) > MAX_REASON:
        error = gettext("Note for the partner: at most %(count)s characters", count=MAX_REASON)
        raise StatusFormRefused(error, typed)
    return StatusChange(to_status, reason, partner_note)
