"""The words the ranking reads: a customer's question without quoted mail, stemmed by language.

PostgreSQL's full text search stems with the Snowball stemmers it ships
(``dutch``, ``english``); the language of a reply picks its configuration, so
"installatie", "installeren" and "geïnstalleerd" meet in one stem. On SQLite
(``make run``) :func:`plain_words` stems with the same Dutch Snowball stemmer and
leaves out the same stop words, in Python.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import REGCONFIG

from app.conversations.inbox.search_terms import STOP_WORDS, stem

CONFIGS = {"nl": "dutch", "en": "english"}
FALLBACK_CONFIG = "simple"
# Enough of a long mail to tell what it is about; the rest costs time, not precision.
MAX_QUESTION = 1500
# Where a mail starts quoting the one before it.
_QUOTE_START = re.compile(
    r"^(?:>|-{2,}\s*(?:original message|oorspronkelijk bericht)|op .{5,80} schreef .{0,80}:"
    r"|on .{5,80} wrote:|van:\s|from:\s|verzonden:\s|sent:\s)",
    re.IGNORECASE | re.MULTILINE,
)
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)


def config_for(language: str | None) -> str:
    """The text search configuration for a language code (``nl`` → ``dutch``)."""
    return CONFIGS.get((language or "nl")[:2].lower(), FALLBACK_CONFIG)


def own_words(text: str | None) -> str:
    """A message's own text: quoted earlier mail and its header lines cut off."""
    text = text or ""
    match = _QUOTE_START.search(text)
    if match is not None and match.start() > 0:
        text = text[: match.start()]
    return " ".join(text.split())[:MAX_QUESTION]


def tsvector(language: str, question: str, body: str) -> sa.ColumnElement:
    """The document of a harvested reply: the question it answered weighs most."""
    config = sa.cast(config_for(language), REGCONFIG)
    # setweight takes a "char": literal letters, not bound (character varying) values.
    weight_a, weight_b = sa.literal_column("'A'"), sa.literal_column("'B'")
    return sa.func.setweight(sa.func.to_tsvector(config, question), weight_a).op("||")(
        sa.func.setweight(sa.func.to_tsvector(config, body), weight_b)
    )


def plain_words(*texts: str | None) -> set[str]:
    """The SQLite stand-in for lexemes: words of three letters or more, lower-cased, stop
    words left out and cut to their Dutch stem as PostgreSQL's 'dutch' config does, so
    "Kan dat ook op een zaterdag?" is the short question it is ("zaterdag")."""
    return {
        stem(word)
        for text in texts
        for word in (found.lower() for found in _WORD.findall(text or ""))
        if word not in STOP_WORDS
    }


# SQLite's document of a harvested reply: the question's words, then the reply's
# others, so the search can tell how much of the question a new one shares.
QUESTION_END = " | "


def sqlite_document(question: str, body: str | None) -> str:
    asked = plain_words(question)
    return " ".join(sorted(asked)) + QUESTION_END + " ".join(sorted(plain_words(body) - asked))


def read_sqlite_document(document: str | None) -> tuple[set[str], set[str]]:
    """(the question's words, all words); a document stored before the question was
    kept apart has no question part (empty set)."""
    text = document or ""
    if QUESTION_END not in text:
        return set(), set(text.split())
    asked, _, rest = text.partition(QUESTION_END)
    question = set(asked.split())
    return question, question | set(rest.split())
