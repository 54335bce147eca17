"""The words the ranking reads: a customer's question without quoted mail, stemmed by language.

PostgreSQL's full text search stems with the Snowball stemmers it ships
(``dutch``, ``english``); the language of a reply picks its configuration, so
"installatie", "installeren" and "geïnstalleerd" meet in one stem. On SQLite
(``make run``) there is no stemmer: words are lower-cased and compared whole.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import REGCONFIG

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
    """Lower-cased words of three letters or more (the SQLite stand-in for lexemes)."""
    return {word.lower() for text in texts for word in _WORD.findall(text or "")}
