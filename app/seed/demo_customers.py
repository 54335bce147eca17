"""Demo households: a person, their "(Particulier)" organization and an address."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import timedelta
from decimal import Decimal

from app.platform.extensions import db
from app.platform.models import Address, Contact, Organization
from app.platform.models.enums import (
    AddressType,
    AddressValidation,
    ContactType,
    OrganizationType,
)
from app.seed.context import Customer, DemoContext
from app.seed.demo_content import (
    CITIES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    FORBIDDEN_POSTCODE_LETTERS,
    HOUSE_NUMBER_ADDITIONS,
    LAST_NAMES,
)

CUSTOMER_COUNT = 150
# Roughly one in twenty-five addresses is one PDOK could not confirm.
NEEDS_REVIEW_EVERY = 25


def build_customers(ctx: DemoContext) -> None:
    """Add ``CUSTOMER_COUNT`` households to the session and to ``ctx.customers``."""
    rng = ctx.rng
    emails: set[str] = set()
    phones: set[str] = set()
    organizations, contacts, addresses = [], [], []
    for index in range(CUSTOMER_COUNT):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        name = f"{first} {last}"
        created = ctx.ago(days=rng.uniform(20, 200))
        email = _unique_email(rng, first, last, emails)
        phone = _unique(phones, lambda: "+316" + ctx.token(8, "0123456789"))
        organization = Organization(
            id=uuid.uuid4(),
            name=f"{name} (Particulier)",
            organization_type=OrganizationType.CUSTOMER_INDIVIDUAL,
            email=email,
            phone=phone,
            created_at=created,
            updated_at=created,
        )
        contact = Contact(
            id=uuid.uuid4(),
            contact_type=ContactType.PERSON,
            organization_id=organization.id,
            first_name=first,
            last_name=last,
            display_name=name,
            email=email,
            phone=phone,
            whatsapp_profile_name=first if rng.random() < 0.5 else None,
            is_primary=True,
            preferred_channel=rng.choice(["whatsapp", "whatsapp", "email", "email", "phone"]),
            created_at=created,
            updated_at=created,
        )
        address = _address(ctx, organization, contact, needs_review=index % NEEDS_REVIEW_EVERY == 7)
        organizations.append(organization)
        contacts.append(contact)
        addresses.append(address)
        ctx.customers.append(Customer(organization, contact, address))
    # Three flushes in foreign-key order, each one multi-row INSERT per table.
    for batch in (organizations, contacts, addresses):
        db.session.add_all(batch)
        db.session.flush()


def _address(
    ctx: DemoContext, organization: Organization, contact: Contact, *, needs_review: bool
) -> Address:
    rng = ctx.rng
    city = rng.choice(CITIES)
    street = rng.choice(city.streets)
    number = str(rng.randint(1, 240))
    addition = rng.choice(HOUSE_NUMBER_ADDITIONS) if rng.random() < 0.15 else None
    postal_code = _postcode(ctx, city.postcode_range)
    typed = {
        "street": f"{street} {number}{addition or ''}",
        "postal_code": f"{postal_code[:4]} {postal_code[4:]}",
        "city": city.name,
    }
    address = Address(
        id=uuid.uuid4(),
        organization_id=organization.id,
        contact_id=contact.id,
        address_type=AddressType.INSTALLATION,
        street=street,
        house_number=number,
        house_number_addition=addition,
        postal_code=postal_code,
        city=city.name,
        province=city.province,
        country="NL",
        raw_input=typed,
        created_at=contact.created_at,
        updated_at=contact.created_at,
    )
    if needs_review:
        address.validation_state = AddressValidation.NEEDS_REVIEW
        address.validation_message = (
            "PDOK: geen exacte match op postcode en huisnummer; controleer het adres bij de klant."
        )
    else:
        address.validation_state = AddressValidation.VALID
        address.validation_message = "Bevestigd door PDOK Locatieserver"
        address.validated_at = contact.created_at + timedelta(seconds=rng.randint(2, 40))
        # A BAG nummeraanduiding id: municipality code, object type 20, serial.
        address.bag_id = f"{city.municipality_code}20{ctx.token(10, '0123456789')}"
        address.latitude = _coordinate(city.latitude + rng.uniform(-0.03, 0.03))
        address.longitude = _coordinate(city.longitude + rng.uniform(-0.045, 0.045))
    return address


def _postcode(ctx: DemoContext, postcode_range: tuple[int, int]) -> str:
    digits = ctx.rng.randint(*postcode_range)
    while True:
        letters = ctx.token(2, "ABCDEGHJKLMNPRSTVWXZ")
        if letters not in FORBIDDEN_POSTCODE_LETTERS:
            return f"{digits}{letters}"


def _coordinate(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


def _unique(seen: set[str], make) -> str:
    while True:
        value = make()
        if value not in seen:
            seen.add(value)
            return value


def _unique_email(rng, first: str, last: str, seen: set[str]) -> str:
    # "van 't Hof" -> "vanthof": how people spell their surname in an address.
    plain_last = "".join(ch for ch in _ascii(last).lower() if ch.isalnum())
    plain_first = _ascii(first).lower()
    domain = rng.choice(EMAIL_DOMAINS)
    local = rng.choice(
        [
            f"{plain_first}.{plain_last}",
            f"{plain_first[0]}.{plain_last}",
            f"{plain_first}{plain_last}",
            f"{plain_first}_{plain_last}",
        ]
    )
    candidate = f"{local}@{domain}"
    suffix = 1
    while candidate in seen:
        suffix += 1
        candidate = f"{local}{suffix}@{domain}"
    seen.add(candidate)
    return candidate


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
