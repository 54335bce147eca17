"""Merging two contacts into one, and undoing it within a day.

Everything that points at the merged contact moves to the kept one: its
conversations and messages (through the conversation's owner,
``app.conversations.core.move_conversations``), orders (as end customer, account
or partner contact), addresses, form submissions, feedback, and its channel
identities (phone numbers, e-mail addresses, WhatsApp ids), so the next
message from any of its addresses reaches the kept contact. Identities are
unique per address, so moving one never meets another's. The merged contact's
details fill the kept one's empty fields only (:data:`FILLABLE`); nothing the
kept contact has is overwritten. The merged contact's row stays, emptied of
everything that pointed at it, so an undo has somewhere to move things back to.

``contact_merges.moved`` records the ids of every row that moved and the names
of the fields filled: the undo moves exactly those rows back (the ones still
the kept contact's) and empties the filled fields still holding the merged
contact's value. After :data:`UNDO_WINDOW` the merge stands.

**Two people at once.** Both contacts are locked in id order and checked again
under the locks (a contact merged away, or erased, meanwhile is refused), with
the senders' addresses held as inbound processing holds them, so a message
arriving mid-merge is taken before or after it, never half-way. An undo claims
its merge with one conditional ``UPDATE … WHERE undone_at IS NULL``: of two
clicks, one undoes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.conversations.contacts.identities import (
    claim_addresses_of,
    hold_addresses,
    normalise_address,
)
from app.conversations.core import move_conversations, refresh_customer_search
from app.conversations.inbox.access import SEE_EVERYTHING, can_see_contact, visible_threads_clause
from app.conversations.merges.refusals import RefusedMerge
from app.platform.audit.records import record_change
from app.platform.auth.decorators import STAFF_DESK_ROLES
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    Address,
    CommunicationMessage,
    CommunicationThread,
    Contact,
    ContactIdentity,
    ContactMerge,
    CustomerFeedback,
    FormSubmission,
    Order,
    User,
)

UNDO_WINDOW = timedelta(hours=24)
AUDIT_TABLE = ContactMerge.__tablename__
MERGE_ACTION = "contact_merge"
UNDO_ACTION = "contact_merge_undone"

# The kept contact's fields the merged one fills when they are empty, with
# their labels for the preview.
FILLABLE = {
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "whatsapp_profile_name": _l("WhatsApp name"),
    "job_title": _l("Job title"),
    "preferred_channel": _l("Preferred channel"),
    "organization_id": _l("Organization"),
}

# Rows outside the conversation that point at a contact: (key in ``moved``, model, column).
REFERENCES = (
    ("identities", ContactIdentity, "contact_id"),
    ("addresses", Address, "contact_id"),
    ("orders_as_customer", Order, "end_customer_contact_id"),
    ("orders_as_account", Order, "account_contact_id"),
    ("orders_as_partner_contact", Order, "partner_contact_id"),
    ("form_submissions", FormSubmission, "contact_id"),
    ("feedback", CustomerFeedback, "contact_id"),
)
THREADS, MESSAGES, FILLED = "threads", "messages", "filled"

REFUSALS = {
    "same_contact": _l("A contact cannot be merged with itself."),
    "not_found": _l("There is no such contact."),
    "erased": _l("This customer's personal data was erased; an erased contact cannot be merged."),
    "merged_away": _l(
        "One of these contacts was already merged into another contact; "
        "merge with that one instead."
    ),
    "different_types": _l("A person and an organization cannot be merged."),
    "no_access": _l(
        "You may not open every conversation of both contacts, so you cannot merge them. "
        "Ask your team lead or a manager."
    ),
    "not_desk": _l(
        "Only customer service agents, team leads, managers and admins may merge contacts."
    ),
    "undone": _l("This merge was undone already."),
    "expired": _l("This merge is more than 24 hours old and can no longer be undone."),
    "kept_merged_since": _l(
        "The kept contact was merged into another contact since; undo that merge first."
    ),
}


class ContactMergeRefused(RefusedMerge):
    """Why two contacts cannot be merged (or a merge undone), in words (``message``)."""

    refusals = REFUSALS


# --- who may, and with whom ---------------------------------------------------------


def may_merge_contacts(user: User, *contacts: Contact) -> bool:
    """Desk staff who may open every conversation of these contacts (see the package doc)."""
    if user.role not in STAFF_DESK_ROLES:
        return False
    if user.role in SEE_EVERYTHING:
        return True
    if not all(can_see_contact(user, contact) for contact in contacts):
        return False
    visible = visible_threads_clause(user)
    hidden = db.session.scalar(
        sa.select(CommunicationThread.id)
        .where(
            CommunicationThread.contact_id.in_([c.id for c in contacts]),
            # NULL-safe: "assigned to me" is NULL on an unassigned thread, and
            # NOT NULL would let another team's unassigned conversation through.
            sa.not_(sa.func.coalesce(visible, sa.false())) if visible is not None else sa.false(),
        )
        .limit(1)
    )
    return hidden is None


def merge_refusal_reason(actor: User, kept: Contact, merged: Contact) -> str | None:
    """Why ``actor`` cannot merge ``merged`` into ``kept`` (a key of :data:`REFUSALS`), or None.

    The preview asks it to disable the button beforehand; :func:`merge_contacts`
    asks again under its locks.
    """
    if kept.id == merged.id:
        return "same_contact"
    if actor.role not in STAFF_DESK_ROLES:
        return "not_desk"
    if kept.erased_at is not None or merged.erased_at is not None:
        return "erased"
    if kept.contact_type != merged.contact_type:
        return "different_types"
    if merged_away_ids([kept.id, merged.id]):
        return "merged_away"
    if not may_merge_contacts(actor, kept, merged):
        return "no_access"
    return None


def merged_away_ids(contact_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Those of ``contact_ids`` merged into another contact (and not undone)."""
    if not contact_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(ContactMerge.merged_contact_id).where(
                ContactMerge.merged_contact_id.in_(contact_ids), ContactMerge.undone_at.is_(None)
            )
        )
    )


