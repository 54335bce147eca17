"""Checking and storing Graph change and lifecycle notifications as they arrive.

Graph signs nothing; what proves a notification came from our subscription is
the ``clientState`` secret we gave Graph when subscribing. Each mailbox has its
own, so the secret also tells which mailbox a notification is about (Graph's
``resource`` names the mailbox by a user GUID, not by its address). Every
notification in a batch must carry one of ours, or the whole batch is refused
and nothing is stored.

Each notification is stored as its own event (the batch is only an envelope),
keyed so that Graph's redelivery of the same notification finds the first copy.

Other features subscribe to Graph resources too (agents' calendar events,
:mod:`app.orders.calendar_sync`) and get their notifications at this same URL: each
registers the webhook source its notifications are stored under and how it
knows its own ``clientState`` (:func:`register_notification_source`); that
source's processor then handles them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable

import sqlalchemy as sa

from app.conversations.channels.outlook.state import client_state_of, default_mailbox
from app.platform.extensions import db
from app.platform.json_api.errors import ApiError
from app.platform.models import OutlookMailbox
from app.platform.webhooks.recording import record_event

SOURCE = "outlook"
MAX_KEY = 255
# Webhook source -> "is this notification's clientState one of yours?"
_other_sources: dict[str, Callable[[dict], bool]] = {}


def register_notification_source(source: str, is_ours: Callable[[dict], bool]) -> None:
    """Store the Graph notifications ``is_ours`` recognises under webhook ``source``."""
    _other_sources[source] = is_ours


def source_of_notification(notification: dict) -> str | None:
    """The webhook source a notification belongs to; None: its clientState is not ours."""
    if mailbox_of_notification(notification) is not None:
        return SOURCE
    for source, is_ours in _other_sources.items():
        if is_ours(notification):
            return source
    return None


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
    sources = [source_of_notification(item) for item in notifications]
    if None in sources:
        raise ApiError(401, "invalid_client_state", "The notification's clientState is not ours.")
    new = 0
    for item, source in zip(notifications, sources, strict=True):
        _, created = record_event(
            source,
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
    subscription had when Graph sent it. An event is updated many times, so an
    update's or deletion's key carries the version (etag) it reports.
    """
    subscription = str(notification.get("subscriptionId", ""))
    lifecycle = notification.get("lifecycleEvent")
    if lifecycle:
        moment = notification.get("id") or notification.get("subscriptionExpirationDateTime", "")
        return f"{subscription}:{lifecycle}:{moment}"
    data = notification.get("resourceData") or {}
    resource_id = data.get("id") or notification.get("resource", "")
    change = notification.get("changeType", "")
    key = f"{subscription}:{resource_id}:{change}"
    if change != "created" and data.get("@odata.etag"):
        key += f":{data['@odata.etag']}"
    # Stored keys are cut at 255 characters; a longer one must not lose its etag.
    return key if len(key) <= MAX_KEY else hashlib.sha256(key.encode()).hexdigest()


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
