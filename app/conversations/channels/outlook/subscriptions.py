"""Keeping each mailbox's Graph change-notification subscriptions alive.

Every active mailbox has two: new messages in its Inbox (customers' mail) and in
its Sent Items (replies colleagues write in Outlook itself). Graph subscriptions
on mail expire after a few days and must be renewed before they do; a removed or
expired one has to be created anew (Graph answers 404 to a renewal then).
:func:`renew_subscriptions` runs every 15 minutes and does whatever is due;
lifecycle notifications call :func:`ensure_subscription` with ``force_renew``
(reauthorization) or :func:`create_subscription` (removal).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from flask import current_app

from app.conversations.channels.outlook.client import (
    GraphClient,
    GraphError,
    graph_time,
    parse_graph_time,
)
from app.conversations.channels.outlook.state import (
    FOLDERS,
    active_mailboxes,
    client_state_of,
    exclusive,
    save_client_state,
    save_subscription,
    subscription_of,
)
from app.platform.database import utcnow
from app.platform.models import OutlookMailbox
from app.platform.transactions import commit
from app.platform.transports.registry import is_sandboxed

log = logging.getLogger(__name__)

# Graph's limit for mail subscriptions has been documented as 4230 minutes (and
# lately as 10080); staying under the smaller one is valid either way.
LIFETIME = timedelta(minutes=4200)
# Renew this long before expiry: several 15-minute runs can fail before it lapses.
RENEW_WITHIN = timedelta(hours=12)
WEBHOOK_PATH = "/api/v1/webhooks/outlook"


def renew_subscriptions() -> int:
    """Periodic job: create or renew every active mailbox's subscriptions when due.

    Returns the number of subscriptions created or renewed (0 in sandbox mode,
    or when nothing was due). One mailbox failing does not hold up the others;
    the job fails afterwards so the failure is seen.
    """
    if is_sandboxed("email_outlook"):
        return 0
    mailboxes = active_mailboxes()
    # Commit a newly made default mailbox now, before any Graph call (see client.py).
    commit()
    changed = 0
    failure: GraphError | None = None
    for mailbox in mailboxes:
        with exclusive(f"subscription:{mailbox.id}", ttl_seconds=120) as acquired:
            if not acquired:
                log.info("another worker is renewing the subscriptions of %s", mailbox.address)
                continue
            client = GraphClient(current_app.config, mailbox.address)
            for folder in FOLDERS:
                try:
                    changed += ensure_subscription(client, mailbox, folder)
                except GraphError as exc:
                    log.warning("Graph subscription of %s %s: %s", mailbox.address, folder, exc)
                    failure = failure or exc
                commit()
    if failure is not None:
        raise failure
    return changed


def ensure_subscription(
    client: GraphClient, mailbox: OutlookMailbox, folder: str, *, force_renew: bool = False
) -> bool:
    """Make sure a live subscription on ``folder`` matches the configuration; True if
    Graph was changed. Does not commit: the caller owns the transaction.
    """
    current = subscription_of(mailbox, folder)
    now = utcnow()
    if (
        current is None
        or not _matches_configuration(current, client, folder)
        or _expiry(current) <= now
    ):
        create_subscription(client, mailbox, folder)
        return True
    if not force_renew and _expiry(current) - now > RENEW_WITHIN:
        return False
    expires = now + LIFETIME
    try:
        # A PATCH with a new expiry also reauthorizes; Graph advises against
        # sending /reauthorize and a PATCH for one subscription within minutes.
        answer = client.patch(
            f"subscriptions/{current['id']}", {"expirationDateTime": graph_time(expires)}
        )
    except GraphError as exc:
        if exc.status != 404:
            raise
        log.warning("Graph subscription %s is gone; creating a new one", current["id"])
        create_subscription(client, mailbox, folder)
        return True
    save_subscription(
        mailbox,
        folder,
        {**current, "expires_at": answer.get("expirationDateTime", graph_time(expires))},
    )
    return True


def create_subscription(client: GraphClient, mailbox: OutlookMailbox, folder: str) -> dict:
    """Subscribe to new messages in ``folder`` and remember the subscription on ``mailbox``.

    The ``clientState`` secret is the mailbox's and kept across re-creations:
    notifications still in flight from the old subscription remain verifiable.
    """
    channel = mailbox.channel
    client_state = client_state_of(channel) or secrets.token_urlsafe(32)
    notification_url = _notification_url()
    resource = _resource(client, folder)
    # Graph calls our webhook with a validationToken before it answers this POST.
    answer = client.post(
        "subscriptions",
        {
            "changeType": "created",
            "notificationUrl": notification_url,
            "lifecycleNotificationUrl": notification_url,
            "resource": resource,
            "expirationDateTime": graph_time(utcnow() + LIFETIME),
            "clientState": client_state,
        },
    )
    subscription = {
        "id": answer["id"],
        "resource": resource,
        "notification_url": notification_url,
        "expires_at": answer["expirationDateTime"],
    }
    save_client_state(channel, client_state)
    save_subscription(mailbox, folder, subscription)
    log.info("created Graph subscription %s on %s", answer["id"], resource)
    return subscription


def _resource(client: GraphClient, folder: str) -> str:
    return f"users/{client.mailbox}/mailFolders('{FOLDERS[folder]}')/messages"


def _notification_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + WEBHOOK_PATH


def _matches_configuration(subscription: dict, client: GraphClient, folder: str) -> bool:
    # A changed mailbox or public URL needs a new subscription, not a renewal.
    return (
        subscription.get("resource") == _resource(client, folder)
        and subscription.get("notification_url") == _notification_url()
    )


def _expiry(subscription: dict) -> datetime:
    return parse_graph_time(subscription["expires_at"])
