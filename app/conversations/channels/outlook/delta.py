"""Catching up with each mailbox's Inbox and Sent Items through Graph's delta query.

Notifications can be lost (our endpoint down, Graph's "missed" lifecycle event),
so every few minutes each folder's delta is walked from its last ``deltaLink``.
Each message not yet stored is fetched and threaded like a notified one. Progress is
committed page by page with the link to continue from, so a long first walk that
is interrupted resumes where it stopped instead of starting over.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.conversations.channels.outlook.client import GraphClient, GraphError, graph_time
from app.conversations.channels.outlook.inbound import fetch_message, store_message
from app.conversations.channels.outlook.state import (
    FOLDERS,
    active_mailboxes,
    delta_of,
    exclusive,
    save_delta,
)
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, OutlookMailbox
from app.platform.transactions import commit
from app.platform.transports.registry import is_sandboxed

log = logging.getLogger(__name__)

# The first walk looks this far back: mail from before Switchboard watched the
# mailbox is history, not work. (Graph caps a filtered delta at 5,000 messages.)
FIRST_WALK = timedelta(days=3)
PAGE_SIZE = 50
# Longer than a walk normally takes; a crashed walker frees the lock by then.
LOCK_SECONDS = 15 * 60


def poll_delta() -> int:
    """Periodic job: store mail the notifications missed, in every mailbox; returns how many."""
    if is_sandboxed("email_outlook"):
        return 0
    mailboxes = active_mailboxes()
    # Commit a newly made default mailbox now, before any Graph call (see client.py).
    commit()
    stored = 0
    for mailbox in mailboxes:
        with exclusive(f"delta:{mailbox.id}", ttl_seconds=LOCK_SECONDS) as acquired:
            if not acquired:
                log.info("another worker is walking the deltas of %s", mailbox.address)
                continue
            client = GraphClient(current_app.config, mailbox.address)
            for folder in FOLDERS:
                stored += _walk_folder(client, mailbox, folder)
    return stored


def _walk_folder(client: GraphClient, mailbox: OutlookMailbox, folder: str) -> int:
    try:
        return _walk(client, mailbox, folder)
    except GraphError as exc:
        if exc.status != 410:
            raise
        # The delta token expired or was invalidated: start a fresh walk.
        log.warning(
            "Graph delta state of %s %s expired (%s); starting over",
            mailbox.address,
            folder,
            exc.code,
        )
        save_delta(mailbox, folder, None)
        commit()
        return _walk(client, mailbox, folder)


def _walk(client: GraphClient, mailbox: OutlookMailbox, folder: str) -> int:
    stored = 0
    url = _resume_link(client, mailbox, folder)
    params = None
    if url is None:
        url = client.mailbox_path(f"mailFolders('{FOLDERS[folder]}')", "messages", "delta")
        params = {
            "$select": "id,receivedDateTime",
            "$filter": f"receivedDateTime ge {graph_time(utcnow() - FIRST_WALK)}",
        }
    while url:
        page = client.get(url, params=params, headers={"Prefer": f"odata.maxpagesize={PAGE_SIZE}"})
        params = None  # the links Graph returns carry the query already
        # Fetch everything first, then write: see the note in client.py.
        fetched = [
            found
            for graph_id in _unseen_ids(mailbox, page.get("value", []))
            if (found := fetch_message(client, graph_id)) is not None
        ]
        for message, attachments in fetched:
            stored += store_message(client, message, attachments, mailbox) is not None
        next_link = page.get("@odata.nextLink")
        link_kind = "next_link" if next_link else "delta_link"
        link = next_link or page.get("@odata.deltaLink")
        if link:
            save_delta(mailbox, folder, {"mailbox": client.mailbox, link_kind: link})
        commit()
        url = next_link
    if stored:
        log.info(
            "%s delta of %s stored %d message(s) the notifications missed",
            folder,
            mailbox.address,
            stored,
        )
    return stored


def _resume_link(client: GraphClient, mailbox: OutlookMailbox, folder: str) -> str | None:
    state = delta_of(mailbox, folder) or {}
    if state.get("mailbox") != client.mailbox:
        return None  # another mailbox was configured: its links mean nothing here
    return state.get("next_link") or state.get("delta_link")


def _unseen_ids(mailbox: OutlookMailbox, items: list[dict]) -> list[str]:
    # "@removed" entries are deletions; everything else is a message now in the Inbox.
    ids = [item["id"] for item in items if "id" in item and "@removed" not in item]
    if not ids:
        return []
    seen = set(
        db.session.scalars(
            sa.select(CommunicationMessage.external_message_id).where(
                CommunicationMessage.channel_id == mailbox.channel_id,
                CommunicationMessage.external_message_id.in_(ids),
            )
        )
    )
    return [graph_id for graph_id in dict.fromkeys(ids) if graph_id not in seen]
