"""Errors reported to Sentry, when ``SENTRY_DSN`` is set (off otherwise).

Nothing a customer wrote, and no phone number or e-mail address, leaves with a
report: :func:`scrub` runs on every event and breadcrumb before it is sent. It
drops request bodies, query strings, cookies and most headers, local variables
and the values of our fields that hold message text or contact details, and
masks any e-mail address or phone number left in the strings that remain
(exception texts, log messages, URLs). Our exceptions name ids, not what a
customer wrote; an exception text is the one place a developer must keep it so.
What stays is what a developer needs: the exception, its stack, the endpoint, the
request and job ids.
"""

from __future__ import annotations

import logging
import re
from typing import Any

log = logging.getLogger(__name__)

FILTERED = "[filtered]"
# Keys whose values are a customer's words or contact details (``message_content``,
# ``raw_body``, ``phone``, ``to``...), in the parts of an event that hold our data.
PRIVATE_KEY = re.compile(
    r"^(?:\w+_)?(content|body|text|preview|subject|note|email|e_mail|phone|mobile|"
    r"address|name|recipient|sender|to|cc|bcc|cookie|authorization|token|secret|password)"
    r"(?:_\w+)?$",
    re.IGNORECASE,
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# Dutch and international numbers as people type them: +31 6 12345678, 06-12345678, 0031…
PHONE = re.compile(r"(?<![\w])(\+|00)?\d[\d \-().]{7,}\d(?![\w])")


def scrub_text(text: str) -> str:
    return PHONE.sub("[phone]", EMAIL.sub("[e-mail]", text))


def _masked(value: Any) -> Any:
    """Every string with its e-mail addresses and phone numbers masked."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v) for v in value]
    return value


def _without_private_fields(value: Any) -> Any:
    """Our data (extra, user, breadcrumb data): private fields' values filtered."""
    if isinstance(value, dict):
        return {
            k: FILTERED if PRIVATE_KEY.match(str(k)) else _without_private_fields(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_without_private_fields(v) for v in value]
    return value


def scrub(event: dict, _hint: dict | None = None) -> dict:
    """Sentry's ``before_send``: the event without anyone's words or contact details."""
    request = event.get("request")
    if isinstance(request, dict):
        for private in ("data", "cookies", "query_string", "env"):
            request.pop(private, None)
        headers = request.get("headers") or {}
        request["headers"] = {k: v for k, v in headers.items() if k.lower() in _SAFE_HEADERS}
    for frame in _frames(event):
        frame.pop("vars", None)
    for ours in ("extra", "user"):
        if ours in event:
            event[ours] = _without_private_fields(event[ours])
    crumbs = event.get("breadcrumbs")
    if isinstance(crumbs, dict):
        crumbs["values"] = [scrub_breadcrumb(c) for c in crumbs.get("values") or []]
    return _masked(event)


def scrub_breadcrumb(crumb: dict, _hint: dict | None = None) -> dict:
    if isinstance(crumb.get("data"), dict):
        crumb["data"] = _without_private_fields(crumb["data"])
    return _masked(crumb)


_SAFE_HEADERS = {"user-agent", "accept", "accept-language", "content-type", "x-request-id"}


def _frames(event: dict):
    for exception in (event.get("exception") or {}).get("values") or []:
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            yield frame
    for thread in (event.get("threads") or {}).get("values") or []:
        for frame in (thread.get("stacktrace") or {}).get("frames") or []:
            yield frame


def init_app(app) -> None:
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration
    from sentry_sdk.integrations.rq import RqIntegration

    from app.platform.logs import current_request_id

    def before_send(event, hint):
        event.setdefault("tags", {})["request_id"] = current_request_id() or "-"
        return scrub(event, hint)

    sentry_sdk.init(
        dsn=dsn,
        environment=app.config.get("SENTRY_ENVIRONMENT") or "production",
        integrations=[FlaskIntegration(), RqIntegration()],
        include_local_variables=False,
        max_request_body_size="never",
        before_send=before_send,
        before_breadcrumb=scrub_breadcrumb,
        traces_sample_rate=0,
    )
    log.info("errors are reported to Sentry")
