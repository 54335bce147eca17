"""What a search-box query means, the same on PostgreSQL and SQLite.

A query is a list of terms that must all match. A word term matches a word of
the thread's document by prefix after Dutch stemming ("laadpalen" and "laadpaal"
both become "laadpal"). A phone term is a number however it was typed
(``06-88493461``, ``+31 6 88493461``, ``0031688493461``, a partial ``849346``): it
matches the contact's number in any of the forms the document holds, and also the
digit groups as words, so a date or an order number typed with dashes still
finds the message that mentions it.

PostgreSQL stems with its 'dutch' configuration; SQLite gets the same stemmer
(Snowball's original Dutch algorithm, which is what PostgreSQL runs) and the
same stop words here, so both backends answer a query alike.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

MAX_TERMS = 8
MIN_PHONE_DIGITS = 6
# Words as the inbox has always split them: e-mail addresses and dotted names whole.
WORD = re.compile(r"[\w@.+-]+", re.UNICODE)
# A number typed with spaces, dashes, dots or brackets between its digit groups.
# Not inside a word: "CC-2026-00060" is an order number, searched as a word.
PHONE_CHUNK = re.compile(r"(?<![\w@+\-./])\+?[\d(][\d ().\-]*[\d)](?![\w@])")
PHONE_SEPARATORS = re.compile(r"[\s().\-]")
TOKEN = re.compile(r"\w+", re.UNICODE)
# PostgreSQL's parser reads "-2026" in "CC-2026-00060" as a negative number, which
# "2026" would not find; documents and queries get a space there instead.
DASH_BEFORE_DIGIT = re.compile(r"-(?=\d)")
DASH_BEFORE_DIGIT_SQL = r"-(?=\d)"


def loosen_numbers(text: str) -> str:
    """``text`` with a space for each dash before a digit, as documents are indexed."""
    return DASH_BEFORE_DIGIT.sub(" ", text)

# PostgreSQL's tsearch_data/dutch.stop (Snowball's list): words neither backend indexes.
STOP_WORDS = frozenset(
    """de en van ik te dat die in een hij het niet zijn is was op aan met als voor had er
    maar om hem dan zou of wat mijn men dit zo door over ze zich bij ook tot je mij uit der
    daar haar naar heb hoe heeft hebben deze u want nog zal me zij nu ge geen omdat iets
    worden toch al waren veel meer doen toen moet ben zonder kan hun dus alles onder ja eens
    hier wie werd altijd doch wordt wezen kunnen ons zelf tegen na reeds wil kon niets uw
    iemand geweest andere""".split()
)

_STEMMER = snowballstemmer.stemmer("dutch_porter")
# A stemmer keeps the word it works on in itself: one thread at a time (a web
# process serves several requests at once).
_STEMMING = threading.Lock()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Dutch stem of a lower-case word, as PostgreSQL's 'dutch' config makes it."""
    with _STEMMING:
        return _STEMMER.stemWord(word)


@dataclass(frozen=True)
class WordTerm:
    text: str  # lower case, as typed: PostgreSQL's parser splits and stems it itself

    def prefixes(self) -> tuple[str, ...]:
        """The stems a document must hold (by prefix), stop words left out."""
        return tuple(stem(t) for t in TOKEN.findall(self.text) if t not in STOP_WORDS)


@dataclass(frozen=True)
class PhoneTerm:
    forms: tuple[str, ...]  # digit strings a form of the contact's number starts with
    # The number as typed, also searched as words, when it may not be a phone number
    # at all (a date, an order number): not for one starting +, 0 or (.
    as_typed: str = ""


Term = WordTerm | PhoneTerm


