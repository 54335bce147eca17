"""Posting alert cards to Teams channels through their Workflows webhooks.

:func:`notify_teams` enqueues one :func:`post_card` job per team the trigger
names. Each job builds the card from plain data and hands it to the Teams
transport (:mod:`app.conversations.channels.teams.transport`: the shared rate limit, the
team's URL from ``TEAMS_WEBHOOK_URLS``, any 2xx is success; a team without a
URL is recorded in the sandbox). Timeouts, 5xx and 429 are retried here with
exponential backoff (429's ``Retry-After`` wins), other 4xx are not: the card
or URL is wrong and sending it again will not fix it.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale

from app.conversations.channels.teams.cards import TRIGGERS, build_message
from app.conversations.channels.teams.transport import PROVIDER
from app.platform.i18n import default_language
from app.platform.jobs.queues import QUEUES, enqueue, get_queue
from app.platform.transactions import commit
from app.platform.transports.base import RATE_LIMITED, OutboundMessage, TransportError
from app.platform.transports.registry import is_sandboxed, transport_for

log = logging.getLogger(__name__)

QUEUE = "deliveries"
MAX_ATTEMPTS = 5
MAX_DELAY_SECONDS = 3600


def notify_teams(trigger: str, data: dict) -> list[str]:
    """Queue ``trigger``'s card for each of its teams; returns the job ids.

    ``data`` must be JSON-serialisable. The jobs read nothing from the database,
    so this may be called before the caller commits; call it after the commit
    (or through :func:`app.platform.transactions.after_commit`) if a rollback should
    also cancel the alert.
    """
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown Teams trigger {trigger!r}")
    data_json = json.dumps(data, default=str)
    return [
        enqueue(
            "app.conversations.channels.teams.sender.post_card",
            team,
            trigger,
            data_json,
            queue=QUEUE,
        ).id
        for team in TRIGGERS[trigger].teams
    ]


def post_card(team: str, trigger: str, data_json: str, attempt: int = 1) -> str:
    """Job: post one trigger's card to one team; returns what happened."""
    # A channel is read by a whole team: the card is in the default language.
    with force_locale(default_language()):
        card = build_message(trigger, json.loads(data_json), current_app.config["PUBLIC_BASE_URL"])
    transport = transport_for(PROVIDER)
    try:
        transport.send(OutboundMessage(None, PROVIDER, team, trigger, payload=card))
    except TransportError as exc:
        commit()  # keeps the provider status the transport recorded
        if exc.code == RATE_LIMITED:
            # Over budget is not a failure of this card: try again when the window opens.
            _schedule(team, trigger, data_json, attempt, exc.retry_after or 1)
            return "rate_limited"
        if exc.retryable and attempt < MAX_ATTEMPTS:
            delay = exc.retry_after or _backoff(attempt)
            log.warning(
                "Teams %s card for %s failed (attempt %d, %s); retrying in %.1fs",
                trigger,
                team,
                attempt,
                exc,
                delay,
            )
            _schedule(team, trigger, data_json, attempt + 1, delay)
            return "retrying"
        log.error(
            "Teams %s card for %s failed after %d attempt(s): %s", trigger, team, attempt, exc
        )
        return "failed"
    commit()
    return "sandbox" if is_sandboxed(PROVIDER) or team not in _urls() else "delivered"


def _urls() -> dict:
    return current_app.config.get("TEAMS_WEBHOOK_URLS") or {}


def _backoff(attempt: int) -> float:
    base = float(current_app.config["DELIVERY_RETRY_BASE_SECONDS"])
    return min(base * 2 ** (attempt - 1), MAX_DELAY_SECONDS)


def _schedule(team: str, trigger: str, data_json: str, attempt: int, delay: float) -> None:
    get_queue(QUEUE).enqueue_in(
        timedelta(seconds=min(delay, MAX_DELAY_SECONDS)),
        "app.conversations.channels.teams.sender.post_card",
        team,
        trigger,
        data_json,
        attempt,
        job_timeout=QUEUES[QUEUE].timeout,
        failure_ttl=7 * 24 * 3600,
    )
