"""Where a contact's details turn up in text, and taking them out (GDPR erasure).

A person's e-mail address and phone number are what identify them in rows that
do not point at their contact: a provider's raw webhook, a partner's callback
body, an audit entry, a colleague's message in another conversation. Those two
find the rows (:meth:`Mentions.clause`, a plain ``LIKE`` both databases run);
once a row is found, everything recognisable about the person in it goes: the
addresses, the number however it is written (``06-12345678``, ``+31 6 1234
5678``, ``0031612345678``), their names and their street address.

Names never find rows on their own: "Jan Jansen" is many people, while an
address or number is one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import phonenumbers
import sqlalchemy as sa

ERASED = "[erased]"

# Between the digits of a number as people write it: spaces, dashes, dots, brackets.
_SEP = r"[\s\-./()]{0,3}"
# The last digits of a number, written without a break in nearly every form.
SEARCH_DIGITS = 7
# Shorter names ("Jo") are left alone: they are parts of too many other words.
MIN_NAME_LENGTH = 3


def _phone_pattern(e164: str) -> str | None:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    country, national = str(number.country_code), str(number.national_number)
    digits = _SEP.join(national)
    prefix = rf"(?:(?:\+|00){_SEP}{country}{_SEP}(?:\(0\){_SEP})?|{country}{_SEP}|0{_SEP})?"
    return rf"(?<!\d){prefix}{digits}(?!\d)"


def _words_pattern(words: str) -> str:
    return r"(?<!\w)" + r"\s+".join(re.escape(word) for word in words.split()) + r"(?!\w)"


@dataclass(frozen=True)
class Mentions:
    """One person's e-mail addresses, phone numbers (E.164), names and street addresses."""

    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    streets: tuple[str, ...] = ()
    postal_codes: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        *,
        emails: Iterable[str | None] = (),
        phones: Iterable[str | None] = (),
        names: Iterable[str | None] = (),
        streets: Iterable[str | None] = (),
        postal_codes: Iterable[str | None] = (),
    ) -> Mentions:
        def clean(values, lower=False):
            found = {" ".join(str(v).split()) for v in values if v and str(v).strip()}
            return tuple(sorted({v.lower() if lower else v for v in found}, key=len, reverse=True))

        return cls(
            emails=clean(emails, lower=True),
            phones=clean(phones),
            names=tuple(n for n in clean(names) if len(n) >= MIN_NAME_LENGTH),
            streets=clean(streets),
            postal_codes=clean(postal_codes),
        )

    @property
    def searchable(self) -> bool:
        """Whether there is anything that finds rows (an address or a number)."""
        return bool(self.search_terms())

    def search_terms(self) -> list[str]:
        """Lower-case fragments a row mentioning the person contains."""
        terms = list(self.emails)
        for phone in self.phones:
            digits = re.sub(r"\D", "", phone)
            if len(digits) >= SEARCH_DIGITS:
                terms.append(digits[-SEARCH_DIGITS:])
        return sorted(set(terms))

    def clause(self, *columns: sa.ColumnElement) -> sa.ColumnElement[bool]:
        """Rows where any of ``columns`` (text, JSON or text from bytes) may mention them.

        Candidates only: :meth:`found_in` decides, as the number's last digits
        can belong to another.
        """
        conditions = [
            sa.func.lower(sa.cast(column, sa.Text)).contains(term, autoescape=True)
            for column in columns
            for term in self.search_terms()
        ]
        return sa.or_(*conditions) if conditions else sa.false()

    @cached_property
    def _pattern(self) -> re.Pattern | None:
        parts = [re.escape(email) for email in self.emails]
        parts += [p for p in map(_phone_pattern, self.phones) if p]
        parts += [_words_pattern(name) for name in self.names]
        parts += [_words_pattern(street) for street in self.streets]
        # Dutch postal codes, with or without the space: 1012AB, 1012 ab.
        parts += [
            r"(?<!\w)" + re.escape(code[:4]) + r"\s?" + re.escape(code[4:]) + r"(?!\w)"
            for code in (c.replace(" ", "") for c in self.postal_codes)
        ]
        if not parts:
            return None
        return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE)

    def found_in(self, text: Any) -> bool:
        """Whether ``text`` (a string, or any JSON value) mentions the person."""
        pattern = self._pattern
        if pattern is None or text is None:
            return False
        if not isinstance(text, str):
            text = json.dumps(text, ensure_ascii=False, default=str)
        return pattern.search(text) is not None

    def redact_text(self, text: str | None) -> str | None:
        """``text`` with every mention replaced by ``[erased]``."""
        pattern = self._pattern
        if pattern is None or not text:
            return text
        return pattern.sub(ERASED, text)

    def redact_strings(self, value: Any) -> Any:
        """A JSON value with the mentions in its strings replaced (its shape kept)."""
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, list):
            return [self.redact_strings(item) for item in value]
        if isinstance(value, dict):
            return {key: self.redact_strings(item) for key, item in value.items()}
        return value

    def redact_records(self, value: Any) -> Any:
        """A provider's or partner's JSON without the person's records in it.

        A list item that mentions them (a WhatsApp ``messages[]`` entry from their
        number, a form's answer) is dropped; an object holding a mention directly
        (``customer: {name, email, street}``) has all its strings erased, as its
        other fields (a street, a house number) are theirs too.
        """
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, list):
            return [self.redact_records(item) for item in value if not self._is_their_record(item)]
        if isinstance(value, dict):
            if self._is_their_record(value):
                return _erase_strings(value)
            return {key: self.redact_records(item) for key, item in value.items()}
        return value

    def _is_their_record(self, value: Any) -> bool:
        # An object with a field of its own that mentions them; a mention deeper
        # down (a batch's ``entry[].changes[]``) makes the inner object theirs only.
        return isinstance(value, dict) and any(
            isinstance(item, str) and self.found_in(item) for item in value.values()
        )

    def redact_body(self, raw: bytes | None) -> bytes | None:
        """A raw request body without the person in it (JSON by record, anything else whole)."""
        if not raw:
            return raw
        text = raw.decode("utf-8", errors="replace")
        if not self.found_in(text):
            return raw
        try:
            document = json.loads(text)
        except ValueError:
            # A form post or a mail: one sender's, so nothing of it is kept.
            return b""
        return json.dumps(self.redact_records(document), ensure_ascii=False).encode()


