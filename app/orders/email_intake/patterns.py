"""Fallbacks for fields no label announced: postal codes, phones, e-mail addresses.

A value found this way is less certain than a labelled one (the mail may hold
the partner's own address and phone too), and less certain still when the
mail offers several candidates. The sender's signature is never searched: it
holds the partner's details, not the customer's.
"""

from __future__ import annotations

import re

from app.conversations.contacts.phones import normalise_phone
from app.orders.email_intake import labels as f
from app.orders.email_intake.parsed import ParsedField
from app.orders.email_intake.text import CELL, EMAIL, PHONE, POSTAL_CODE, split_street

SINGLE = 70  # the one candidate in the mail
ADDRESS = 65  # a postal code line and the street line around it
SEVERAL = 50  # the first of several candidates
NAME_GUESS = 55  # the line above the address

_ORDER_REFERENCE = re.compile(
    r"\b(?:order|ordernummer|ordernr|bestelling|bestelnummer|referentie|ref)\b\.?"
    r"\s*(?:nr\.?|nummer|id)?\s*[:#]?\s*([A-Z0-9][A-Z0-9/_.-]*\d[A-Z0-9/_.-]*)",
    re.IGNORECASE,
)
_PARTNER_ORDER_ID = re.compile(r"\b[A-Z]{2,5}-\d{4}-\d{3,}\b")
_PHONE_WORD = re.compile(r"\b(?:tel|telefoon|mobiel|gsm|phone|mobile)\b", re.IGNORECASE)
_SIGN_OFF = re.compile(
    r"^(?:met )?(?:vriendelijke )?(?:groet(?:en)?|mvg|kind regards|best regards|regards"
    r"|cheers|--)[,.!]?$",
    re.IGNORECASE,
)
_FORWARD = re.compile(
    r"(?:doorgestuurd bericht|forwarded message|original message|oorspronkelijk bericht)"
    r"|^(?:van|from|aan|to|cc|datum|date|onderwerp|subject|verzonden|sent):",
    re.IGNORECASE,
)
_PLACE = re.compile(r"^['’A-Z][A-Za-zÀ-ÿ'’\- ]{1,40}$")
_NAME = re.compile(r"^[A-Z][A-Za-zÀ-ÿ'’.\-]*(?:\s+[A-Za-zÀ-ÿ'’.\-]+){1,4}$")
_GREETING = re.compile(
    r"^(?:hoi|hallo|beste|geachte|dag|hi|hello|dear|goedemorgen|goedemiddag)\b", re.I
)
_FREEMAIL = {
    "gmail.com", "hotmail.com", "outlook.com", "live.nl", "live.com", "ziggo.nl",
    "kpnmail.nl", "icloud.com", "yahoo.com", "planet.nl", "home.nl", "xs4all.nl",
}  # fmt: skip


def fill_from_patterns(
    fields: dict[str, ParsedField],
    subject: str,
    lines: list[str],
    used: set[int],
    ignore: list[str],
) -> None:
    """Add what patterns find for the fields still missing from ``fields``."""
    free = [
        (index, line.replace(CELL, " "))
        for index, line in enumerate(lines)
        if line and index not in used and index not in _signature_lines(lines)
    ]
    if _missing(fields, f.ORDER_ID):
        _order_id(fields, subject, free)
    if _missing(fields, f.EMAIL):
        _email(fields, free, ignore)
    if _missing(fields, f.PHONE):
        _phone(fields, free)
    if any(_missing(fields, path) for path in (f.POSTAL_CODE, f.HOUSE_NUMBER, f.STREET, f.CITY)):
        _address(fields, free)


def _missing(fields: dict, path: str) -> bool:
    return path not in fields or fields[path].value in (None, "")


def _signature_lines(lines: list[str]) -> set[int]:
    """Lines from a sign-off ("Met vriendelijke groet") to the next forwarded message."""
    inside, found = False, set()
    for index, line in enumerate(lines):
        flat = line.replace(CELL, " ").strip()
        if _FORWARD.search(flat):
            inside = False
        elif _SIGN_OFF.match(flat):
            inside = True
        if inside:
            found.add(index)
    return found


