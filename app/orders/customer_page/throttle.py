"""How often one address may open customer pages: a guessed token costs a request.

A fixed window per minute in Redis, as the partner API counts its requests. A
customer's page asks about once every 45 seconds while it refreshes itself, so
the allowance (``CUSTOMER_LINK_REQUESTS_PER_MINUTE``) leaves a household of
phones room and a token guesser none.
"""

from __future__ import annotations

import time

from flask import current_app

WINDOW_SECONDS = 60


def wait_seconds(address: str, now: float | None = None) -> int:
    """Count a request from ``address``; the seconds until it may ask again, else 0."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    key = f"switchboard:customer-page:{address}:{window}"
    pipe = current_app.extensions["broker"].connection.pipeline()
    pipe.incr(key)
    pipe.expire(key, WINDOW_SECONDS * 2)
    count, _ = pipe.execute()
    if count <= current_app.config["CUSTOMER_LINK_REQUESTS_PER_MINUTE"]:
        return 0
    return int((window + 1) * WINDOW_SECONDS - now) + 1
