"""A partner integration's configuration, checked before anything changes.

Both the admin pages and ``POST /api/v1/partners/<id>/integration-config`` go
through :func:`apply_integration_config`: every field is checked first, each
error names its field by dotted path, and only a body without errors is
applied. Keys that are absent are left as they are, so a form can send just
its own section. The sandbox's callback settings have their own
:func:`apply_sandbox_config`; :func:`refused_for_key_mode` keeps a test key to
those and a live key to the live ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.orders.deliveries.partner_events import EVENT_NAMES
from app.orders.external.validation import EMAIL, MAX_EMAIL_LENGTH
from app.orders.partners.services import PRIVATE_TARGET, validate_webhook_url
from app.platform.extensions import db
from app.platform.json_api.validation import nul_fields
from app.platform.models import PartnerIntegration
from app.platform.models.enums import AuthenticationType, OrderStatus, SyncFrequency
from app.platform.models.partners import DEFAULT_GRANTED_STATUSES
from app.platform.security.outbound import UnsafeTarget, vet_url

MAPPING_DIRECTIONS = ("chargecars_to_partner", "partner_to_chargecars")
# Which of our statuses a partner's own word may put an order in (its
# ``partner_to_chargecars`` mapping, the status webhook) is granted per partner
# by an admin (``PartnerIntegration.granted_statuses``, app.orders.partners.grants).
# The default is a pause only: its customer asks to wait, a car is not
# delivered yet; it is undone by an agent and moves no money. A quote, an
# approval and a visit commit our people and prices, ``completed`` earns the
# channel its commissions and sends the invoice, and a cancellation cannot be
# undone: an admin grants those to a partner whose word we take for them.
# Settings that are ours to give: the partner API refuses them,
# naming the field; the admin pages set them. Each says why it is ours.
ADMIN_ONLY_SETTINGS = {
    "is_active": "switches the integration on or off",
    "rate_limit_per_minute": "is the partner's request limit",
    "max_delivery_attempts": "limits how often we retry a callback",
    "order_email_address": "routes mail sent to our mailbox to this partner as orders",
    "sync_enabled": "switches our sync with the partner's system on or off",
    "sync_frequency": "schedules our workers' sync with the partner's system",
    "granted_statuses": "is which of our statuses the partner's own statuses may reach",
}
MAX_PARTNER_STATUS = 64
RATE_LIMIT_RANGE = (1, 10000)
DELIVERY_ATTEMPTS_RANGE = (1, 10)


class ConfigInvalid(ValueError):
    """The configuration was refused; ``fields`` maps dotted paths to what is wrong.

    The partner API answers ``fields`` as they are (English, as documented); a page
    shows :attr:`for_people`, in the reader's language where we know the problem.
    """

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields

    @property
    def for_people(self) -> dict[str, str]:
        return {
            path: str(PROBLEMS_FOR_PEOPLE.get(problem, problem))
            for path, problem in self.fields.items()
        }


# The URL checks' problems as a page shows them.
PROBLEMS_FOR_PEOPLE = {
    "must be an https:// URL": _l("must be an https:// URL"),
    "has no host": _l("has no host"),
    PRIVATE_TARGET: _l("must not point at a private or local address"),
}


class _FieldError(Exception):
    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields


def apply_integration_config(integration: PartnerIntegration, data: dict) -> None:
    """Check ``data`` and, if all of it is valid, apply it to ``integration`` (no commit).

    Raises :class:`ConfigInvalid` naming every wrong or unknown field; in that
    case the integration is not touched at all.
    """
    if not isinstance(data, dict):
        raise ConfigInvalid({"body": "must be a JSON object"})
    errors: dict[str, str] = nul_fields(data)
    cleaned: dict[str, Any] = {}
    unknown = sorted(str(key) for key in data if key not in FIELDS)
    for key in unknown:
        errors[key] = "unknown field"
    for key, check in FIELDS.items():
        if key not in data:
            continue
        try:
            cleaned[key] = check(data[key], key)
        except _FieldError as exc:
            errors.update(exc.fields)
    if "order_email_address" in cleaned and "order_email_address" not in errors:
        _check_mailbox_free(integration, cleaned["order_email_address"], errors)
    if isinstance(data.get("status_mapping"), dict):
        for path, problem in _ungranted_rows(integration, data["status_mapping"]).items():
            errors.setdefault(path, problem)
    if errors:
        raise ConfigInvalid(errors)

    for key, value in cleaned.items():
        if key == "status_mapping":
            # A direction left out of the body keeps its current rows.
            value = {**(integration.status_mapping or {}), **value}
        setattr(integration, key, value)


def apply_sandbox_config(integration: PartnerIntegration, data: dict) -> None:
    """Check ``data`` and apply it to the sandbox's callback settings (no commit).

    ``data`` speaks as a test key does: ``webhook_url``, ``webhook_events`` and
    ``test_callbacks_to_live_url`` mean the sandbox's, and errors
    name those fields. Nothing of the live settings can be changed here.
    """
    if not isinstance(data, dict):
        raise ConfigInvalid({"body": "must be a JSON object"})
    errors: dict[str, str] = nul_fields(data)
    cleaned: dict[str, Any] = {}
    for key in sorted(str(key) for key in data if key not in SANDBOX_FIELDS):
        errors[key] = "unknown field"
    for key, (column, check) in SANDBOX_FIELDS.items():
        if key not in data:
            continue
        try:
            cleaned[column] = check(data[key], key)
        except _FieldError as exc:
            errors.update(exc.fields)
    if errors:
        raise ConfigInvalid(errors)
    for column, value in cleaned.items():
        setattr(integration, column, value)


def refused_for_key_mode(data: object, *, test: bool) -> dict[str, str]:
    """The fields of a partner's configuration body its key's mode may not change.

    A test key changes the sandbox's callback settings only, so it can never
    choose where a live order's callbacks go; a live key changes the live
    settings only. Each refused field says with which key it is changed.
    """
    if not isinstance(data, dict):
        return {}
    if test:
        return {
            key: "a live setting: change it with a live key (sbk_live_…); "
            "a test key changes only the sandbox's webhook_url, webhook_events "
            "and test_callbacks_to_live_url"
            for key in data
            if key in FIELDS and key not in SANDBOX_FIELDS and key not in ADMIN_ONLY_SETTINGS
        }
    return {
        key: "a sandbox setting: change it with a test key (sbk_test_…)"
        for key in data
        if key in SANDBOX_ONLY_FIELDS
    }


def refused_partner_settings(data: object) -> dict[str, str]:
    """The admin-only settings in a partner's own configuration body, each with why."""
    if not isinstance(data, dict):
        return {}
    return {
        key: f"set by ChargeCars, not through the partner API: it {why}"
        for key, why in ADMIN_ONLY_SETTINGS.items()
        if key in data
    }


