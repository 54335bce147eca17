"""Finding contacts for a merge: the one a page is about, its merge, and the
contacts it could be merged with."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.conversations.contacts.phones import normalise_phone
from app.conversations.inbox.access import can_see_contact
from app.conversations.merges.contacts import merged_away_ids
from app.platform.extensions import db
from app.platform.models import Contact, ContactIdentity, ContactMerge, User

SEARCH_RESULTS = 20


def find_contact(contact_id: uuid.UUID) -> Contact | None:
    return db.session.get(Contact, contact_id)


def find_contact_merge(merge_id: uuid.UUID) -> ContactMerge | None:
    return db.session.get(ContactMerge, merge_id)


def find_contacts(query: str, kept: Contact, viewer: User) -> list[Contact]:
    """Contacts ``kept`` could be merged with, by name, e-mail address or phone number."""
    term = " ".join(query.split())
    if len(term) < 2:
        return []
    identities = sa.select(ContactIdentity.contact_id)
    conditions = [
        Contact.display_name.icontains(term, autoescape=True),
        Contact.email.icontains(term, autoescape=True),
        Contact.id.in_(identities.where(ContactIdentity.address.icontains(term, autoescape=True))),
    ]
    phone = normalise_phone(term)
    if phone:
        conditions += [
            Contact.phone == phone,
            Contact.id.in_(identities.where(ContactIdentity.address == phone)),
        ]
    found = db.session.scalars(
        sa.select(Contact)
        .where(
            sa.or_(*conditions),
            Contact.id != kept.id,
            Contact.erased_at.is_(None),
            Contact.contact_type == kept.contact_type,
        )
        .order_by(Contact.display_name, Contact.created_at)
        .limit(SEARCH_RESULTS * 2)
    ).all()
    away = merged_away_ids([c.id for c in found])
    return [c for c in found if c.id not in away and can_see_contact(viewer, c)][:SEARCH_RESULTS]
