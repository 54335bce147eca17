"""Finding an order by what a person types: its number, the partner's id, the
customer's name, e-mail or phone, or the postcode and house number.

One search box takes all of them, however typed: ``cc-2026-00001``,
``2026-00001``; ``06-12 34 56 78`` or ``+31 6 1234 5678`` (read by the
project's phone rule, :func:`app.contacts.phones.normalise_phone`, into the
E.164 form contacts keep); ``3511AB 12``, ``3511 ab 12``. Each reading asks an
index: the order number's unique key, the partner id's, the contacts' phone,
e-mail and (on PostgreSQL with ``pg_trgm``) name, the addresses' postcode and
number.

It lives beside the features, not in ``app.orders``: the inbox's search box asks
it too (an order number goes straight to the order, other words say how many
orders match), and the inbox may not import the orders feature, which reaches
the inbox through the channels and notifications.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.addresses.pdok import normalise_postal_code, split_house_number
from app.contacts.phones import normalise_phone
from app.extensions import db
from app.models import Address, Contact, Order

TYPED_ORDER_NUMBER = re.compile(r"(?:CC[-\s]?)?(\d{4})[-\s]?(\d{5})", re.IGNORECASE)
# "3511AB 12", "3511 ab 12-2", "3511AB": the postcode, then perhaps the house number.
POSTCODE_AND_NUMBER = re.compile(r"(\d{4}\s?[A-Za-z]{2})(?:[\s,]+(\d{1,5}.{0,6}))?")
PHONE_LIKE = re.compile(r"[+\d][\d\s().-]{5,}")


def typed_order_number(text: str) -> str | None:
    """``CC-2026-00001`` when ``text`` is an order number however typed, else None."""
    match = TYPED_ORDER_NUMBER.fullmatch(text.strip())
    return f"CC-{match[1]}-{match[2]}" if match else None


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_clause(text: str) -> sa.ColumnElement[bool]:
    """Orders that ``text`` names, by any of the keys above.

    ``orders.id IN (… UNION …)``: each reading finds its orders through its own
    index and the union is small. Written as one OR over the orders, PostgreSQL
    could use none of them and read every order (a million: 200 ms and more).
    """
    text = text.strip()
    # As the partner sent it, or in capitals (their ids are, typed in lower case).
    found: list[sa.ColumnElement[bool]] = [Order.partner_order_id.in_({text, text.upper()})]
    number = typed_order_number(text)
    if number:
        found.append(Order.order_number == number)
    customers: list[sa.ColumnElement[bool]] = []
    if PHONE_LIKE.fullmatch(text) and (phone := normalise_phone(text)):
        customers.append(Contact.phone == phone)
    if "@" in text:
        customers.append(Contact.email.in_({text, text.lower()}))
    if not any(ch.isdigit() for ch in text) and len(text) >= 2:
        customers.append(Contact.display_name.ilike(f"%{_like_escaped(text)}%", escape="\\"))
    if customers:
        found.append(
            Order.end_customer_contact_id.in_(sa.select(Contact.id).where(sa.or_(*customers)))
        )
    address = _address_clause(text)
    if address is not None:
        found.append(Order.installation_address_id.in_(sa.select(Address.id).where(address)))
    # Not correlated: each reading is its own scan of the orders, not the outer row.
    readings = [sa.select(Order.id).where(clause).correlate(None) for clause in found]
    union = sa.union(*readings) if len(readings) > 1 else readings[0]
    if db.session.get_bind().dialect.name == "postgresql":
        # Gathered once into an array, the orders are then read by their primary
        # key. As ``IN (…)`` PostgreSQL joined the found ids to the orders, and a
        # name it expected often ("Maud Bos": 10,000 guessed, 500 found) made it
        # read every order for that join: 400 ms instead of 30.
        return Order.id == sa.any_(sa.func.array(union.scalar_subquery()))
    return Order.id.in_(union)


def _address_clause(text: str) -> sa.ColumnElement[bool] | None:
    match = POSTCODE_AND_NUMBER.fullmatch(text)
    if not match:
        return None
    postcode = normalise_postal_code(match[1])
    if postcode is None:
        return None
    clause = Address.postal_code == postcode
    if match[2]:
        parts = split_house_number(match[2].strip())
        if parts is None:
            return None
        clause = sa.and_(clause, Address.house_number == parts[0])
    return clause


def order_named(text: str) -> Order | None:
    """The live order whose number ``text`` is, however typed (the inbox's search jumps to it)."""
    number = typed_order_number(text or "")
    if number is None:
        return None
    return db.session.scalar(
        sa.select(Order).where(Order.order_number == number, Order.is_test.is_(False))
    )


def count_matching(text: str) -> int:
    """How many live orders the desk's search finds for ``text`` (the inbox says so)."""
    if not (text or "").strip():
        return 0
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Order)
        .where(Order.is_test.is_(False), search_clause(text))
    )
