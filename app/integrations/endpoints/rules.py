"""What an outgoing webhook endpoint may be: the admin form's and the API's rules, once.

The page sends a form (custom headers as ``Name: value`` lines), the JSON API
an object (headers as ``{"Name": "value"}``); both end in :func:`_checked`,
so an endpoint the page refuses the API refuses too, each problem named by
its field (``custom_headers.line2`` on the page, ``custom_headers.X-Tenant``
in the API).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NoReturn

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from app.integrations.endpoints.events import EVENT_NAMES
from app.orders.partners.services import validate_webhook_url
from app.platform.models import WebhookEndpoint
from app.platform.security.outbound import UnsafeTarget, refuse_internal_host

MAX_HEADERS = 20
HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
# Set by the engine on every call; an endpoint's own header cannot replace them.
RESERVED_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "host",
        "connection",
        "transfer-encoding",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "x-chargecars-event",
        "x-chargecars-signature",
    }
)
DEFAULT_MAX_ATTEMPTS = 3

# validate_webhook_url's problems, in the reader's language.
URL_PROBLEMS = {
    "must be an https:// URL": _l("must be an https:// URL"),
    "has no host": _l("has no host"),
    "must not point at a private or local address": _l(
        "must not point at a private or local address"
    ),
}


class EndpointInvalid(ValueError):
    """Form values that cannot be saved; ``fields`` names each problem."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


@dataclass(frozen=True)
class EndpointForm:
    url: str
    description: str | None
    events: list[str]
    max_attempts: int
    retry_base_seconds: int | None
    # None: keep the headers the endpoint has (the form never shows their values).
    custom_headers: dict[str, str] | None


def parse_form(form, *, creating: bool) -> EndpointForm:
    """Validate the endpoint form (a MultiDict); raises :class:`EndpointInvalid`."""
    fields: dict[str, str] = {}
    custom_headers = None
    raw_headers = form.get("custom_headers") or ""
    if creating or raw_headers.strip() or form.get("clear_headers"):
        try:
            custom_headers = parse_headers(raw_headers)
        except EndpointInvalid as exc:
            fields.update(exc.fields)
    return _checked(form, custom_headers, fields)


# What the JSON API (:mod:`app.integrations.endpoints.api`) may send.
API_FIELDS = (
    "url",
    "description",
    "events",
    "custom_headers",
    "max_attempts",
    "retry_base_seconds",
    "is_active",
)


def parse_json(body: dict, endpoint: WebhookEndpoint | None = None) -> tuple[EndpointForm, bool]:
    """Validate the API's JSON body by the form's rules; raises :class:`EndpointInvalid`.

    Creating (no ``endpoint``), ``url`` and ``events`` are required; changing
    one, only the fields sent change and the rest are the endpoint's own.
    ``custom_headers`` is an object of names and values (null: none); left
    out, the endpoint keeps its headers. Returns the form and whether the
    endpoint is to be active.
    """
    fields: dict[str, str] = {k: _("unknown field") for k in sorted(set(body) - set(API_FIELDS))}
    values = MultiDict()
    for key in ("url", "description"):
        value = body.get(key, getattr(endpoint, key, None))
        if value is not None and not isinstance(value, str):
            fields[key] = _("must be a string")
            value = None
        values[key] = value or ""
    events = body.get("events", list(endpoint.events or []) if endpoint else [])
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        fields["events"] = _("must be a list of event names")
        events = []
    values.setlist("events", events)
    for key in ("max_attempts", "retry_base_seconds"):
        value = body.get(key, getattr(endpoint, key, None))
        # JSON has numbers, not integers: 4.0 is the number 4, and JSON Schema's
        # "integer" (the API description) takes it too.
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            value = "not a whole number"
        values[key] = "" if value is None else str(value)
    custom_headers = None
    if "custom_headers" in body or endpoint is None:
        try:
            custom_headers = headers_from_object(body.get("custom_headers"))
        except EndpointInvalid as exc:
            fields.update(exc.fields)
    active = body.get("is_active", is_on(endpoint) if endpoint else True)
    if not isinstance(active, bool):
        fields["is_active"] = _("must be true or false")
    return _checked(values, custom_headers, fields), bool(active)


