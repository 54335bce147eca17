"""Reading a partner's order e-mail into a partner API body, with a confidence per field.

Pure functions, no database. Values come, most trusted first, from labelled
lines ("Postcode: 1016 GV", Dutch or English), from product tables and SKU
lines matched against the partner's SKU list, and last from patterns (a postal
code, a phone number, an e-mail address, a "Kerkstraat 12a" line). The overall
confidence decides what happens next: 90 or more creates the order at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from statistics import mean
from typing import Any

from app.conversations.contacts.phones import normalise_phone
from app.orders.email_intake import labels as f
from app.orders.email_intake.parsed import ParsedField, ParsedOrder
from app.orders.email_intake.patterns import fill_from_patterns
from app.orders.email_intake.products import SkuCatalogue, find_products
from app.orders.email_intake.text import (
    CELL,
    EMAIL,
    POSTAL_CODE,
    html_to_text,
    lines_of,
    normalise_house_number,
    normalise_postal_code,
    parse_date,
    split_street,
)

LABEL = 95
# A labelled value that does not read as what the label promises.
UNREADABLE = 40
# The same field labelled twice with different values.
CONFLICT = 60


def parse_order_email(
    *,
    subject: str | None,
    text: str | None = None,
    html: str | None = None,
    known_skus: Mapping[str, str] | None = None,
    ignore_addresses: Iterable[str] = (),
) -> ParsedOrder:
    """Parse one order e-mail.

    ``known_skus`` is the partner's SKU list (code → description);
    ``ignore_addresses`` are the sender's and our own addresses, which are never
    the customer's. When the mail has both a text and an HTML body, both are
    read and the more confident reading wins (HTML keeps table structure, the
    text part is sometimes the tidier one).
    """
    catalogue = SkuCatalogue(known_skus)
    ignore = [address.lower() for address in ignore_addresses if address]
    readings = [
        _parse(subject or "", body, catalogue, ignore)
        for body in (text, html_to_text(html) if html else None)
        if body and body.strip()
    ]
    if not readings:
        return _parse(subject or "", "", catalogue, ignore)
    return max(readings, key=lambda reading: reading.confidence)


def _parse(subject: str, text: str, catalogue: SkuCatalogue, ignore: list[str]) -> ParsedOrder:
    lines = lines_of(text)
    labelled = _labelled_lines(lines)
    fields: dict[str, ParsedField] = {}
    for _, kind, value in labelled:
        for path, found in _read_label(kind, value).items():
            _keep(fields, path, found)
    products = find_products(lines, labelled, catalogue)
    if products.items:
        weakest = min(products.items, key=lambda item: item.confidence)
        notes = sorted({item.note for item in products.items if item.note})
        fields[f.LINE_ITEMS] = ParsedField(
            [item.as_line() for item in products.items],
            weakest.confidence,
            weakest.source,
            "; ".join(notes) or None,
        )
    used = {index for index, _, _ in labelled} | products.used_lines
    fill_from_patterns(fields, subject, lines, used, ignore)
    body = body_from_values({path: found.value for path, found in fields.items()})
    warnings = [f"{path}: {found.note}" for path, found in fields.items() if found.note]
    return ParsedOrder(body, fields, overall_confidence(fields), warnings, text.strip())


def overall_confidence(fields: Mapping[str, ParsedField]) -> int:
    """Half the weakest required field, half their average.

    The required fields are those an order cannot do without: the partner's
    order id, the customer's name, one way to reach them, the postal code and
    house number, and at least one product. A missing one counts as 0, which
    pulls the result far below 90; all of them read from labels gives 95.
    """

    def score(path: str) -> int:
        found = fields.get(path)
        return found.confidence if found and found.value not in (None, "", []) else 0

    required = [
        score(f.ORDER_ID),
        score(f.NAME),
        max(score(f.EMAIL), score(f.PHONE)),
        score(f.POSTAL_CODE),
        score(f.HOUSE_NUMBER),
        score(f.LINE_ITEMS),
    ]
    return round((min(required) + mean(required)) / 2)


def body_from_values(values: Mapping[str, Any]) -> dict:
    """The partner API body from field values; empty values left out."""

    def present(path: str) -> Any:
        value = values.get(path)
        return value if value not in (None, "", []) else None

    def compact(data: dict) -> dict:
        return {key: value for key, value in data.items() if value not in (None, "", {})}

    address = compact({key.rsplit(".", 1)[1]: present(key) for key in _ADDRESS_FIELDS})
    customer = compact(
        {
            "name": present(f.NAME),
            "email": present(f.EMAIL),
            "phone": present(f.PHONE),
            "address": address,
        }
    )
    items = [
        {
            "sku": item.get("sku") or "",
            "description": item.get("description") or "",
            "quantity": item.get("quantity"),
        }
        for item in values.get(f.LINE_ITEMS) or []
    ]
    preferences = compact({"preferred_date": present(f.PREFERRED_DATE), "notes": present(f.NOTES)})
    body = {
        "partner_order_id": present(f.ORDER_ID),
        "partner_customer_id": present(f.CUSTOMER_ID),
        "customer": customer,
        "line_items": items,
        "installation_preferences": preferences,
    }
    return {key: value for key, value in body.items() if value is not None}


_ADDRESS_FIELDS = (f.STREET, f.HOUSE_NUMBER, f.POSTAL_CODE, f.CITY)
_SPLIT_LABEL = re.compile(r"^([^:：]{1,40}?)\s*[:：]\s*(.*)$")


def _labelled_lines(lines: list[str]) -> list[tuple[int, str, str]]:
    """Every ``(line index, field, value)`` a label announces.

    "Label: value" (the label in its own table cell or not) and "Label<TAB>value"
    rows both count. An empty value is looked for on the next line; notes run
    on until a blank line or the next label.
    """
    found: list[tuple[int, str, str]] = []
    consumed: set[int] = set()
    for index, line in enumerate(lines):
        if index in consumed or not line:
            continue
        kind, value = _label_of(line)
        if kind is None:
            continue
        if not value and kind == f.NOTES:
            following = []
            for later in range(index + 1, len(lines)):
                if not lines[later] or _label_of(lines[later])[0] is not None:
                    break
                following.append(lines[later].replace(CELL, " "))
                consumed.add(later)
            value = "\n".join(following)
        elif not value and index + 1 < len(lines) and lines[index + 1]:
            if _label_of(lines[index + 1])[0] is None:
                value = lines[index + 1].replace(CELL, " ")
                consumed.add(index + 1)
                found.append((index + 1, kind, value))
                continue
        found.append((index, kind, value))
    return found


def _label_of(line: str) -> tuple[str | None, str]:
    cells = line.split(CELL)
    flat = " ".join(cells)
    if match := _SPLIT_LABEL.match(flat):
        kind = f.field_for_label(match.group(1))
        if kind is not None:
            return kind, match.group(2).strip()
    if len(cells) >= 2 and (kind := f.field_for_label(cells[0])) is not None:
        return kind, " ".join(cells[1:]).strip()
    return None, ""


def _read_label(kind: str, value: str) -> dict[str, ParsedField]:
    """What one labelled value says, checked and normalised, per field."""
    value = value.strip()
    if not value:
        return {}
    if kind == f.EMAIL:
        match = EMAIL.search(value)
        if match:
            return {kind: ParsedField(match.group(0).lower(), LABEL, "label")}
        return {kind: ParsedField(value, UNREADABLE, "label", "not an e-mail address")}
    if kind == f.PHONE:
        phone = normalise_phone(value)
        if phone:
            return {kind: ParsedField(phone, LABEL, "label")}
        return {kind: ParsedField(value, UNREADABLE, "label", "not a phone number")}
    if kind == f.POSTAL_CODE:
        code = normalise_postal_code(value)
        if code:
            return {kind: ParsedField(code, LABEL, "label")}
        return {kind: ParsedField(value, UNREADABLE, "label", "not a Dutch postal code")}
    if kind == f.POSTAL_CODE_AND_CITY:
        return _postal_code_and_city(value)
    if kind == f.STREET:
        return _street(value)
    if kind == f.HOUSE_NUMBER:
        if value[:1].isdigit():
            return {kind: ParsedField(normalise_house_number(value), LABEL, "label")}
        return {kind: ParsedField(value, UNREADABLE, "label", "does not start with a number")}
    if kind == f.NAME:
        readable = any(ch.isalpha() for ch in value) and not any(
            ch.isdigit() or ch == "@" for ch in value
        )
        if readable:
            return {kind: ParsedField(" ".join(value.split())[:200], LABEL, "label")}
        return {kind: ParsedField(value, UNREADABLE, "label", "does not read as a name")}
    if kind == f.ORDER_ID:
        token = value.lstrip("#").split()[0].strip(".,;")
        if any(ch.isdigit() for ch in token) and 3 <= len(token) <= 100:
            return {kind: ParsedField(token, LABEL, "label")}
        return {kind: ParsedField(value[:100], UNREADABLE, "label", "does not read as an order id")}
    if kind == f.PREFERRED_DATE:
        day = parse_date(value)
        if day:
            return {kind: ParsedField(day.isoformat(), LABEL, "label")}
        return {kind: ParsedField(None, UNREADABLE, "label", f"could not read the date {value!r}")}
    if kind in (f.CITY, f.CUSTOMER_ID, f.NOTES):
        return {kind: ParsedField(value[:2000], LABEL, "label")}
    return {}  # product labels are read with the products


def _street(value: str) -> dict[str, ParsedField]:
    """ "Kerkstraat 12a", or a whole address "Kerkstraat 12a, 3512 HT Utrecht"."""
    found: dict[str, ParsedField] = {}
    rest = value
    if match := POSTAL_CODE.search(value.upper()):
        rest = value[: match.start()].strip(" ,")
        found.update(_postal_code_and_city(value[match.start() :]))
    street, number = split_street(rest)
    found[f.STREET] = ParsedField(street, LABEL, "label")
    if number:
        # Read out of the street line rather than labelled on its own.
        found[f.HOUSE_NUMBER] = ParsedField(number, LABEL - 5, "label")
    return found


def _postal_code_and_city(value: str) -> dict[str, ParsedField]:
    match = POSTAL_CODE.search(value.upper())
    if not match:
        return {f.POSTAL_CODE: ParsedField(value, UNREADABLE, "label", "no Dutch postal code")}
    found = {f.POSTAL_CODE: ParsedField(f"{match.group(1)} {match.group(2)}", LABEL, "label")}
    city = value[match.end() :].strip(" ,")
    if city:
        found[f.CITY] = ParsedField(city, LABEL, "label")
    return found


def _keep(fields: dict[str, ParsedField], path: str, found: ParsedField) -> None:
    """The first value of a field stands; a different second one lowers its confidence."""
    current = fields.get(path)
    if current is None or (current.confidence < found.confidence and current.value is None):
        fields[path] = found
        return
    if found.value is not None and _same(current.value, found.value) is False:
        current.confidence = min(current.confidence, CONFLICT)
        current.note = f"the mail also says {found.value!r}"


def _same(a: Any, b: Any) -> bool:
    return str(a).strip().lower() == str(b).strip().lower()
