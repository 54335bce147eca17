"""Salesforce record ids: 15 characters, case-sensitive, or 18 that survive lower-casing.

Salesforce gives every record (an organisation too) a 15-character id in which
case matters, and an 18-character form for systems that ignore case: the same
15 followed by three characters saying which of them are capitals. Both name
the same record, so ids are compared in their 15-character form.
"""

from __future__ import annotations

import re

_ID = re.compile(r"[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?")
_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
ORGANIZATION_PREFIX = "00D"  # the key prefix of Organization ids


def canonical_id(value: str) -> str | None:
    """A Salesforce id as its case-sensitive 15 characters; None if it is not one.

    An 18-character id is the 15 plus three characters that encode which of
    them are capitals, so it survives case-insensitive systems: the capitals
    are restored from the suffix (a lower-cased 18-character id still matches),
    and a suffix that makes a digit a capital makes it no id at all.
    """
    value = (value or "").strip()
    if not _ID.fullmatch(value):
        return None
    if len(value) == 15:
        return value
    head, suffix = value[:15], value[15:].upper()
    if any(char not in _CHECKSUM_ALPHABET for char in suffix):
        return None
    restored = []
    for chunk, code in zip((head[0:5], head[5:10], head[10:15]), suffix, strict=True):
        bits = _CHECKSUM_ALPHABET.index(code)
        for position, char in enumerate(chunk):
            capital = bits & (1 << position)
            if capital and not char.isalpha():
                return None
            restored.append(char.upper() if capital else char.lower())
    return "".join(restored)


def is_organization_id(value: str) -> bool:
    """An organisation's id: key prefix ``00D``, 15 or 18 characters."""
    canonical = canonical_id(value)
    return canonical is not None and canonical.startswith(ORGANIZATION_PREFIX)
