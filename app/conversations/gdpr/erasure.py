"""Erasing a person (GDPR article 17): one transaction, safe to run again.

The contact row stays (orders, commissions and conversations point at it) but
is emptied and marked ``erased_at``; its channel identities are deleted, so
the next message from their number or address is a stranger's and makes a new
contact. Their conversations are emptied and closed by the conversation's
owner (:mod:`app.conversations.core.erasure`), their orders keep what the books need
(:mod:`app.conversations.gdpr.orders`), and records elsewhere lose them
(:mod:`app.conversations.gdpr.sweeps`).
Tombstones of their identifiers keep a CRM sync from bringing them back
(:mod:`app.conversations.gdpr.tombstones`).

**Two workers.** The erasure first holds each of the person's addresses the way
inbound processing does (``hold_addresses``, a PostgreSQL advisory lock per
address), then reads everything. A WhatsApp message from their number being
processed meanwhile either commits first, and is erased with the rest, or waits
and then finds no identity: it opens a new contact and conversation.

**Crashes.** Everything in the database happens in the caller's one
transaction: a process that dies mid-way leaves nothing changed. Files are
removed after the commit, and every run removes the files still there, so
running it again finishes an erasure whose process died in between. A second
erasure of an erased contact changes nothing and records nothing.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa

from app.conversations.contacts.identities import hold_addresses
from app.conversations.core import erase_messages, erase_threads, redact_mentions
from app.conversations.gdpr.footprint import Footprint, channel_addresses, chunked, footprint_of
from app.conversations.gdpr.orders import erase_order_details, redact_order_drafts
from app.conversations.gdpr.rows import constant, rewrite
from app.conversations.gdpr.sweeps import sweep
from app.conversations.gdpr.tombstones import bury
from app.platform.audit.records import record_change
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, Contact, ContactIdentity, CsatResponse
from app.platform.models.crm import ERASED_CONTACT_NAME
from app.platform.models.enums import ContactType

ERASED_NAME = ERASED_CONTACT_NAME
ERASED_HOUSEHOLD = "Erased customer"
AUDIT_ACTION = "gdpr_erase"


class NotAPerson(ValueError):
    """Only people have personal data to erase; a partner's contact is a business record."""


@dataclass
class ErasureReport:
    """What one erasure changed, per category (only categories with something in them)."""

    contact_id: uuid.UUID
    counts: dict[str, int] = field(default_factory=dict)
    erased_before: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.counts)


def erase_contact(
    contact_id: uuid.UUID, *, actor_id: uuid.UUID | None, ip_address: str | None = None
) -> ErasureReport:
    """Erase the person's data (no commit: the caller's ``commit()`` removes the files).

    Raises ``LookupError`` for an unknown contact and :class:`NotAPerson` for an
    organization's contact. The audit entry names the contact id and counts only.
    """
    contact = db.session.get(Contact, contact_id)
    if contact is None:
        raise LookupError(f"no contact {contact_id}")
    if contact.contact_type != ContactType.PERSON:
        raise NotAPerson("only a person's data can be erased")
    addresses = channel_addresses(contact)
    for kind, held in sorted(addresses.items()):
        hold_addresses(kind, held)
    # Read again under the locks (and the row lock): what committed meanwhile counts.
    contact = db.session.scalars(
        sa.select(Contact)
        .where(Contact.id == contact_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    erased_before = contact.erased_at is not None
    # Before the row is emptied: what the tombstones remember
    # (:mod:`app.conversations.gdpr.tombstones`).
    bury(contact, addresses)
    footprint = footprint_of(contact)
    counts: Counter[str] = Counter()
    counts.update(_erase_contact_row(footprint))
    conversations = erase_threads(footprint.thread_ids)
    mails, mail_files = erase_messages(footprint.order_mail_ids)
    counts.update(
        conversations=conversations.conversations,
        messages=conversations.messages + mails,
        attachments=conversations.attachments + mail_files,
        mentions_in_conversations=redact_mentions(
            footprint.mentions, skip_thread_ids=footprint.thread_ids
        ),
    )
    counts.update(erase_order_details(footprint))
    counts.update(order_drafts=redact_order_drafts(footprint.mentions))
    counts.update(satisfaction_comments=_erase_satisfaction_comments(footprint))
    counts.update(sweep(footprint, _message_ids(footprint)))
    report = ErasureReport(
        contact.id, {key: value for key, value in sorted(counts.items()) if value}, erased_before
    )
    if report.changed:
        record_change(
            "contacts",
            contact.id,
            AUDIT_ACTION,
            {"erased": report.counts},
            user_id=actor_id,
            ip_address=ip_address,
        )
    return report


def _erase_contact_row(footprint: Footprint) -> dict[str, int]:
    contact = footprint.contact
    counts = {"contact": 0, "identities": len(footprint.identities), "organization": 0}
    if contact.erased_at is None:
        contact.first_name = contact.last_name = None
        contact.display_name = ERASED_NAME
        contact.email = contact.phone = None
        contact.whatsapp_profile_name = contact.job_title = contact.preferred_channel = None
        contact.detected_language = None  # told from their messages, erased too
        contact.extra = {}
        contact.erased_at = utcnow()
        counts["contact"] = 1
    if footprint.identities:
        db.session.execute(
            sa.delete(ContactIdentity)
            .where(ContactIdentity.contact_id == contact.id)
            .execution_options(synchronize_session=False)
        )
    if footprint.household is not None:
        counts["organization"] = rewrite(
            [footprint.household],
            {
                "name": constant(ERASED_HOUSEHOLD),
                "email": constant(None),
                "phone": constant(None),
                "website": constant(None),
                "kvk_number": constant(None),
                "vat_number": constant(None),
                "extra": constant({}),
            },
        )
    db.session.flush()
    return counts


def _erase_satisfaction_comments(footprint: Footprint) -> int:
    """Her comments on our service (the ratings stay: numbers, for the figures)."""
    return db.session.execute(
        sa.update(CsatResponse)
        .where(CsatResponse.contact_id == footprint.contact.id, CsatResponse.comment.is_not(None))
        .values(comment=None)
        .execution_options(synchronize_session=False)
    ).rowcount


def _message_ids(footprint: Footprint) -> list[uuid.UUID]:
    ids = list(footprint.order_mail_ids)
    for chunk in chunked(footprint.thread_ids):
        ids += db.session.scalars(
            sa.select(CommunicationMessage.id).where(CommunicationMessage.thread_id.in_(chunk))
        )
    return ids
