"""Phone numbers in E.164, however people and providers write them.

WhatsApp sends ``31612345678``, Twilio ``+31612345678``, forms ``06-12345678``;
all become ``+31612345678`` so one customer is one contact.
"""

from __future__ import annotations

import functools

import phonenumbers

DEFAULT_REGION = "NL"


# Kept per process: every inbound WhatsApp message reads its sender's number, and
# parsing one costs more than the rest of the sender's look-up (py-spy, 2.5 % of a
# worker's time); a customer writes from the same few numbers again and again.
@functools.lru_cache(maxsize=4096)
def normalise_phone(raw: str | None, region: str = DEFAULT_REGION) -> str | None:
    """The number in E.164, or None when it is not a possible phone number."""
    if not raw or not str(raw).strip():
        return None
    text = str(raw).strip()
    # Provider ids are international numbers without the plus.
    if text.isdigit() and not text.startswith("0") and len(text) > 9:
        text = "+" + text
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