# --- the preview ----------------------------------------------------------------------


@dataclass
class FieldFill:
    name: str
    label: str
    value: str


@dataclass
class MergePreview:
    """What a merge of ``merged`` into ``kept`` would move and fill."""

    kept: Contact
    merged: Contact
    counts: dict[str, int] = field(default_factory=dict)
    fills: list[FieldFill] = field(default_factory=list)
    threads: list[CommunicationThread] = field(default_factory=list)


def merge_preview(kept: Contact, merged: Contact) -> MergePreview:
    """Read only: the rows that would move and the empty fields that would be filled."""
    counts = {
        THREADS: _count(CommunicationThread, CommunicationThread.contact_id, merged.id),
        MESSAGES: _count(CommunicationMessage, CommunicationMessage.sender_contact_id, merged.id),
    }
    for key, model, column in REFERENCES:
        counts[key] = _count(model, getattr(model, column), merged.id)
    # Addresses in the merged contact's own fields become identities when it moves.
    unclaimed = [
        address
        for kind, raw in (("phone", merged.phone), ("email", merged.email))
        if (address := normalise_address(kind, raw))
        and db.session.scalar(
            sa.select(ContactIdentity.id).where(
                ContactIdentity.kind == kind, ContactIdentity.address == address
            )
        )
        is None
    ]
    counts["identities"] += len(unclaimed)
    threads = list(
        db.session.scalars(
            sa.select(CommunicationThread)
            .where(CommunicationThread.contact_id == merged.id)
            .order_by(CommunicationThread.last_message_at.desc())
            .limit(20)
        )
    )
    fills = [
        FieldFill(name, str(label), _shown(merged, name))
        for name, label in FILLABLE.items()
        if _blank(getattr(kept, name)) and not _blank(getattr(merged, name))
    ]
    return MergePreview(kept, merged, counts, fills, threads)