def _order_id(fields: dict, subject: str, free: list[tuple[int, str]]) -> None:
    for text, confidence, source in [(subject, 75, "subject")] + [
        (line, 65, "pattern") for _, line in free
    ]:
        match = _ORDER_REFERENCE.search(text) or _PARTNER_ORDER_ID.search(text)
        if match:
            value = match.group(match.lastindex or 0).strip(".,;")
            fields[f.ORDER_ID] = ParsedField(value, confidence, source)
            return


def _email(fields: dict, free: list[tuple[int, str]], ignore: list[str]) -> None:
    ignored_domains = {a.split("@")[-1] for a in ignore} - _FREEMAIL
    candidates = []
    for _, line in free:
        if _FORWARD.search(line):
            continue
        for match in EMAIL.finditer(line):
            address = match.group(0).lower()
            if address in ignore or address.split("@")[-1] in ignored_domains:
                continue
            if address not in candidates:
                candidates.append(address)
    _choose(fields, f.EMAIL, candidates, "e-mail addresses")


def _phone(fields: dict, free: list[tuple[int, str]]) -> None:
    candidates, announced = [], set()
    for _, line in free:
        if _FORWARD.search(line) or "fax" in line.lower():
            continue
        for match in PHONE.finditer(line):
            phone = normalise_phone(match.group(0))
            if phone and phone not in candidates:
                candidates.append(phone)
                if _PHONE_WORD.search(line[: match.start()]):
                    announced.add(phone)
    _choose(fields, f.PHONE, candidates, "phone numbers")
    if len(candidates) == 1 and candidates[0] in announced:
        # "tel 06 ..." without a colon: nearly a label.
        fields[f.PHONE].confidence = SINGLE + 10


def _choose(fields: dict, path: str, candidates: list[str], what: str) -> None:
    if len(candidates) == 1:
        fields[path] = ParsedField(candidates[0], SINGLE, "pattern")
    elif candidates:
        note = f"{len(candidates)} {what} in the mail; the first was taken"
        fields[path] = ParsedField(candidates[0], SEVERAL, "pattern", note)


def _address(fields: dict, free: list[tuple[int, str]]) -> None:
    """A "1234 AB Plaats" line, with the street on it or on the line above."""
    blocks = []
    for position, (index, line) in enumerate(free):
        match = POSTAL_CODE.search(line)
        if not match or _FORWARD.search(line):
            continue
        block = {f.POSTAL_CODE: f"{match.group(1)} {match.group(2)}"}
        city = line[match.end() :].strip(" ,.")
        if _PLACE.match(city):
            block[f.CITY] = city
        street_line = line[: match.start()].strip(" ,")
        street_position = position
        if not street_line and position > 0 and free[position - 1][0] == index - 1:
            street_line, street_position = free[position - 1][1], position - 1
        street, number = split_street(street_line) if street_line else ("", None)
        if number and street:
            block[f.STREET], block[f.HOUSE_NUMBER] = street, number
            above = street_position - 1
            if above >= 0 and free[above][0] == free[street_position][0] - 1:
                name = free[above][1].strip()
                if (
                    _NAME.match(name)
                    and not _GREETING.match(name)
                    and f.field_for_label(name) is None
                ):
                    block[f.NAME] = name
        blocks.append(block)
    if not blocks:
        return
    codes = {block[f.POSTAL_CODE] for block in blocks}
    confidence = ADDRESS if len(codes) == 1 else SEVERAL
    note = (
        None if len(codes) == 1 else f"{len(codes)} postal codes in the mail; the first was taken"
    )
    for path, value in blocks[0].items():
        if _missing(fields, path):
            score = NAME_GUESS if path == f.NAME else confidence
            fields[path] = ParsedField(
                value, score, "pattern", note if path == f.POSTAL_CODE else None
            )
