"""Finding the candidates that share the question's words, and how much they share.

PostgreSQL stems the words with the language's Snowball stemmer and finds the
harvested replies through their GIN index; SQLite (``make run``) compares whole
words. Either way a match scores the share of the question's weight it has, a
word weighed by its rarity among the recent replies (BM25's inverse document
frequency): "laadpaal" is in most questions and says little, "foutcode" says
what this one is about. :mod:`app.suggestions.ranking` turns the shares into
scores with the context.
"""

from __future__ import annotations

import math
import operator
import uuid
from collections import Counter
from functools import reduce

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import REGCONFIG, TSQUERY

from app.extensions import db
from app.models import CommunicationTemplate, CommunicationThread, HarvestedReply
from app.suggestions.text import config_for, plain_words, read_sqlite_document

RECENT_MATCHES = 1000
MAX_LEXEMES = 32
# The replies whose words tell how rare a word is: recent enough to follow what
# customers write about now, few enough to count in milliseconds.
IDF_SAMPLE = 2000
# A word in the reply (or a template's text) says less than one in the question it
# answered (or the template's name): ts_rank's own weights for B against A.
REPLY_WORD = 0.4
# "Kan dat ook?", "Is er al nieuws?": fewer words than this say little, so the
# conversation's opening message is read beside them, at TOPIC_WEIGHT.
SHORT_QUESTION = 4
TOPIC_WEIGHT = 0.5
# A harvested reply answered one question; the share of that question's words the
# customer's message (or its conversation's opening) has too, to this power, weighs
# the match. "Is er al nieuws?" shares "nieuw" with "Ik heb een nieuwe router en nu
# is de laadpaal offline", one word of five: the router answer is not for it.
FIT_POWER = 0.5


# --- PostgreSQL --------------------------------------------------------------------

def terms(question: str, topic: str, terms_of) -> dict[str, float]:
    """The question's terms (each 1), and for a short one the conversation's opening
    terms beside them (each ``TOPIC_WEIGHT``); ``terms_of(text)`` finds a text's terms."""
    found = dict.fromkeys(terms_of(question), 1.0)
    if len(found) < SHORT_QUESTION and topic:
        for term in terms_of(topic):
            found.setdefault(term, TOPIC_WEIGHT)
    return dict(list(found.items())[:MAX_LEXEMES])


def lexemes(text: str, language: str | None = None) -> list[str]:
    config = sa.cast(config_for(language), REGCONFIG)
    words = sa.func.unnest(sa.func.to_tsvector(config, text)).table_valued("lexeme")
    found = db.session.scalars(sa.select(words.c.lexeme)).all()
    return sorted(set(found), key=len, reverse=True)[:MAX_LEXEMES]


def _quoted(lexemes: list[str]) -> list[str]:
    return ["'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'" for lexeme in lexemes]


def idf(documents: int, containing: int) -> float:
    """BM25's inverse document frequency: near 0 for a word in every document."""
    return math.log(1 + (documents - containing + 0.5) / (containing + 0.5))


def rarity_pg(lexemes: dict[str, float]) -> dict[str, float]:
    """Each lexeme's weight: how rare it is among the most recent harvested replies
    (times its own weight: 1 in the question, less from the conversation's opening)."""
    # ts_stat reads the documents of a query given as text; ours, a constant.
    sample = f"SELECT document FROM harvested_replies ORDER BY replied_at DESC LIMIT {IDF_SAMPLE}"  # noqa: S608
    documents = db.session.scalar(
        sa.select(sa.func.count()).select_from(
            sa.select(HarvestedReply.id)
            .order_by(HarvestedReply.replied_at.desc())
            .limit(IDF_SAMPLE)
            .subquery()
        )
    )
    stats = sa.func.ts_stat(sa.literal(sample, sa.Text)).table_valued("word", "ndoc")
    containing = dict(
        db.session.execute(
            sa.select(stats.c.word, stats.c.ndoc).where(stats.c.word.in_(list(lexemes)))
        ).all()
    )
    return {
        lexeme: own * idf(documents or 0, containing.get(lexeme, 0))
        for lexeme, own in lexemes.items()
    }


def _coverage_pg(document, weights: dict[str, float]):
    """The share of the question's weight ``document`` has: a lexeme in its first
    part (labelled A) counts whole, in its second (B) ``REPLY_WORD``."""
    total = sum(weights.values()) or 1.0
    terms = []
    for weight, quoted in zip(weights.values(), _quoted(list(weights)), strict=True):
        first = sa.cast(sa.literal(quoted + ":A", sa.Text), TSQUERY)
        anywhere = sa.cast(sa.literal(quoted, sa.Text), TSQUERY)
        # Most lexemes are in neither part: one test for those, two for the rest.
        part = sa.case((document.op("@@")(first), weight), else_=weight * REPLY_WORD)
        terms.append(sa.case((document.op("@@")(anywhere), part), else_=0.0))
    return reduce(operator.add, terms) / total


