"""Who wrote: a customer's address held for the transaction, looked up and made a contact.

:func:`app.conversations.core.inbound.record_inbound` starts here. The address is
held (a PostgreSQL advisory lock) so one customer's burst is taken one message
at a time by however many workers; one statement then tells the contact behind
it, their open conversation and whether the message is stored already; a new
sender's contact is made with one unique key per address.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.conversations.contacts.identities import (
    PHONE,
    hold_address,
    hold_addresses,
    normalise_address,
)
from app.conversations.contacts.services import contact_for_email, contact_for_phone
from app.conversations.core.threads import CLOSED
from app.platform.extensions import db
from app.platform.models import (
    CommunicationChannel,
    CommunicationMessage,
    CommunicationThread,
    Contact,
    ContactIdentity,
)


@dataclass(frozen=True)
class Sender:
    """Who wrote: an address on the channel (``phone`` or ``email``) and a name."""

    kind: str
    address: str
    name: str | None = None
    # WhatsApp's profile name, kept apart from the name an agent may have typed.
    whatsapp_profile_name: str | None = None


def hold_senders(senders: list[Sender]) -> None:
    """Hold several senders' addresses at once, in one order (an event with many)."""
    by_kind: dict[str, list[str]] = {}
    for sender in senders:
        address = normalise_address(sender.kind, sender.address)
        if address is not None:
            by_kind.setdefault(sender.kind, []).append(address)
    for kind in sorted(by_kind):
        hold_addresses(kind, by_kind[kind])


def held_address(sender: Sender) -> str:
    address = normalise_address(sender.kind, sender.address)
    if address is None:
        raise ValueError(f"not a {sender.kind} address: {sender.address!r}")
    hold_address(sender.kind, address)
    return address


def make_contact(
    sender: Sender,
    address: str,
    *,
    unclaimed: bool = False,
    unowned: bool = False,
    language: str | None = None,
) -> Contact:
    held = {"unclaimed": unclaimed, "unowned": unowned, "language": language}
    if sender.kind == PHONE:
        return contact_for_phone(address, sender.whatsapp_profile_name, **held)
    return contact_for_email(address, sender.name, **held)


@dataclass
class Known:
    """What one statement tells about a sender: their contact (None: nobody has the
    address yet), open conversation, and whether the message is stored already."""

    contact: Contact | None
    thread: CommunicationThread | None
    duplicate: bool
    # Some contact has the address in its own phone or e-mail field (an order's).
    in_a_field: bool


def known_sender(
    channel: CommunicationChannel,
    sender: Sender,
    address: str,
    external_message_id: str,
    *,
    with_open_thread: bool,
) -> Known:
    """The contact behind the held address, with (``with_open_thread``: for a message
    that names no provider conversation) their open thread on ``channel``, and whether
    the message is stored already, in one round trip.

    The steady case, a customer writing again in their open conversation, costs
    this one statement instead of three (identity, duplicate, thread); a new
    sender's duplicate check rides on it too.
    """
    row = db.session.execute(
        _look_up_statement(with_open_thread, sender.kind),
        {
            "channel_id": channel.id,
            "external_message_id": external_message_id,
            "kind": sender.kind,
            "address": address,
        },
    ).one()
    return Known(contact=row[0], thread=row[1], duplicate=bool(row[2]), in_a_field=bool(row[3]))


@functools.cache
def _look_up_statement(with_open_thread: bool, kind: str) -> sa.Select:
    # Built once per process: a statement object remembers its cache key, which
    # SQLAlchemy otherwise works out anew on every message.
    channel_id = sa.bindparam("channel_id")
    duplicate = (
        sa.select(CommunicationMessage.id)
        .where(
            CommunicationMessage.channel_id == channel_id,
            CommunicationMessage.external_message_id == sa.bindparam("external_message_id"),
        )
        .exists()
        .label("duplicate")
    )
    # A new sender's contact may exist already, made by a partner's order or a form
    # with this address in its own field (identities.contact_for_address). Asked
    # here for a phone (an index look-up); an e-mail field is compared in lower
    # case, which no index serves, so a new e-mail sender's contact_for_address
    # looks once instead of every message paying for it here.
    if kind == PHONE:
        other = so.aliased(Contact)
        in_a_field = sa.exists().where(other.phone == sa.bindparam("address"))
    else:
        in_a_field = sa.true()
    in_a_field = in_a_field.label("in_a_field")
    # Always one row: the address's contact (and thread) joined to it if there is one.
    one = sa.select(sa.literal_column("1").label("one")).subquery("one")
    sender = sa.join(Contact, ContactIdentity, ContactIdentity.contact_id == Contact.id)
    held = sa.and_(
        ContactIdentity.kind == sa.bindparam("kind"),
        ContactIdentity.address == sa.bindparam("address"),
    )
    if with_open_thread:
        # The same choice as latest_open_thread, for the contact of this row.
        open_thread_id = (
            sa.select(CommunicationThread.id)
            .where(
                CommunicationThread.channel_id == channel_id,
                CommunicationThread.contact_id == Contact.id,
                CommunicationThread.status.not_in(CLOSED),
            )
            .order_by(CommunicationThread.last_message_at.desc())
            .limit(1)
            .correlate(Contact)
            .scalar_subquery()
        )
        return (
            sa.select(Contact, CommunicationThread, duplicate, in_a_field)
            .select_from(one)
            .outerjoin(sender, held)
            .outerjoin(CommunicationThread, CommunicationThread.id == open_thread_id)
        )
    return (
        sa.select(Contact, sa.null(), duplicate, in_a_field)
        .select_from(one)
        .outerjoin(sender, held)
    )
