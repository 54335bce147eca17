"""Graph change-notification subscriptions on agents' calendars, kept alive.

Whose calendars: every active staff member who is not a technician and has
"Outlook calendar" on (their calendar settings), in the mailbox those settings
name (default: their e-mail). A meeting they book there with a customer becomes
a follow-up task (:mod:`app.orders.calendar_sync.follow_ups`). Technicians' calendars
are written by us, not read.

As for mail (:mod:`app.conversations.channels.outlook.subscriptions`): one subscription per
calendar on ``/users/{mailbox}/events`` (created, updated, deleted), notifying
the same webhook, renewed by :func:`renew_calendar_subscriptions` every 15
minutes well before it lapses, created anew when Graph says it is gone. Each has
its own ``clientState`` secret, kept across re-creations.
"""

from __future__ import annotations

import hmac
import logging
import secrets

import sqlalchemy as sa
from flask import current_app

from app.conversations.channels.outlook.client import GraphClient, GraphError, graph_time
from app.conversations.channels.outlook.state import exclusive
from app.conversations.channels.outlook.subscriptions import LIFETIME, RENEW_WITHIN, WEBHOOK_PATH
from app.orders.calendar_sync.mailboxes import calendar_mailbox_of
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CalendarSubscription, User
from app.platform.models.enums import Role
from app.platform.transactions import commit
from app.platform.transports.registry import is_sandboxed

log = logging.getLogger(__name__)

SOURCE = "outlook_calendar"
CHANGES = "created,updated,deleted"


def watched_users() -> list[User]:
    """The staff whose Outlook calendars turn customer meetings into follow-ups."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.is_active_account.is_(True),
                User.outlook_calendar.is_(True),
                User.role != Role.TECHNICIAN,
            )
            .order_by(User.email)
        )
    )


def renew_calendar_subscriptions() -> int:
    """Periodic: create, renew or drop calendar subscriptions; how many were changed."""
    if is_sandboxed("graph"):
        return 0
    changed = 0
    failure: GraphError | None = None
    with exclusive("calendar-subscriptions", ttl_seconds=300) as acquired:
        if not acquired:
            log.info("another worker is renewing the calendar subscriptions")
            return 0
        client = GraphClient(current_app.config)
        watched = {user.id: user for user in watched_users()}
        rows = {row.user_id: row for row in db.session.scalars(sa.select(CalendarSubscription))}
        commit()
        for user_id, row in rows.items():
            if user_id not in watched:
                changed += _drop(client, row)
                commit()
        for user in watched.values():
            try:
                changed += ensure_calendar_subscription(client, user, rows.get(user.id))
            except GraphError as exc:
                log.warning("Graph calendar subscription of %s: %s", user.email, exc)
                failure = failure or exc
            commit()
    if failure is not None:
        raise failure
    return changed


def ensure_calendar_subscription(
    client: GraphClient,
    user: User,
    row: CalendarSubscription | None,
    *,
    force_renew: bool = False,
) -> bool:
    """Make sure the user's calendar has a live subscription; True if Graph changed."""
    mailbox = calendar_mailbox_of(user)
    if row is None:
        row = CalendarSubscription(user_id=user.id, mailbox=mailbox)
        row.client_state = secrets.token_urlsafe(32)
        db.session.add(row)
    now = utcnow()
    if (
        row.subscription_id is None
        or row.mailbox != mailbox
        or row.notification_url != _notification_url()
        or row.expires_at is None
        or row.expires_at <= now
    ):
        create_calendar_subscription(client, row, mailbox)
        return True
    if not force_renew and row.expires_at - now > RENEW_WITHIN:
        return False
    expires = now + LIFETIME
    try:
        client.patch(
            f"subscriptions/{row.subscription_id}", {"expirationDateTime": graph_time(expires)}
        )
    except GraphError as exc:
        if exc.status != 404:
            raise
        create_calendar_subscription(client, row, mailbox)
        return True
    row.expires_at = expires
    return True


def create_calendar_subscription(
    client: GraphClient, row: CalendarSubscription, mailbox: str | None = None
) -> None:
    """Subscribe to the calendar's events (Graph checks our webhook first)."""
    mailbox = mailbox or row.mailbox
    url = _notification_url()
    expires = utcnow() + LIFETIME
    answer = client.post(
        "subscriptions",
        {
            "changeType": CHANGES,
            "notificationUrl": url,
            "lifecycleNotificationUrl": url,
            "resource": f"users/{mailbox}/events",
            "expirationDateTime": graph_time(expires),
            "clientState": row.client_state,
        },
    )
    row.subscription_id = answer["id"]
    row.mailbox = mailbox
    row.notification_url = url
    row.expires_at = expires
    log.info("created Graph subscription %s on the calendar of %s", answer["id"], mailbox)


def _drop(client: GraphClient, row: CalendarSubscription) -> bool:
    if row.subscription_id:
        try:
            client.request("DELETE", f"subscriptions/{row.subscription_id}")
        except GraphError as exc:
            if exc.status != 404:
                log.warning("could not delete calendar subscription %s: %s", row.mailbox, exc)
                return False
    db.session.delete(row)
    return True


def subscription_of_notification(notification: dict) -> CalendarSubscription | None:
    """The calendar subscription whose ``clientState`` the notification carries."""
    given = notification.get("clientState")
    if not isinstance(given, str):
        return None
    for row in db.session.scalars(sa.select(CalendarSubscription)):
        if hmac.compare_digest(given.encode(), row.client_state.encode()):
            return row
    return None


def is_calendar_notification(notification: dict) -> bool:
    return subscription_of_notification(notification) is not None


def _notification_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + WEBHOOK_PATH
