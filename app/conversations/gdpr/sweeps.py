"""The person in records that are not theirs: logs, outboxes, raw events, notices.

Each sweep takes rows tied to the person's conversations or orders, and rows
found by their e-mail address or number (:meth:`Mentions.clause`, then
:meth:`Mentions.found_in` to be sure), and rewrites them:

* inbound webhook events keep their dedupe key and state, the raw body loses the
  person's records (a WhatsApp batch keeps other customers' messages);
* outbound deliveries (partner callbacks, Make triggers, webhook endpoints)
  and their attempts lose ``customer_info`` and the like; the delivery log stays;
* sandbox sends, platform events and audit entries lose the mentions;
* notifications about their conversations or orders, or quoting them, are
  deleted, and so are colleagues' unsent drafts in their conversations;
* tasks keep their state and dates, the title and description lose the mentions;
* form submissions and feedback that matched no contact or order of theirs lose
  the mentions in what was received;
* error texts (a sync's, an integration's, a partner callback's, a provider's)
  lose the mentions: remote systems echo the values they refused.

These are text scans over the tables (an erasure is rare, and must not miss a
row because no index pointed at it).
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.conversations.contacts.mentions import Mentions, redact_any_contact_details, text_of_bytes
from app.conversations.gdpr.footprint import Footprint, chunked
from app.conversations.gdpr.rows import rewrite
from app.platform.extensions import db
from app.platform.models import (
    AuditLog,
    CustomerFeedback,
    DeliveryAttempt,
    FormSubmission,
    InboundWebhookEvent,
    Integration,
    InternalTask,
    MessageDraft,
    Notification,
    OrderDraft,
    OutboundDelivery,
    PartnerIntegration,
    PlatformEvent,
    ProviderStatus,
    SandboxSend,
    SlaAlert,
    SyncJob,
    SyncRecord,
)
from app.platform.models.communication import CommunicationMessage


def sweep(footprint: Footprint, message_ids: list[uuid.UUID]) -> dict[str, int]:
    """Run every sweep for ``footprint``; counts of rows changed or deleted (no commit)."""
    mentions = footprint.mentions
    return {
        "drafts": _drafts(footprint, mentions),
        "tasks": _tasks(footprint, mentions),
        "notifications": _notifications(footprint, mentions),
        "sandbox_sends": _sandbox_sends(message_ids, mentions),
        "deliveries": _deliveries(footprint, mentions),
        "platform_events": _platform_events(mentions),
        "webhook_events": _webhook_events(mentions),
        "audit_entries": _audit_entries(footprint, mentions),
        "unmatched_submissions": _unmatched_submissions(mentions),
        "error_texts": _error_texts(mentions),
    }


def _found(model, mentions: Mentions, *columns) -> list:
    """Rows of ``model`` whose ``columns`` mention the person (candidates, then checked)."""
    if not mentions.searchable:
        return []
    rows = db.session.scalars(sa.select(model).where(mentions.clause(*columns)))
    names = [column.key for column in columns]
    return [row for row in rows if mentions.found_in([getattr(row, n) for n in names])]


def _unique(*groups) -> list:
    seen, rows = set(), []
    for group in groups:
        for row in group:
            if row.id not in seen:
                seen.add(row.id)
                rows.append(row)
    return rows


def _drafts(footprint: Footprint, mentions: Mentions) -> int:
    """Unsent drafts: gone in the person's conversations, redacted anywhere else."""
    deleted = 0
    if footprint.thread_ids:
        deleted = db.session.execute(
            sa.delete(MessageDraft)
            .where(MessageDraft.thread_id.in_(footprint.thread_ids))
            .execution_options(synchronize_session=False)
        ).rowcount
    elsewhere = _found(MessageDraft, mentions, MessageDraft.content)
    return deleted + rewrite(elsewhere, {"content": lambda v: mentions.redact_text(v) or ""})


def _tasks(footprint: Footprint, mentions: Mentions) -> int:
    tied = []
    conditions = []
    if footprint.thread_ids:
        conditions.append(InternalTask.thread_id.in_(footprint.thread_ids))
    if footprint.order_ids:
        conditions.append(InternalTask.order_id.in_(footprint.order_ids))
    if conditions:
        tied = list(db.session.scalars(sa.select(InternalTask).where(sa.or_(*conditions))))
    task = InternalTask
    found = _found(task, mentions, task.task_title, task.task_description, task.completion_notes)

    def clean(value):
        return redact_any_contact_details(mentions.redact_text(value))

    return rewrite(
        _unique(tied, found),
        {
            "task_title": lambda v: clean(v) or "",
            "task_description": clean,
            "completion_notes": clean,
        },
    )


def _notifications(footprint: Footprint, mentions: Mentions) -> int:
    """Notices about the person's conversations, orders and tasks, or quoting them."""
    sources: dict[str, list[uuid.UUID]] = {
        "communication_thread": footprint.thread_ids,
        "orders": footprint.order_ids,
    }
    if footprint.thread_ids:
        sources["communication_message"] = list(
            db.session.scalars(
                sa.select(CommunicationMessage.id).where(
                    CommunicationMessage.thread_id.in_(footprint.thread_ids)
                )
            )
        )
        sources["sla_alerts"] = list(
            db.session.scalars(
                sa.select(SlaAlert.id).where(SlaAlert.thread_id.in_(footprint.thread_ids))
            )
        )
        sources["internal_task"] = list(
            db.session.scalars(
                sa.select(InternalTask.id).where(InternalTask.thread_id.in_(footprint.thread_ids))
            )
        )
    if footprint.order_ids:
        sources["order_drafts"] = list(
            db.session.scalars(
                sa.select(OrderDraft.id).where(OrderDraft.order_id.in_(footprint.order_ids))
            )
        )
    ids = set()
    for table, record_ids in sources.items():
        for chunk in chunked(record_ids):
            ids.update(
                db.session.scalars(
                    sa.select(Notification.id).where(
                        Notification.source_table == table,
                        Notification.source_record_id.in_(chunk),
                    )
                )
            )
    note = Notification
    quoting = _found(note, mentions, note.title, note.message, note.title_text, note.message_text)
    ids.update(n.id for n in quoting)
    for chunk in chunked(sorted(ids)):
        db.session.execute(
            sa.delete(Notification)
            .where(Notification.id.in_(chunk))
            .execution_options(synchronize_session=False)
        )
    return len(ids)


