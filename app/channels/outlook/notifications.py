"""Checking and storing Graph change and lifecycle notifications as they arrive.

Graph signs nothing; what proves a notification came from our subscription is
the ``clientState`` secret we gave Graph when subscribing. Every notification
in a batch must carry it, or the whole batch is refused and nothing is stored.

Each notification is stored as its own event (the batch is only an envelope),
keyed so that Graph's redelivery of the same notification finds the first copy.
"""

from __future__ import annotations

import hmac
import json

from app.api.errors import ApiError
from app.channels.outlook.state import client_state_of, outlook_channel
from app.webhooks.events import record_event

SOURCE = "outlook"


def record_notifications(payload: dict) -> int:
    """Verify every notification in ``payload`` and store it; returns how many were new.

    Raises ApiError 400 for a body that is not a notification collection and 401
    when any ``clientState`` differs from ours. Does not commit.
    """
    notifications = payload.get("value")
    if (
        not isinstance(notifications, list)
        or not notifications
        or not all(isinstance(item, dict) for item in notifications)
    ):
        raise ApiError(400, "malformed_notification", 'Expected {"value": [notification, …]}.')
    expected = client_state_of(outlook_channel())
    if expected is None or not all(_client_state_ok(item, expected) for item in notifications):
        raise ApiError(401, "invalid_client_state", "The notification's clientState is not ours.")
    new = 0
    for item in notifications:
        _, created = record_event(
            SOURCE,
            dedupe_key(item),
            json.dumps(item, sort_keys=True).encode(),
            event_type=item.get("lifecycleEvent") or item.get("changeType"),
        )
        new += created
    return new


def dedupe_key(notification: dict) -> str:
    """Same subscription, same resource, same change: the same notification.

    Lifecycle notifications recur for one subscription ("missed" more than once),
    so their key also carries the notification id or, lacking it, the expiry the
    subscription had when Graph sent it.
    """
    subscription = str(notification.get("subscriptionId", ""))
    lifecycle = notification.get("lifecycleEvent")
    if lifecycle:
        moment = notification.get("id") or notification.get("subscriptionExpirationDateTime", "")
        return f"{subscription}:{lifecycle}:{moment}"
    resource_id = (notification.get("resourceData") or {}).get("id") or notification.get(
        "resource", ""
    )
    return f"{subscription}:{resource_id}:{notification.get('changeType', '')}"


def _client_state_ok(notification: dict, expected: str) -> bool:
    given = notification.get("clientState")
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode(), expected.encode())
