"""What a mapping maps: our local fields per record kind, and each provider's defaults.

:data:`LOCAL_FIELDS` reads a local record as flat named values
(``contact.email``); :data:`OBJECT_KINDS` says which kind of record a provider
object is. An integration without saved rows for an object uses the
provider's defaults (:data:`DEFAULT_MAPPINGS`), so a fresh QuickBooks
connection syncs customers the usual way without anyone opening
the editor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.platform.models import Contact, Order, Organization, Payment

# --- local records as flat field values ----------------------------------------


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


LOCAL_FIELDS: dict[str, dict[str, Callable[[Any], Any]]] = {
    "contact": {
        "contact.id": lambda c: str(c.id),
        "contact.name": lambda c: c.display_name,
        "contact.first_name": lambda c: c.first_name,
        "contact.last_name": lambda c: c.last_name,
        "contact.email": lambda c: c.email,
        "contact.phone": lambda c: c.phone,
        "contact.job_title": lambda c: c.job_title,
        "contact.company": lambda c: c.organization.name if c.organization else None,
    },
    "organization": {
        "organization.id": lambda o: str(o.id),
        "organization.name": lambda o: o.name,
        "organization.email": lambda o: o.email,
        "organization.phone": lambda o: o.phone,
        "organization.website": lambda o: o.website,
        "organization.kvk_number": lambda o: o.kvk_number,
        "organization.vat_number": lambda o: o.vat_number,
    },
    "order": {
        "order.id": lambda o: str(o.id),
        "order.number": lambda o: o.order_number,
        "order.status": lambda o: o.status.value if o.status else None,
        "order.total": lambda o: _money(o.total_amount),
        "order.currency": lambda o: o.currency,
        "order.completed_at": lambda o: o.completed_at,
        "order.scheduled_date": lambda o: o.scheduled_date,
        "order.description": lambda o: f"ChargeCars {o.order_type} {o.order_number}",
        "order.notes": lambda o: o.notes,
        "order.customer_name": lambda o: _customer(o).display_name if _customer(o) else None,
        "order.customer_email": lambda o: _customer(o).email if _customer(o) else None,
    },
    "payment": {
        "payment.id": lambda p: str(p.id),
        "payment.amount": lambda p: _money(p.amount),
        "payment.currency": lambda p: p.currency,
        "payment.method": lambda p: p.method,
        "payment.reference": lambda p: p.external_reference,
        "payment.paid_at": lambda p: p.paid_at,
        "payment.order_id": lambda p: str(p.order_id),
    },
}
# Filled in by the sync from other records' remote ids (an invoice names its
# customer's id at the provider, a payment its invoice's).
LINKED_FIELDS: dict[str, tuple[str, ...]] = {
    "order": ("order.customer_remote_id",),
    "payment": ("payment.customer_remote_id", "payment.invoice_remote_id"),
}
KIND_MODELS = {"contact": Contact, "organization": Organization, "order": Order, "payment": Payment}

# Each provider object is one kind of local record.
OBJECT_KINDS: dict[str, str] = {
    **dict.fromkeys(
        ("contacts", "customers", "clients", "persons", "tenants", "residents"), "contact"
    ),
    **dict.fromkeys(("companies", "accounts", "organizations"), "organization"),
    **dict.fromkeys(("invoices", "deals", "opportunities", "work_orders"), "order"),
    **dict.fromkeys(("payments", "payment_intents"), "payment"),
}


def _customer(order: Order) -> Contact | None:
    return order.account_contact or order.end_customer


def kind_of(object_type: str) -> str | None:
    """The local record kind (``contact``, ``order``, …) a provider object maps to."""
    return OBJECT_KINDS.get(object_type)


def local_field_names(kind: str) -> list[str]:
    return [*LOCAL_FIELDS.get(kind, {}), *LINKED_FIELDS.get(kind, ())]


def local_values(kind: str, record: Any, linked: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every local field of ``record`` by name, plus the ``linked`` remote ids given."""
    values = {name: read(record) for name, read in LOCAL_FIELDS[kind].items()}
    values.update({name: None for name in LINKED_FIELDS.get(kind, ())})
    values.update(linked or {})
    return values


# --- mapping specs ----------------------------------------------------------------


@dataclass(frozen=True)
class MappingSpec:
    local_field: str
    remote_field: str
    data_type: str = "string"
    required: bool = False
    direction: str = "both"
    transform: str = "none"

    def applies(self, direction: str) -> bool:
        return self.direction in (direction, "both")


