"""What we hold about one contact: the rows that point at them, and how they are mentioned.

Export and erasure read the same footprint, so what a person is given and what
is erased when they ask are the same rows:

* the contact, its channel identities, and its household organization (the
  ``customer_individual`` one intake made for them);
* their addresses: their own, their household's, their orders' installation
  addresses;
* their orders: as end customer or as the account;
* their conversations: threads with them as the customer, and threads about
  their orders (the partner's mails, the technician's photos);
* :class:`~app.conversations.contacts.mentions.Mentions`: their e-mail addresses, numbers,
  names and streets, to find them in rows that do not point at them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from app.conversations.contacts.identities import EMAIL, PHONE, normalise_address
from app.conversations.contacts.mentions import Mentions
from app.platform.extensions import db
from app.platform.models import (
    Address,
    CommunicationThread,
    Contact,
    ContactIdentity,
    Order,
    OrderDraft,
    Organization,
)
from app.platform.models.enums import OrganizationType


@dataclass
class Footprint:
    contact: Contact
    identities: list[ContactIdentity]
    household: Organization | None
    addresses: list[Address]
    order_ids: list[uuid.UUID]
    thread_ids: list[uuid.UUID]
    # Partner mails an order of theirs was read from (in the partner's thread).
    order_mail_ids: list[uuid.UUID]
    mentions: Mentions


CHUNK = 500


def chunked(ids: Sequence[uuid.UUID]) -> Iterator[Sequence[uuid.UUID]]:
    """``ids`` in slices small enough for one ``IN (…)``."""
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def channel_addresses(contact: Contact) -> dict[str, set[str]]:
    """The contact's phone numbers and e-mail addresses, as identities store them."""
    found: dict[str, set[str]] = {PHONE: set(), EMAIL: set()}
    for kind, address in db.session.execute(
        sa.select(ContactIdentity.kind, ContactIdentity.address).where(
            ContactIdentity.contact_id == contact.id
        )
    ):
        found.setdefault(kind, set()).add(address)
    for kind, raw in ((PHONE, contact.phone), (EMAIL, contact.email)):
        address = normalise_address(kind, raw)
        if address is not None:
            found[kind].add(address)
    return found


def footprint_of(contact: Contact) -> Footprint:
    """Everything that points at ``contact``, read now (call under the erasure's locks)."""
    identities = list(
        db.session.scalars(
            sa.select(ContactIdentity)
            .where(ContactIdentity.contact_id == contact.id)
            .order_by(ContactIdentity.kind, ContactIdentity.created_at)
        )
    )
    orders = list(
        db.session.execute(
            sa.select(Order.id, Order.installation_address_id)
            .where(
                sa.or_(
                    Order.end_customer_contact_id == contact.id,
                    Order.account_contact_id == contact.id,
                )
            )
            .order_by(Order.created_at)
        )
    )
    order_ids = [order_id for order_id, _ in orders]
    household = _household(contact)
    address_filters = [
        Address.contact_id == contact.id,
        Address.id.in_([a for _, a in orders if a is not None]),
    ]
    if household is not None:
        address_filters.append(Address.organization_id == household.id)
    addresses = list(
        db.session.scalars(
            sa.select(Address).where(sa.or_(*address_filters)).order_by(Address.created_at)
        )
    )
    thread_filters = [CommunicationThread.contact_id == contact.id]
    if order_ids:
        thread_filters.append(CommunicationThread.order_id.in_(order_ids))
    thread_ids = list(
        db.session.scalars(
            sa.select(CommunicationThread.id)
            .where(sa.or_(*thread_filters))
            .order_by(CommunicationThread.created_at)
        )
    )
    order_mail_ids = (
        list(
            db.session.scalars(
                sa.select(OrderDraft.message_id).where(
                    OrderDraft.order_id.in_(order_ids), OrderDraft.message_id.is_not(None)
                )
            )
        )
        if order_ids
        else []
    )
    addresses_by_kind = channel_addresses(contact)
    mentions = Mentions.of(
        emails=addresses_by_kind.get(EMAIL, ()),
        phones=addresses_by_kind.get(PHONE, ()),
        names=[
            contact.display_name,
            contact.whatsapp_profile_name,
            " ".join(filter(None, [contact.first_name, contact.last_name])),
            contact.last_name,
            contact.first_name,
        ]
        if contact.erased_at is None
        else [],
        streets=[_street_line(address) for address in addresses],
        postal_codes=[address.postal_code for address in addresses],
    )
    return Footprint(
        contact=contact,
        identities=identities,
        household=household,
        addresses=addresses,
        order_ids=order_ids,
        thread_ids=thread_ids,
        order_mail_ids=order_mail_ids,
        mentions=mentions,
    )


def _household(contact: Contact) -> Organization | None:
    """The private customer's own organization, if no one else belongs to it."""
    organization = contact.organization
    if organization is None or organization.organization_type not in (
        OrganizationType.CUSTOMER_INDIVIDUAL,
    ):
        return None
    others = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Contact)
        .where(
            Contact.organization_id == organization.id,
            Contact.id != contact.id,
            Contact.erased_at.is_(None),
        )
    )
    return organization if not others else None


def _street_line(address: Address) -> str | None:
    if not address.street or not address.house_number:
        return None
    return f"{address.street} {address.house_number}{address.house_number_addition or ''}"
