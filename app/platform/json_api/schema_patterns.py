"""Patterns for the OpenAPI document's JSON Schemas, shared by every API's models.

The JSON Schema patterns below describe what the validators accept (so
a client generated from the document sends nothing we refuse). They
are documentation only (``json_schema_extra``): the validators stay as they
were, and may take more notations than the pattern names.
"""

from __future__ import annotations

EMAIL_PATTERN = r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
PHONE_PATTERN = r"^(\+31 ?|0)[1-9]([ -]?[0-9]){8}$"
POSTAL_CODE_PATTERN = r"^[1-9][0-9]{3} ?[A-Za-z]{2}$"
HOUSE_NUMBER_PATTERN = r"^[0-9]{1,5}([ -]?[A-Za-z0-9]{1,6})?$"
# Text that is not blank once trimmed (leading and trailing spaces are trimmed).
# Python's strip() also trims \x1c-\x1f and \x85, which JSON Schema's \s does not name.
NON_BLANK = r"[^\s\x1c-\x1f\x85]"
# Text without leading or trailing whitespace (a key that trimming keeps apart).
TRIMMED = r"^[^\s\x1c-\x1f\x85]([\s\S]*[^\s\x1c-\x1f\x85])?$"
HTTPS_URL_PATTERN = r"^https://[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]{1,5})?(/[\x21-\x7e]*)?$"
# An https URL on a public name: a dotted host name with a letter top-level domain,
# never localhost (IP literals and private addresses are refused).
PUBLIC_HTTPS_URL_PATTERN = (
    r"^https://(?!.*\.[Ll][Oo][Cc][Aa][Ll][Hh][Oo][Ss][Tt]([:/]|$))"
    r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
    r"(:[0-9]{1,5})?(/[\x21-\x7e]*)?$"
)


def schema_pattern(pattern: str) -> dict:
    """A pattern for the JSON Schema only (see above)."""
    return {"pattern": pattern}


def any_case(word: str) -> str:
    """``word`` as a pattern matching it in any case: ``[Hh][Oo][Ss][Tt]``.

    JSON Schema's regular expressions (ECMA 262) have no inline ``(?i)``.
    """
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)