def _m(local, remote, data_type="string", required=False, direction="both", transform="none"):
    return MappingSpec(local, remote, data_type, required, direction, transform)


_HUBSPOT_CONTACT = (
    _m("contact.email", "properties.email", required=True, transform="lower"),
    _m("contact.first_name", "properties.firstname"),
    _m("contact.last_name", "properties.lastname"),
    _m("contact.phone", "properties.phone", transform="e164"),
    _m("contact.company", "properties.company", direction="out"),
    _m("contact.job_title", "properties.jobtitle"),
)
_GENERIC_CONTACT = (
    _m("contact.name", "name", required=True, transform="trim"),
    _m("contact.email", "email", transform="lower"),
    _m("contact.phone", "phone", transform="e164"),
)

DEFAULT_MAPPINGS: dict[tuple[str, str], tuple[MappingSpec, ...]] = {
    # Salesforce's Contact fields, as its REST API and outbound messages name them.
    ("salesforce", "contacts"): (
        _m("contact.email", "Email", transform="lower"),
        _m("contact.first_name", "FirstName"),
        _m("contact.last_name", "LastName"),
        _m("contact.phone", "Phone", transform="e164"),
        _m("contact.job_title", "Title"),
    ),
    ("hubspot", "contacts"): _HUBSPOT_CONTACT,
    ("hubspot", "companies"): (
        _m("organization.name", "properties.name", required=True),
        _m("organization.website", "properties.domain"),
        _m("organization.phone", "properties.phone", transform="e164"),
    ),
    ("hubspot", "deals"): (
        _m("order.number", "properties.dealname", required=True, direction="out"),
        _m("order.total", "properties.amount", "money", direction="out"),
        _m("order.completed_at", "properties.closedate", "date", direction="out"),
    ),
    # Customer → QuickBooks Customer, the common case.
    ("quickbooks", "customers"): (
        _m("contact.name", "DisplayName", required=True, transform="trim"),
        _m("contact.email", "PrimaryEmailAddr.Address", transform="lower"),
        _m("contact.phone", "PrimaryPhone.FreeFormNumber", transform="e164"),
        _m("contact.first_name", "GivenName"),
        _m("contact.last_name", "FamilyName"),
        _m("contact.company", "CompanyName", direction="out"),
    ),
    ("quickbooks", "invoices"): (
        _m("order.customer_remote_id", "CustomerRef.value", required=True, direction="out"),
        _m("order.number", "DocNumber", direction="out"),
        _m("order.completed_at", "TxnDate", "date", direction="out"),
        _m("order.total", "Line.0.Amount", "money", required=True, direction="out"),
        _m("order.description", "Line.0.Description", direction="out"),
    ),
    ("quickbooks", "payments"): (
        _m("payment.customer_remote_id", "CustomerRef.value", required=True, direction="out"),
        _m("payment.amount", "TotalAmt", "money", required=True, direction="out"),
        _m("payment.paid_at", "TxnDate", "date", direction="out"),
        _m("payment.amount", "Line.0.Amount", "money", required=True, direction="out"),
        _m(
            "payment.invoice_remote_id",
            "Line.0.LinkedTxn.0.TxnId",
            required=True,
            direction="out",
        ),
    ),
    ("stripe", "customers"): (
        _m("contact.name", "name", transform="trim"),
        _m("contact.email", "email", required=True, transform="lower"),
        _m("contact.phone", "phone", transform="e164"),
        _m("contact.id", "metadata.switchboard_contact_id", direction="out"),
    ),
    ("stripe", "invoices"): (
        _m("order.customer_remote_id", "customer", required=True, direction="out"),
        _m("order.description", "description", direction="out"),
        _m("order.number", "metadata.order_number", direction="out"),
        _m("order.id", "metadata.order_id", direction="out"),
    ),
    ("stripe", "payment_intents"): (
        _m("payment.amount", "amount", "number", True, "out", "euros_to_cents"),
        _m("payment.currency", "currency", required=True, direction="out", transform="lower"),
        _m("payment.order_id", "metadata.order_id", direction="out"),
    ),
}


def default_mappings(provider: str, object_type: str) -> tuple[MappingSpec, ...]:
    """The provider's defaults for ``object_type`` (generic contacts: name, e-mail, phone)."""
    found = DEFAULT_MAPPINGS.get((provider, object_type))
    if found is not None:
        return found
    return _GENERIC_CONTACT if kind_of(object_type) == "contact" else ()
