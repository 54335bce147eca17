"""Replay protection shared by every signed webhook: how old a signature may be.

A signature over a timestamp proves who sent a call and when, not that it is
the first time we see it: a recorded call can be replayed as long as its
timestamp is accepted. Stripe, HubSpot, SendGrid and the partners' Standard
Webhooks all sign a timestamp, and all are refused once it is more than
``WEBHOOK_TOLERANCE_SECONDS`` (300 by default, as Stripe's libraries use) from
our clock, either way (clocks drift both ways).
"""

from __future__ import annotations

import time

from flask import current_app


def tolerance_seconds() -> int:
    return current_app.config["WEBHOOK_TOLERANCE_SECONDS"]


def signed_recently(signed_at: float, now: float | None = None) -> bool:
    """Whether ``signed_at`` (Unix seconds) is within the tolerance of ``now``."""
    now = time.time() if now is None else now
    return abs(now - signed_at) <= tolerance_seconds()


def stale_message(header: str) -> str:
    return f"{header} is more than {tolerance_seconds()} s from our clock."
