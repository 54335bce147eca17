"""Organizations, contacts and addresses: who we work for and where."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.database import Entity, enum_column
from app.platform.extensions import db
from app.platform.models.enums import (
    AddressType,
    AddressValidation,
    BusinessEntity,
    ContactType,
    OrganizationType,
)


class Organization(Entity, db.Model):
    """A customer household or business, a partner, a supplier, or ChargeCars itself.

    Partners form a channel hierarchy (master partner → regional partner → dealer)
    through ``parent_organization_id``; commissions are paid per level of it.
    """

    __tablename__ = "organizations"

    name: so.Mapped[str] = so.mapped_column(sa.String(200), index=True)
    organization_type: so.Mapped[OrganizationType] = so.mapped_column(
        enum_column(OrganizationType), index=True
    )
    business_entity: so.Mapped[BusinessEntity] = so.mapped_column(
        enum_column(BusinessEntity), default=BusinessEntity.CHARGECARS
    )
    parent_organization_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    kvk_number: so.Mapped[Optional[str]] = so.mapped_column(sa.String(8))
    vat_number: so.Mapped[Optional[str]] = so.mapped_column(sa.String(20))
    email: so.Mapped[Optional[str]] = so.mapped_column(sa.String(254))
    phone: so.Mapped[Optional[str]] = so.mapped_column(sa.String(20))
    website: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    is_active: so.Mapped[bool] = so.mapped_column(default=True)
    # Commission percentage per channel level for partners: {"1": 5.0, "2": 3.0}.
    commission_rates: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    extra: so.Mapped[dict[str, Any]] = so.mapped_column("metadata", default=dict)

    parent: so.Mapped[Optional["Organization"]] = so.relationship(
        remote_side="Organization.id", back_populates="children"
    )
    children: so.Mapped[list["Organization"]] = so.relationship(back_populates="parent")
    contacts: so.Mapped[list["Contact"]] = so.relationship(
        back_populates="organization", foreign_keys="Contact.organization_id"
    )

    def channel_chain(self) -> list["Organization"]:
        """This organization and its ancestors, nearest first (cycle-safe)."""
        chain: list[Organization] = []
        seen: set[uuid.UUID] = set()
        node: Organization | None = self
        while node is not None and node.id not in seen:
            chain.append(node)
            seen.add(node.id)
            node = node.parent
        return chain


# What an erased person's contact is called (app/conversations/gdpr/erasure.py): stored in English
# for the API and search, shown to staff in their language (app/platform/ui.py, contact_name).
ERASED_CONTACT_NAME = "Erased contact"


class Contact(Entity, db.Model):
    """A person, or an organization acting as a party on an order.

    Phone numbers are stored in E.164 (``+31612345678``) so inbound WhatsApp and
    SMS senders match without guessing at formats.
    """

    __tablename__ = "contacts"
    # The order desk finds a customer by any part of the name (ILIKE '%…%'): a
    # trigram index answers that on PostgreSQL (migration 0067 adds pg_trgm).
    __table_args__ = (
        sa.Index(
            "ix_contacts_display_name_trgm",
            "display_name",
            postgresql_using="gin",
            postgresql_ops={"display_name": "gin_trgm_ops"},
        ),
    )

    contact_type: so.Mapped[ContactType] = so.mapped_column(
        enum_column(ContactType), default=ContactType.PERSON
    )
    organization_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    first_name: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))
    last_name: so.Mapped[Optional[str]] = so.mapped_column(sa.String(150))
    display_name: so.Mapped[str] = so.mapped_column(sa.String(255), index=True)
    email: so.Mapped[Optional[str]] = so.mapped_column(sa.String(254), index=True)
    phone: so.Mapped[Optional[str]] = so.mapped_column(sa.String(20), index=True)
    whatsapp_profile_name: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    job_title: so.Mapped[Optional[str]] = so.mapped_column(sa.String(120))
    is_primary: so.Mapped[bool] = so.mapped_column(default=False)
    preferred_channel: so.Mapped[Optional[str]] = so.mapped_column(sa.String(32))
    locale: so.Mapped[str] = so.mapped_column(sa.String(10), default="nl")
    # The language the customer last wrote in, detected from their own text
    # (app/conversations/languages); beside ``locale``, which someone chose, so neither overwrites
    # the other. ISO 639-1, None until a message was clear enough to tell.
    detected_language: so.Mapped[Optional[str]] = so.mapped_column(sa.String(8))
    extra: so.Mapped[dict[str, Any]] = so.mapped_column("metadata", default=dict)
    # When an admin erased the person's data (GDPR, app/conversations/gdpr): the row stays, as
    # orders and conversations keep pointing at it, but holds nothing personal.
    erased_at: so.Mapped[Optional[datetime]] = so.mapped_column()

    organization: so.Mapped[Optional[Organization]] = so.relationship(
        back_populates="contacts", foreign_keys=[organization_id]
    )


# A word of a name: letters and digits between spaces, hyphens, apostrophes, dots.
NAME_WORD_SEPARATORS = re.compile(r"[\W_]+")
WORD_LENGTH = 100


def name_words(name: str | None) -> set[str]:
    """The words of ``name`` in lower case, as :class:`ContactNameWord` keeps them."""
    return {word[:WORD_LENGTH] for word in NAME_WORD_SEPARATORS.split((name or "").lower()) if word}


class ContactNameWord(db.Model):
    """One word of a contact's name, for finding orders by the start of any word of it.

    The order desk's search: "bos" finds "Bos", "van den Bos" and "Bosman". A
    range of this key is read from the index alone, where the trigram index on
    ``display_name`` returns row addresses that each cost a visit of the table
    (19,600 for "bos" at a million orders). Kept by the listeners below on every
    insert and change of a contact's name (a merge that fills in the kept
    contact's name included); an erased contact keeps no word, and a deleted one
    loses its words with it.
    """

    __tablename__ = "contact_name_words"
    # By contact too: rewritten per contact, and an order's customer's words
    # looked at when a name matches too many customers to hash (app.orders.core.search).
    __table_args__ = (sa.Index("ix_contact_name_words_contact_word", "contact_id", "word"),)

    word: so.Mapped[str] = so.mapped_column(sa.String(WORD_LENGTH), primary_key=True)
    contact_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )


@sa.event.listens_for(Contact, "after_insert")
def _note_name_words(mapper, connection, contact: Contact) -> None:
    # A contact just inserted has no words to clear (a statement on every first message).
    _write_name_words(connection, contact, fresh=True)


@sa.event.listens_for(Contact, "after_update")
def _renew_name_words(mapper, connection, contact: Contact) -> None:
    """Rewritten when the name changes or the person is erased (which leaves no word)."""
    state = sa.inspect(contact)
    if state.attrs.display_name.history.has_changes() or (
        state.attrs.erased_at.history.has_changes()
    ):
        _write_name_words(connection, contact)


def _write_name_words(connection, contact: Contact, *, fresh: bool = False) -> None:
    words = ContactNameWord.__table__
    if not fresh:
        connection.execute(sa.delete(words).where(words.c.contact_id == contact.id))
    kept = set() if contact.erased_at is not None else name_words(contact.display_name)
    if kept:
        connection.execute(
            sa.insert(words), [{"word": word, "contact_id": contact.id} for word in sorted(kept)]
        )


class ContactIdentity(Entity, db.Model):
    """A customer's address on a channel (a phone number, an e-mail address).

    Each address belongs to exactly one contact: the unique key is what keeps a
    burst of messages from a new sender, processed by several workers at once,
    from becoming two contacts. Phone numbers are E.164, e-mail addresses lower
    case; WhatsApp and SMS share the ``phone`` kind, because one number is one
    person on both.
    """

    __tablename__ = "contact_identities"
    __table_args__ = (sa.UniqueConstraint("kind", "address"),)

    contact_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    address: so.Mapped[str] = so.mapped_column(sa.String(254))


class Address(Entity, db.Model):
    """A Dutch address, checked against the BAG through PDOK Locatieserver.

    ``raw_input`` keeps what the sender typed, so a failed validation never loses
    the original.
    """

    __tablename__ = "addresses"
    __table_args__ = (
        sa.Index("ix_addresses_postcode_number", "postal_code", "house_number"),
        # The order desk's postcode area: the area's address ids from the index alone.
        sa.Index("ix_addresses_postcode_id", "postal_code", "id"),
        # The periodic look-up's queue: the few addresses without coordinates.
        sa.Index(
            "ix_addresses_unlocated",
            "location_checked_at",
            postgresql_where=sa.text("latitude IS NULL"),
            sqlite_where=sa.text("latitude IS NULL"),
        ),
    )

    organization_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    contact_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    address_type: so.Mapped[AddressType] = so.mapped_column(
        enum_column(AddressType), default=AddressType.INSTALLATION
    )
    street: so.Mapped[Optional[str]] = so.mapped_column(sa.String(200))
    house_number: so.Mapped[Optional[str]] = so.mapped_column(sa.String(10))
    house_number_addition: so.Mapped[Optional[str]] = so.mapped_column(sa.String(10))
    postal_code: so.Mapped[Optional[str]] = so.mapped_column(sa.String(7))
    city: so.Mapped[Optional[str]] = so.mapped_column(sa.String(120))
    province: so.Mapped[Optional[str]] = so.mapped_column(sa.String(60))
    country: so.Mapped[str] = so.mapped_column(sa.String(2), default="NL")
    bag_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(20), index=True)
    latitude: so.Mapped[Optional[Decimal]] = so.mapped_column(sa.Numeric(9, 6))
    longitude: so.Mapped[Optional[Decimal]] = so.mapped_column(sa.Numeric(9, 6))
    validation_state: so.Mapped[AddressValidation] = so.mapped_column(
        enum_column(AddressValidation), default=AddressValidation.UNVALIDATED
    )
    validation_message: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    validated_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    # When PDOK was last asked where an address without coordinates is (the periodic
    # look-up in app.orders.addresses.locating); kept so a place PDOK does not know is
    # asked again only now and then.
    location_checked_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    raw_input: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)

    def one_line(self) -> str:
        return _one_line(self)


# The parts of an address shown to whoever sent it (the partner's views).
SENT_ADDRESS_FIELDS = ("street", "house_number", "house_number_addition", "postal_code", "city")


@dataclass(frozen=True)
class SentAddress:
    """An installation address kept as a value on its order, not as a row.

    A partner's test order keeps its address this way, so nothing
    tried in a sandbox lands on a live customer's record; it reads like an
    :class:`Address` where a partner's view shows one.
    """

    street: Optional[str] = None
    house_number: Optional[str] = None
    house_number_addition: Optional[str] = None
    postal_code: Optional[str] = None
    city: Optional[str] = None

    @classmethod
    def from_json(cls, kept: dict[str, Any]) -> SentAddress:
        return cls(**{key: kept.get(key) for key in SENT_ADDRESS_FIELDS})

    def one_line(self) -> str:
        return _one_line(self)


def _one_line(address: Address | SentAddress) -> str:
    number = " ".join(p for p in (address.house_number, address.house_number_addition) if p)
    street = " ".join(p for p in (address.street, number) if p)
    place = " ".join(p for p in (address.postal_code, address.city) if p)
    return ", ".join(p for p in (street, place) if p)