def parse_query(query: str) -> list[Term]:
    """The terms of ``query``, phone numbers recognised however they were written."""
    text = query.lower().strip()
    if _is_phone(PHONE_SEPARATORS.sub("", text)):
        return [_phone_term(text)]
    terms: list[Term] = []

    def take_phone(match: re.Match) -> str:
        if len(re.sub(r"\D", "", match.group())) < MIN_PHONE_DIGITS:
            return match.group()  # a short number is an ordinary word
        terms.append(_phone_term(match.group()))
        return " "

    rest = PHONE_CHUNK.sub(take_phone, text)
    for word in WORD.findall(rest):
        term = WordTerm(word.strip(".-+"))
        if term.text and term.prefixes():
            terms.append(term)
    return terms[:MAX_TERMS]


def _is_phone(compact: str) -> bool:
    return bool(re.fullmatch(r"\+?\d+", compact)) and sum(c.isdigit() for c in compact) >= (
        MIN_PHONE_DIGITS
    )


def _phone_term(raw: str) -> PhoneTerm:
    international = raw.lstrip().startswith("+")
    digits = re.sub(r"\D", "", raw)
    if digits.startswith("00"):
        digits, international = digits[2:], True
    if international and digits.startswith("31"):
        rest = digits[2:].removeprefix("0")  # "+31 (0)6 …" carries the trunk 0 too
        forms: tuple[str, ...] = ("0" + rest, "31" + rest)
    elif not international and digits.startswith("0"):
        forms = (digits, "31" + digits[1:])
    else:
        forms = (digits,)  # a foreign number, or part of one of ours
    raw = raw.strip()
    looks_dialled = raw[:1] in ("+", "0", "(")
    several_groups = len(re.findall(r"\d+", raw)) > 1
    return PhoneTerm(forms, raw if several_groups and not looks_dialled else "")


def national_number(digits: str) -> str | None:
    """A Dutch number in national form (0612345678), from its digits in any form."""
    if digits.startswith("0031"):
        return "0" + digits[4:]
    if digits.startswith("31"):
        return "0" + digits[2:]
    if digits.startswith("0"):
        return digits
    return None


def phone_lexemes(phone: str | None) -> set[str]:
    """The phone's words in a thread's document, as ``CONTACT_DOCUMENT_SQL`` writes them.

    Its digits, its national form and that form's endings of six digits or more,
    so a partial number from the middle is found by prefix like any other word.
    """
    if not phone:
        return set()
    digits = re.sub(r"\D", "", phone)
    lexemes = {digits} if digits else set()
    national = national_number(digits)
    if national:
        lexemes.update(national[-k:] for k in range(min(6, len(national)), len(national) + 1))
    return lexemes


def tsquery_source(terms: Iterable[Term]) -> str:
    """``to_tsquery`` text: every term required, each word matched by prefix."""
    return " & ".join(_tsquery_term(term) for term in terms)


def _quoted(word: str) -> str:
    return "'" + loosen_numbers(word).replace("\\", "").replace("'", "") + "':*"


def _tsquery_term(term: Term) -> str:
    if isinstance(term, WordTerm):
        return _quoted(term.text)
    alternatives = [_quoted(form) for form in term.forms]
    if term.as_typed:
        # Quoted whole, PostgreSQL's parser splits it as it split the document.
        alternatives.append(_quoted(term.as_typed))
    return "(" + " | ".join(alternatives) + ")"


class Document:
    """A thread's words for matching outside PostgreSQL: stems, sorted for prefix look-ups."""

    def __init__(self, text: str, phone: str | None) -> None:
        words = {stem(token) for token in TOKEN.findall(text.lower())}
        self.lexemes = sorted(words | phone_lexemes(phone))

    def has_prefix(self, prefix: str) -> bool:
        at = bisect_left(self.lexemes, prefix)
        return at < len(self.lexemes) and self.lexemes[at].startswith(prefix)

    def matches(self, terms: Iterable[Term]) -> bool:
        return all(self._matches(term) for term in terms)

    def _matches(self, term: Term) -> bool:
        if isinstance(term, WordTerm):
            return all(self.has_prefix(p) for p in term.prefixes())
        return any(self.has_prefix(form) for form in term.forms) or bool(
            term.as_typed and all(self.has_prefix(t) for t in TOKEN.findall(term.as_typed))
        )
