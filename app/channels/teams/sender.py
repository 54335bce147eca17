"""Posting alert cards to Teams channels through their Workflows webhooks.

:func:`notify_teams` enqueues one :func:`post_card` job per team the trigger
names. Each job builds the card from plain data, takes a slot of the shared
Teams rate limit, and POSTs it to the team's URL from ``TEAMS_WEBHOOK_URLS``;
any 2xx is success. Timeouts, 5xx and 429 are retried with exponential backoff
(429's ``Retry-After`` wins), other 4xx are not: the card or URL is wrong and
sending it again will not fix it. A team without a URL gets a ``SandboxSend``
row instead, so the alert still shows on the channels page.

The webhook URLs carry their own signature (``sig=``) and are secrets: they are
never logged, only the team's name is.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

import requests
from flask import current_app

from app.channels.health import record_failure, record_success
from app.channels.ratelimit import RateLimited, acquire
from app.channels.teams.cards import TEAMS, TRIGGERS, build_message, build_test_message
from app.channels.transport import TransportError
from app.extensions import db
from app.jobs.queues import QUEUES, enqueue, get_queue
from app.models import SandboxSend

log = logging.getLogger(__name__)

PROVIDER = "teams"
QUEUE = "deliveries"
TIMEOUT = (5, 15)  # (connect, read) seconds
MAX_ATTEMPTS = 5
MAX_DELAY_SECONDS = 3600


def notify_teams(trigger: str, data: dict) -> list[str]:
    """Queue ``trigger``'s card for each of its teams; returns the job ids.

    ``data`` must be JSON-serialisable. The jobs read nothing from the database,
    so this may be called before the caller commits; call it after the commit
    (or through :func:`app.transactions.after_commit`) if a rollback should
    also cancel the alert.
    """
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown Teams trigger {trigger!r}")
    data_json = json.dumps(data, default=str)
    return [
        enqueue("app.channels.teams.sender.post_card", team, trigger, data_json, queue=QUEUE).id
        for team in TRIGGERS[trigger].teams
    ]


@dataclass(frozen=True)
class PostOutcome:
    ok: bool
    retryable: bool = False
    error: str | None = None
    retry_after: float | None = None


def post_card(team: str, trigger: str, data_json: str, attempt: int = 1) -> str:
    """Job: post one trigger's card to one team; returns what happened."""
    card = build_message(trigger, json.loads(data_json), current_app.config["PUBLIC_BASE_URL"])
    url = current_app.config.get("TEAMS_WEBHOOK_URLS", {}).get(team)
    if not url:
        _record_sandbox(team, card)
        db.session.commit()
        return "sandbox"
    try:
        acquire(PROVIDER)
    except RateLimited as exc:
        # Over budget is not a failure of this card: try again when the window opens.
        _schedule(team, trigger, data_json, attempt, exc.retry_after)
        return "rate_limited"
    outcome = _post(url, card)
    if outcome.ok:
        record_success(PROVIDER)
        db.session.commit()
        return "delivered"
    record_failure(PROVIDER, f"{team}: {outcome.error}")
    db.session.commit()
    if outcome.retryable and attempt < MAX_ATTEMPTS:
        delay = outcome.retry_after or _backoff(attempt)
        log.warning(
            "Teams %s card for %s failed (attempt %d, %s); retrying in %.1fs",
            trigger,
            team,
            attempt,
            outcome.error,
            delay,
        )
        _schedule(team, trigger, data_json, attempt + 1, delay)
        return "retrying"
    log.error(
        "Teams %s card for %s failed after %d attempt(s): %s", trigger, team, attempt, outcome.error
    )
    return "failed"


def send_test_card(team: str) -> None:
    """Post a test card to ``team`` now (channels page); raises TransportError on failure.

    The caller commits (the provider status and any sandbox record).
    """
    if team not in TEAMS:
        raise ValueError(f"Unknown team {team!r}; use one of {', '.join(TEAMS)}.")
    card = build_test_message(team, current_app.config["PUBLIC_BASE_URL"])
    url = current_app.config.get("TEAMS_WEBHOOK_URLS", {}).get(team)
    if not url:
        _record_sandbox(team, card)
        return
    try:
        acquire(PROVIDER)
    except RateLimited as exc:
        raise TransportError(str(exc), retryable=True) from exc
    outcome = _post(url, card)
    if not outcome.ok:
        record_failure(PROVIDER, f"{team}: {outcome.error}")
        raise TransportError(outcome.error or "Teams refused the card", retryable=outcome.retryable)
    record_success(PROVIDER)


def _post(url: str, card: dict) -> PostOutcome:
    try:
        response = requests.post(url, json=card, timeout=TIMEOUT)
    except requests.RequestException as exc:
        # Not str(exc): it would contain the URL, and the URL is the secret.
        return PostOutcome(ok=False, retryable=True, error=f"unreachable ({type(exc).__name__})")
    if 200 <= response.status_code < 300:
        return PostOutcome(ok=True)
    status = response.status_code
    retryable = status in (408, 429) or status >= 500
    return PostOutcome(
        ok=False,
        retryable=retryable,
        error=f"HTTP {status}: {response.text[:200].strip() or response.reason}",
        retry_after=_retry_after(response) if status == 429 else None,
    )


def _retry_after(response: requests.Response) -> float | None:
    try:
        return max(float(response.headers.get("Retry-After", "")), 0.0) or None
    except ValueError:  # an HTTP date instead of seconds: fall back to our backoff
        return None


def _backoff(attempt: int) -> float:
    base = float(current_app.config["DELIVERY_RETRY_BASE_SECONDS"])
    return min(base * 2 ** (attempt - 1), MAX_DELAY_SECONDS)


def _schedule(team: str, trigger: str, data_json: str, attempt: int, delay: float) -> None:
    get_queue(QUEUE).enqueue_in(
        timedelta(seconds=min(delay, MAX_DELAY_SECONDS)),
        "app.channels.teams.sender.post_card",
        team,
        trigger,
        data_json,
        attempt,
        job_timeout=QUEUES[QUEUE].timeout,
        failure_ttl=7 * 24 * 3600,
    )


def _record_sandbox(team: str, card: dict) -> None:
    db.session.add(
        SandboxSend(
            provider=PROVIDER, recipient=team, request_body=card, simulated_status="delivered"
        )
    )
