"""Order intake from partners, by API or by e-mail.

One call turns a validated partner payload into an order: the end customer
(found by e-mail, then phone, and never changed: the order keeps the details
sent, :mod:`app.orders.core.customer_details`), the partner's contact and channel chain, an
installation address checked against the BAG, lines mapped from partner SKUs,
the partner's references, a gap-free order number and the first status
through the status engine. All of it in the caller's transaction.

A test key's order (the sandbox) is nobody's: no contact, no address row, no
channel chain; the customer and address it was sent with stay on the order
(``customer_as_sent``, ``test_address``).

The partner's ``partner_order_id`` names the order: the same id again, even at
the same moment from twenty connections, gives the one order. Sent again with
another body, the result says which fields differ (``differs``), judged by
:mod:`app.orders.partners.payload_digest`; the partner API answers that with 409.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from app.orders.addresses.pdok import AddressCheck
from app.orders.core.creation import (
    AddressDetails,
    CheckedAddress,
    add_line,
    allocate_order_number,
    check_details,
    checked_address,
    find_or_create_customer,
    flag_for_review,
    flag_possible_duplicate,
    installation_address,
    new_order,
)
from app.orders.core.customer_details import keep_customer_as_sent, partner_review_reasons
from app.orders.core.status_engine import record_initial_status
from app.orders.partners.payload_digest import differing_fields, payload_digest
from app.orders.partners.sandbox.mode import allocate_test_order_number, order_in_mode
from app.orders.partners.schemas import PartnerOrderIn, order_field_errors, validate_partner_order
from app.platform.database import hold_advisory_lock
from app.platform.extensions import db
from app.platform.jobs.queues import enqueue
from app.platform.json_api.validation import nul_fields
from app.platform.models import Address, Contact, Order, Organization, PartnerIntegration, User
from app.platform.models.enums import AddressValidation, ContactType, OrderSource, OrderStatus
from app.platform.transactions import after_commit

log = logging.getLogger(__name__)

# What the partner API promises: "received", processed in 24–48 h.
RECEIVED = "received"
ESTIMATED_PROCESSING_TIME = "24-48 hours"

SOURCE_REASONS = {
    OrderSource.PARTNER_API: "Order created via partner API",
    OrderSource.EMAIL: "Order created from a partner e-mail",
    OrderSource.MAKE: "Order created by a Make.com scenario",
    OrderSource.FILLOUT: "Order created from a form",
    OrderSource.MANUAL: "Order created by hand",
}


class IntakeInvalid(Exception):
    """The payload is not an order we can take; ``fields`` says what is wrong."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


@dataclass
class IntakeResult:
    order: Order
    created: bool
    warnings: list[str] = field(default_factory=list)
    # For an order found, not created: the fields the body sent now has that
    # differ from the one it was made from (empty: the same body).
    differs: list[str] = field(default_factory=list)

    def response_data(self) -> dict:
        """The ``data`` of the partner API's answer."""
        data = {
            "chargecars_order_id": self.order.order_number,
            "chargecars_order_uuid": str(self.order.id),
            "status": RECEIVED,
            "estimated_processing_time": ESTIMATED_PROCESSING_TIME,
        }
        reasons = partner_review_reasons(self.order)
        if reasons:
            # A failed address check or unknown SKU is told to the partner;
            # what we hold about the customer's contact is not.
            data["needs_review"] = True
            data["review_reasons"] = reasons
        return data


def parse_order(body: object) -> PartnerOrderIn:
    # A NUL character cannot be stored (PostgreSQL): refused like any bad field,
    # not failed on at the write.
    if refused := nul_fields(body):
        raise IntakeInvalid(refused)
    try:
        return validate_partner_order(body)
    except ValidationError as exc:
        raise IntakeInvalid(order_field_errors(body, exc)) from exc


def existing_order(
    partner: Organization, partner_order_id: str, *, is_test: bool = False
) -> Order | None:
    """The partner's order by its own id, in one mode: a test key never finds a
    live order, nor a live key a test one (the sandbox)."""
    return order_in_mode(partner, partner_order_id, is_test)


def create_partner_order(
    partner: Organization,
    body: object,
    *,
    source: OrderSource = OrderSource.PARTNER_API,
    actor: User | None = None,
    is_test: bool = False,
) -> IntakeResult:
    """Create the order in ``body`` for ``partner``, or find the one made before.

    ``is_test``: a test key's order (the sandbox): its own number series, no
    confirmation e-mail, and kept apart from the real work by the status engine.
    Raises :class:`IntakeInvalid`. Does not commit; call
    :func:`app.platform.transactions.commit` so the confirmation e-mail is queued.
    """
    payload = parse_order(body)
    # PDOK first, outside any lock: it is the slow part and needs no database.
    details = _address_details(payload)
    check = check_details(details)
    _serialise_on(partner, payload.partner_order_id)
    found = existing_order(partner, payload.partner_order_id, is_test=is_test)
    if found is not None:
        log.info("duplicate partner order %s from %s", payload.partner_order_id, partner.name)
        return _found(found, payload)
    try:
        # A savepoint: if another intake won the race the unique constraint catches
        # (SQLite has no advisory lock), only this attempt is undone.
        with db.session.begin_nested():
            order = _build_order(partner, payload, details, check, source, actor, is_test)
    except IntegrityError:
        found = existing_order(partner, payload.partner_order_id, is_test=is_test)
        if found is None:
            raise
        return _found(found, payload)
    if is_test:
        return IntakeResult(order, created=True)
    order_id = str(order.id)
    after_commit(
        lambda: enqueue("app.orders.partners.confirmations.send_partner_confirmation", order_id)
    )
    return IntakeResult(order, created=True)