def _count(model, column, contact_id) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(model).where(column == contact_id)
    )


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _shown(contact: Contact, name: str) -> str:
    if name == "organization_id":
        return contact.organization.name if contact.organization else str(contact.organization_id)
    return str(getattr(contact, name))


# --- merge and undo -------------------------------------------------------------------


def merge_contacts(
    kept_id: uuid.UUID, merged_id: uuid.UUID, actor: User, *, now: datetime | None = None
) -> ContactMerge:
    """Merge contact ``merged_id`` into ``kept_id``; no commit (events after it).

    Raises :class:`ContactMergeRefused`.
    """
    if kept_id == merged_id:
        raise ContactMergeRefused("same_contact")
    now = now or utcnow()
    _hold_senders(kept_id, merged_id)
    kept, merged = _locked(kept_id, merged_id)
    if (reason := merge_refusal_reason(actor, kept, merged)) is not None:
        raise ContactMergeRefused(reason)

    # The merged contact's own phone and e-mail become identities, so they move too.
    claim_addresses_of(merged)
    moved: dict[str, list] = {}
    conversations = move_conversations(merged.id, kept.id)
    moved[THREADS] = [str(i) for i in conversations.thread_ids]
    moved[MESSAGES] = [str(i) for i in conversations.message_ids]
    for key, model, column in REFERENCES:
        moved[key] = [str(i) for i in _move(model, column, merged.id, kept.id)]
    moved[FILLED] = [
        name
        for name in FILLABLE
        if _blank(getattr(kept, name)) and not _blank(getattr(merged, name))
    ]
    for name in moved[FILLED]:
        setattr(kept, name, getattr(merged, name))
    merge = ContactMerge(
        kept_contact_id=kept.id,
        merged_contact_id=merged.id,
        merged_by_user_id=actor.id,
        merged_at=now,
        moved=moved,
    )
    db.session.add(merge)
    db.session.flush()
    refresh_customer_search(kept.id)
    record_change(
        AUDIT_TABLE,
        merge.id,
        MERGE_ACTION,
        {
            "kept_contact_id": kept.id,
            "merged_contact_id": merged.id,
            "moved": moved_counts(moved),
            "filled_fields": moved[FILLED],
        },
        user_id=actor.id,
    )
    return merge


