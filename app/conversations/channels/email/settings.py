"""SendGrid settings: our template keys, the sender, and sandbox mode.

Callers name templates by our keys (``order_confirmation``); the SendGrid
dynamic template ids they map to live here, overridable per deployment with a
``SENDGRID_TEMPLATE_IDS`` dict in the app config. A raw dynamic template id
(``d-…``) is accepted too, so a new SendGrid template needs no deploy.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

FROM_NAME = "ChargeCars Nederland"
# Answers go to the customer-service mailbox, not to noreply@.
DEFAULT_REPLY_TO = "info@chargecars.nl"
# Shown in sandbox records when MAIL_FROM is unset.
SANDBOX_FROM = "noreply@chargecars.nl"
DEFAULT_TEMPLATE_IDS = {
    "order_confirmation": "d-order-confirmation-2025",
    "visit_reminder": "d-visit-reminder-2025",
    "partner_order_confirmation": "d-partner-order-confirmation-2025",
    "order_status_update": "d-order-status-update-2025",
    "daily_digest": "d-daily-digest-2025",
}
DYNAMIC_TEMPLATE_ID = re.compile(r"^d-[A-Za-z0-9-]{1,120}$")


class UnknownTemplate(ValueError):
    """A template key that maps to no SendGrid template."""


def template_ids(config: Mapping) -> dict[str, str]:
    return {**DEFAULT_TEMPLATE_IDS, **(config.get("SENDGRID_TEMPLATE_IDS") or {})}


def template_id_for(key: str, config: Mapping) -> str:
    """The SendGrid template id for one of our keys, or a ``d-…`` id as given."""
    known = template_ids(config)
    if key in known:
        return known[key]
    if isinstance(key, str) and DYNAMIC_TEMPLATE_ID.match(key):
        return key
    raise UnknownTemplate(
        f"unknown template; use one of {', '.join(sorted(known))} or a SendGrid id (d-…)"
    )


def reply_to(config: Mapping) -> str:
    return config.get("MAIL_REPLY_TO") or DEFAULT_REPLY_TO