def _sandbox_sends(message_ids: list[uuid.UUID], mentions: Mentions) -> int:
    tied = []
    for chunk in chunked(message_ids):
        tied += db.session.scalars(sa.select(SandboxSend).where(SandboxSend.message_id.in_(chunk)))
    erased = rewrite(tied, {"recipient": lambda _: None, "request_body": lambda _: {}})
    found = _found(SandboxSend, mentions, SandboxSend.recipient, SandboxSend.request_body)
    return erased + rewrite(
        found,
        {
            "recipient": lambda v: None if mentions.found_in(v) else v,
            "request_body": mentions.redact_records,
        },
    )


def _deliveries(footprint: Footprint, mentions: Mentions) -> int:
    delivery = OutboundDelivery
    tied = []
    if footprint.order_ids:
        tied = list(
            db.session.scalars(
                sa.select(delivery).where(delivery.order_id.in_(footprint.order_ids))
            )
        )
    found = _found(delivery, mentions, delivery.payload, delivery.body)
    deliveries = _unique(tied, found)
    changed = rewrite(
        deliveries,
        {
            "payload": mentions.redact_records,
            # The exact bytes a retry sends: the same document, without the person.
            "body": lambda v: _redacted_json_text(mentions, v),
            "last_error": mentions.redact_text,
        },
    )
    attempt = DeliveryAttempt
    attempts = _found(attempt, mentions, attempt.response_excerpt, attempt.error)
    if deliveries:
        ids = [d.id for d in deliveries]
        attempts = _unique(
            attempts, db.session.scalars(sa.select(attempt).where(attempt.delivery_id.in_(ids)))
        )
    return changed + rewrite(
        attempts, {"response_excerpt": mentions.redact_text, "error": mentions.redact_text}
    )


def _redacted_json_text(mentions: Mentions, text: str | None) -> str | None:
    if text is None:
        return None
    redacted = mentions.redact_body(text.encode())
    return redacted.decode() if redacted is not None else None


def _platform_events(mentions: Mentions) -> int:
    found = _found(PlatformEvent, mentions, PlatformEvent.payload)
    return rewrite(found, {"payload": mentions.redact_records})


def _webhook_events(mentions: Mentions) -> int:
    """Raw webhooks that carry the person (by number or address), whatever their source."""
    if not mentions.searchable:
        return 0
    event = InboundWebhookEvent
    dialect = db.session.get_bind().dialect.name
    raw_text = text_of_bytes(event.raw_body, dialect)
    candidates = db.session.scalars(
        sa.select(event).where(mentions.clause(raw_text, event.headers, event.last_error))
    )
    found = [
        row
        for row in candidates
        if mentions.found_in([_decoded(row.raw_body), row.headers, row.last_error])
    ]
    return rewrite(
        found,
        {
            "raw_body": mentions.redact_body,
            "headers": mentions.redact_records,
            "last_error": mentions.redact_text,
        },
    )


def _decoded(raw: bytes | None) -> str:
    return (raw or b"").decode("utf-8", errors="replace")


def _audit_entries(footprint: Footprint, mentions: Mentions) -> int:
    """Earlier audit entries (of their orders, of the contact, or quoting them)."""
    audit = AuditLog
    tied_conditions = [
        sa.and_(audit.table_name == "contacts", audit.record_id == footprint.contact.id)
    ]
    if footprint.order_ids:
        tied_conditions.append(
            sa.and_(audit.table_name == "orders", audit.record_id.in_(footprint.order_ids))
        )
    tied = db.session.scalars(sa.select(audit).where(sa.or_(*tied_conditions)))
    found = _found(audit, mentions, audit.changes)
    return rewrite(_unique(tied, found), {"changes": mentions.redact_strings})


def _unmatched_submissions(mentions: Mentions) -> int:
    """Forms and feedback quoting the person that were not tied to them (those are erased
    with their orders, :mod:`app.conversations.gdpr.orders`)."""
    form, feedback = FormSubmission, CustomerFeedback
    return rewrite(
        _found(form, mentions, form.raw_data), {"raw_data": mentions.redact_records}
    ) + rewrite(
        _found(feedback, mentions, feedback.comment, feedback.raw),
        {"comment": mentions.redact_text, "raw": mentions.redact_records},
    )


# Error texts kept from other systems' answers, which often echo the values refused.
_ERROR_COLUMNS = (
    (SyncRecord, ("last_error",)),
    (SyncJob, ("error",)),
    (Integration, ("last_error_message",)),
    (PartnerIntegration, ("last_error_message", "webhook_disabled_reason")),
    (ProviderStatus, ("last_error_message",)),
)


def _error_texts(mentions: Mentions) -> int:
    changed = 0
    for model, names in _ERROR_COLUMNS:
        columns = [getattr(model, name) for name in names]
        changed += rewrite(
            _found(model, mentions, *columns), dict.fromkeys(names, mentions.redact_text)
        )
    return changed
