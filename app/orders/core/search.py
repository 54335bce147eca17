"""Finding an order by what a person types: its number, the partner's id, the
customer's name, e-mail or phone, or the postcode and house number.

One search box takes all of them, however typed: ``cc-2026-00001``,
``2026-00001``; ``06-12 34 56 78`` or ``+31 6 1234 5678`` (read by the
project's phone rule, :func:`app.conversations.contacts.phones.normalise_phone`, into the
E.164 form contacts keep); ``3511AB 12``, ``3511 ab 12``. Each reading asks an
index: the order number's unique key, the partner id's, the contacts' phone,
e-mail and the words of their names (each typed word the start of one:
"bos" finds "van den Bos" and "Bosman"), the addresses' postcode and number.

It lives beside the features, not in ``app.orders.core``: the inbox's search box asks
it too (an order number goes straight to the order, other words say how many
orders match), and the inbox may not import the orders feature, which reaches
the inbox through the channels and notifications.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from app.conversations.contacts.phones import normalise_phone
from app.orders.addresses.pdok import normalise_postal_code, split_house_number
from app.platform.extensions import db
from app.platform.models import Address, Contact, ContactNameWord, Order
from app.platform.models.crm import name_words

TYPED_ORDER_NUMBER = re.compile(r"(?:CC[-\s]?)?(\d{4})[-\s]?(\d{5})", re.IGNORECASE)
# "3511AB 12", "3511 ab 12-2", "3511AB": the postcode, then perhaps the house number.
POSTCODE_AND_NUMBER = re.compile(r"(\d{4}\s?[A-Za-z]{2})(?:[\s,]+(\d{1,5}.{0,6}))?")
PHONE_LIKE = re.compile(r"[+\d][\d\s().-]{5,}")


def typed_order_number(text: str) -> str | None:
    """``CC-2026-00001`` when ``text`` is an order number however typed, else None."""
    match = TYPED_ORDER_NUMBER.fullmatch(text.strip())
    return f"CC-{match[1]}-{match[2]}" if match else None


# More customers than this for a name, and the desk walks each tab's index testing
# each order's customer instead of gathering the customers' orders (see FoundOrders).
BROAD_NAME = 5000
# Up to this many are fetched, and handed to the page and the counts by their ids.
FETCHED = 1000
# More than this, and each order's customer is looked up instead (see _customer_named).
VERY_BROAD_NAME = 50_000


@dataclass
class FoundOrders:
    """The orders a search finds, as a WHERE clause, and how best to read them.

    ``few``: the clause names its orders by their ids (gathered through the
    indexes of each reading), to be read by key and counted in one pass. Else a
    name was found for more than ``BROAD_NAME`` customers ("Bos": 19,600 at a
    million orders, 20,600 orders): the clause tests each order's customer
    (against a hash of them, or for more than ``VERY_BROAD_NAME`` in the
    customer's own words), and the desk walks a tab's index in its own order,
    which carries the customer, stopping at a page (51 orders at one in fifty:
    2,500 entries) or a count's cap (which is lower for such a search, see
    :func:`app.orders.core.desk.desk_page`).
    """

    clause: sa.ColumnElement[bool]
    few: bool


def search_clause(text: str) -> sa.ColumnElement[bool]:
    """Orders that ``text`` names, by any of the keys above."""
    return find_orders(text).clause


def find_orders(text: str) -> FoundOrders:
    """Orders that ``text`` names, by any of the keys above (see :class:`FoundOrders`).

    ``orders.id = ANY(…)`` over a union: each reading finds its orders through
    its own index and the union is small. Written as one OR over the orders,
    PostgreSQL could use none of them and read every order (a million: 200 ms
    and more).
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
    named = _customers_named(text)
    # A few are fetched once: the page and the counts then need not find them again.
    few_named = list(db.session.scalars(named.limit(FETCHED + 1))) if named is not None else []
    many = 0
    if len(few_named) > FETCHED:
        many = _count_up_to(named, VERY_BROAD_NAME + 1)
    broad = many > BROAD_NAME
    if customers:
        found.append(
            Order.end_customer_contact_id.in_(sa.select(Contact.id).where(sa.or_(*customers)))
        )
    if few_named and not many:
        found.append(Order.end_customer_contact_id.in_(few_named))
    elif many and not broad:
        found.append(Order.end_customer_contact_id.in_(named))
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
        by_id = Order.id == sa.any_(sa.func.array(union.scalar_subquery()))
    else:
        by_id = Order.id.in_(union)
    if not broad:
        return FoundOrders(by_id, few=True)
    if many <= VERY_BROAD_NAME:
        # Gathered once for the statement (a common table expression) and tested
        # per order from a hash of it ("Bos": 19,600 customers, 3 ms to hash):
        # under OR, PostgreSQL cannot make the test a join, which would gather
        # every customer's orders again.
        customers_named = named.cte("customers_named")
        named_customer = Order.end_customer_contact_id.in_(sa.select(customers_named.c.contact_id))
    else:
        named_customer = _customer_named(text)
    return FoundOrders(sa.or_(by_id, named_customer), few=False)


def _typed_words(text: str) -> list[str]:
    """The words of ``text`` a name is searched by (none when it holds a digit)."""
    if any(ch.isdigit() for ch in text) or len(text) < 2:
        return []
    return sorted(name_words(text))


def _starts_a_word(word: str) -> sa.ColumnElement[bool]:
    """A word of a name starting with ``word``: a range of the words' key."""
    return sa.and_(ContactNameWord.word >= word, ContactNameWord.word < _next_prefix(word))


def _customers_named(text: str) -> sa.Select | None:
    """The contacts with a word of their name starting with each word of ``text``.

    "bos" finds "Bos", "van den Bos" and "Bosman", "maud bos" finds "Maud Bos"
    and "Bos, Maud"; a word is not looked for inside another ("verbos").
    Each typed word is a range of the words' key (``ContactNameWord``).
    """
    typed = _typed_words(text)
    if not typed:
        return None
    per_word = [sa.select(ContactNameWord.contact_id).where(_starts_a_word(w)) for w in typed]
    # A contact may come twice ("Bos Bosman"): the caller reads a few, and counts none.
    return sa.intersect(*per_word) if len(per_word) > 1 else per_word[0]


def _customer_named(text: str) -> sa.ColumnElement[bool]:
    """The order's customer has a word of their name starting with each word of ``text``.

    Looked up order by order in the words by contact, for a name so common that
    hashing every customer with it would cost more than the walk ("de": 200,000
    customers, 170 ms to hash, and a tab's walk finds its 1,000 in 5,000 orders).
    A scalar subquery, not EXISTS: PostgreSQL would weigh hashing an EXISTS too,
    and takes the hash for the large tabs.
    """
    return sa.and_(
        *(
            sa.select(sa.true())
            .where(ContactNameWord.contact_id == Order.end_customer_contact_id, _starts_a_word(w))
            .limit(1)
            .scalar_subquery()
            .is_not(None)
            for w in _typed_words(text)
        )
    )


def _next_prefix(word: str) -> str:
    """The first string after every string starting with ``word`` (``bos`` → ``bot``)."""
    return word[:-1] + chr(ord(word[-1]) + 1)


def _count_up_to(customers: sa.Select, most: int) -> int:
    """How many contacts are in ``customers``, counting no further than ``most``."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(customers.limit(most).subquery())
    )


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
