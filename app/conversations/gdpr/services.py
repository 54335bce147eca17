"""The privacy pages' questions: which contact, what we hold, the export, the confirmation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app.conversations.contacts.identities import EMAIL, PHONE, normalise_address
from app.conversations.gdpr.erasure import AUDIT_ACTION
from app.conversations.gdpr.export import ContactExport, build_export
from app.conversations.gdpr.footprint import channel_addresses, chunked, footprint_of
from app.platform.audit.records import record_change
from app.platform.extensions import db
from app.platform.models import AuditLog, CommunicationMessage, Contact, ContactIdentity, User
from app.platform.models.enums import ContactType

SEARCH_LIMIT = 50
EXPORT_ACTION = "gdpr_export"
# Typed, exactly, to confirm an erasure: the English word, or the reader's language's.
CONFIRMATION_WORD = "ERASE"


# How the privacy page names an erasure's categories (the audit entry's keys).
CATEGORY_LABELS = {
    "contact": _l("contact"),
    "identities": _l("phone numbers and e-mail addresses"),
    "organization": _l("household"),
    "addresses": _l("addresses"),
    "conversations": _l("conversations"),
    "messages": _l("messages"),
    "attachments": _l("files"),
    "mentions_in_conversations": _l("mentions in other conversations"),
    "drafts": _l("drafts"),
    "tasks": _l("tasks"),
    "notifications": _l("notifications"),
    "orders": _l("orders"),
    "order_lines": _l("order lines"),
    "order_history": _l("order history"),
    "order_drafts": _l("partner order mails"),
    "payments": _l("payments"),
    "refunds": _l("refunds"),
    "form_submissions": _l("forms"),
    "feedback": _l("feedback"),
    "sandbox_sends": _l("outbox"),
    "deliveries": _l("delivery log"),
    "platform_events": _l("platform events"),
    "webhook_events": _l("raw webhooks"),
    "audit_entries": _l("audit entries"),
    "unmatched_submissions": _l("forms and feedback not linked to them"),
    "error_texts": _l("error messages"),
}


@dataclass
class Holdings:
    """How much is stored about a contact, for the privacy page."""

    identities: int  # phone numbers and e-mail addresses, claimed or not
    conversations: int
    messages: int
    attachments: int
    orders: int
    addresses: int


@dataclass
class Erasure:
    """The last erasure of a contact, from the audit log: when, by whom, what."""

    at: object
    by: str | None
    counts: dict[str, int]


def find_contact(contact_id: uuid.UUID) -> Contact | None:
    return db.session.get(Contact, contact_id)


def find_contacts(query: str) -> list[Contact]:
    """People whose name, e-mail address or phone number matches ``query``."""
    words = " ".join((query or "").split())
    if not words:
        return []
    conditions = [
        sa.func.lower(Contact.display_name).contains(words.lower(), autoescape=True),
        sa.func.lower(Contact.email).contains(words.lower(), autoescape=True),
    ]
    for kind in (PHONE, EMAIL):
        address = normalise_address(kind, words)
        if address is not None:
            conditions.append(
                Contact.id.in_(
                    sa.select(ContactIdentity.contact_id).where(
                        ContactIdentity.kind == kind, ContactIdentity.address == address
                    )
                )
            )
            if kind == PHONE:
                conditions.append(Contact.phone == address)
    return list(
        db.session.scalars(
            sa.select(Contact)
            .where(Contact.contact_type == ContactType.PERSON, sa.or_(*conditions))
            .order_by(Contact.display_name, Contact.created_at)
            .limit(SEARCH_LIMIT)
        )
    )


def holdings(contact: Contact) -> Holdings:
    """Counts of what the export holds and an erasure would empty."""
    footprint = footprint_of(contact)
    attachments = messages = 0
    for chunk in chunked(footprint.thread_ids):
        for entries in db.session.scalars(
            sa.select(CommunicationMessage.attachments).where(
                CommunicationMessage.thread_id.in_(chunk)
            )
        ):
            messages += 1
            attachments += sum(
                1 for e in entries or [] if isinstance(e, dict) and e.get("status") == "stored"
            )
    return Holdings(
        identities=sum(len(found) for found in channel_addresses(contact).values()),
        conversations=len(footprint.thread_ids),
        messages=messages,
        attachments=attachments,
        orders=len(footprint.order_ids),
        addresses=len(footprint.addresses),
    )


def export_contact(
    contact: Contact, *, actor_id: uuid.UUID, ip_address: str | None
) -> ContactExport:
    """Read the contact's export and record it in the audit log (counts only; no commit)."""
    export = build_export(contact)
    counts = export.counts()
    record_change(
        "contacts", contact.id, EXPORT_ACTION, counts, user_id=actor_id, ip_address=ip_address
    )
    return export


def confirmation_words() -> tuple[str, ...]:
    """The words that confirm an erasure: the reader's language's, and the English one."""
    return tuple(dict.fromkeys((gettext("ERASE"), CONFIRMATION_WORD)))


def confirmation_matches(typed: str | None) -> bool:
    """Whether the admin typed a confirmation word exactly: same case, no spaces around.

    An erasure cannot be undone, so "wissen" or " WISSEN" is not taken as
    meant; the page keeps the button off until the word is exact, and this
    check stands behind it.
    """
    return typed is not None and typed in confirmation_words()


def last_erasure(contact: Contact) -> Erasure | None:
    """The most recent erasure of ``contact`` recorded in the audit log."""
    row = db.session.execute(
        sa.select(AuditLog, User.name)
        .outerjoin(User, User.id == AuditLog.changed_by_user_id)
        .where(
            AuditLog.table_name == "contacts",
            AuditLog.record_id == contact.id,
            AuditLog.action == AUDIT_ACTION,
        )
        .order_by(AuditLog.created_at.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    entry, name = row
    return Erasure(entry.created_at, name, dict((entry.changes or {}).get("erased") or {}))
