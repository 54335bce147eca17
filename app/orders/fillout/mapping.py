"""Which answer is the customer's name, e-mail, address…: a form's question mapping.

Each :class:`~app.platform.models.IntakeForm` may map question names or ids to intake
fields in ``field_mapping`` (``{"Wat is je naam?": "customer_name"}``); what it
does not map falls back to :data:`DEFAULT_LABELS`, which knows our intake field names
and the usual Dutch and English labels. ``"ignore"`` drops a question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.conversations.contacts.emails import EMAIL_ADDRESS
from app.conversations.contacts.phones import normalise_phone
from app.orders.core.creation import AddressDetails, parse_address_line
from app.orders.fillout.payloads import Answer, Submission

IGNORE = "ignore"
# The intake fields a question can fill, with what an admin sees for each.
INTAKE_FIELDS: dict[str, str] = {
    "customer_name": _l("Full name"),
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "email": _l("E-mail address"),
    "phone": _l("Phone number"),
    "address": _l("Address on one line (Kerkstraat 123, 1234AB Amsterdam)"),
    "street": _l("Street"),
    "house_number": _l("House number"),
    "house_number_addition": _l("House number addition"),
    "postal_code": _l("Postal code"),
    "city": _l("City"),
    "charging_needs": _l("Charging needs (becomes the order's notes)"),
    "installation_preference": _l("Installation preference"),
    "notes": _l("Other remarks"),
    "selected_products": _l("Selected products (one line each)"),
    "partner": _l("Partner (id or name)"),
}
_LABELS = {
    "customer_name": "customer_name name naam volledige_naam full_name uw_naam je_naam "
    "contactpersoon",
    "first_name": "first_name voornaam",
    "last_name": "last_name achternaam",
    "email": "email e-mail e-mailadres emailadres email_address mail uw_e-mailadres",
    "phone": "phone telefoon telefoonnummer phone_number mobiel mobiel_nummer telefoonnr",
    "address": "address adres installatieadres installatie_adres volledig_adres",
    "street": "street straat straatnaam",
    "house_number": "house_number huisnummer huisnr",
    "house_number_addition": "house_number_addition toevoeging huisnummer_toevoeging",
    "postal_code": "postal_code postcode zip zip_code zipcode",
    "city": "city plaats woonplaats stad",
    "charging_needs": "charging_needs laadbehoefte laadwensen wensen",
    "installation_preference": "installation_preference installatievoorkeur voorkeur "
    "voorkeursdatum gewenste_installatiedatum",
    "notes": "notes opmerkingen toelichting vragen",
    "selected_products": "selected_products products producten product gekozen_producten",
    "partner": "partner partner_id ref referral",
}


def label_key(label: str) -> str:
    """``"E-mailadres"`` and ``"e mail adres"`` alike: lower case, letters and digits only."""
    return re.sub(r"[^0-9a-z]", "", (label or "").casefold())


DEFAULT_LABELS: dict[str, str] = {
    label_key(label): intake_field
    for intake_field, labels in _LABELS.items()
    for label in labels.split()
}
# URL parameters that name the partner a form link was handed out by.
PARTNER_PARAMETERS = ("partner", "partner_id", "ref")


@dataclass
class Intake:
    """A submission read into our fields; ``unmapped`` keeps the other answers."""

    values: dict[str, str] = field(default_factory=dict)
    selected_products: list[str] = field(default_factory=list)
    structured_address: dict[str, str] = field(default_factory=dict)
    unmapped: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        return self.values.get(name) or None

    @property
    def customer_name(self) -> str | None:
        parts = [self.get("first_name"), self.get("last_name")]
        return self.get("customer_name") or " ".join(p for p in parts if p) or None

    @property
    def email(self) -> str | None:
        email = (self.get("email") or "").lower()
        return email if EMAIL_ADDRESS.match(email) else None

    @property
    def phone(self) -> str | None:
        return normalise_phone(self.get("phone"))

    def address_details(self) -> AddressDetails | None:
        """Separate fields where the form has them, the one-line address for the rest."""
        line = self.get("address")
        parsed = parse_address_line(line) if line else AddressDetails()
        given = {
            name: self.get(name) or self.structured_address.get(name)
            for name in ("street", "house_number", "house_number_addition", "postal_code", "city")
        }
        details = AddressDetails(**{k: v or getattr(parsed, k) for k, v in given.items()})
        if not details.house_number and details.street:
            # "Kerkstraat 123" typed in the street question.
            from_street = parse_address_line(details.street)
            if from_street.house_number:
                details.street = from_street.street
                details.house_number = from_street.house_number
                details.house_number_addition = (
                    details.house_number_addition or from_street.house_number_addition
                )
        if not any(vars(details).values()):
            return None
        return details

    def address_text(self) -> str:
        """The address as the customer gave it, for people to read."""
        if self.get("address"):
            return self.get("address")
        details = self.address_details()
        if details is None:
            return ""
        number = " ".join(p for p in (details.house_number, details.house_number_addition) if p)
        street = " ".join(p for p in (details.street, number) if p)
        place = " ".join(p for p in (details.postal_code, details.city) if p)
        return ", ".join(p for p in (street, place) if p)


def map_submission(submission: Submission, field_mapping: dict | None) -> Intake:
    """Read each answer into the intake field its question maps to."""
    intake = Intake()
    for answer in submission.answers:
        target = target_field(answer, field_mapping)
        if target == IGNORE:
            continue
        if target not in INTAKE_FIELDS:
            intake.unmapped[answer.name or answer.id] = answer.value
            continue
        _fill(intake, target, answer)
    if not intake.get("partner"):
        for name in PARTNER_PARAMETERS:
            if submission.url_parameters.get(name):
                intake.values["partner"] = submission.url_parameters[name]
                break
    return intake


def target_field(answer: Answer, field_mapping: dict | None) -> str | None:
    """The field an answer fills: the form's mapping (by id, then name), else the defaults."""
    mapping = field_mapping or {}
    by_label = {label_key(str(k)): v for k, v in mapping.items()}
    return (
        mapping.get(answer.id)
        or mapping.get(answer.name)
        or by_label.get(label_key(answer.name))
        or DEFAULT_LABELS.get(label_key(answer.name))
        or DEFAULT_LABELS.get(label_key(answer.id))
    )