def _fit_pg(document, lexemes: list[str]):
    """The share of the answered question's lexemes (part A) that are among ``lexemes``."""
    matched = reduce(
        operator.add,
        [
            sa.case((document.op("@@")(sa.cast(sa.literal(quoted + ":A", sa.Text), TSQUERY)), 1),
                    else_=0)
            for quoted in _quoted(lexemes)
        ],
    )
    asked = sa.func.length(sa.func.ts_filter(document, sa.literal_column("'{a}'::\"char\"[]")))
    return sa.cast(matched, sa.Float) / sa.func.greatest(asked, 1)


# What the ranking reads of a harvested reply, in this order, before its share.
_CANDIDATE_COLUMNS = (
    HarvestedReply.candidate_key,
    HarvestedReply.template_id,
    HarvestedReply.body,
    HarvestedReply.title,
    HarvestedReply.language,
    HarvestedReply.channel_type,
    HarvestedReply.order_status,
    CommunicationThread.thread_type,
)


def harvested_pg(lexemes: dict[str, float], weights: dict[str, float]) -> list:
    """The 1,000 most recent harvested replies sharing a lexeme, each with its share."""
    query = sa.cast(sa.literal(" | ".join(_quoted(list(lexemes))), sa.Text), TSQUERY)
    recent = (
        sa.select(HarvestedReply.id)
        .where(HarvestedReply.document.op("@@")(query))
        .order_by(HarvestedReply.replied_at.desc())
        .limit(RECENT_MATCHES)
    )
    recent = recent.subquery()
    return db.session.execute(
        sa.select(
            *_CANDIDATE_COLUMNS,
            (
                _coverage_pg(HarvestedReply.document, weights)
                * sa.func.power(_fit_pg(HarvestedReply.document, list(lexemes)), FIT_POWER)
            ).label("rank"),
        )
        .join(recent, recent.c.id == HarvestedReply.id)
        .join(CommunicationThread, CommunicationThread.id == HarvestedReply.thread_id)
    ).all()


def template_ranks_pg(weights: dict[str, float], templates: dict) -> dict[uuid.UUID, float]:
    if not templates:
        return {}
    T = CommunicationTemplate
    config = sa.case(
        (T.language.like("en%"), sa.cast("english", REGCONFIG)),
        else_=sa.cast("dutch", REGCONFIG),
    )
    named = sa.func.concat_ws(" ", T.display_name, T.description)
    text = sa.func.concat_ws(" ", T.subject_template, T.message_template)
    weight_a, weight_b = sa.literal_column("'A'"), sa.literal_column("'B'")
    document = sa.func.setweight(sa.func.to_tsvector(config, named), weight_a).op("||")(
        sa.func.setweight(sa.func.to_tsvector(config, text), weight_b)
    )
    # OFFSET 0 keeps the documents made once per template: pulled up into the outer
    # query, each lexeme's test would make them again.
    documents = (
        sa.select(T.id.label("id"), document.label("document"))
        .where(T.id.in_(list(templates)))
        .offset(0)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(documents.c.id, _coverage_pg(documents.c.document, weights))
    ).all()
    return {template_id: float(value) for template_id, value in rows if value > 0}


# --- SQLite: whole words --------------------------------------------------------------


def _sqlite_rarity(words: dict[str, float], documents: list[set[str]]) -> dict[str, float]:
    counts = Counter(word for document in documents for word in document if word in words)
    return {word: own * idf(len(documents), counts[word]) for word, own in words.items()}


def _overlap(weights: dict[str, float], document: set[str]) -> float:
    """The share of the question's weight ``document`` has (whole words, no A/B parts)."""
    total = sum(weights.values()) or 1.0
    return sum(weight for word, weight in weights.items() if word in document) / total


def harvested_sqlite(words: dict[str, float]) -> list:
    rows = db.session.execute(
        sa.select(
            *_CANDIDATE_COLUMNS,
            HarvestedReply.document,
        )
        .join(CommunicationThread, CommunicationThread.id == HarvestedReply.thread_id)
        .order_by(HarvestedReply.replied_at.desc())
        .limit(RECENT_MATCHES)
    ).all()
    read = [read_sqlite_document(row.document) for row in rows]
    documents = [document for _, document in read]
    weights = _sqlite_rarity(words, documents)
    found = []
    for row, (asked, document) in zip(rows, read, strict=True):
        value = _overlap(weights, document)
        if value > 0:
            fit = len(asked & words.keys()) / len(asked) if asked else 1.0
            found.append((*row[:8], value * fit**FIT_POWER))
    return found


def template_ranks_sqlite(words: dict[str, float], templates: dict) -> dict[uuid.UUID, float]:
    documents = {
        template_id: plain_words(
            template.display_name,
            template.description,
            template.subject_template,
            template.message_template,
        )
        for template_id, template in templates.items()
    }
    weights = _sqlite_rarity(words, list(documents.values()))
    ranks = {}
    for template_id, document in documents.items():
        if value := _overlap(weights, document):
            ranks[template_id] = value
    return ranks
