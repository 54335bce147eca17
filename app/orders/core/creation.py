"""The building blocks every order intake shares (partner API, Fillout, Make, e-mail).

Each function works in the caller's transaction and never commits, so an intake
either creates its customer, address, order, lines and first status together or
leaves nothing behind.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from app.conversations.contacts.identities import claim_addresses_of
from app.conversations.contacts.phones import normalise_phone
from app.orders.addresses import pdok
from app.platform.database import upsert_insert, utcnow
from app.platform.extensions import db
from app.platform.models import (
    SENT_ADDRESS_FIELDS,
    Address,
    Article,
    Contact,
    LineItem,
    Order,
    OrderNumberCounter,
    Organization,
    PartnerSkuMapping,
)
from app.platform.models.enums import (
    AddressType,
    AddressValidation,
    ContactType,
    OrderStatus,
    OrganizationType,
)

ADDRESS_LINE = re.compile(
    r"^\s*(?P<street>.+?)\s+(?P<number>\d{1,5})\s*[-\s]?(?P<addition>[A-Za-z0-9]{0,6})\s*,?\s*"
    r"(?P<postal>[1-9]\d{3}\s?[A-Za-z]{2})?\s*,?\s*(?P<city>[^,\d][^,]*)?\s*$"
)


@dataclass
class AddressDetails:
    street: str | None = None
    house_number: str | None = None
    house_number_addition: str | None = None
    postal_code: str | None = None
    city: str | None = None


def parse_address_line(text: str) -> AddressDetails:
    """Read ``Kerkstraat 123, 1234AB Amsterdam`` (or ``Kerkstraat 12a 1234 AB``)."""
    match = ADDRESS_LINE.match(text or "")
    if not match:
        postal = re.search(r"[1-9]\d{3}\s?[A-Za-z]{2}\b", text or "")
        return AddressDetails(
            postal_code=pdok.normalise_postal_code(postal.group(0)) if postal else None
        )
    return AddressDetails(
        street=match.group("street").strip(" ,"),
        house_number=match.group("number"),
        house_number_addition=match.group("addition") or None,
        postal_code=pdok.normalise_postal_code(match.group("postal")),
        city=(match.group("city") or "").strip() or None,
    )


def allocate_order_number(year: int | None = None) -> str:
    """The next ``CC-YYYY-NNNNN``, unique and gap-free per year.

    One upsert increments the year's counter and returns the new value. The
    counter row stays locked until the order's transaction ends, so concurrent
    intakes take turns; a rolled-back intake gives its number back.
    """
    year = year or utcnow().year
    statement = (
        upsert_insert(OrderNumberCounter, db.session.get_bind().dialect.name)
        .values(year=year, last_value=1)
        .on_conflict_do_update(
            index_elements=[OrderNumberCounter.year],
            set_={"last_value": OrderNumberCounter.last_value + 1},
        )
        .returning(OrderNumberCounter.last_value)
    )
    value = db.session.execute(statement).scalar_one()
    return f"CC-{year}-{value:05d}"


def new_order(order_number: str | None = None, **fields) -> Order:
    """An order with the next number (or ``order_number``), added and flushed."""
    order = Order(order_number=order_number or allocate_order_number(), **fields)
    db.session.add(order)
    db.session.flush()
    return order


def find_or_create_customer(name: str, email: str | None, phone: str | None) -> Contact:
    """The end customer: by e-mail, then by phone; otherwise a new household.

    A new customer gets a ``customer_individual`` organization so the
    address and later orders hang together. A known contact is returned as it
    is: the sender may know only one of its addresses, so its name, e-mail and
    phone are never changed, not even filled in (the order keeps what was sent,
    see :mod:`app.orders.core.customer_details`).
    """
    email = (email or "").strip().lower() or None
    phone = normalise_phone(phone) if phone else None
    contact = None
    if email:
        contact = db.session.scalar(
            sa.select(Contact)
            .where(
                sa.func.lower(Contact.email) == email, Contact.contact_type == ContactType.PERSON
            )
            .order_by(Contact.created_at)
            .limit(1)
        )
    if contact is None and phone:
        contact = db.session.scalar(
            sa.select(Contact)
            .where(Contact.phone == phone, Contact.contact_type == ContactType.PERSON)
            .order_by(Contact.created_at)
            .limit(1)
        )
    if contact is not None:
        return contact
    name = " ".join((name or "").split()) or email or phone or "Onbekende klant"
    organization = Organization(
        name=f"{name} (Particulier)"[:200],
        organization_type=OrganizationType.CUSTOMER_INDIVIDUAL,
    )
    db.session.add(organization)
    db.session.flush()
    first, _, last = name.partition(" ")
    contact = Contact(
        contact_type=ContactType.PERSON,
        organization_id=organization.id,
        first_name=first[:100] or None,
        last_name=last[:150] or None,
        display_name=name[:255],
        email=email,
        phone=phone,
        is_primary=True,
    )
    db.session.add(contact)
    db.session.flush()
    # Claimed now, so the customer's first WhatsApp or e-mail lands on this contact.
    claim_addresses_of(contact)
    return contact


def check_details(details: AddressDetails) -> pdok.AddressCheck:
    """Ask PDOK about ``details`` (do this before taking locks: it is an HTTP call)."""
    if details.postal_code and details.house_number:
        return pdok.check_address(
            details.postal_code, details.house_number, details.house_number_addition
        )
    return pdok.AddressCheck(pdok.NOT_FOUND, "postal code and house number are needed")


@dataclass
class CheckedAddress:
    """An address as given, in the BAG's spelling once PDOK confirms it."""

    street: str | None
    house_number: str | None
    house_number_addition: str | None
    postal_code: str | None
    city: str | None
    validation_state: AddressValidation
    validation_message: str | None
    province: str | None = None
    bag_id: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None

    @property
    def confirmed(self) -> bool:
        return self.validation_state == AddressValidation.VALID

    def as_sent(self) -> dict[str, str]:
        """The shown parts, for an order that keeps its address itself (a test order)."""
        return {key: getattr(self, key) for key in SENT_ADDRESS_FIELDS if getattr(self, key)}


