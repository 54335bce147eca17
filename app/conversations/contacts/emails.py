"""E-mail addresses as intake accepts them: one rule for every form and API."""

from __future__ import annotations

import re

# Local part, "@", a domain with a top-level part of letters. Deliverability is
# the mail provider's business; this only refuses what is plainly not an address.
EMAIL_ADDRESS = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[A-Za-z]{2,}$")
MAX_LENGTH = 254


def is_email_address(value: str) -> bool:
    return len(value) <= MAX_LENGTH and EMAIL_ADDRESS.match(value) is not None
