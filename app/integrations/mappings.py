"""Field mappings: which of our fields becomes which of theirs, and back.

A mapping names a local field (``contact.email``), a remote dot path
(``PrimaryEmailAddr.Address``; a number segment indexes a list, as in
``Line.0.Amount``), a data type, whether it is required, the direction it
applies in, and a transform picked from :data:`TRANSFORMS` — a fixed table of
plain functions. A mapping is data: no user-supplied code is ever evaluated.

An integration without saved rows for an object uses the provider's defaults
(:data:`DEFAULT_MAPPINGS`), so a fresh QuickBooks connection syncs customers the
way seed 004 describes without anyone opening the editor.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from app.contacts.phones import normalise_phone
from app.extensions import db
from app.models import AuditLog, Contact, FieldMapping, Integration, Order, Organization, Payment

DATA_TYPES = ("string", "number", "boolean", "date", "money")
DIRECTIONS = ("in", "out", "both")
CENT = Decimal("0.01")
REMOTE_PATH = re.compile(r"^[A-Za-z_][\w-]*(\.([A-Za-z_][\w-]*|\d{1,3}))*$")


class MappingError(ValueError):
    """A record that cannot be mapped; ``fields`` maps field names to what is wrong."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields
        super().__init__("; ".join(f"{name}: {problem}" for name, problem in fields.items()))