def _fill(intake: Intake, target: str, answer: Answer) -> None:
    value = answer.value
    if target == "selected_products":
        items = value if isinstance(value, list) else [value]
        intake.selected_products.extend(t for t in (_as_text(v) for v in items) if t)
        return
    if isinstance(value, dict) and target in ("address", "street"):
        # Fillout's Address question answers with an object.
        intake.structured_address.update(_address_object(value))
        return
    text = _as_text(value)
    if text and not intake.values.get(target):
        intake.values[target] = text


def _address_object(value: dict) -> dict[str, str]:
    keys = {
        "street": ("street", "address", "address1", "line1"),
        "house_number": ("houseNumber", "house_number", "number"),
        "postal_code": ("zipCode", "postalCode", "postal_code", "postcode", "zip"),
        "city": ("city", "locality"),
    }
    found = {}
    for name, candidates in keys.items():
        for key in candidates:
            if _as_text(value.get(key)):
                found[name] = _as_text(value.get(key))
                break
    return found


def _as_text(value: Any) -> str:
    if value is None or isinstance(value, dict):
        return ""
    if isinstance(value, list):
        return ", ".join(t for t in (_as_text(v) for v in value) if t)
    if isinstance(value, bool):
        return "ja" if value else "nee"
    return " ".join(str(value).split())


def intake_problems(intake: Intake) -> dict[str, str]:
    """What keeps a submission from becoming an order, by intake field."""
    problems: dict[str, str] = {}
    if not intake.customer_name:
        problems["customer_name"] = "required: no answer maps to the customer's name"
    if intake.email is None and intake.phone is None:
        email, phone = intake.get("email"), intake.get("phone")
        problems["email"] = f"not an e-mail address: {email!r}" if email else "missing"
        problems["phone"] = f"not a phone number: {phone!r}" if phone else "missing"
    return problems


def mapping_problems(mapping: Any) -> dict[str, str]:
    """Check an admin's mapping: an object of question → intake field (or ``ignore``)."""
    if not isinstance(mapping, dict):
        return {"field_mapping": _("must be a JSON object of question name or id → field")}
    problems = {}
    allowed = [*INTAKE_FIELDS, IGNORE]
    for question, target in mapping.items():
        if not str(question).strip():
            problems["field_mapping"] = _("a question name may not be empty")
        elif target not in allowed:
            problems[f"field_mapping.{question}"] = _(
                "%(target)s is not a field; use one of %(fields)s",
                target=repr(target),
                fields=", ".join(allowed),
            )
    return problems
