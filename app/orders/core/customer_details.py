"""The customer details an intake sent, kept on the order beside the contact's own.

Every intake (partner API, partner e-mail, Make, Fillout) finds a known
customer by e-mail, then phone. Whoever sent the order may know only one of
the two, so the sender's word never changes the contact's addresses: not
even a blank is filled, because an e-mail or phone planted on a customer
would receive what we send that customer (order notices, visit reminders).
The order keeps what was sent (``Order.customer_as_sent``), and an address
the contact does not have is flagged for an agent, who can add it to the
contact after checking with the customer.

What the partner sees of the customer is what was sent
(``Order.customer_info_for_partner``): a partner that knows a phone number
must not learn the name or e-mail behind it.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.conversations.contacts.phones import normalise_phone
from app.orders.core.creation import DUPLICATE_REASON, flag_for_review
from app.platform.models import Contact, Order

# Stored in English (the JSON API returns reasons as they are); the order page
# shows them in the reader's language (app.orders.core.review).
EMAIL_DIFFERS = "customer e-mail differs from the contact's; the contact was not changed"
PHONE_DIFFERS = "customer phone differs from the contact's; the contact was not changed"
# Reasons about our contact, not about the partner's order: never told to a partner.
CONTACT_REASONS = frozenset({EMAIL_DIFFERS, PHONE_DIFFERS})


@dataclass(frozen=True)
class Difference:
    """One address the intake sent that the customer's contact does not have."""

    field: str  # "email" or "phone"
    sent: str
    on_contact: str | None


def keep_customer_as_sent(
    order: Order,
    contact: Contact | None,
    *,
    name: str | None,
    email: str | None,
    phone: str | None,
) -> None:
    """Keep the sent details on ``order`` and flag each address the contact lacks (no commit).

    Flagging is idempotent: the same intake applied again adds no second reason.
    A test order has no contact: it only keeps what was sent.
    """
    sent = {
        "name": " ".join((name or "").split()) or None,
        "email": (email or "").strip().lower() or None,
        "phone": normalise_phone(phone) if phone else None,
    }
    order.customer_as_sent = {key: value for key, value in sent.items() if value}
    for difference in customer_differences(order, contact):
        flag_for_review(order, EMAIL_DIFFERS if difference.field == "email" else PHONE_DIFFERS)


def customer_differences(order: Order, contact: Contact | None) -> list[Difference]:
    """The sent e-mail and phone that ``contact`` does not have (blank counts as different)."""
    sent = order.customer_as_sent or {}
    if contact is None:
        return []
    found = []
    if sent.get("email") and sent["email"] != (contact.email or "").strip().lower():
        found.append(Difference("email", sent["email"], contact.email))
    if sent.get("phone") and sent["phone"] != contact.phone:
        found.append(Difference("phone", sent["phone"], contact.phone))
    return found


def partner_review_reasons(order: Order) -> list[str]:
    """The order's review reasons a partner may be told: none about our contact, and no
    possible duplicate (the other order may be another partner's, at the same address)."""
    return [
        reason
        for reason in order.review_reasons or []
        if reason not in CONTACT_REASONS and not str(reason).startswith(DUPLICATE_REASON)
    ]


def change_customer_as_sent(
    order: Order, contact: Contact | None, changes: dict[str, str | None]
) -> dict[str, str]:
    """The sender's later word about the customer (a partner's PATCH), kept on the order.

    Like an intake: the contact is never changed, and an address it lacks is
    flagged for an agent. Only the keys in ``changes`` change. Returns the
    fields that changed, as ``{field: new value}`` (no commit).
    """
    before = dict(order.customer_as_sent or order.customer_info_for_partner() or {})
    merged = {**before, **{key: value for key, value in changes.items() if value}}
    sent = {key: merged.get(key) for key in ("name", "email", "phone")}
    if contact is None:
        order.customer_as_sent = {key: value for key, value in sent.items() if value}
    else:
        keep_customer_as_sent(order, contact, **sent)
    after = order.customer_as_sent or {}
    return {key: after[key] for key in after if after.get(key) != before.get(key)}