# --- transforms: a fixed table, chosen by name --------------------------------


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _e164(value: Any) -> str:
    phone = normalise_phone(_text(value))
    if phone is None:
        raise ValueError("is not a phone number")
    return phone


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("is not a number")
    try:
        return Decimal(_text(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation as exc:
        raise ValueError("is not a number") from exc


def _cents_to_euros(value: Any) -> Decimal:
    return (_decimal(value) / 100).quantize(CENT, ROUND_HALF_UP)


def _euros_to_cents(value: Any) -> int:
    return int((_decimal(value) * 100).quantize(Decimal(1), ROUND_HALF_UP))


def _date_iso(value: Any) -> str:
    return _as_date(value).isoformat()


TRANSFORMS: dict[str, Callable[[Any], Any]] = {
    "none": lambda value: value,
    "upper": lambda value: _text(value).upper(),
    "lower": lambda value: _text(value).lower(),
    "trim": lambda value: _text(value).strip(),
    "e164": _e164,
    "cents_to_euros": _cents_to_euros,
    "euros_to_cents": _euros_to_cents,
    "date_iso": _date_iso,
}
# Reading a value back undoes a unit change; the normalising transforms apply as they are.
INVERSE = {"cents_to_euros": "euros_to_cents", "euros_to_cents": "cents_to_euros"}


# --- data types ----------------------------------------------------------------


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return datetime.fromisoformat(_text(value).strip().replace("Z", "+00:00")).date()
    except ValueError as exc:
        raise ValueError("is not a date (YYYY-MM-DD)") from exc


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).strip().lower()
    if text in ("true", "1", "yes", "y", "on"):
        return True
    if text in ("false", "0", "no", "n", "off", ""):
        return False
    raise ValueError("is not true or false")


def _number_out(value: Any) -> int | float:
    number = _decimal(value)
    return int(number) if number == number.to_integral_value() else float(number)


def to_remote_type(data_type: str, value: Any) -> Any:
    """``value`` as the JSON value a provider expects for ``data_type``."""
    if data_type == "number":
        return _number_out(value)
    if data_type == "money":
        return float(_decimal(value).quantize(CENT, ROUND_HALF_UP))
    if data_type == "boolean":
        return _as_bool(value)
    if data_type == "date":
        return _as_date(value).isoformat()
    return _text(value)


def to_local_type(data_type: str, value: Any) -> Any:
    """A provider's value as the Python value our models hold."""
    if data_type == "number":
        return _decimal(value)
    if data_type == "money":
        return _decimal(value).quantize(CENT, ROUND_HALF_UP)
    if data_type == "boolean":
        return _as_bool(value)
    if data_type == "date":
        return _as_date(value)
    return _text(value)


# --- dot paths -----------------------------------------------------------------


def get_path(record: Any, path: str) -> Any:
    """The value at ``path`` in nested dicts/lists, or None when any step is missing."""
    node = record
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit():
            index = int(part)
            node = node[index] if index < len(node) else None
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
        if node is None:
            return None
    return node


def set_path(payload: dict, path: str, value: Any) -> None:
    """Put ``value`` at ``path``, building dicts (and lists, for number segments) on the way."""
    parts = path.split(".")
    node: Any = payload
    for part, following in zip(parts, parts[1:], strict=False):
        empty: Any = [] if following.isdigit() else {}
        if isinstance(node, list):
            index = int(part)
            while len(node) <= index:
                node.append(None)
            if not isinstance(node[index], (dict, list)):
                node[index] = empty
            node = node[index]
        else:
            if not isinstance(node.get(part), (dict, list)):
                node[part] = empty
            node = node[part]
    last = parts[-1]
    if isinstance(node, list):
        index = int(last)
        while len(node) <= index:
            node.append(None)
        node[index] = value
    else:
        node[last] = value


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
    # Seed 004's example, customer → QuickBooks Customer.
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


def mappings_for(integration: Integration, object_type: str) -> list[MappingSpec]:
    """The saved mappings of ``object_type``, or the provider's defaults when none are saved."""
    rows = db.session.scalars(
        sa.select(FieldMapping)
        .where(
            FieldMapping.integration_id == integration.id,
            FieldMapping.object_type == object_type,
        )
        .order_by(FieldMapping.position)
    ).all()
    if not rows:
        return list(default_mappings(integration.provider, object_type))
    return [
        MappingSpec(
            r.local_field,
            r.remote_field,
            r.data_type,
            r.required,
            r.direction,
            r.transform or "none",
        )
        for r in rows
    ]


def has_saved_mappings(integration: Integration, object_type: str) -> bool:
    return bool(
        db.session.scalar(
            sa.select(sa.func.count(FieldMapping.id)).where(
                FieldMapping.integration_id == integration.id,
                FieldMapping.object_type == object_type,
            )
        )
    )


# --- applying ---------------------------------------------------------------------


def build_outbound(specs: Iterable[MappingSpec], values: dict[str, Any]) -> dict:
    """Our field values → the provider's payload; MappingError naming every bad field."""
    payload: dict = {}
    errors: dict[str, str] = {}
    for spec in specs:
        if not spec.applies("out"):
            continue
        if spec.local_field not in values:
            errors[spec.local_field] = "is not a field of this record"
            continue
        value = values[spec.local_field]
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.required:
                errors[spec.local_field] = "is required"
            continue
        try:
            value = to_remote_type(spec.data_type, TRANSFORMS[spec.transform](value))
        except (ValueError, KeyError) as exc:
            errors[spec.local_field] = str(exc) or "cannot be converted"
            continue
        set_path(payload, spec.remote_field, value)
    if errors:
        raise MappingError(errors)
    return payload


def build_inbound(specs: Iterable[MappingSpec], remote: dict) -> dict[str, Any]:
    """A provider's record → our field values by local name; MappingError on bad fields."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in specs:
        if not spec.applies("in"):
            continue
        value = get_path(remote, spec.remote_field)
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.required:
                errors[spec.remote_field] = "is required"
            continue
        try:
            transform = TRANSFORMS[INVERSE.get(spec.transform, spec.transform)]
            values[spec.local_field] = to_local_type(spec.data_type, transform(value))
        except (ValueError, KeyError) as exc:
            errors[spec.remote_field] = str(exc) or "cannot be converted"
    if errors:
        raise MappingError(errors)
    return values


# --- editing ----------------------------------------------------------------------


def validate_rows(object_type: str, rows: list[dict[str, Any]]) -> list[MappingSpec]:
    """Editor rows → specs; MappingError keyed ``rows-<i>-<field>`` for the form."""
    kind = kind_of(object_type)
    allowed = set(local_field_names(kind)) if kind else set()
    specs: list[MappingSpec] = []
    errors: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()
    for i, row in enumerate(rows):
        local = str(row.get("local_field") or "").strip()
        remote = str(row.get("remote_field") or "").strip()
        if not local and not remote:
            continue  # an empty editor row
        key = f"rows-{i}"
        if local not in allowed:
            errors[f"{key}-local_field"] = "must be one of " + ", ".join(sorted(allowed))
        if not REMOTE_PATH.fullmatch(remote) or len(remote) > 255:
            errors[f"{key}-remote_field"] = "must be a dot path like PrimaryEmailAddr.Address"
        data_type = str(row.get("data_type") or "string")
        if data_type not in DATA_TYPES:
            errors[f"{key}-data_type"] = "must be one of " + ", ".join(DATA_TYPES)
        direction = str(row.get("direction") or "both")
        if direction not in DIRECTIONS:
            errors[f"{key}-direction"] = "must be one of " + ", ".join(DIRECTIONS)
        transform = str(row.get("transform") or "none")
        if transform not in TRANSFORMS:
            errors[f"{key}-transform"] = "must be one of " + ", ".join(TRANSFORMS)
        if (local, remote) in seen:
            errors[f"{key}-remote_field"] = "maps the same two fields as an earlier row"
        seen.add((local, remote))
        required = row.get("required") in (True, "on", "true", "1", "y")
        specs.append(MappingSpec(local, remote, data_type, required, direction, transform))
    if not specs and not errors:
        errors["rows"] = "add at least one mapping"
    if errors:
        raise MappingError(errors)
    return specs


def save_mappings(
    integration: Integration, object_type: str, specs: list[MappingSpec], actor=None
) -> list[FieldMapping]:
    """Replace ``object_type``'s mappings with ``specs`` (no commit), audited."""
    before = [asdict(spec) for spec in mappings_for(integration, object_type)]
    db.session.execute(
        sa.delete(FieldMapping).where(
            FieldMapping.integration_id == integration.id,
            FieldMapping.object_type == object_type,
        )
    )
    rows = [
        FieldMapping(
            integration_id=integration.id,
            object_type=object_type,
            local_field=spec.local_field,
            remote_field=spec.remote_field,
            data_type=spec.data_type,
            required=spec.required,
            direction=spec.direction,
            transform=None if spec.transform == "none" else spec.transform,
            position=position,
        )
        for position, spec in enumerate(specs)
    ]
    db.session.add_all(rows)
    db.session.add(
        AuditLog(
            table_name="integration_field_mappings",
            record_id=integration.id,
            action="MAPPINGS_SAVED",
            changed_by_user_id=actor.id if actor else None,
            changes={
                "object_type": object_type,
                "before": before,
                "after": [asdict(spec) for spec in specs],
            },
        )
    )
    db.session.flush()
    return rows


# --- "test mapping" -----------------------------------------------------------------


def preview(integration: Integration, object_type: str, specs: list[MappingSpec]) -> dict:
    """What ``specs`` make of the latest local record of this kind; nothing is sent.

    Linked remote ids (an invoice's customer) are shown as placeholders: they
    are only known once the linked record is synced.
    """
    kind = kind_of(object_type)
    model = KIND_MODELS[kind]
    record = db.session.scalars(
        sa.select(model).order_by(model.created_at.desc(), model.id.desc()).limit(1)
    ).first()
    if record is None:
        return {"payload": None, "record": None, "errors": {"record": f"there is no {kind} yet"}}
    linked = {name: f"<{name.split('.', 1)[1]}>" for name in LINKED_FIELDS.get(kind, ())}
    label = getattr(record, "display_name", None) or getattr(record, "order_number", None)
    described = f"{kind} {label or record.id}"
    try:
        payload = build_outbound(specs, local_values(kind, record, linked))
    except MappingError as exc:
        return {"payload": None, "record": described, "errors": exc.fields}
    return {"payload": payload, "record": described, "errors": {}}
