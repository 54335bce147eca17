"""The fields of a partner order and the labels partners put in front of them.

Field names are the dotted paths of the partner API body, so a
parsed e-mail, a reviewer's correction and an intake error all name a field
the same way.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

ORDER_ID = "partner_order_id"
CUSTOMER_ID = "partner_customer_id"
NAME = "customer.name"
EMAIL = "customer.email"
PHONE = "customer.phone"
STREET = "customer.address.street"
HOUSE_NUMBER = "customer.address.house_number"
POSTAL_CODE = "customer.address.postal_code"
CITY = "customer.address.city"
LINE_ITEMS = "line_items"
PREFERRED_DATE = "installation_preferences.preferred_date"
NOTES = "installation_preferences.notes"

# In the order a reviewer reads them; with the words the review page shows.
FIELDS: dict[str, str] = {
    ORDER_ID: _l("Partner order ID"),
    CUSTOMER_ID: _l("Partner customer ID"),
    NAME: _l("Customer name"),
    EMAIL: _l("E-mail"),
    PHONE: _l("Phone"),
    STREET: _l("Street"),
    HOUSE_NUMBER: _l("House number"),
    POSTAL_CODE: _l("Postal code"),
    CITY: _l("City"),
    PREFERRED_DATE: _l("Preferred date"),
    NOTES: _l("Notes"),
    LINE_ITEMS: _l("Products"),
}
SCALAR_FIELDS = tuple(path for path in FIELDS if path != LINE_ITEMS)
# What an order cannot do without (e-mail or phone: one way to reach the customer).
REQUIRED = frozenset({ORDER_ID, NAME, EMAIL, PHONE, POSTAL_CODE, HOUSE_NUMBER, LINE_ITEMS})

# Labels that are not a field of their own but feed one.
PRODUCT = "product"
QUANTITY = "quantity"
DESCRIPTION = "description"
POSTAL_CODE_AND_CITY = "postal_code_and_city"

_LABELS: dict[str, tuple[str, ...]] = {
    ORDER_ID: (
        "ordernummer", "order nummer", "ordernr", "order nr", "order id", "orderid",
        "order-id", "order number", "order reference", "order", "referentie",
        "referentienummer", "reference", "alva order", "alva ordernummer", "alva referentie",
        "bestelnummer", "bestelling",
    ),
    CUSTOMER_ID: (
        "klantnummer", "klantnr", "klant id", "klant-id", "customer id", "customer number",
    ),
    NAME: (
        "naam", "klantnaam", "name", "customer name", "customer", "klant", "volledige naam",
        "contactpersoon", "naam klant", "eindklant",
    ),
    EMAIL: ("e-mail", "email", "e-mailadres", "emailadres", "e-mail adres", "mail", "mailadres"),
    PHONE: (
        "telefoon", "telefoonnummer", "tel", "tel.", "telnr", "mobiel", "mobiel nummer",
        "mobielnummer", "mobile", "phone", "phone number", "telephone", "gsm",
    ),
    STREET: ("straat", "straatnaam", "adres", "address", "street", "installatieadres"),
    HOUSE_NUMBER: ("huisnummer", "huisnr", "huisnr.", "house number", "nummer", "nr", "nr."),
    POSTAL_CODE: ("postcode", "postal code", "zip", "zip code", "zipcode", "post code"),
    CITY: ("plaats", "woonplaats", "city", "stad", "town", "plaatsnaam"),
    POSTAL_CODE_AND_CITY: ("postcode en plaats", "postcode/plaats", "postcode + plaats"),
    PRODUCT: (
        "product", "producten", "artikel", "artikelen", "artikelnummer", "artikelcode",
        "sku", "productcode", "item",
    ),
    QUANTITY: ("aantal", "quantity", "qty", "aantal stuks", "stuks"),
    DESCRIPTION: ("omschrijving", "description", "beschrijving", "productnaam"),
    PREFERRED_DATE: (
        "gewenste datum", "voorkeursdatum", "preferred date", "installatiedatum",
        "gewenste installatiedatum", "datum installatie", "gewenste leverdatum",
    ),
    NOTES: (
        "opmerkingen", "opmerking", "notes", "note", "remarks", "toelichting",
        "bijzonderheden", "extra informatie",
    ),
}  # fmt: skip
LABELS: dict[str, str] = {label: field for field, labels in _LABELS.items() for label in labels}

# Words around a label that do not change what it names: "E-mailadres klant".
_FILLER = re.compile(r"\b(?:van de|van|de|het|klant|customer|eind)\b")


def field_for_label(label: str) -> str | None:
    """The field a label names (``"E-mailadres klant:"`` → ``customer.email``), or None."""
    text = " ".join(label.lower().strip().rstrip(":").strip().split())
    if text in LABELS:
        return LABELS[text]
    stripped = " ".join(_FILLER.sub(" ", text).split())
    return LABELS.get(stripped) if stripped else None
