"""Find or create the contact we write to, by phone number or e-mail address.

Both go through the contact's channel identities (:mod:`app.contacts.identities`),
so a customer we first wrote to and who then writes back is one contact.
"""

from __future__ import annotations

from app.contacts.identities import EMAIL, PHONE, contact_for_address, normalise_address
from app.models import Contact
from app.models.enums import ContactType


def contact_for_phone(raw_phone: str, profile_name: str | None = None) -> Contact:
    """The contact with this phone number; created (named after the profile) if new.

    Raises ValueError when the number cannot be read as a phone number.
    """
    phone = normalise_address(PHONE, raw_phone)
    if phone is None:
        raise ValueError(f"not a phone number: {raw_phone!r}")

    def new_contact() -> Contact:
        return Contact(
            contact_type=ContactType.PERSON,
            display_name=(profile_name or phone).strip()[:255],
            phone=phone,
            whatsapp_profile_name=profile_name,
        )

    contact = contact_for_address(PHONE, phone, new_contact)
    if profile_name and not contact.whatsapp_profile_name:
        contact.whatsapp_profile_name = profile_name
    return contact


def contact_for_email(email: str, name: str | None = None) -> Contact:
    """The contact with this e-mail address (case-insensitive); created if new."""
    address = normalise_address(EMAIL, email)
    if address is None:
        raise ValueError(f"not an e-mail address: {email!r}")
    return contact_for_address(
        EMAIL,
        address,
        lambda: Contact(
            contact_type=ContactType.PERSON,
            display_name=(name or address).strip()[:255],
            email=address,
        ),
    )
