"""One contact per channel address, however many workers meet a new sender at once.

A customer's WhatsApp or SMS number and e-mail address are *identities*
(``contact_identities``, unique on kind and address). Finding the contact
behind an inbound message reads the identity; a new sender gets a new contact
and its identity in one savepoint, inserted with ``ON CONFLICT DO NOTHING``: when
another worker claimed the address first, ours is rolled back and theirs
returned. Callers that must also keep one *conversation* per sender hold
:func:`hold_address` for the transaction first (see ``app.conversations.core``).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from app.conversations.contacts.phones import normalise_phone
from app.platform.database import hold_advisory_lock, insert_unless_taken, utcnow
from app.platform.extensions import db
from app.platform.models import Contact, ContactIdentity
from app.platform.rows import write_new

PHONE = "phone"
EMAIL = "email"


def normalise_address(kind: str, raw: str | None) -> str | None:
    """The address as identities store it (E.164, lower-case mail); None if unreadable."""
    if kind == PHONE:
        return normalise_phone(raw)
    address = (raw or "").strip().lower()
    return address if "@" in address and len(address) <= 254 else None


def hold_address(kind: str, address: str) -> None:
    """Serialise, until the commit, everything done for this sender in any worker."""
    hold_addresses(kind, [address])


def hold_addresses(kind: str, addresses: Iterable[str]) -> None:
    # Sorted, so two transactions holding several senders never wait on each other.
    for address in sorted(set(addresses)):
        hold_advisory_lock(db.session, f"sender:{kind}:{address}")


def contact_with(kind: str, address: str) -> Contact | None:
    """The contact this address belongs to, if any."""
    return db.session.scalar(
        sa.select(Contact)
        .join(ContactIdentity, ContactIdentity.contact_id == Contact.id)
        .where(ContactIdentity.kind == kind, ContactIdentity.address == address)
    )


def contact_for_address(
    kind: str,
    address: str,
    new_contact: Callable[[], Contact],
    *,
    unclaimed: bool = False,
    unowned: bool = False,
) -> Contact:
    """The contact behind ``address``; ``new_contact()`` (not yet added) if there is none.

    A contact that has the address in its own fields but no identity yet (made
    by a partner's order, a form, an import) is given the identity, so the
    customer stays one contact across the ways they reach us. ``unclaimed``:
    the caller found no identity for the address in this transaction, holding
    the address (it is not read again). ``unowned``: it found no contact with the
    address in its own fields either (with ``unclaimed`` only).
    """
    contact = None if unclaimed else contact_with(kind, address)
    if contact is not None:
        return contact
    existing = None if unclaimed and unowned else _contact_by_field(kind, address)
    if existing is not None:
        if claim(kind, address, existing.id):
            return existing
        return contact_with(kind, address) or existing
    if unclaimed:
        # The caller holds the address, so the claim below all but always wins:
        # the rare loser takes its contact back itself, which saves every new
        # sender the savepoint's two round trips.
        contact = new_contact()
        write_new(contact)
        if claim(kind, address, contact.id):
            _note_made(contact)
            return contact
        db.session.delete(contact)
        db.session.flush()
    else:
        savepoint = db.session.begin_nested()
        contact = new_contact()
        db.session.add(contact)
        db.session.flush()
        if claim(kind, address, contact.id):
            savepoint.commit()
            return contact
        savepoint.rollback()
    # Another worker's contact won; it is committed, or this read would have waited.
    winner = contact_with(kind, address)
    if winner is None:
        raise RuntimeError(f"identity {kind}:{address} conflicted but cannot be read")
    return winner


# session.info key: the contacts made in the session's current transaction.
_MADE = "contacts_made"


def _note_made(contact: Contact) -> None:
    transaction = db.session().get_transaction()
    made = db.session.info.get(_MADE)
    if made is None or made[0] is not transaction:
        made = db.session.info[_MADE] = (transaction, set())
    made[1].add(contact.id)


def made_in_this_transaction(contact: Contact) -> bool:
    """Whether :func:`contact_for_address` made ``contact`` just now, in this transaction
    (so nothing of theirs exists yet: no conversation to look for)."""
    made = db.session.info.get(_MADE)
    return made is not None and made[0] is db.session().get_transaction() and contact.id in made[1]


def known_contact(kind: str, address: str) -> Contact | None:
    """The contact :func:`contact_for_address` would return, read only: None if it would
    create one. For checks that must come before anything is written."""
    return contact_with(kind, address) or _contact_by_field(kind, address)


def _contact_by_field(kind: str, address: str) -> Contact | None:
    """The oldest contact with ``address`` in its own phone or e-mail field."""
    column = Contact.phone if kind == PHONE else sa.func.lower(Contact.email)
    return db.session.scalar(
        sa.select(Contact).where(column == address).order_by(Contact.created_at).limit(1)
    )


def claim(kind: str, address: str, contact_id: uuid.UUID) -> bool:
    """Give ``address`` to ``contact_id`` unless it belongs to someone; True if it is theirs now."""
    now = utcnow()
    values = {
        "id": uuid.uuid4(),
        "created_at": now,
        "updated_at": now,
        "contact_id": contact_id,
        "kind": kind,
        "address": address,
    }
    statement = _claim_statement()
    return db.session.execute(statement, values).scalar() is not None


@functools.cache
def _claim_statement() -> sa.TextClause:
    # Built once per process, and cached by SQLAlchemy: every new sender claims an
    # address. The mapped class's INSERT with its values as parameters took the
    # ORM's bulk path, and a dialect insert with ON CONFLICT has no cache key;
    # both compiled the statement anew on every claim.
    return insert_unless_taken(ContactIdentity.__table__, ("kind", "address"), "contact_id")


@dataclass(frozen=True)
class HeldAddress:
    """An address of a contact's own fields that is another contact's identity."""

    kind: str
    address: str
    owner_id: uuid.UUID


def claim_addresses_of(contact: Contact) -> list[HeldAddress]:
    """Give a contact the identities of its phone and e-mail that nobody has yet.

    An address already another contact's stays theirs (messages from it keep
    reaching the conversations they have); those are returned, for callers
    that report them.
    """
    held: list[HeldAddress] = []
    for kind, raw in ((PHONE, contact.phone), (EMAIL, contact.email)):
        address = normalise_address(kind, raw)
        if address is None or claim(kind, address, contact.id):
            continue
        owner_id = _owner_id(kind, address)
        if owner_id is not None and owner_id != contact.id:
            held.append(HeldAddress(kind, address, owner_id))
    return held


def _owner_id(kind: str, address: str) -> uuid.UUID | None:
    return db.session.scalar(
        sa.select(ContactIdentity.contact_id).where(
            ContactIdentity.kind == kind, ContactIdentity.address == address
        )
    )
