"""Find or create the contact behind an inbound message."""

from __future__ import annotations

import sqlalchemy as sa

from app.contacts.phones import normalise_phone
from app.extensions import db
from app.models import Contact
from app.models.enums import ContactType


def contact_for_phone(raw_phone: str, profile_name: str | None = None) -> Contact:
    """The contact with this phone number; created (named after the profile) if new.

    Raises ValueError when the number cannot be read as a phone number.
    """
    phone = normalise_phone(raw_phone)
    if phone is None:
        raise ValueError(f"not a phone number: {raw_phone!r}")
    contact = db.session.scalar(
        sa.select(Contact).where(Contact.phone == phone).order_by(Contact.created_at).limit(1)
    )
    if contact is not None:
        if profile_name and not contact.whatsapp_profile_name:
            contact.whatsapp_profile_name = profile_name
        return contact
    contact = Contact(
        contact_type=ContactType.PERSON,
        display_name=(profile_name or phone).strip()[:255],
        phone=phone,
        whatsapp_profile_name=profile_name,
    )
    db.session.add(contact)
    db.session.flush()
    return contact


def contact_for_email(email: str, name: str | None = None) -> Contact:
    """The contact with this e-mail address (case-insensitive); created if new."""
    address = (email or "").strip().lower()
    if "@" not in address:
        raise ValueError(f"not an e-mail address: {email!r}")
    contact = db.session.scalar(
        sa.select(Contact)
        .where(sa.func.lower(Contact.email) == address)
        .order_by(Contact.created_at)
        .limit(1)
    )
    if contact is not None:
        return contact
    contact = Contact(
        contact_type=ContactType.PERSON,
        display_name=(name or address).strip()[:255],
        email=address,
    )
    db.session.add(contact)
    db.session.flush()
    return contact
