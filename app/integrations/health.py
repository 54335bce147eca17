"""Integration health checks, run by a periodic job every five minutes.

Each check asks a provider something cheap and harmless: WhatsApp's phone
number object, SendGrid's key scopes, a one-row PDOK query, each active
integration's connector ``test_connection()``. Teams and Make are judged from
configuration and the outcome of the last real calls, so no card or scenario
is fired just to look. A provider without credentials runs in sandbox mode and
is reported so, not checked.

Outcomes go to ``provider_status`` under ``health:<name>``; admins get one
in-app alert when a check starts failing (the first failure of a streak), not
one every five minutes. The latest run is kept in Redis for the page. A finding
is a system text (:mod:`app.platform.system_texts`, ``health.*``): stored as its key and
parameters beside the English, and shown in the reader's language; what a
provider or connector says itself is kept verbatim.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

import redis
import requests
import sqlalchemy as sa
from flask import current_app

from app.conversations.notifications.services import announce, create_notification
from app.integrations.connectors import connector_for
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import Integration, OutboundDelivery, ProviderStatus, User
from app.platform.models.enums import DeliveryKind, OutboundState, Priority, Role
from app.platform.system_texts import SystemText, text, to_json, verbatim
from app.platform.transactions import after_commit, commit
from app.platform.transports.health import record_failure, record_success
from app.platform.ui import DISPLAY_ZONE

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 8
SNAPSHOT_KEY = "switchboard:integration-health"
NOTIFICATION_TYPE = "integration_health_failed"
OK, FAILED, SANDBOX = "ok", "failed", "sandbox"


class CheckFailed(Exception):
    """The provider is configured and does not answer as it should (``finding``: why)."""

    def __init__(self, finding: SystemText) -> None:
        super().__init__(finding.english())
        self.finding = finding


@dataclass(frozen=True)
class CheckResult:
    name: str
    label: str
    state: str
    message: str  # in English, for the log and the API
    checked_at: str
    # The finding as stored system text (app.platform.system_texts.to_json), for the page; a
    # snapshot kept by an earlier release has none and shows ``message``.
    finding: Any = None


# --- the checks: each returns (state, message) or raises CheckFailed ---------------


def check_whatsapp(config) -> tuple[str, SystemText]:
    token, number = config.get("WHATSAPP_ACCESS_TOKEN"), config.get("WHATSAPP_PHONE_NUMBER_ID")
    if not token or not number:
        return SANDBOX, text("health.whatsapp_sandbox")
    base = config["WHATSAPP_API_BASE"].rstrip("/")
    url = f"{base}/{config['WHATSAPP_API_VERSION']}/{number}"
    body = _get_json(url, {"fields": "display_phone_number,quality_rating"}, bearer=token)
    return OK, text(
        "health.whatsapp_ok",
        number=str(body.get("display_phone_number", number)),
        quality=str(body.get("quality_rating", "?")),
    )


def check_sendgrid(config) -> tuple[str, SystemText]:
    key = config.get("SENDGRID_API_KEY")
    if not key:
        return SANDBOX, text("health.sendgrid_sandbox")
    body = _get_json(config["SENDGRID_API_BASE"].rstrip("/") + "/v3/scopes", bearer=key)
    scopes = body.get("scopes") or []
    if "mail.send" not in scopes:
        raise CheckFailed(text("health.sendgrid_no_send_scope"))
    return OK, text("health.sendgrid_ok", count=len(scopes))


def check_teams(config) -> tuple[str, SystemText]:
    channels = config.get("TEAMS_WEBHOOK_URLS") or {}
    if not channels:
        return SANDBOX, text("health.teams_sandbox")
    status = db.session.scalar(sa.select(ProviderStatus).where(ProviderStatus.provider == "teams"))
    if status is not None and status.consecutive_failures:
        error = _reason(status.last_error_message)
        raise CheckFailed(text("health.teams_card_failed", error=error))
    if status is None or status.last_success_at is None:
        return OK, text("health.teams_ok_no_card_yet", count=len(channels))
    # Digits, not month names: the stored sentence is read in any language.
    last = status.last_success_at.astimezone(DISPLAY_ZONE).strftime("%d-%m-%Y %H:%M")
    return OK, text("health.teams_ok", count=len(channels), last=last)


def check_make(config) -> tuple[str, SystemText]:
    scenarios = config.get("MAKE_WEBHOOK_URLS") or {}
    if not scenarios:
        return SANDBOX, text("health.make_sandbox")
    last = db.session.scalar(
        sa.select(OutboundDelivery)
        .where(
            OutboundDelivery.kind == DeliveryKind.MAKE_SCENARIO,
            OutboundDelivery.state.in_((OutboundState.DELIVERED, OutboundState.FAILED)),
            OutboundDelivery.created_at >= utcnow() - timedelta(days=1),
        )
        .order_by(OutboundDelivery.created_at.desc())
        .limit(1)
    )
    if last is not None and last.state == OutboundState.FAILED:
        raise CheckFailed(
            text("health.make_call_failed", event=last.event_type, error=_reason(last.last_error))
        )
    return OK, text("health.make_ok", count=len(scenarios))


PDOK_POSTCODE = "1012JS"


def check_pdok(config) -> tuple[str, SystemText]:
    body = _get_json(
        config["PDOK_API_BASE"].rstrip("/") + "/free",
        {"q": f"postcode:{PDOK_POSTCODE}", "fq": "type:adres", "rows": 1},
    )
    if "response" not in body:
        raise CheckFailed(text("health.pdok_no_response"))
    found = body["response"].get("numFound", 0)
    return OK, text("health.pdok_ok", count=found, postcode=PDOK_POSTCODE)


CHECKS: tuple[tuple[str, str, Callable], ...] = (
    ("whatsapp", "WhatsApp", check_whatsapp),
    ("sendgrid", "SendGrid", check_sendgrid),
    ("teams", "Microsoft Teams", check_teams),
    ("make", "Make.com", check_make),
    # A name, like the others: "PDOK address check" read "Controle van PDOK address check".
    ("pdok", "PDOK", check_pdok),
)


def _get_json(url: str, params: dict | None = None, *, bearer: str | None = None) -> dict:
    headers = {"Accept": "application/json"}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    try:
        response = requests.get(url, params=params, headers=headers, timeout=TIMEOUT_SECONDS)
    except requests.Timeout as exc:
        raise CheckFailed(text("health.timeout", seconds=TIMEOUT_SECONDS)) from exc
    except requests.RequestException as exc:
        raise CheckFailed(text("health.connection_failed", error=type(exc).__name__)) from exc
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200:
        raise CheckFailed(
            text("health.http_error", status=response.status_code, words=_provider_words(body))
        )
    return body if isinstance(body, dict) else {}


def _provider_words(body) -> SystemText:
    """The provider's own error text (Meta's error.message, SendGrid's errors[].message)."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return verbatim(str(error["message"])[:300])
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return verbatim(str(errors[0].get("message", ""))[:300])
    return text("health.no_error_text")