def _found(order: Order, payload: PartnerOrderIn) -> IntakeResult:
    # An order made before digests were kept cannot be compared: it is the
    # same order, as it always was.
    differs = differing_fields(payload, order.partner_payload_digest) or []
    return IntakeResult(order, created=False, differs=differs)


def _serialise_on(partner: Organization, partner_order_id: str) -> None:
    """On PostgreSQL, make intakes of one partner order id wait for each other.

    The transaction-scoped advisory lock is taken before looking for the order,
    so the second of two simultaneous requests sees the first one's order
    instead of failing on the unique constraint.
    """
    hold_advisory_lock(db.session, f"partner-order:{partner.id}:{partner_order_id}")


def _address_details(payload: PartnerOrderIn) -> AddressDetails:
    address = payload.customer.address
    return AddressDetails(
        street=address.street,
        house_number=address.house_number,
        house_number_addition=address.house_number_addition,
        postal_code=address.postal_code,
        city=address.city,
    )


def _build_order(
    partner: Organization,
    payload: PartnerOrderIn,
    details: AddressDetails,
    check: AddressCheck,
    source: OrderSource,
    actor: User | None,
    is_test: bool = False,
) -> Order:
    # Gap-free numbers make intakes take turns on the year's counter row, from
    # the upsert to the commit. On PostgreSQL the number is therefore taken last,
    # just before the first status (whose hooks need it); until then the order
    # carries a unique placeholder. On SQLite it is taken first instead: as the
    # transaction's first write it takes the write lock up front, where a later
    # lock upgrade could deadlock with a concurrent intake.
    late = db.session.get_bind().dialect.name == "postgresql"
    numbered = allocate_test_order_number if is_test else allocate_order_number
    order_number = f"TMP-{uuid.uuid4().hex[:16]}" if late else numbered()
    integration = db.session.scalar(
        sa.select(PartnerIntegration).where(
            PartnerIntegration.partner_organization_id == partner.id
        )
    )
    customer = payload.customer
    contact: Contact | None = None
    address: Address | None = None
    chain: list[Contact] = []
    if is_test:
        # A test order is nobody's: it finds, makes and links no
        # contact or address, so a sandbox never reaches a live customer's
        # record, conversations or GDPR export; what was sent stays on the order.
        checked: Address | CheckedAddress = checked_address(details, check)
    else:
        contact = find_or_create_customer(customer.name, customer.email, customer.phone)
        address = checked = installation_address(contact, details, check)
        chain = channel_contacts(partner)
    references = {
        "partner_order_id": payload.partner_order_id,
        "partner_customer_id": payload.partner_customer_id,
        "dealer_group_id": payload.dealer_group_id,
        "purchase_order_number": payload.purchase_order_number,
        **(
            payload.partner_references.model_dump(exclude_none=True)
            if payload.partner_references
            else {}
        ),
        "partner_system": integration.integration_name if integration else None,
        "api_version": integration.api_version if integration else None,
        "created_via_api": source == OrderSource.PARTNER_API,
    }
    preferences = (
        payload.installation_preferences.model_dump(mode="json", exclude_none=True)
        if payload.installation_preferences
        else {}
    )
    order = new_order(
        order_number,
        status=OrderStatus.NEW,
        source=source,
        partner_organization_id=partner.id,
        account_contact_id=chain[0].id if chain else None,
        partner_contact_id=chain[0].id if chain else None,
        end_customer_contact_id=contact.id if contact else None,
        customer_organization_id=contact.organization_id if contact else None,
        channel_contact_ids=[str(c.id) for c in chain],
        partner_order_id=payload.partner_order_id,
        partner_external_references={k: v for k, v in references.items() if v is not None},
        installation_address_id=address.id if address else None,
        installation_preferences=preferences,
        notes=preferences.get("notes") or preferences.get("access_notes"),
        is_test=is_test,
    )
    order.partner_payload_digest = payload_digest(payload)
    if is_test:
        order.test_address = checked.as_sent()
    keep_customer_as_sent(
        order, contact, name=customer.name, email=customer.email, phone=customer.phone
    )
    if checked.validation_state != AddressValidation.VALID:
        flag_for_review(order, f"address not confirmed by PDOK: {checked.validation_message}")
    for line in payload.lines():
        add_line(
            order,
            sku=line.sku,
            description=line.description,
            quantity=line.quantity,
            partner_organization_id=partner.id,
            external_item_reference=line.partner_item_id,
        )
    if late:
        order.order_number = numbered()
        db.session.flush()
    flag_possible_duplicate(order)
    record_initial_status(
        order,
        SOURCE_REASONS.get(source, "Order created"),
        {
            "partner_source": True,
            "integration_name": integration.integration_name if integration else None,
            "partner_order_id": payload.partner_order_id,
            "source": source.value,
        },
        actor,
    )
    return order


def channel_contacts(partner: Organization) -> list[Contact]:
    """The organization contacts of the partner and its parents, nearest first.

    An order keeps these in ``channel_contact_ids`` so commissions can be paid
    per level; a partner level without its organization contact gets one.
    """
    chain = partner.channel_chain()
    ids = [org.id for org in chain]
    existing = {
        c.organization_id: c
        for c in db.session.scalars(
            sa.select(Contact)
            .where(
                Contact.organization_id.in_(ids),
                Contact.contact_type == ContactType.ORGANIZATION,
            )
            .order_by(Contact.created_at.desc())
        )
    }
    contacts = []
    for org in chain:
        contact = existing.get(org.id)
        if contact is None:
            contact = Contact(
                contact_type=ContactType.ORGANIZATION,
                organization_id=org.id,
                display_name=org.name,
                email=org.email,
                is_primary=True,
            )
            db.session.add(contact)
            db.session.flush()
        contacts.append(contact)
    return contacts