def _checked(form, custom_headers: dict[str, str] | None, fields: dict[str, str]) -> EndpointForm:
    """The rules every endpoint keeps, whether it comes from the page or the API."""
    url = (form.get("url") or "").strip()
    try:
        url = validate_webhook_url(url)
        refuse_internal_host(url, allow_private=current_app.config["ALLOW_PRIVATE_WEBHOOK_URLS"])
    except ValueError as exc:
        problem = str(exc).partition(": ")[2] or str(exc)
        # The partner API's rule answers in its documented English; this page in the reader's.
        fields.setdefault("url", str(URL_PROBLEMS.get(problem, problem)))
    except UnsafeTarget:
        fields.setdefault("url", _("must not point at a private or local address"))
    if len(url) > 2000:
        fields["url"] = _("at most 2,000 characters")
    description = (form.get("description") or "").strip() or None
    if description and len(description) > 255:
        fields["description"] = _("at most 255 characters")
    events = list(dict.fromkeys(form.getlist("events")))
    unknown = [name for name in events if name not in EVENT_NAMES]
    if unknown:
        fields["events"] = _("unknown events: %(events)s", events=", ".join(unknown))
    elif not events:
        fields.setdefault("events", _("choose at least one event"))
    max_attempts = _whole(form.get("max_attempts"), DEFAULT_MAX_ATTEMPTS, 1, 10)
    if max_attempts is None:
        fields["max_attempts"] = _("a whole number from 1 to 10")
    raw_base = (form.get("retry_base_seconds") or "").strip()
    retry_base = _whole(raw_base, None, 1, 3600) if raw_base else None
    if raw_base and retry_base is None:
        fields["retry_base_seconds"] = _("a whole number of seconds from 1 to 3600, or empty")
    if fields:
        raise EndpointInvalid(fields)
    return EndpointForm(url, description, events, max_attempts, retry_base, custom_headers)


def parse_headers(text: str) -> dict[str, str]:
    """``Name: value`` lines to a dict; raises :class:`EndpointInvalid` naming the line."""
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        where = f"custom_headers.line{number}"
        if not sep:
            _bad_header(where, _("write Name: value; names are letters, digits and -"))
        pairs.append((where, name.strip(), value.strip()))
    return _checked_headers(pairs)


def headers_from_object(headers) -> dict[str, str]:
    """The API's ``{"Name": "value"}`` (or null) to a dict, each problem named by header."""
    if headers is None:
        return {}
    if not isinstance(headers, dict):
        raise EndpointInvalid({"custom_headers": _("must be an object of header names and values")})
    pairs = []
    for name, value in headers.items():
        where = f"custom_headers.{name}"
        if not isinstance(value, str):
            _bad_header(where, _("%(name)s needs a string value", name=name))
        pairs.append((where, name.strip(), value.strip()))
    return _checked_headers(pairs)


def _checked_headers(pairs: list[tuple[str, str, str]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for where, name, value in pairs:
        if not HEADER_NAME.match(name):
            _bad_header(where, _("write Name: value; names are letters, digits and -"))
        if name.lower() in RESERVED_HEADERS:
            _bad_header(
                where, _("%(name)s is set by Switchboard and cannot be replaced", name=name)
            )
        if not value or len(value) > 1000 or any(ord(c) < 32 or ord(c) == 127 for c in value):
            problem = _("%(name)s needs a value of 1 to 1,000 printable characters", name=name)
            _bad_header(where, problem)
        if name.lower() in {existing.lower() for existing in headers}:
            _bad_header(where, _("%(name)s is given twice", name=name))
        headers[name] = value
    if len(headers) > MAX_HEADERS:
        raise EndpointInvalid({"custom_headers": _("at most %(count)s headers", count=MAX_HEADERS)})
    return headers


def _bad_header(where: str, message: str) -> NoReturn:
    raise EndpointInvalid({where: message})


def is_on(endpoint: WebhookEndpoint) -> bool:
    """Switched on and not blocked by a 410: events reach it."""
    return endpoint.is_active and endpoint.disabled_at is None


def _whole(raw, default, low: int, high: int) -> int | None:
    if raw is None or str(raw).strip() == "":
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        return None
    return value if low <= value <= high else None
