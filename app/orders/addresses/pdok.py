"""PDOK Locatieserver: is this a real Dutch address, and where is it?

Locatieserver is the government's free geocoder over the BAG (Basisregistratie
Adressen en Gebouwen). We ask the ``free`` service for the address with this
postal code and house number (``fq=type:adres``), and use ``lookup`` for the
details when the ``free`` answer lacks them. No key is needed; the base URL is
``PDOK_API_BASE`` so tests point it at a fake.

A check never raises: an order must not be refused because PDOK is slow or the
address is odd. The outcome says what happened and the caller flags the order
for review when it is not ``valid``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from decimal import Decimal

import requests
from flask import current_app

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5
SUGGESTIONS = 5
POSTAL_CODE = re.compile(r"^\s*([1-9]\d{3})\s*([A-Za-z]{2})\s*$")
HOUSE_NUMBER = re.compile(r"^\s*(\d{1,5})\s*[-\s]?\s*([A-Za-z0-9]{0,6})\s*$")
POINT = re.compile(r"POINT\(\s*([-\d.]+)\s+([-\d.]+)\s*\)")

VALID = "valid"
NOT_FOUND = "not_found"
MISMATCH = "mismatch"
UNAVAILABLE = "unavailable"


@dataclass
class AddressCheck:
    outcome: str
    message: str
    bag_id: str | None = None
    street: str | None = None
    house_number: str | None = None
    house_number_addition: str | None = None
    postal_code: str | None = None
    city: str | None = None
    province: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    display: str | None = None
    # Locatieserver's own id of the address, for a later ``lookup``.
    pdok_id: str | None = None

    @property
    def valid(self) -> bool:
        return self.outcome == VALID


def normalise_postal_code(value: str | None) -> str | None:
    """``1012 ab`` → ``1012AB``; None when it is not a Dutch postal code."""
    match = POSTAL_CODE.match(value or "")
    return f"{match.group(1)}{match.group(2).upper()}" if match else None


def split_house_number(value: str | None) -> tuple[str, str | None] | None:
    """``12``, ``12a``, ``12-2``, ``12 bis`` → (number, addition); None if not a number."""
    match = HOUSE_NUMBER.match(str(value or ""))
    if not match:
        return None
    return match.group(1), (match.group(2) or None)


def check_address(postal_code: str, house_number: str, addition: str | None = None) -> AddressCheck:
    """Look the address up in the BAG. Never raises; see :class:`AddressCheck`."""
    code = normalise_postal_code(postal_code)
    number = split_house_number(house_number)
    if code is None or number is None:
        return AddressCheck(NOT_FOUND, "postal code or house number is not in Dutch form")
    number_part, parsed_addition = number
    addition = (addition or parsed_addition or "").strip() or None
    base = current_app.config["PDOK_API_BASE"].rstrip("/")
    try:
        doc = _free(base, code, number_part, addition)
        if doc is not None and "centroide_ll" not in doc and doc.get("id"):
            doc = _lookup(base, doc["id"]) or doc
    except (requests.RequestException, ValueError) as exc:
        log.warning("PDOK lookup for %s %s failed: %s", code, number_part, exc)
        return AddressCheck(UNAVAILABLE, f"address service unavailable: {exc.__class__.__name__}")
    if doc is None:
        return AddressCheck(
            NOT_FOUND, f"no address {code} {number_part}{addition or ''} in the BAG"
        )
    check = _from_doc(doc)
    wanted = (addition or "").replace("-", "").replace(" ", "").upper()
    found = ((check.house_number_addition or "").replace("-", "").replace(" ", "")).upper()
    if wanted and found != wanted:
        check.outcome = MISMATCH
        check.message = f"the BAG has {check.display!r}, not house number addition {addition!r}"
    return check


def suggest_addresses(
    street: str | None, house_number: str | None, postal_code: str | None, city: str | None
) -> list[AddressCheck] | None:
    """Up to ``SUGGESTIONS`` BAG addresses near what was typed; None when PDOK is unreachable.

    For a person picking the right one when the exact look-up found nothing: a
    mistyped postcode, a house number with the addition in the wrong place. The
    ``free`` service searches its text fields for the typed words, as its own
    web viewer does.
    """
    words = " ".join(
        str(part).strip() for part in (street, house_number, postal_code, city) if part
    )
    if not words.strip():
        return []
    base = current_app.config["PDOK_API_BASE"].rstrip("/")
    try:
        response = requests.get(
            f"{base}/free",
            params={"q": words, "fq": "type:adres", "rows": SUGGESTIONS},
            headers={"Accept": "application/json"},
            timeout=TIMEOUT_SECONDS,
        )
        response.raise_for_status()
        docs = response.json().get("response", {}).get("docs", [])
    except (requests.RequestException, ValueError) as exc:
        log.warning("PDOK suggestions for %r failed: %s", words, exc)
        return None
    return [_from_doc(doc) for doc in docs[:SUGGESTIONS] if doc.get("id")]


def look_up(pdok_id: str) -> AddressCheck:
    """The BAG address Locatieserver knows as ``pdok_id`` (one a person picked). Never raises."""
    base = current_app.config["PDOK_API_BASE"].rstrip("/")
    try:
        doc = _lookup(base, pdok_id)
    except (requests.RequestException, ValueError) as exc:
        log.warning("PDOK lookup of %s failed: %s", pdok_id, exc)
        return AddressCheck(UNAVAILABLE, f"address service unavailable: {exc.__class__.__name__}")
    if doc is None or doc.get("type", "adres") != "adres":
        return AddressCheck(NOT_FOUND, "no such address in the BAG")
    return _from_doc(doc)


def _free(base: str, code: str, number: str, addition: str | None) -> dict | None:
    query = f"postcode:{code} and huisnummer:{number}"
    response = requests.get(
        f"{base}/free",
        params={"q": query, "fq": "type:adres", "rows": 10},
        headers={"Accept": "application/json"},
        timeout=TIMEOUT_SECONDS,
    )
    response.raise_for_status()
    docs = response.json().get("response", {}).get("docs", [])
    if not docs:
        return None
    # Several addresses share a number (12, 12a, 12-1): prefer the one asked for.
    wanted = (addition or "").replace("-", "").upper()
    for doc in docs:
        found = (_addition(doc) or "").replace("-", "").upper()
        if found == wanted:
            return doc
    return docs[0]


def _lookup(base: str, pdok_id: str) -> dict | None:
    response = requests.get(
        f"{base}/lookup",
        params={"id": pdok_id},
        headers={"Accept": "application/json"},
        timeout=TIMEOUT_SECONDS,
    )
    response.raise_for_status()
    docs = response.json().get("response", {}).get("docs", [])
    return docs[0] if docs else None


def _addition(doc: dict) -> str | None:
    parts = [str(doc.get("huisletter") or ""), str(doc.get("huisnummertoevoeging") or "")]
    joined = "".join(parts).strip()
    return joined or None


def _from_doc(doc: dict) -> AddressCheck:
    latitude = longitude = None
    point = POINT.search(doc.get("centroide_ll") or "")
    if point:
        longitude = Decimal(point.group(1)).quantize(Decimal("0.000001"))
        latitude = Decimal(point.group(2)).quantize(Decimal("0.000001"))
    return AddressCheck(
        VALID,
        "confirmed by the BAG",
        bag_id=str(doc.get("nummeraanduiding_id") or doc.get("id") or "")[:20] or None,
        street=doc.get("straatnaam"),
        house_number=str(doc["huisnummer"]) if doc.get("huisnummer") is not None else None,
        house_number_addition=_addition(doc),
        postal_code=doc.get("postcode"),
        city=doc.get("woonplaatsnaam"),
        province=doc.get("provincienaam"),
        latitude=latitude,
        longitude=longitude,
        display=doc.get("weergavenaam"),
        pdok_id=doc.get("id"),
    )
