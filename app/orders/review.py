"""Why an order waits for a person, in the reader's language.

Review reasons are stored in English, as the intakes wrote them (the JSON API
and the partner API return them as they are). The order page shows the
reasons it knows through Flask-Babel; a reason it does not know is shown as
stored.
"""

from __future__ import annotations

from flask_babel import gettext

from app.orders.customer_details import EMAIL_DIFFERS, PHONE_DIFFERS
from app.system_texts import N_

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
)


def readable_reason(reason: str) -> str:
    """``reason`` in the reader's language when it is one we know."""
    if reason in EXACT:
        return gettext(EXACT[reason])
    for prefix, msgid in PREFIXED:
        if reason.startswith(prefix):
            return gettext(msgid, detail=reason.removeprefix(prefix))
    return reason
