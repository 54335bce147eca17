"""The review queue: what a flagged order asks a person to check, and the fix beside it.

An intake flags an order instead of refusing it (``Order.review_reasons``, stored in
English as the intakes wrote them). Each reason is one of a few kinds, and each
kind has its fix:

- the address PDOK could not confirm: pick one of PDOK's suggestions, check
  again (PDOK was down), or keep the address as typed (a new-build the BAG does
  not know yet);
- a partner's product code without an article: map it to an article, which
  maps that code for the partner's next orders and fixes the partner's other
  waiting orders with it;
- a possible duplicate of another order: cancel this one as the same job
  (through the status engine, so the partner hears it), or keep both;
- a customer e-mail or phone that is not the contact's: put it on the contact,
  or keep the contact's;
- anything else: mark it checked.

A fix removes its reason; with the last one gone the order is no longer to review
and moves on to approval. Each fix is written to the audit log against the order,
which the order's history shows with who did it. Nothing here commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext

from app.conversations.contacts.services import InvalidContact, update_contact_details
from app.orders.addresses import pdok
from app.orders.core.creation import DUPLICATE_REASON
from app.orders.core.customer_details import EMAIL_DIFFERS, PHONE_DIFFERS
from app.orders.core.review import readable_note, readable_reason
from app.orders.core.status_engine import IllegalTransition, change_entity_status
from app.platform.audit.records import record_change
from app.platform.database import upsert_insert, utcnow
from app.platform.extensions import db
from app.platform.models import Address, Article, AuditLog, LineItem, Order, PartnerSkuMapping, User
from app.platform.models.enums import AddressValidation, OrderStatus

ADDRESS, ARTICLE, DUPLICATE, CUSTOMER, OTHER = (
    "address",
    "article",
    "duplicate",
    "customer",
    "other",
)
AUDIT_ACTION = "REVIEW_FIXED"
ADDRESS_PREFIX = "address not confirmed by PDOK"
# As app.orders.core.creation.add_line writes it, and as older intakes and the demo did.
ARTICLE_PREFIXES = ("unmapped product: ", "unmapped SKU ")
# The statuses in which a partner's other orders still take a new mapping.
OPEN = (OrderStatus.NEW, OrderStatus.QUOTE_SENT, OrderStatus.APPROVED, OrderStatus.ON_HOLD)
FINAL = (OrderStatus.COMPLETED, OrderStatus.CANCELLED)


class ReviewRefused(Exception):
    """A fix that cannot be made as asked; ``text`` names the field, for a person."""

    def __init__(self, field: str, text: str) -> None:
        super().__init__(text)
        self.field = field
        self.text = text


MAX_PDOK_ID = 100


def chosen_pdok_id(value: str | None) -> str:
    """The PDOK suggestion the review form chose (its id, as PDOK gave it)."""
    pdok_id = (value or "").strip()
    if not pdok_id or len(pdok_id) > MAX_PDOK_ID:
        raise ReviewRefused("pdok_id", gettext("Address: choose one of PDOK's suggestions."))
    return pdok_id


@dataclass(frozen=True)
class Flag:
    """One review reason of an order: its stored text, its kind and what it is about."""

    reason: str
    kind: str
    text: str
    # The product code or description, the other order's number, "email" or "phone".
    detail: str | None = None


def flags(order: Order) -> list[Flag]:
    """The order's open review reasons, each with its kind, in the reader's language."""
    return [_flag(str(reason)) for reason in order.review_reasons or []]


def _flag(reason: str) -> Flag:
    text = readable_reason(reason)
    if reason.startswith(ADDRESS_PREFIX):
        return Flag(reason, ADDRESS, text)
    for prefix in ARTICLE_PREFIXES:
        if reason.startswith(prefix):
            return Flag(reason, ARTICLE, text, reason.removeprefix(prefix))
    if reason.startswith(DUPLICATE_REASON):
        return Flag(reason, DUPLICATE, text, reason.removeprefix(DUPLICATE_REASON))
    if reason in (EMAIL_DIFFERS, PHONE_DIFFERS):
        return Flag(reason, CUSTOMER, text, "email" if reason == EMAIL_DIFFERS else "phone")
    return Flag(reason, OTHER, text)


def find_flag(order: Order, reason: str) -> Flag:
    """The open flag stored as ``reason``; refused when it was fixed meanwhile."""
    for flag in flags(order):
        if flag.reason == reason:
            return flag
    raise ReviewRefused(
        "reason", gettext("This review reason is no longer open: someone fixed it already.")
    )


def lock_order(order: Order) -> None:
    """Read the order again, its row locked until the transaction ends."""
    db.session.refresh(order, with_for_update=True)


def reread_order(order_id: uuid.UUID) -> Order | None:
    """The order as stored (after a refused fix was rolled back)."""
    return db.session.get(Order, order_id)


def refuse_if_final(order: Order) -> None:
    """A completed or cancelled order has nothing left to review."""
    if order.status in FINAL:
        raise ReviewRefused(
            "order",
            gettext("A completed or cancelled order is no longer reviewed."),
        )


# --- the address ------------------------------------------------------------------


def address_suggestions(order: Order) -> list[pdok.AddressCheck] | None:
    """PDOK's addresses near the one typed; None when PDOK cannot be reached (an HTTP call)."""
    address = order.installation_address
    if address is None:
        return []
    return pdok.suggest_addresses(
        address.street,
        " ".join(p for p in (address.house_number, address.house_number_addition) if p),
        address.postal_code,
        address.city,
    )