def granted_statuses(integration: PartnerIntegration) -> list[str]:
    """Our statuses the partner's own statuses may reach, in lifecycle order."""
    granted = integration.granted_statuses
    if granted is None:  # not flushed yet: the column's default
        granted = DEFAULT_GRANTED_STATUSES
    return [status for status in OrderStatus.values() if status in granted]


def partner_status_problem(integration: PartnerIntegration, ours: str) -> str | None:
    """Why a partner's status may not map to our ``ours``; None when it may."""
    granted = granted_statuses(integration)
    if ours in granted:
        return None
    allowed = ", ".join(granted) or "none"
    return f"{ours!r} is not granted to this partner; its statuses may map only to {allowed}"


def _ungranted_rows(
    integration: PartnerIntegration, mapping: dict[str, dict[str, str]]
) -> dict[str, str]:
    """The ``partner_to_chargecars`` rows of ``mapping`` outside the partner's grant."""
    rows = mapping.get("partner_to_chargecars")
    if not isinstance(rows, dict):
        return {}
    # Rows naming no status of ours are refused by the mapping's own check.
    return {
        f"status_mapping.partner_to_chargecars.{theirs}": problem
        for theirs, ours in rows.items()
        if ours in OrderStatus.values() and (problem := partner_status_problem(integration, ours))
    }


def empty_status_mapping() -> dict[str, dict[str, str]]:
    return {direction: {} for direction in MAPPING_DIRECTIONS}


# --- field checks: each returns the cleaned value or raises _FieldError ---------


def _fail(path: str, message: str):
    raise _FieldError({path: message})


def _text(max_length: int, *, required: bool = False) -> Callable[[Any, str], str | None]:
    def check(value, path):
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                _fail(path, "required")
            return None
        if not isinstance(value, str):
            _fail(path, "must be text")
        value = value.strip()
        if len(value) > max_length:
            _fail(path, f"at most {max_length} characters")
        return value

    return check


def _choice(enum_cls) -> Callable[[Any, str], Any]:
    def check(value, path):
        try:
            return enum_cls(value)
        except ValueError:
            _fail(path, f"must be one of {', '.join(enum_cls.values())}")

    return check


def _integer(low: int, high: int) -> Callable[[Any, str], int]:
    def check(value, path):
        # A form posts text; JSON may send a number. A bool is not a number here.
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            _fail(path, f"a whole number from {low} to {high}")
        return value

    return check


def _boolean(value, path) -> bool:
    if not isinstance(value, bool):
        _fail(path, "must be true or false")
    return value


