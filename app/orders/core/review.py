"""Why an order waits for a person, and the notes on its history, lines and
address, in the reader's language.

Review reasons, status-change notes, line notes and address-check messages are
stored in English, as the intakes, the status engine and the BAG check wrote
them: the JSON API, the partner API and its callbacks return them as they are.
Pages show the ones they know through Flask-Babel, old rows included (the
stored text is the key); a text it does not know is shown as stored.
"""

from __future__ import annotations

import re
from datetime import date, time

from flask_babel import gettext

from app.orders.core.customer_details import EMAIL_DIFFERS, PHONE_DIFFERS
from app.platform.audit.labels import register_note_reader
from app.platform.system_texts import N_
from app.platform.ui import local_date

EXACT = {
    EMAIL_DIFFERS: N_(
        "The e-mail address sent with this order is not the one on the customer's contact. "
        "The contact was not changed: check with the customer before adding it."
    ),
    PHONE_DIFFERS: N_(
        "The phone number sent with this order is not the one on the customer's contact. "
        "The contact was not changed: check with the customer before adding it."
    ),
    "the form gave no installation address": N_("The form gave no installation address."),
    # As the demo data (app.seed.demo_orders) and older intakes wrote it, without a detail.
    "address not confirmed by PDOK": N_("Address not confirmed by PDOK"),
}
# Reasons that end in a detail of their own (a PDOK message, a SKU, a name).
PREFIXED = (
    ("address not confirmed by PDOK: ", N_("Address not confirmed by PDOK: %(detail)s")),
    ("unmapped product: ", N_("No article is mapped to product %(detail)s")),
    ("unmapped SKU ", N_("No article is mapped to product %(detail)s")),
    ("unknown partner reference ", N_("Unknown partner reference %(detail)s")),
    # app.orders.core.creation.flag_possible_duplicate; the detail is the other order's number.
    ("possible duplicate of ", N_("Possibly the same job as order %(detail)s")),
)

# Status-change notes (app.orders.partners.intake, app.orders.mobile.visits,
# app.orders.make.orders), line
# notes (app.orders.core.creation) and the BAG check's messages (app.orders.addresses.pdok).
NOTES = {
    "Order created via partner API": N_("Order created through the partner API"),
    "Order created from a partner e-mail": N_("Order created from a partner's e-mail"),
    "Order created by a Make.com scenario": N_("Order created by a Make.com scenario"),
    "Order created from a form": N_("Order created from a form"),
    "Order created by hand": N_("Order created by hand"),
    "Visit started on site": N_("Visit started on site"),
    "Visit completed on site": N_("Visit completed on site"),
    "Installation started": N_("Installation started"),
    "Installation completed": N_("Installation completed"),
    "No article matches this line": N_("No article matches this line"),
    "confirmed by the BAG": N_("Confirmed by the BAG"),
    "no such address in the BAG": N_("The BAG has no such address"),
    "postal code or house number is not in Dutch form": N_(
        "The postcode or house number is not in Dutch form"
    ),
}
NOTE_PREFIXES = (
    ("No article is mapped to SKU ", N_("No article is mapped to SKU %(detail)s")),
    # The detail is an exception's class name, for the log, not for a reader.
    ("address service unavailable", N_("The address service (PDOK) could not be reached")),
    # A duplicate cancelled from the review queue (app.orders.core.review_fixes).
    ("Duplicate of order ", N_("Duplicate of order %(detail)s")),
)
# "Visit planned for 28-11-2026 08:00-12:00" (app.orders.planning.services).
VISIT_PLANNED = re.compile(
    r"^Visit planned for (\d{2})-(\d{2})-(\d{4}) (\d{2}):(\d{2})-(\d{2}):(\d{2})$"
)
NO_BAG_ADDRESS = re.compile(r"^no address (.+) in the BAG$")


def readable_reason(reason: str) -> str:
    """``reason`` in the reader's language when it is one we know."""
    if reason in EXACT:
        return gettext(EXACT[reason])
    for prefix, msgid in PREFIXED:
        if reason.startswith(prefix):
            # The detail may be a note itself ("address service unavailable: …").
            return gettext(msgid, detail=readable_note(reason.removeprefix(prefix)))
    return reason


def readable_note(note: str | None) -> str:
    """A stored note (see the module's docstring) in the reader's language."""
    if not note:
        return ""
    if note in NOTES:
        return gettext(NOTES[note])
    for prefix, msgid in NOTE_PREFIXES:
        if note.startswith(prefix):
            return gettext(msgid, detail=note.removeprefix(prefix).strip(": "))
    if planned := VISIT_PLANNED.match(note):
        day, month, year, h1, m1, h2, m2 = (int(part) for part in planned.groups())
        return gettext(
            "Visit planned for %(day)s, %(start)s–%(end)s",
            day=local_date(date(year, month, day), "%A %d %B %Y"),
            start=f"{time(h1, m1):%H:%M}",
            end=f"{time(h2, m2):%H:%M}",
        )
    if missing := NO_BAG_ADDRESS.match(note):
        return gettext("The BAG has no address %(address)s", address=missing.group(1))
    return note


# The audit log shows an order's history notes as the order page does.
for _field in ("reason", "partner_note"):
    register_note_reader(_field, readable_note)