def confirm_address(order: Order, check: pdok.AddressCheck, fix: str) -> None:
    """Give the order's address the BAG's confirmed ``check`` and clear the address flags.

    ``check`` comes from PDOK (ask it before taking locks): a picked suggestion
    or the address checked again. What the sender typed stays in ``raw_input``.
    """
    address = _address(order)
    if not check.valid:
        raise ReviewRefused("address", _check_failed(check))
    before = address.one_line()
    for field in ("street", "house_number", "postal_code", "city", "province", "bag_id"):
        setattr(address, field, getattr(check, field) or getattr(address, field))
    address.house_number_addition = check.house_number_addition
    address.latitude, address.longitude = check.latitude, check.longitude
    address.validation_state = AddressValidation.VALID
    address.validation_message = check.message
    address.validated_at = utcnow()
    _clear_kind(order, ADDRESS, fix, {"before": before, "after": address.one_line()})


def keep_address(order: Order) -> None:
    """The address is right as typed (the BAG does not know it yet): clear the flags."""
    address = _address(order)
    _clear_kind(order, ADDRESS, "address_kept", {"address": address.one_line()})


def _address(order: Order) -> Address:
    if order.installation_address is None:
        raise ReviewRefused("address", gettext("This order has no installation address."))
    return order.installation_address


def _check_failed(check: pdok.AddressCheck) -> str:
    if check.outcome == pdok.UNAVAILABLE:
        return gettext("PDOK could not be reached. Try again in a moment.")
    return gettext(
        "PDOK still does not confirm this address: %(message)s",
        message=readable_note(check.message),
    )



# --- the article --------------------------------------------------------------------


def article_choices() -> list[Article]:
    return list(
        db.session.scalars(
            sa.select(Article).where(Article.is_active.is_(True)).order_by(Article.name)
        )
    )


def map_article(order: Order, code: str, article_id: str) -> list[str]:
    """Map the partner's product ``code`` on ``order`` to an article; the other orders fixed.

    With a partner and a SKU the mapping is stored for the partner, so its next
    orders with that SKU get the article at intake, and its other open orders
    with an unmapped line of that SKU are fixed now too (their numbers returned).
    """
    article = _article(article_id)
    lines = _unmapped_lines(order, code)
    if not lines:
        raise ReviewRefused("sku", gettext("No line of this order waits for that article."))
    sku = lines[0].partner_sku
    others: list[str] = []
    if sku and order.partner_organization_id:
        _store_mapping(order.partner_organization_id, sku, article)
        for other in _partner_orders_with(order, sku):
            _apply_article(other, code, article, mapped_for_partner=True)
            others.append(other.order_number)
    _apply_article(
        order,
        code,
        article,
        mapped_for_partner=bool(sku and order.partner_organization_id),
        others=others,
    )
    return others


