"""Finding the ordered products in an e-mail: product tables, labelled lines, SKU lines.

A product counts as certain when its code is on the partner's SKU list and the
quantity is written next to it; an unknown code, or a code in the middle of a
sentence, is kept with a lower confidence for a person to check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.orders.email_intake.labels import DESCRIPTION, PRODUCT, QUANTITY, field_for_label
from app.orders.email_intake.text import CELL

_QUANTITY = (
    re.compile(r"(?<![\w.,])(\d{1,3})\s*(?:x|×|stuks|stuk|st\.|pcs|pc)(?!\w)", re.IGNORECASE),
    re.compile(r"(?<!\w)(?:x|×)\s*(\d{1,3})(?![\w.,])", re.IGNORECASE),
    re.compile(r"\b(?:aantal|qty|quantity)\s*[:=]?\s*(\d{1,3})\b", re.IGNORECASE),
)
# A product code we do not know: upper case, with a digit or a dash in it.
_CODE = re.compile(r"(?<![\w-])([A-Z0-9]{2,}(?:[-_./][A-Z0-9]+)+|[A-Z]{2,}\d[A-Z0-9]*)(?![\w-])")
# "2x ALV-XYZ-1 Something": a quantity first marks a product line.
_STRUCTURED_LINE = re.compile(r"^\d{1,3}\s*(?:x|×)\s+\S", re.IGNORECASE)
_PROSE_WORDS = 8
_PRODUCT_LABELS = (PRODUCT, QUANTITY, DESCRIPTION)


@dataclass
class FoundItem:
    sku: str | None
    description: str
    quantity: int
    confidence: int
    source: str
    note: str | None = None

    def as_line(self) -> dict:
        return {
            "sku": self.sku or "",
            "description": self.description,
            "quantity": self.quantity,
            "confidence": self.confidence,
        }


class SkuCatalogue:
    """The partner's SKU list (code → description), matched case-insensitively."""

    def __init__(self, known: Mapping[str, str] | None) -> None:
        self._known = {sku.upper(): (sku, desc or "") for sku, desc in (known or {}).items()}
        codes = sorted(self._known, key=len, reverse=True)
        self._pattern = (
            re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, codes)) + r")(?![\w-])", re.I)
            if codes
            else None
        )

    def find(self, text: str) -> list[str]:
        if self._pattern is None:
            return []
        return [self._known[m.group(1).upper()][0] for m in self._pattern.finditer(text)]

    def knows(self, sku: str) -> bool:
        return sku.upper() in self._known

    def canonical(self, sku: str) -> str:
        return self._known.get(sku.upper(), (sku, ""))[0]

    def description(self, sku: str) -> str:
        return self._known.get(sku.upper(), ("", ""))[1]


@dataclass
class ProductScan:
    items: list[FoundItem] = field(default_factory=list)
    used_lines: set[int] = field(default_factory=set)


def find_products(
    lines: list[str], labelled: list[tuple[int, str, str]], catalogue: SkuCatalogue
) -> ProductScan:
    """Every product line of the mail, each once, in the order they appear.

    ``labelled`` are the mail's ``(line index, field, value)`` label hits; the
    product, quantity and description labels among them are read here.
    """
    scan = ProductScan()
    # Lines that carry another field ("Opmerkingen: ... ALV-WB-11 ...") are not products.
    other_fields = {index for index, kind, _ in labelled if kind not in _PRODUCT_LABELS}
    _tables(lines, catalogue, scan)
    _labelled(labelled, catalogue, scan)
    for index, line in enumerate(lines):
        if index in scan.used_lines or index in other_fields or not line:
            continue
        flat = line.replace(CELL, " ")
        structured = bool(_STRUCTURED_LINE.match(flat)) or len(flat.split()) < _PROSE_WORDS
        for sku in catalogue.find(flat):
            quantity = _quantity(flat)
            scan.items.append(
                _item(sku, flat, quantity, catalogue, "pattern", 95 if structured else 75)
            )
            scan.used_lines.add(index)
        if index not in scan.used_lines and _STRUCTURED_LINE.match(flat):
            code = _CODE.search(flat)
            if code:
                scan.items.append(
                    _item(code.group(1), flat, _quantity(flat), catalogue, "pattern", 50)
                )
                scan.used_lines.add(index)
    return scan