def _api_base_url(value, path) -> str | None:
    value = _text(2000)(value, path)
    if value is None:
        return None
    try:
        return vet_url(value)  # we call it: the outbound URL check, as for callbacks
    except UnsafeTarget as exc:
        _fail(path, PRIVATE_TARGET if exc.private else str(exc))


def _webhook_url(value, path) -> str | None:
    value = _text(2000)(value, path)
    if value is None:
        return None
    try:
        return validate_webhook_url(value)
    except ValueError as exc:
        # validate_webhook_url says "webhook_url: <problem>"; the path is ours to give.
        _fail(path, str(exc).split(": ", 1)[-1])


def _email(value, path) -> str | None:
    value = _text(MAX_EMAIL_LENGTH)(value, path)
    if value is None:
        return None
    if not EMAIL.match(value):
        _fail(path, "not a valid e-mail address")
    return value.lower()


def _webhook_events(value, path) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        _fail(path, "must be a list of event names")
    unknown = [item for item in value if item not in EVENT_NAMES]
    if unknown:
        _fail(
            path,
            f"unknown event {', '.join(map(repr, unknown))}; known: {', '.join(EVENT_NAMES)}",
        )
    # Keep the partner's order, once each.
    return list(dict.fromkeys(value))


def _status_mapping(value, path) -> dict[str, dict[str, str]]:
    if not isinstance(value, dict):
        _fail(path, "must be an object with chargecars_to_partner and partner_to_chargecars")
    errors: dict[str, str] = {}
    cleaned: dict[str, dict[str, str]] = {}
    for direction, rows in value.items():
        where = f"{path}.{direction}"
        if direction not in MAPPING_DIRECTIONS:
            errors[where] = f"unknown direction; use {' or '.join(MAPPING_DIRECTIONS)}"
            continue
        if rows is None:  # sent as null: this direction stays as it is
            continue
        if not isinstance(rows, dict):
            errors[where] = "must be an object of status → status"
            continue
        ours_are_keys = direction == "chargecars_to_partner"
        cleaned[direction] = {}
        for key, target in rows.items():
            ours, theirs = (key, target) if ours_are_keys else (target, key)
            row = f"{where}.{key}"
            if ours not in OrderStatus.values():
                errors[row] = (
                    f"{ours!r} is not a status; use one of {', '.join(OrderStatus.values())}"
                )
                continue
            if not isinstance(theirs, str) or not theirs.strip():
                errors[row] = "the partner's status must be non-empty text"
                continue
            if len(theirs.strip()) > MAX_PARTNER_STATUS:
                errors[row] = f"the partner's status is at most {MAX_PARTNER_STATUS} characters"
                continue
            theirs = theirs.strip()
            key, target = (ours, theirs) if ours_are_keys else (theirs, ours)
            if key in cleaned[direction]:
                errors[row] = f"{key!r} is mapped twice"
                continue
            cleaned[direction][key] = target
    if errors:
        raise _FieldError(errors)
    return cleaned


def _check_mailbox_free(
    integration: PartnerIntegration, address: str | None, errors: dict[str, str]
) -> None:
    """Order e-mails are routed to a partner by this address, so two cannot share it."""
    if address is None:
        return
    taken = db.session.scalar(
        sa.select(PartnerIntegration.id).where(
            sa.func.lower(PartnerIntegration.order_email_address) == address,
            PartnerIntegration.id != integration.id,
        )
    )
    if taken is not None:
        errors["order_email_address"] = "another partner already receives orders on this address"


FIELDS: dict[str, Callable[[Any, str], Any]] = {
    "integration_name": _text(120, required=True),
    "api_base_url": _api_base_url,
    "api_version": _text(20),
    "authentication_type": _choice(AuthenticationType),
    "webhook_url": _webhook_url,
    "webhook_events": _webhook_events,
    "status_mapping": _status_mapping,
    "sync_frequency": _choice(SyncFrequency),
    "sync_enabled": _boolean,
    "is_active": _boolean,
    "rate_limit_per_minute": _integer(*RATE_LIMIT_RANGE),
    "max_delivery_attempts": _integer(*DELIVERY_ATTEMPTS_RANGE),
    "alert_email": _email,
    "order_email_address": _email,
}

# The sandbox's callback settings as a test key names them, each
# with its column and check: the URL and events of the live settings' shape.
SANDBOX_FIELDS: dict[str, tuple[str, Callable[[Any, str], Any]]] = {
    "webhook_url": ("sandbox_webhook_url", _webhook_url),
    "webhook_events": ("sandbox_webhook_events", _webhook_events),
    "test_callbacks_to_live_url": ("test_callbacks_to_live_url", _boolean),
}
# Names that mean a sandbox setting whichever key sends them.
SANDBOX_ONLY_FIELDS = ("test_callbacks_to_live_url",)