def _article(article_id: str) -> Article:
    try:
        article = db.session.get(Article, uuid.UUID(str(article_id)))
    except ValueError:
        article = None
    if article is None or not article.is_active:
        raise ReviewRefused("article", gettext("Article: choose one of the list."))
    return article


def _unmapped_lines(order: Order, code: str) -> list[LineItem]:
    wanted = code.strip().upper()
    return [
        line
        for line in order.line_items
        if line.article_id is None
        and (
            (line.partner_sku or "").strip().upper() == wanted
            or (not line.partner_sku and (line.description or "").strip().upper() == wanted)
        )
    ]


def _store_mapping(partner_id: uuid.UUID, sku: str, article: Article) -> None:
    # One mapping per partner and SKU (a unique key): two agents mapping the same
    # SKU at once leave the later one's choice, never a second row.
    statement = upsert_insert(PartnerSkuMapping, db.session.get_bind().dialect.name).values(
        id=uuid.uuid4(),
        partner_organization_id=partner_id,
        partner_sku=sku.strip(),
        article_id=article.id,
        description=article.name[:255],
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["partner_organization_id", "partner_sku"],
            set_={"article_id": article.id, "updated_at": sa.func.now()},
        )
    )


def _partner_orders_with(order: Order, sku: str) -> list[Order]:
    """The partner's other open, flagged orders with an unmapped line of ``sku``."""
    return list(
        db.session.scalars(
            sa.select(Order)
            .where(
                Order.partner_organization_id == order.partner_organization_id,
                Order.id != order.id,
                Order.is_test.is_(order.is_test),
                Order.needs_review.is_(True),
                Order.status.in_(OPEN),
                Order.id.in_(
                    sa.select(LineItem.order_id).where(
                        LineItem.article_id.is_(None),
                        sa.func.upper(LineItem.partner_sku) == sku.strip().upper(),
                    )
                ),
            )
            # Locked in one order, so two agents mapping at once cannot deadlock.
            .order_by(Order.id)
            .with_for_update()
        )
    )


def _apply_article(
    order: Order, code: str, article: Article, *, mapped_for_partner: bool, others=()
) -> None:
    for line in _unmapped_lines(order, code):
        line.article_id = article.id
        line.unit_price = article.unit_price
        line.needs_review = False
        line.note = None
    order.total_amount = sum(
        (line.unit_price * line.quantity for line in order.line_items), Decimal("0")
    )
    fixed = [
        f.reason
        for f in flags(order)
        if f.kind == ARTICLE and f.detail.strip().upper() == code.strip().upper()
    ]
    for reason in fixed:
        _clear(
            order,
            reason,
            "article_mapped",
            {
                "article": article.sku,
                "mapped_for_partner": mapped_for_partner,
                "also_fixed": list(others),
            },
        )


# --- a possible duplicate -----------------------------------------------------------


def duplicate_of(flag: Flag) -> Order | None:
    return db.session.scalar(sa.select(Order).where(Order.order_number == flag.detail))


def cancel_as_duplicate(order: Order, flag: Flag, actor: User) -> Order:
    """Cancel ``order`` as the same job as the flagged other order (the partner hears it)."""
    other = duplicate_of(flag)
    if other is None:
        raise ReviewRefused("duplicate", gettext("The other order no longer exists."))
    reference = other.partner_order_id or other.order_number
    try:
        change_entity_status(
            order,
            OrderStatus.CANCELLED,
            f"Duplicate of order {other.order_number}",
            {"via": "review", "duplicate_of": other.order_number},
            actor,
            partner_note=f"Duplicate of order {reference}",
        )
    except IllegalTransition as exc:
        raise ReviewRefused("duplicate", gettext("This order can no longer be cancelled.")) from exc
    _clear(order, flag.reason, "duplicate_cancelled", {"other": other.order_number})
    record_change(
        "orders",
        other.id,
        AUDIT_ACTION,
        {"fix": "duplicate_of_this", "other": order.order_number},
    )
    return other


