"""The SendGrid v3 Mail Send call: building the request and reading the answer.

``POST {SENDGRID_API_BASE}/v3/mail/send`` with ``Authorization: Bearer``; 202 means
accepted, and the ``X-Message-Id`` header is the id every later event carries
as the prefix of its ``sg_message_id``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import requests

from app.conversations.channels.email.settings import FROM_NAME, SANDBOX_FROM, reply_to
from app.platform.transports.base import TransportError
from app.platform.transports.health import record_failure, record_success

log = logging.getLogger(__name__)

PROVIDER = "sendgrid"
TIMEOUT = (5, 30)  # (connect, read) seconds
TRACKING_SETTINGS = {
    "click_tracking": {"enable": True},
    "open_tracking": {"enable": True},
    "subscription_tracking": {"enable": False},
}


class SendGridError(TransportError):
    """A refused or failed send; ``retry_after`` is SendGrid's wait when it gave one."""


def build_mail(
    config: Mapping,
    *,
    to_email: str,
    to_name: str | None,
    template_id: str | None,
    dynamic_data: dict | None,
    categories: list[str],
    send_at: int | None = None,
    subject: str | None = None,
    text: str | None = None,
) -> dict:
    """The Mail Send body: a dynamic template, or plain text when no template is given."""
    recipient = {"email": to_email}
    if to_name:
        recipient["name"] = to_name
    personalization: dict = {"to": [recipient]}
    if template_id:
        personalization["dynamic_template_data"] = dynamic_data or {}
    if send_at:
        personalization["send_at"] = int(send_at)
    payload: dict = {
        "personalizations": [personalization],
        "from": {"email": config.get("MAIL_FROM") or SANDBOX_FROM, "name": FROM_NAME},
        "reply_to": {"email": reply_to(config)},
    }
    if template_id:
        payload["template_id"] = template_id
    else:
        payload["subject"] = subject or "ChargeCars"
        payload["content"] = [{"type": "text/plain", "value": text or ""}]
    if categories:
        payload["categories"] = categories
    payload["tracking_settings"] = TRACKING_SETTINGS
    return payload


def post_mail(config: Mapping, payload: dict) -> str:
    """Send ``payload``; returns the X-Message-Id. Raises :class:`SendGridError`.

    The caller takes the rate-limit slot and commits the provider status.
    """
    url = config["SENDGRID_API_BASE"].rstrip("/") + "/v3/mail/send"
    headers = {"Authorization": f"Bearer {config['SENDGRID_API_KEY']}"}
    try:
        response = requests.post(url, json=payload, headers=headers, timeout=TIMEOUT)
    except requests.RequestException as exc:
        reason = f"SendGrid unreachable: {type(exc).__name__}"
        record_failure(PROVIDER, reason)
        raise SendGridError(reason, retryable=True) from exc
    if response.status_code == 202:
        message_id = response.headers.get("X-Message-Id")
        if not message_id:
            record_failure(PROVIDER, "SendGrid accepted the mail without an X-Message-Id")
            raise SendGridError("SendGrid gave no X-Message-Id.", retryable=False)
        record_success(PROVIDER)
        return message_id
    raise _failure(response)


def _failure(response: requests.Response) -> SendGridError:
    status = response.status_code
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        errors = []
    detail = "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict)) or (
        response.text[:200].strip() or response.reason
    )
    text = f"SendGrid HTTP {status}: {detail}"[:1000]
    retryable = status == 429 or status >= 500
    record_failure(PROVIDER, text, unhealthy=status in (401, 403))
    log.warning("SendGrid refused a mail: %s", text)
    return SendGridError(text, retryable=retryable, retry_after=_retry_after(response))


def _retry_after(response: requests.Response) -> float | None:
    """Seconds to wait on a 429: ``Retry-After``, else until ``X-RateLimit-Reset``."""
    if response.status_code != 429:
        return None
    try:
        if response.headers.get("Retry-After"):
            return max(float(response.headers["Retry-After"]), 0.0)
        if response.headers.get("X-RateLimit-Reset"):
            return max(float(response.headers["X-RateLimit-Reset"]) - time.time(), 0.0)
    except ValueError:
        return None
    return None