def _tables(lines: list[str], catalogue: SkuCatalogue, scan: ProductScan) -> None:
    index = 0
    while index < len(lines):
        columns = [field_for_label(cell) for cell in lines[index].split(CELL)]
        if PRODUCT not in columns or not {QUANTITY, DESCRIPTION} & set(columns):
            index += 1
            continue
        scan.used_lines.add(index)
        index += 1
        while index < len(lines) and len(cells := lines[index].split(CELL)) == len(columns):
            row = dict(zip(columns, cells, strict=True))
            code = row.get(PRODUCT, "")
            skus = catalogue.find(code) or catalogue.find(" ".join(cells))
            sku = skus[0] if skus else (code.strip() or None)
            quantity = _int(row.get(QUANTITY))
            description = row.get(DESCRIPTION) or (catalogue.description(sku) if sku else "")
            scan.items.append(
                _item(sku, "", quantity, catalogue, "table", 95, description=description)
            )
            scan.used_lines.add(index)
            index += 1


def _labelled(labelled: list[tuple[int, str, str]], catalogue: SkuCatalogue, scan: ProductScan):
    current: FoundItem | None = None
    explicit_quantity = False
    for index, kind, value in labelled:
        if index in scan.used_lines and kind == PRODUCT:
            continue
        if kind == PRODUCT and value:
            skus = catalogue.find(value)
            code = _CODE.search(value)
            sku = skus[0] if skus else (code.group(1) if code else None)
            quantity = _quantity(value)
            explicit_quantity = quantity is not None
            current = _item(sku, value, quantity, catalogue, "label", 95)
            scan.items.append(current)
        elif kind == QUANTITY and current is not None and not explicit_quantity:
            quantity = _int(value)
            if quantity is not None:
                current.quantity = quantity
                current.confidence = 95 if catalogue.knows(current.sku or "") else 55
                explicit_quantity = True
        elif kind == DESCRIPTION and current is not None and value:
            current.description = value[:255]
        else:
            continue
        scan.used_lines.add(index)


def _item(
    sku: str | None,
    line: str,
    quantity: int | None,
    catalogue: SkuCatalogue,
    source: str,
    confidence: int,
    *,
    description: str | None = None,
) -> FoundItem:
    known = bool(sku) and catalogue.knows(sku)
    note = None
    if not known:
        confidence = min(confidence, 60 if source == "table" else 55)
        note = f"{sku} is not on the partner's SKU list" if sku else "no product code"
    if quantity is None:
        quantity = 1
        confidence = min(confidence - 10, 85)
        note = note or "no quantity given; 1 assumed"
    if description is None:
        description = _description(line, sku)
    if not description or len(description.split()) >= _PROSE_WORDS:
        description = (catalogue.description(sku) if sku else "") or description
    return FoundItem(
        sku=catalogue.canonical(sku) if sku else None,
        description=description[:255],
        quantity=quantity,
        confidence=confidence,
        source=source,
        note=note,
    )


def _description(line: str, sku: str | None) -> str:
    text = line
    if sku:
        text = re.sub(re.escape(sku), " ", text, flags=re.IGNORECASE)
    for pattern in _QUANTITY:
        text = pattern.sub(" ", text)
    return " ".join(text.replace(CELL, " ").split()).strip(" -:,;()[]")


def _quantity(text: str) -> int | None:
    for pattern in _QUANTITY:
        if match := pattern.search(text):
            return _int(match.group(1))
    return None


def _int(value: str | None) -> int | None:
    match = re.fullmatch(r"\s*(\d{1,4})\s*(?:x|×|st\.?|stuks)?\s*", value or "", re.IGNORECASE)
    if not match or int(match.group(1)) < 1:
        return None
    return int(match.group(1))