def checked_address(
    details: AddressDetails, check: pdok.AddressCheck | None = None
) -> CheckedAddress:
    """``details`` checked against the BAG, without storing anything.

    A confirmed address takes the BAG's spelling, id, coordinates and province.
    Anything short of a confirmation leaves ``needs_review`` (PDOK down) or
    ``invalid`` (no such address) for a person to look at.
    """
    check = check or check_details(details)
    address = CheckedAddress(
        street=details.street,
        house_number=details.house_number,
        house_number_addition=details.house_number_addition,
        postal_code=pdok.normalise_postal_code(details.postal_code) or details.postal_code,
        city=details.city,
        validation_state=AddressValidation.INVALID,
        validation_message=check.message,
    )
    if check.valid:
        address.validation_state = AddressValidation.VALID
        address.street = check.street or address.street
        address.house_number = check.house_number or address.house_number
        address.house_number_addition = check.house_number_addition
        address.postal_code = check.postal_code or address.postal_code
        address.city = check.city or address.city
        address.province = check.province
        address.bag_id = check.bag_id
        address.latitude = check.latitude
        address.longitude = check.longitude
    elif check.outcome == pdok.UNAVAILABLE:
        address.validation_state = AddressValidation.NEEDS_REVIEW
    return address


def installation_address(
    customer: Contact, details: AddressDetails, check: pdok.AddressCheck | None = None
) -> Address:
    """The customer's installation address as given, checked against the BAG, stored.

    What the sender typed is kept in ``raw_input`` (see :func:`checked_address`).
    """
    address = Address(
        organization_id=customer.organization_id,
        contact_id=customer.id,
        address_type=AddressType.INSTALLATION,
        raw_input={k: v for k, v in vars(details).items() if v},
        validated_at=utcnow(),
        **vars(checked_address(details, check)),
    )
    db.session.add(address)
    db.session.flush()
    return address


def flag_for_review(order: Order, reason: str) -> None:
    """Mark the order for a person to check, with the reason shown to them.

    A reason the order already has is not added again (an intake run twice).
    """
    order.needs_review = True
    order.flagged_for_review = True
    if reason in (order.review_reasons or []):
        return
    # A new list, so the JSON column sees the change.
    order.review_reasons = [*(order.review_reasons or []), reason]


