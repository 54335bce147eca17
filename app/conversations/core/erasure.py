"""Erasing a person's conversations: the owner's part of a GDPR erasure (app/conversations/gdpr).

Threads and messages are emptied, not deleted: their times, channels, delivery
states and SLA figures stay for the analytics, while subjects, bodies, sender
and recipient details, provider metadata and attachments go. The erased threads
are closed (a closed thread takes no new message, so the person writing again
starts a new conversation) and their search documents are rebuilt from what is
left. Files are removed from ``ATTACHMENTS_DIR`` after the commit; every run
removes whatever is still there, so an erasure whose process died between the
commit and the files is finished by running it again.

Mentions of the person in other conversations (a partner's mail quoting their
number, a colleague's note) are taken out of the text, the rest kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from app.conversations.attachments.storage import attachments_root, discard_message_files
from app.conversations.business_time import clock as sla_clock
from app.conversations.contacts.mentions import Mentions
from app.conversations.core.events import ThreadChanged
from app.conversations.inbox.search import rebuild_search_documents
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread
from app.platform.models.communication import ERASED_THREAD_SUBJECT
from app.platform.models.enums import DeliveryStatus, ThreadStatus
from app.platform.transactions import after_commit, publish

ERASED_SUBJECT = ERASED_THREAD_SUBJECT
# Stored for the API and search; the timeline shows it in the reader's language.
ERASED_CONTENT = "This message was erased with the customer's personal data."
# Set in an erased message's ``extra``: the timeline says so, a second erasure skips it.
ERASED_MARK = "gdpr_erased"
NOT_SENT = "Not sent: the customer's personal data was erased."
# What an erased message keeps of its ``extra``: who wrote it (an automation's kind).
KEPT_EXTRA = ("automation",)
CHUNK = 500


@dataclass
class ConversationsErased:
    """How much an erasure changed: threads, messages, and files removed."""

    conversations: int = 0
    messages: int = 0
    attachments: int = 0


def erase_threads(thread_ids: Collection[uuid.UUID]) -> ConversationsErased:
    """Empty and close these threads and erase every message in them (no commit)."""
    result = ConversationsErased()
    ids = sorted(set(thread_ids))
    now = utcnow()
    for chunk in _chunks(ids):
        for thread in db.session.scalars(
            sa.select(CommunicationThread).where(CommunicationThread.id.in_(chunk))
        ):
            if _erase_thread(thread, now):
                result.conversations += 1
    message_ids = [
        message_id
        for chunk in _chunks(ids)
        for message_id in db.session.scalars(
            sa.select(CommunicationMessage.id).where(CommunicationMessage.thread_id.in_(chunk))
        )
    ]
    result.messages, result.attachments = erase_messages(message_ids)
    db.session.flush()
    rebuild_search_documents(ids)
    return result


def _erase_thread(thread: CommunicationThread, now) -> bool:
    changed = (
        thread.thread_subject != ERASED_SUBJECT
        or thread.last_message_preview is not None
        or bool(thread.external_references)
        or thread.status != ThreadStatus.CLOSED
    )
    if not changed:
        return False
    thread.thread_subject = ERASED_SUBJECT
    thread.last_message_preview = None
    # A provider's conversation key would lead the person's next mail back here.
    thread.external_references = {}
    if thread.status != ThreadStatus.CLOSED:
        previous, thread.status = thread.status, ThreadStatus.CLOSED
        sla_clock.status_changed(thread, previous, now)
    # An edit form opened before the erasure is refused, not applied.
    thread.lock_version = (thread.lock_version or 0) + 1
    publish(ThreadChanged(thread.id, "erased"))
    return True


def erase_messages(message_ids: Sequence[uuid.UUID]) -> tuple[int, int]:
    """Erase these messages and, after the commit, their files; (messages, files) counted.

    Messages erased before are left as they are; their leftover files still go.
    """
    erased, files, folders = 0, 0, []
    root = attachments_root()
    for chunk in _chunks(sorted(set(message_ids))):
        for message in db.session.scalars(
            sa.select(CommunicationMessage).where(CommunicationMessage.id.in_(chunk))
        ):
            folder = root / str(message.id)
            if folder.is_dir():
                files += sum(1 for f in folder.iterdir() if not f.name.startswith("."))
                folders.append(message.id)
            if not (message.extra or {}).get(ERASED_MARK):
                _erase_message(message)
                erased += 1
    if folders:
        after_commit(lambda: [discard_message_files(message_id) for message_id in folders])
    return erased, files


def _erase_message(message: CommunicationMessage) -> None:
    kept = {key: value for key, value in (message.extra or {}).items() if key in KEPT_EXTRA}
    message.subject = None
    message.message_content = ERASED_CONTENT
    message.message_html = None
    message.sender_external = {}
    message.recipient_external = {}
    message.attachments = []
    message.language = None  # told from the text that is gone
    message.extra = {**kept, ERASED_MARK: True}
    message.delivery_error = None
    if message.delivery_status == DeliveryStatus.PENDING:
        # Nothing of theirs goes out any more, held for Undo or queued.
        message.delivery_status = DeliveryStatus.FAILED
        message.delivery_error = NOT_SENT
        message.send_held_until = None


def redact_mentions(mentions: Mentions, *, skip_thread_ids: Collection[uuid.UUID]) -> int:
    """Take the person out of other threads' subjects and messages; how many rows changed."""
    if not mentions.searchable:
        return 0
    skip = set(skip_thread_ids)
    touched_threads: set[uuid.UUID] = set()
    changed = 0
    thread = CommunicationThread
    for row in db.session.scalars(
        sa.select(thread).where(mentions.clause(thread.thread_subject, thread.last_message_preview))
    ):
        if row.id in skip or not mentions.found_in([row.thread_subject, row.last_message_preview]):
            continue
        row.thread_subject = mentions.redact_text(row.thread_subject)
        row.last_message_preview = mentions.redact_text(row.last_message_preview)
        touched_threads.add(row.id)
        changed += 1
    message = CommunicationMessage
    columns = (
        message.message_content,
        message.subject,
        message.message_html,
        message.sender_external,
        message.recipient_external,
        message.attachments,
        message.extra,
        message.delivery_error,
    )
    for row in db.session.scalars(sa.select(message).where(mentions.clause(*columns))):
        fields = [getattr(row, column.key) for column in columns]
        if row.thread_id in skip or not mentions.found_in(fields):
            continue
        row.message_content = mentions.redact_text(row.message_content) or ""
        row.subject = mentions.redact_text(row.subject)
        row.message_html = mentions.redact_text(row.message_html)
        row.sender_external = mentions.redact_records(row.sender_external)
        row.recipient_external = mentions.redact_records(row.recipient_external)
        row.attachments = mentions.redact_strings(row.attachments)
        row.extra = mentions.redact_records(row.extra)
        row.delivery_error = mentions.redact_text(row.delivery_error)
        touched_threads.add(row.thread_id)
        changed += 1
    db.session.flush()
    if touched_threads:
        rebuild_search_documents(sorted(touched_threads))
    return changed


def _chunks(ids: Sequence[uuid.UUID]) -> Iterator[Sequence[uuid.UUID]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]
