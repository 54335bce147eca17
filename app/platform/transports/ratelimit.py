"""Per-provider send limits, held in Redis so they hold across every worker.

The providers' limits: WhatsApp 80 messages/second, SendGrid 600/minute, Teams
100/minute, Make.com 1000/hour. A fixed window per provider is counted with
INCR; a caller over the limit is told how long to wait, and the job re-queues
itself for then instead of hammering the provider.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app

from app.platform.transports.base import RATE_LIMITED, TransportError


@dataclass(frozen=True)
class Limit:
    requests: int
    per_seconds: int


LIMITS: dict[str, Limit] = {
    "whatsapp": Limit(80, 1),
    "sendgrid": Limit(600, 60),
    "teams": Limit(100, 60),
    "make": Limit(1000, 3600),
}


class RateLimited(Exception):
    def __init__(self, provider: str, retry_after: float) -> None:
        super().__init__(f"{provider} send limit reached; retry in {retry_after:.1f}s")
        self.provider = provider
        self.retry_after = retry_after


def acquire(provider: str, now: float | None = None) -> None:
    """Take one send from ``provider``'s budget, or raise :class:`RateLimited`."""
    limit = LIMITS.get(provider)
    if limit is None:
        return
    now = time.time() if now is None else now
    window = int(now // limit.per_seconds)
    key = f"switchboard:ratelimit:{provider}:{window}"
    connection = current_app.extensions["broker"].connection
    pipe = connection.pipeline()
    pipe.incr(key)
    pipe.expire(key, limit.per_seconds * 2)
    count, _ = pipe.execute()
    if count > limit.requests:
        raise RateLimited(provider, (window + 1) * limit.per_seconds - now)


def take_send_slot(provider: str) -> None:
    """:func:`acquire` for a transport: over budget is a retryable ``rate_limited`` failure."""
    try:
        acquire(provider)
    except RateLimited as exc:
        raise TransportError(
            str(exc), retryable=True, code=RATE_LIMITED, retry_after=exc.retry_after
        ) from exc