def _reason(words: str | None) -> SystemText:
    """What a provider said went wrong, as it said it; "no reason" when it said nothing."""
    return verbatim(words) if words else text("health.no_reason")


# --- integrations ------------------------------------------------------------------------


def integration_checks() -> list[tuple[str, str, Callable]]:
    """One check per active integration, through its connector's ``test_connection()``."""
    integrations = db.session.scalars(
        sa.select(Integration).where(Integration.status == "active").order_by(Integration.name)
    ).all()
    return [
        (
            f"{integration.provider}:{integration.id.hex[:8]}",
            integration.name,
            _connector_check(integration),
        )
        for integration in integrations
    ]


def _connector_check(integration: Integration) -> Callable:
    # The connector's own words are shown as it wrote them.
    def check(_config) -> tuple[str, SystemText]:
        try:
            ok, message = connector_for(integration).test_connection()
        except Exception as exc:  # a connector's failure of any kind is the finding
            raise CheckFailed(verbatim(f"{type(exc).__name__}: {str(exc)[:300]}")) from exc
        if not ok:
            raise CheckFailed(verbatim(message) if message else text("health.test_failed"))
        return OK, verbatim(message) if message else text("health.test_passed")

    return check


# --- the job -----------------------------------------------------------------------------


WARM_UP_KEY = "switchboard:integration-health:first-seen"
WARM_UP_SECONDS = 300


def scheduled_health_checks() -> list[CheckResult]:
    """Periodic job: :func:`run_health_checks`, once the system has run five minutes.

    A system just started (workers coming up, first token fetches) is given
    one interval to settle, so a deploy does not page admins by itself.
    """
    connection = current_app.extensions["broker"].connection
    if connection.set(WARM_UP_KEY, "1", nx=True, ex=WARM_UP_SECONDS * 1000):
        return []
    if connection.ttl(WARM_UP_KEY) > WARM_UP_SECONDS * 1000 - WARM_UP_SECONDS:
        return []
    return run_health_checks()


def run_health_checks() -> list[CheckResult]:
    """Periodic job: run every check, record outcomes, alert on a new failure. Commits."""
    config = current_app.config
    results = []
    for name, label, check in CHECKS + tuple(integration_checks()):
        try:
            state, finding = check(config)
        except CheckFailed as exc:
            state, finding = FAILED, exc.finding
        message = finding.english()
        results.append(
            CheckResult(name, label, state, message, utcnow().isoformat(), to_json(finding))
        )
        _record(name, label, state, finding)
        log.info("health check %s: %s (%s)", name, state, message)
    commit()
    _keep_snapshot(results)
    return results


def _record(name: str, label: str, state: str, finding: SystemText) -> None:
    key = f"health:{name}"[:32]
    if state == OK:
        record_success(key)
    elif state == FAILED:
        status = record_failure(key, finding.english())
        if status.consecutive_failures == 1:  # the first failure of a streak
            _alert_admins(label, finding)


def _alert_admins(label: str, finding: SystemText) -> None:
    admins = db.session.scalars(
        sa.select(User).where(User.role == Role.ADMIN, User.is_active_account.is_(True))
    ).all()
    notifications = [
        create_notification(
            admin.id,
            NOTIFICATION_TYPE,
            text("notification.health_failed", label=label),
            finding,
            priority=Priority.HIGH,
            source_table="provider_status",
            link="/integrations",
        )
        for admin in admins
    ]
    after_commit(lambda: [announce(n) for n in notifications])


def _keep_snapshot(results: list[CheckResult]) -> None:
    try:
        current_app.extensions["broker"].connection.set(
            SNAPSHOT_KEY, json.dumps([asdict(r) for r in results]), ex=3600
        )
    except redis.RedisError as exc:
        log.warning("health snapshot not kept: %s", type(exc).__name__)


def latest_results() -> list[CheckResult]:
    """The last run's results, for the page (empty before the first run)."""
    try:
        raw = current_app.extensions["broker"].connection.get(SNAPSHOT_KEY)
    except redis.RedisError:
        return []
    return [CheckResult(**item) for item in json.loads(raw)] if raw else []
