"""Find or create the contact we write to, by phone number or e-mail address.

Both go through the contact's channel identities (:mod:`app.conversations.contacts.identities`),
so a customer we first wrote to and who then writes back is one contact.
"""

from __future__ import annotations

from flask_babel import gettext as _

from app.conversations.contacts.emails import is_email_address
from app.conversations.contacts.identities import (
    EMAIL,
    PHONE,
    claim_addresses_of,
    contact_for_address,
    contact_with,
    normalise_address,
)
from app.platform.extensions import db
from app.platform.models import Contact
from app.platform.models.enums import ContactType


def contact_for_phone(
    raw_phone: str,
    profile_name: str | None = None,
    *,
    unclaimed: bool = False,
    unowned: bool = False,
    language: str | None = None,
) -> Contact:
    """The contact with this phone number; created (named after the profile) if new.

    Raises ValueError when the number cannot be read as a phone number.
    ``unclaimed``, ``unowned``: see
    :func:`app.conversations.contacts.identities.contact_for_address`.
    ``language``: the language a new contact's first message is written in.
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
            detected_language=language,
        )

    contact = contact_for_address(PHONE, phone, new_contact, unclaimed=unclaimed, unowned=unowned)
    note_profile_name(contact, profile_name)
    return contact


def note_profile_name(contact: Contact, profile_name: str | None) -> None:
    """Keep the WhatsApp profile name of a contact who had none."""
    if profile_name and not contact.whatsapp_profile_name:
        contact.whatsapp_profile_name = profile_name


def contact_for_email(
    email: str,
    name: str | None = None,
    *,
    unclaimed: bool = False,
    unowned: bool = False,
    language: str | None = None,
) -> Contact:
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
            detected_language=language,
        ),
        unclaimed=unclaimed,
        unowned=unowned,
    )


class InvalidContact(ValueError):
    """A contact detail that cannot be saved; ``field`` names which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


MAX_NAME = 255


def update_contact_details(contact: Contact, *, name: str, phone: str, email: str) -> None:
    """Change a contact's name, phone and e-mail as an agent typed them; the caller commits.

    The phone is stored in E.164 and the e-mail in lower case, as identities keep
    them; an address that is another customer's identity is refused, because an
    inbound message from it would keep going to them. Nothing is changed unless
    every field is valid. The new addresses become this contact's identities.
    """
    if contact.erased_at is not None:
        # Details typed into an erased contact would tie them to its orders again.
        raise InvalidContact("name", _("this customer's data was erased; they cannot be edited"))
    name = " ".join((name or "").split())
    if not name:
        raise InvalidContact("name", _("a name is required"))
    if len(name) > MAX_NAME:
        raise InvalidContact("name", _("at most %(count)s characters", count=MAX_NAME))
    new_phone = None
    if (phone or "").strip():
        new_phone = normalise_address(PHONE, phone)
        if new_phone is None:
            raise InvalidContact(
                "phone",
                _(
                    "%(value)s is not a phone number (try 06-12345678 or +31 6 12345678)",
                    value=repr(phone.strip()),
                ),
            )
        _refuse_if_taken("phone", PHONE, new_phone, contact)
    new_email = None
    if (email or "").strip():
        new_email = email.strip().lower()
        if not is_email_address(new_email):
            raise InvalidContact(
                "email", _("%(value)s is not an e-mail address", value=repr(email.strip()))
            )
        _refuse_if_taken("email", EMAIL, new_email, contact)
    contact.display_name = name
    contact.phone = new_phone
    contact.email = new_email
    db.session.flush()
    claim_addresses_of(contact)


def _refuse_if_taken(field: str, kind: str, address: str, contact: Contact) -> None:
    owner = contact_with(kind, address)
    if owner is not None and owner.id != contact.id:
        raise InvalidContact(
            field, _("%(address)s already belongs to another customer", address=address)
        )
