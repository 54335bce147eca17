"""Processing stored Graph notifications: fetch new mail and thread it; lifecycle events.

A change notification only names the message; the message itself is fetched
here (with its headers, for threading, and its attachment list) from the
mailbox whose ``clientState`` the notification carries. Mail from a customer
goes into that mailbox's conversations (new ones in its team); mail from the
mailbox itself is a reply a colleague wrote in Outlook (Sent Items), recorded as
our answer in the conversation it belongs to (:mod:`app.conversations.channels.outlook.sent`).
Lifecycle notifications keep the subscriptions alive or trigger the delta
catch-up.

Like every processor this works in the job's transaction without committing,
and raises to fail the event. Graph is called before anything is written (see
:mod:`app.conversations.channels.outlook.client`).
"""

from __future__ import annotations

import json
import logging

import sqlalchemy as sa
from flask import current_app

from app.conversations.channels.outlook.client import GraphClient, GraphError
from app.conversations.channels.outlook.mail import (
    ATTACHMENT_FIELDS,
    MESSAGE_FIELDS,
    sender_of,
    to_inbound,
)
from app.conversations.channels.outlook.notifications import mailbox_of_notification
from app.conversations.channels.outlook.sent import is_from_mailbox, record_sent_mail
from app.conversations.channels.outlook.state import (
    default_mailbox,
    exclusive,
    folder_of_subscription,
    is_our_mailbox,
)
from app.conversations.channels.outlook.subscriptions import (
    create_subscription,
    ensure_subscription,
)
from app.conversations.contacts.identities import EMAIL
from app.conversations.core import Sender, record_inbound
from app.platform.extensions import db
from app.platform.jobs.queues import enqueue
from app.platform.models import CommunicationMessage, InboundWebhookEvent, OutlookMailbox
from app.platform.transactions import after_commit
from app.platform.transports.registry import is_sandboxed
from app.platform.webhooks.processing import UnprocessableEvent

log = logging.getLogger(__name__)


def process_event(event: InboundWebhookEvent) -> None:
    """Handle one stored Graph notification (see
    :mod:`app.conversations.channels.outlook.notifications`)."""
    if is_sandboxed("email_outlook"):
        raise UnprocessableEvent("Graph is not configured; the notification cannot be fetched")
    notification = json.loads(event.raw_body)
    mailbox = mailbox_of_notification(notification)
    if mailbox is None:
        raise UnprocessableEvent("no mailbox has this notification's clientState")
    client = GraphClient(current_app.config, mailbox.address)
    lifecycle = notification.get("lifecycleEvent")
    if lifecycle:
        handle_lifecycle(client, mailbox, lifecycle, notification.get("subscriptionId"))
        return
    if notification.get("changeType") != "created":
        log.info("ignoring Graph %s notification", notification.get("changeType"))
        return
    if not mailbox.is_active:
        log.info("ignoring a notification for disabled mailbox %s", mailbox.address)
        return
    message_id = _message_id(notification)
    if not message_id:
        raise UnprocessableEvent("the notification names no message")
    if already_stored(mailbox, message_id):
        return
    fetched = fetch_message(client, message_id)
    if fetched is not None:
        store_message(client, *fetched, mailbox)


def handle_lifecycle(
    client: GraphClient, mailbox: OutlookMailbox, lifecycle: str, subscription_id: str | None
) -> None:
    """Act on reauthorizationRequired, subscriptionRemoved and missed."""
    if lifecycle == "missed":
        # Graph does not say which messages were missed: walk the deltas.
        after_commit(
            lambda: enqueue("app.conversations.channels.outlook.delta.poll_delta", queue="bulk")
        )
        return
    folder = folder_of_subscription(mailbox, subscription_id)
    if folder is None or not mailbox.is_active:
        # About a subscription we already replaced; acting would create a second one.
        log.info("ignoring %s for old Graph subscription %s", lifecycle, subscription_id)
        return
    with exclusive(f"subscription:{mailbox.id}", ttl_seconds=120) as acquired:
        if not acquired:
            log.info("another worker is handling the subscriptions of %s", mailbox.address)
            return
        if lifecycle == "reauthorizationRequired":
            ensure_subscription(client, mailbox, folder, force_renew=True)
        elif lifecycle == "subscriptionRemoved":
            create_subscription(client, mailbox, folder)
        else:
            log.warning("unknown Graph lifecycle event %r", lifecycle)


def already_stored(mailbox: OutlookMailbox, graph_message_id: str) -> bool:
    """Whether a message with this Graph id is already in one of the mailbox's threads."""
    found = db.session.scalar(
        sa.select(CommunicationMessage.id)
        .where(
            CommunicationMessage.channel_id == mailbox.channel_id,
            CommunicationMessage.external_message_id == graph_message_id,
        )
        .limit(1)
    )
    return found is not None


def fetch_message(client: GraphClient, graph_message_id: str) -> tuple[dict, list[dict]] | None:
    """The message and its attachment list; None when it is gone (deleted, moved)."""
    path = client.mailbox_path("messages", graph_message_id)
    try:
        message = client.get(path, params={"$select": MESSAGE_FIELDS})
    except GraphError as exc:
        if exc.status == 404:
            log.info("Graph message %s is gone before it could be fetched", graph_message_id)
            return None
        raise
    attachments: list[dict] = []
    # hasAttachments leaves out inline images; those stay in the HTML only.
    if message.get("hasAttachments"):
        listing = client.get(f"{path}/attachments", params={"$select": ATTACHMENT_FIELDS})
        attachments = listing.get("value", [])
    return message, attachments


def store_message(
    client: GraphClient,
    message: dict,
    attachments: list[dict],
    mailbox: OutlookMailbox | None = None,
) -> CommunicationMessage | None:
    """Thread a fetched message of ``mailbox`` (default: the default mailbox); None when
    skipped or already stored."""
    mailbox = mailbox or default_mailbox()
    address, name = sender_of(message)
    if not address:
        log.info("Graph message %s has no sender; not threaded", message.get("id"))
        return None
    if is_from_mailbox(message, mailbox):
        # Written as the mailbox: a colleague's reply from Outlook, or our own.
        return record_sent_mail(mailbox, message, attachments)
    if is_our_mailbox(address):
        # From another of our mailboxes (a forward, a copy): not a customer's mail.
        log.info(
            "Graph message %s is from our mailbox %s; not threaded", message.get("id"), address
        )
        return None
    # Mail to a partner's order mailbox (Alva) is also read as an order, by a
    # listener of the stored message (app.orders.email_intake.listeners).
    return record_inbound(
        mailbox.channel,
        Sender(EMAIL, address, name=name),
        to_inbound(message, attachments),
        team_id=mailbox.team_id,
    )


def _message_id(notification: dict) -> str | None:
    resource_id = (notification.get("resourceData") or {}).get("id")
    if resource_id:
        return resource_id
    # "Users/{user id}/Messages/{message id}"
    parts = (notification.get("resource") or "").rstrip("/").split("/")
    return parts[-1] if len(parts) >= 2 and parts[-2].lower() == "messages" else None