# Any e-mail address or Dutch phone number (+31 6 …, 0031 …, 06-…, 020-…), whoever's.
_ANY_EMAIL = r"[^@\s,;:<>()\[\]\"']+@[^@\s,;:<>()\[\]\"']+\.[A-Za-z]{2,}"
_ANY_PHONE = (
    rf"(?<![\w+])(?:(?:\+|00){_SEP}\d{{2}}{_SEP}(?:\(0\){_SEP})?|0)"
    rf"\d(?:{_SEP}\d){{7,10}}(?!\d)"
)
_ANY_DETAILS = re.compile(f"(?:{_ANY_EMAIL})|(?:{_ANY_PHONE})")


def redact_any_contact_details(text: str | None) -> str | None:
    """``text`` without any e-mail address or phone number in it, whoever's.

    For the notes on a person's own order, where a partner may have sent details
    that differ from theirs (and are theirs, or someone else's: either way personal).
    """
    if not text:
        return text
    return _ANY_DETAILS.sub(ERASED, text)


def _erase_strings(value: Any) -> Any:
    if isinstance(value, str):
        return ERASED
    if isinstance(value, list):
        return [_erase_strings(item) for item in value]
    if isinstance(value, dict):
        return {key: _erase_strings(item) for key, item in value.items()}
    return value


def text_of_bytes(column: sa.ColumnElement, dialect: str) -> sa.ColumnElement:
    """A bytes column as text a ``LIKE`` can read (non-ASCII escaped on PostgreSQL)."""
    if dialect == "postgresql":
        return sa.func.encode(column, "escape")
    return sa.cast(column, sa.Text)