# "possible duplicate of CC-2026-00012": the other order's number ends the reason.
DUPLICATE_REASON = "possible duplicate of "
# Two orders for one address or one partner's customer within this many days are
# likely one job sent twice (a partner's retry with a new reference, a form sent
# again); further apart they are likely a second charger or a new owner.
DUPLICATE_DAYS = 90


def flag_possible_duplicate(order: Order) -> Order | None:
    """Flag ``order`` when another recent order looks like the same job; return that one.

    The same job: the same installation address (postcode, house number and
    addition), or the same customer sent by the same partner. A cancelled
    order, a test order and this order itself never count. Call it once the
    order's address and customer are set and flushed.
    """
    if order.is_test:
        return None
    same_job = []
    address = (
        db.session.get(Address, order.installation_address_id)
        if order.installation_address_id
        else None
    )
    if address is not None and address.postal_code and address.house_number:
        same_address = sa.select(Address.id).where(
            Address.postal_code == address.postal_code,
            Address.house_number == address.house_number,
            sa.func.coalesce(Address.house_number_addition, "")
            == (address.house_number_addition or ""),
        )
        same_job.append(Order.installation_address_id.in_(same_address))
    if order.end_customer_contact_id and order.partner_organization_id:
        same_job.append(
            sa.and_(
                Order.end_customer_contact_id == order.end_customer_contact_id,
                Order.partner_organization_id == order.partner_organization_id,
            )
        )
    if not same_job:
        return None
    other = db.session.scalar(
        sa.select(Order)
        .where(
            sa.or_(*same_job),
            Order.id != order.id,
            Order.is_test.is_(False),
            Order.status != OrderStatus.CANCELLED,
            Order.created_at >= utcnow() - timedelta(days=DUPLICATE_DAYS),
        )
        .order_by(Order.created_at.desc())
        .limit(1)
    )
    if other is not None:
        flag_for_review(order, f"{DUPLICATE_REASON}{other.order_number}")
    return other


def add_line(
    order: Order,
    *,
    sku: str | None,
    description: str | None,
    quantity: int = 1,
    partner_organization_id: uuid.UUID | None = None,
    external_item_reference: str | None = None,
) -> LineItem:
    """Add a line, mapping the partner's SKU or our own article.

    A SKU we cannot map is kept as a line with a note, and the order is
    flagged: it is never dropped and never refuses the order.
    """
    article = _article_for(sku, description, partner_organization_id)
    line = LineItem(
        order_id=order.id,
        article_id=article.id if article else None,
        partner_sku=sku,
        description=(description or (article.name if article else None) or sku or "?")[:255],
        quantity=max(int(quantity or 1), 1),
        unit_price=article.unit_price if article else Decimal("0"),
        line_order=len(order.line_items) + 1,
        external_item_reference=external_item_reference,
    )
    if article is None:
        line.needs_review = True
        line.note = (
            f"No article is mapped to SKU {sku!r}" if sku else "No article matches this line"
        )
        flag_for_review(order, f"unmapped product: {sku or description}")
    order.line_items.append(line)
    order.total_amount = sum(
        (item.unit_price * item.quantity for item in order.line_items), Decimal("0")
    )
    return line


def _article_for(
    sku: str | None, description: str | None, partner_organization_id: uuid.UUID | None
) -> Article | None:
    if sku and partner_organization_id:
        article = db.session.scalar(
            sa.select(Article)
            .join(PartnerSkuMapping, PartnerSkuMapping.article_id == Article.id)
            .where(
                PartnerSkuMapping.partner_organization_id == partner_organization_id,
                sa.func.upper(PartnerSkuMapping.partner_sku) == sku.strip().upper(),
            )
        )
        if article is not None:
            return article
    if sku:
        article = db.session.scalar(
            sa.select(Article).where(sa.func.upper(Article.sku) == sku.strip().upper())
        )
        if article is not None:
            return article
    if description and not sku:
        return db.session.scalar(
            sa.select(Article).where(sa.func.lower(Article.name) == description.strip().lower())
        )
    return None
