"""How often one address may open customer pages: a guessed token costs a request.

A fixed window per minute in Redis, as the partner API counts its requests. A
customer's page asks about once every 45 seconds while it refreshes itself, so
the allowance (``CUSTOMER_LINK_REQUESTS_PER_MINUTE``) leaves a household of
phones room and a token guesser none. With Redis away nothing is counted: the
customer still sees their page (a token is 128 bits; an outage is no time to guess
one), and the log says so.
"""

from __future__ import annotations

import logging
import time

import redis
from flask import current_app

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60


def wait_seconds(address: str, now: float | None = None) -> int:
    """Count a request from ``address``; the seconds until it may ask again, else 0."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    key = f"switchboard:customer-page:{address}:{window}"
    pipe = current_app.extensions["broker"].connection.pipeline()
    pipe.incr(key)
    pipe.expire(key, WINDOW_SECONDS * 2)
    try:
        count, _ = pipe.execute()
    except redis.RedisError as exc:
        log.warning("customer page requests not counted, Redis unavailable: %s", exc)
        return 0
    if count <= current_app.config["CUSTOMER_LINK_REQUESTS_PER_MINUTE"]:
        return 0
    return int((window + 1) * WINDOW_SECONDS - now) + 1
