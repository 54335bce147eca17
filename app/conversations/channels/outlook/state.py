"""What Switchboard remembers about its Graph connection, per mailbox.

Every mailbox (:class:`OutlookMailbox`) has its own e-mail channel, two Graph
subscriptions (Inbox and Sent Items) and a delta link per folder. The default
mailbox is ``GRAPH_MAILBOX``: made on first use on the Outlook channel that
existed before there were several, so its conversations stay where they were.
The subscription's ``clientState`` is a shared secret and lives in the mailbox
channel's encrypted ``credentials``; it also tells which mailbox a notification
is for. JSON columns are replaced, never mutated in place, so SQLAlchemy sees
every change.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask import current_app

from app.conversations.core import new_channel
from app.platform.database import upsert_insert, utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationChannel, OutlookMailbox
from app.platform.models.enums import ChannelType

CLIENT_STATE = "graph_client_state"
INBOX = "inbox"
SENT = "sent"
# Graph's well-known folder names, as they appear in resources and delta URLs.
FOLDERS = {INBOX: "Inbox", SENT: "SentItems"}


def normalise_mailbox(address: str) -> str:
    return (address or "").strip().lower()


def default_mailbox() -> OutlookMailbox:
    """The ``GRAPH_MAILBOX`` mailbox (made on first use; follows a changed setting).

    Concurrent first uses are safe: the partial unique index on ``is_default``
    lets one insert win and the others read it.
    """
    address = normalise_mailbox(current_app.config.get("GRAPH_MAILBOX") or "")
    mailbox = db.session.scalar(sa.select(OutlookMailbox).where(OutlookMailbox.is_default))
    if mailbox is None:
        channel = _unclaimed_channel()
        now = utcnow()
        db.session.execute(
            upsert_insert(OutlookMailbox, db.engine.dialect.name)
            .values(
                id=uuid.uuid4(),
                created_at=now,
                updated_at=now,
                # A unique stand-in (see OutlookMailbox.address_is_placeholder).
                address=address or f"default@{channel.id.hex}.invalid",
                channel_id=channel.id,
                is_default=True,
                is_active=True,
                subscriptions={},
                delta_state={},
            )
            .on_conflict_do_nothing()
        )
        mailbox = db.session.scalar(sa.select(OutlookMailbox).where(OutlookMailbox.is_default))
    if mailbox is None:
        # GRAPH_MAILBOX names a mailbox an admin added: that one is the default now.
        mailbox = db.session.scalar(
            sa.select(OutlookMailbox).where(OutlookMailbox.address == address)
        )
        mailbox.is_default = True
        mailbox.is_active = True
    if address and mailbox.address != address:
        # GRAPH_MAILBOX was changed: the old subscriptions and links no longer
        # match it and are replaced by the jobs (see subscriptions.py, delta.py).
        mailbox.address = address
    channel = mailbox.channel
    shown = None if mailbox.address_is_placeholder else mailbox.address
    if (channel.configuration or {}).get("mailbox") != shown:
        # Shown beside the channel's name wherever mailboxes are listed (not the
        # sandbox's stand-in address).
        configuration = {**(channel.configuration or {}), "mailbox": shown}
        channel.configuration = {k: v for k, v in configuration.items() if v is not None}
    return mailbox


def _unclaimed_channel() -> CommunicationChannel:
    """The Outlook channel no mailbox owns yet (the one from before there were
    several, so its conversations stay the default mailbox's), or a new one."""
    owned = sa.select(OutlookMailbox.id).where(OutlookMailbox.channel_id == CommunicationChannel.id)
    channel = db.session.scalar(
        sa.select(CommunicationChannel)
        .where(CommunicationChannel.channel_type == ChannelType.EMAIL_OUTLOOK, ~owned.exists())
        .order_by(CommunicationChannel.is_active.desc(), CommunicationChannel.created_at)
        .limit(1)
    )
    if channel is None:
        channel = new_channel(ChannelType.EMAIL_OUTLOOK)
    return channel


def active_mailboxes() -> list[OutlookMailbox]:
    """Every mailbox Switchboard reads, the default first."""
    default = default_mailbox()
    others = db.session.scalars(
        sa.select(OutlookMailbox)
        .where(OutlookMailbox.is_active, OutlookMailbox.id != default.id)
        .order_by(OutlookMailbox.address)
    ).all()
    return [default, *others]


def is_our_mailbox(address: str) -> bool:
    """Whether ``address`` is one of the mailboxes Switchboard reads (enabled or not)."""
    found = db.session.scalar(
        sa.select(OutlookMailbox.id).where(OutlookMailbox.address == normalise_mailbox(address))
    )
    return found is not None


def mailbox_of_channel(channel_id: uuid.UUID | None) -> OutlookMailbox | None:
    """The mailbox whose conversations live on ``channel_id`` (None: not a mailbox's)."""
    if channel_id is None:
        return None
    return db.session.scalar(
        sa.select(OutlookMailbox).where(OutlookMailbox.channel_id == channel_id)
    )


def mailbox_address(channel_id: uuid.UUID | None) -> str:
    """The address to send from for a conversation on ``channel_id``; the default otherwise."""
    mailbox = mailbox_of_channel(channel_id)
    if mailbox is None or not mailbox.is_active:
        mailbox = default_mailbox()
    return mailbox.address


def outlook_channel() -> CommunicationChannel:
    """The default mailbox's e-mail channel (created on first use)."""
    return default_mailbox().channel


def subscription_of(mailbox: OutlookMailbox, folder: str) -> dict | None:
    return (mailbox.subscriptions or {}).get(folder)


def save_subscription(mailbox: OutlookMailbox, folder: str, subscription: dict | None) -> None:
    settings = dict(mailbox.subscriptions or {})
    if subscription is None:
        settings.pop(folder, None)
    else:
        settings[folder] = subscription
    mailbox.subscriptions = settings


def folder_of_subscription(mailbox: OutlookMailbox, subscription_id: str | None) -> str | None:
    """Which folder's live subscription ``subscription_id`` is (None: an old one)."""
    for folder, subscription in (mailbox.subscriptions or {}).items():
        if subscription and subscription.get("id") == subscription_id:
            return folder
    return None


def delta_of(mailbox: OutlookMailbox, folder: str) -> dict | None:
    return (mailbox.delta_state or {}).get(folder)


def save_delta(mailbox: OutlookMailbox, folder: str, delta: dict | None) -> None:
    settings = dict(mailbox.delta_state or {})
    if delta is None:
        settings.pop(folder, None)
    else:
        settings[folder] = delta
    mailbox.delta_state = settings


def client_state_of(channel: CommunicationChannel) -> str | None:
    return (channel.credentials or {}).get(CLIENT_STATE)


def save_client_state(channel: CommunicationChannel, value: str) -> None:
    channel.credentials = {**(channel.credentials or {}), CLIENT_STATE: value}


@contextmanager
def exclusive(name: str, ttl_seconds: int) -> Iterator[bool]:
    """Yield True when this process may do ``name`` now, False when another is at it.

    Several workers may run the same periodic job or lifecycle handling at once;
    two delta walks would store the same messages concurrently and two subscription
    creations would leave Graph notifying twice. The lock expires by itself, so a
    crashed worker cannot hold it for longer than ``ttl_seconds``.
    """
    connection = current_app.extensions["broker"].connection
    key = f"switchboard:outlook:{name}"
    token = uuid.uuid4().hex
    acquired = bool(connection.set(key, token, nx=True, ex=ttl_seconds))
    try:
        yield acquired
    finally:
        if acquired and _as_text(connection.get(key)) == token:
            connection.delete(key)


def _as_text(value) -> str | None:
    return value.decode() if isinstance(value, bytes) else value