def undo_contact_merge(
    merge_id: uuid.UUID, actor: User, *, now: datetime | None = None
) -> ContactMerge:
    """Move back exactly what the merge moved; no commit. Raises :class:`ContactMergeRefused`."""
    now = now or utcnow()
    merge = db.session.get(ContactMerge, merge_id)
    if merge is None:
        raise ContactMergeRefused("not_found")
    _hold_senders(merge.kept_contact_id, merge.merged_contact_id)
    kept, merged = _locked(merge.kept_contact_id, merge.merged_contact_id)
    if not may_merge_contacts(actor, kept, merged):
        raise ContactMergeRefused("no_access")
    if kept.erased_at is not None or merged.erased_at is not None:
        raise ContactMergeRefused("erased")
    if merged_away_ids([kept.id]):
        raise ContactMergeRefused("kept_merged_since")
    # The claim: of two undos at once, one updates the row and the other nothing.
    claimed = db.session.execute(
        sa.update(ContactMerge)
        .where(
            ContactMerge.id == merge.id,
            ContactMerge.undone_at.is_(None),
            ContactMerge.merged_at > now - UNDO_WINDOW,
        )
        .values(undone_at=now, undone_by_user_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.refresh(merge)
        raise ContactMergeRefused("undone" if merge.undone_at is not None else "expired")
    db.session.refresh(merge)
    moved = merge.moved or {}
    back: dict[str, list] = {}
    conversations = move_conversations(
        kept.id,
        merged.id,
        thread_ids=_ids(moved.get(THREADS)),
        message_ids=_ids(moved.get(MESSAGES)),
    )
    back[THREADS] = conversations.thread_ids
    back[MESSAGES] = conversations.message_ids
    for key, model, column in REFERENCES:
        back[key] = _move(model, column, kept.id, merged.id, only=_ids(moved.get(key)))
    emptied = []
    for name in moved.get(FILLED, []):
        if name in FILLABLE and getattr(kept, name) == getattr(merged, name):
            setattr(kept, name, None)
            emptied.append(name)
    db.session.flush()
    refresh_customer_search(kept.id)
    record_change(
        AUDIT_TABLE,
        merge.id,
        UNDO_ACTION,
        {
            "kept_contact_id": kept.id,
            "merged_contact_id": merged.id,
            "moved_back": moved_counts(back),
            "emptied_fields": emptied,
        },
        user_id=actor.id,
    )
    return merge


def undoable(merge: ContactMerge, now: datetime | None = None) -> bool:
    """Whether the Undo button is offered: not undone and under a day old."""
    return merge.undone_at is None and merge.merged_at > (now or utcnow()) - UNDO_WINDOW


def undo_deadline(merge: ContactMerge) -> datetime:
    return merge.merged_at + UNDO_WINDOW


def recent_merges_into(contact_id: uuid.UUID, now: datetime | None = None) -> list[ContactMerge]:
    """Merges into this contact that can still be undone, newest first."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(ContactMerge)
            .where(
                ContactMerge.kept_contact_id == contact_id,
                ContactMerge.merged_at > now - UNDO_WINDOW,
                ContactMerge.undone_at.is_(None),
            )
            .order_by(ContactMerge.merged_at.desc())
        )
    )


def moved_counts(moved: dict) -> dict[str, int]:
    """How many rows of each kind a snapshot names (for the audit log and the page)."""
    return {key: len(ids) for key, ids in moved.items() if key != FILLED and ids}


def contact_threads(contact_id: uuid.UUID) -> list[CommunicationThread]:
    """The contact's conversations, newest first (the merge page lists them)."""
    return list(
        db.session.scalars(
            sa.select(CommunicationThread)
            .where(CommunicationThread.contact_id == contact_id)
            .order_by(CommunicationThread.last_message_at.desc())
            .limit(50)
        )
    )


def _locked(kept_id: uuid.UUID, merged_id: uuid.UUID) -> tuple[Contact, Contact]:
    rows = db.session.scalars(
        sa.select(Contact)
        .where(Contact.id.in_([kept_id, merged_id]))
        .order_by(Contact.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    found = {contact.id: contact for contact in rows}
    if kept_id not in found or merged_id not in found:
        raise ContactMergeRefused("not_found")
    return found[kept_id], found[merged_id]


def _hold_senders(*contact_ids: uuid.UUID) -> None:
    """Hold both contacts' addresses as inbound processing does, in one order."""
    by_kind: dict[str, set[str]] = {}
    for kind, address in db.session.execute(
        sa.select(ContactIdentity.kind, ContactIdentity.address).where(
            ContactIdentity.contact_id.in_(contact_ids)
        )
    ):
        by_kind.setdefault(kind, set()).add(address)
    for contact in db.session.scalars(sa.select(Contact).where(Contact.id.in_(contact_ids))):
        for kind, raw in (("phone", contact.phone), ("email", contact.email)):
            if (address := normalise_address(kind, raw)) is not None:
                by_kind.setdefault(kind, set()).add(address)
    for kind in sorted(by_kind):
        hold_addresses(kind, by_kind[kind])


def _move(model, column: str, from_id, to_id, *, only: list[uuid.UUID] | None = None) -> list:
    attribute = getattr(model, column)
    query = sa.select(model.id).where(attribute == from_id)
    if only is not None:
        if not only:
            return []
        query = query.where(model.id.in_(only))
    ids = sorted(db.session.scalars(query))
    if ids:
        db.session.execute(
            sa.update(model)
            .where(model.id.in_(ids))
            .values({column: to_id})
            .execution_options(synchronize_session="fetch")
        )
    return ids


def _ids(values) -> list[uuid.UUID]:
    return [uuid.UUID(str(value)) for value in values or []]