def keep_both(order: Order, flag: Flag) -> None:
    _clear(order, flag.reason, "duplicate_dismissed", {"other": flag.detail})


# --- the customer's e-mail or phone -------------------------------------------------


def put_on_contact(order: Order, flag: Flag) -> None:
    """Give the customer's contact the e-mail or phone this order was sent with."""
    contact = order.end_customer
    sent = (order.customer_as_sent or {}).get(flag.detail or "")
    if contact is None or not sent:
        raise ReviewRefused("contact", gettext("This order has no customer details to add."))
    try:
        update_contact_details(
            contact,
            name=contact.display_name or "",
            phone=sent if flag.detail == "phone" else (contact.phone or ""),
            email=sent if flag.detail == "email" else (contact.email or ""),
        )
    except InvalidContact as exc:
        raise ReviewRefused("contact", exc.message) from exc
    _clear(order, flag.reason, "contact_updated", {"field": flag.detail, "value": sent})


def keep_contact(order: Order, flag: Flag) -> None:
    _clear(order, flag.reason, "contact_kept", {"field": flag.detail})


def mark_checked(order: Order, flag: Flag) -> None:
    _clear(order, flag.reason, "checked", {})


# --- clearing and the history -------------------------------------------------------


def _clear_kind(order: Order, kind: str, fix: str, details: dict) -> None:
    for flag in flags(order):
        if flag.kind == kind:
            _clear(order, flag.reason, fix, details)


def _clear(order: Order, reason: str, fix: str, details: dict) -> None:
    remaining = [r for r in order.review_reasons or [] if r != reason]
    # A new list, so the JSON column sees the change.
    order.review_reasons = remaining
    order.needs_review = bool(remaining)
    record_change("orders", order.id, AUDIT_ACTION, {"reason": reason, "fix": fix, **details})


@dataclass(frozen=True)
class FixEntry:
    """A review fix as the order's history shows it."""

    at: datetime
    actor_id: uuid.UUID | None
    text: str


def fix_history(order: Order) -> list[FixEntry]:
    entries = db.session.scalars(
        sa.select(AuditLog)
        .where(
            AuditLog.table_name == "orders",
            AuditLog.record_id == order.id,
            AuditLog.action == AUDIT_ACTION,
        )
        .order_by(AuditLog.created_at)
    )
    return [
        FixEntry(e.created_at, e.changed_by_user_id, fix_text(e.changes or {})) for e in entries
    ]


def fix_text(changes: dict) -> str:
    """What a person did about a review reason, in the reader's language."""
    fix = changes.get("fix")
    reason = readable_reason(str(changes.get("reason") or ""))
    if fix in ("address_suggestion", "address_rechecked"):
        return gettext(
            "Address confirmed by PDOK: %(after)s (was %(before)s)",
            after=changes.get("after") or "",
            before=changes.get("before") or "",
        )
    if fix == "address_kept":
        return gettext("Address kept as typed: %(address)s", address=changes.get("address") or "")
    if fix == "article_mapped":
        if changes.get("mapped_for_partner"):
            text = gettext(
                "%(reason)s: mapped to article %(article)s, also for the partner's next orders",
                reason=reason,
                article=changes.get("article"),
            )
        else:
            text = gettext(
                "%(reason)s: mapped to article %(article)s",
                reason=reason,
                article=changes.get("article"),
            )
        if changes.get("also_fixed"):
            text += " " + gettext("(also on %(orders)s)", orders=", ".join(changes["also_fixed"]))
        return text
    if fix == "duplicate_cancelled":
        return gettext("Cancelled as a duplicate of %(other)s", other=changes.get("other"))
    if fix == "duplicate_of_this":
        return gettext(
            "%(other)s was cancelled as a duplicate of this order", other=changes.get("other")
        )
    if fix == "duplicate_dismissed":
        return gettext("Not a duplicate of %(other)s: both kept", other=changes.get("other"))
    if fix == "contact_updated":
        return gettext("%(value)s put on the customer's contact", value=changes.get("value"))
    if fix == "contact_kept":
        return gettext("%(reason)s: the contact's own details kept", reason=reason)
    return gettext("%(reason)s: checked", reason=reason)
