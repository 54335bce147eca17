"""Checking and storing Graph change and lifecycle notifications as they arrive.

Graph signs nothing; what proves a notification came from our subscription is
the ``clientState`` secret we gave Graph when subscribing. Each mailbox has its
own, so the secret also tells which mailbox a notification is about (Graph's
``resource`` names the mailbox by a user GUID, not by its address). Every
notification in a batch must carry one of ours, or the whole batch is refused
and nothing is stored.

Each notification is stored as its own event (the batch is only an envelope),
keyed so that Graph's redelivery of the same notification finds the first copy.
"""

from __future__ import annotations

import hmac
import json

import sqlalchemy as sa

from app.api.errors import ApiError
from app.channels.outlook.state import client_state_of, default_mailbox
from app.extensions import db
from app.models import OutlookMailbox
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
    if not all(mailbox_of_notification(item) is not None for item in notifications):
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


def mailbox_of_notification(notification: dict) -> OutlookMailbox | None:
    """The mailbox whose ``clientState`` the notification carries; None: not ours.

    Disabled mailboxes count too: their subscriptions run out by themselves and
    Graph should not be told to retry what is already in flight.
    """
    given = notification.get("clientState")
    if not isinstance(given, str):
        return None
    default_mailbox()  # made on first use, with the channel it has always used
    for mailbox in db.session.scalars(sa.select(OutlookMailbox).order_by(OutlookMailbox.id)):
        expected = client_state_of(mailbox.channel)
        if expected is not None and hmac.compare_digest(given.encode(), expected.encode()):
            return mailbox
    return None
