"""Finding the candidates that share the question's words, and how much they share.

PostgreSQL stems the words with the language's Snowball stemmer and finds the
harvested replies through their GIN index; SQLite (``make run``) compares whole
words. Either way a match scores the share of the question's weight it has, a
word weighed by its rarity among the recent replies (BM25's inverse document
frequency): "laadpaal" is in most questions and says little, "foutcode" says
what this one is about. :mod:`app.conversations.reply_suggestions.ranking` turns the shares into
scores with the context.
"""

from __future__ import annotations

import functools
import math
import threading
import uuid
from collections import Counter

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import REGCONFIG

from app.conversations.reply_suggestions.text import config_for, plain_words, read_sqlite_document
from app.platform.extensions import db
from app.platform.models import CommunicationTemplate, CommunicationThread, HarvestedReply

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
    sample = (
        sa.select(HarvestedReply.replied_at)
        .order_by(HarvestedReply.replied_at.desc())
        .limit(IDF_SAMPLE)
        .subquery()
    )
    # The sample as it is now: its size and its two ends. Until a reply is harvested
    # (or removed) it stays the same, and so do the counts already read from it.
    seen = tuple(
        db.session.execute(
            sa.select(
                sa.func.count(), sa.func.max(sample.c.replied_at), sa.func.min(sample.c.replied_at)
            )
        ).one()
    )
    documents = seen[0]
    containing = _SAMPLE_COUNTS.counts(seen, list(lexemes))
    return {
        lexeme: own * idf(documents or 0, containing.get(lexeme, 0))
        for lexeme, own in lexemes.items()
    }


class _SampleCounts:
    """How many of the sampled replies hold each lexeme, kept while the sample is the
    same: reading them (``ts_stat`` parses all 2,000 documents) was most of PostgreSQL's
    work for a suggestion."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sample: tuple | None = None
        self._counts: dict[str, int] = {}

    def counts(self, sample: tuple, lexemes: list[str]) -> dict[str, int]:
        with self._lock:
            if sample != self._sample:
                # A new dict, not a cleared one: a thread reading the old one keeps it.
                self._sample, self._counts = sample, {}
            known = self._counts
        missing = [lexeme for lexeme in lexemes if lexeme not in known]
        if missing:
            # ts_stat reads the documents of a query given as text; ours, a constant.
            query = (
                "SELECT document FROM harvested_replies "  # noqa: S608 (a constant)
                f"ORDER BY replied_at DESC LIMIT {IDF_SAMPLE}"
            )
            stats = sa.func.ts_stat(sa.literal(query, sa.Text)).table_valued("word", "ndoc")
            rows = db.session.execute(
                sa.select(stats.c.word, stats.c.ndoc).where(stats.c.word.in_(missing))
            ).all()
            found = dict.fromkeys(missing, 0) | dict(rows)
            with self._lock:
                known.update(found)
        return {lexeme: known[lexeme] for lexeme in lexemes}


_SAMPLE_COUNTS = _SampleCounts()


# The question's terms as a table the queries below read once: each lexeme's test in
# the first part of a document (A) and anywhere, and its weight. The statements are
# fixed text with the terms as arrays, so SQLAlchemy builds and compiles them once;
# built as expressions, one CASE per lexeme, they cost more to build, compile and
# look up in the statement cache than PostgreSQL spent running them.
_TERMS = (
    "terms AS MATERIALIZED (SELECT CAST(t.first AS tsquery) AS first, "
    "CAST(t.anywhere AS tsquery) AS anywhere, t.weight FROM unnest("
    "CAST(:firsts AS text[]), CAST(:anywheres AS text[]), CAST(:weights AS float8[])) "
    "AS t(first, anywhere, weight))"
)


def _coverage_sql(document: str) -> str:
    """The share of the question's weight ``document`` has: a lexeme in its first
    part (labelled A) counts whole, in its second (B) ``REPLY_WORD``."""
    return (
        f"(SELECT coalesce(sum(CASE WHEN {document} @@ terms.anywhere THEN CASE WHEN "  # noqa: S608 (our constants only; values are bound)
        f"{document} @@ terms.first THEN terms.weight ELSE terms.weight * {REPLY_WORD} END "
        "ELSE 0 END), 0) FROM terms) / :total"
    )


def _fit_sql(document: str) -> str:
    """The share of the answered question's lexemes (part A) that are the question's."""
    return (
        f"CAST((SELECT count(*) FILTER (WHERE {document} @@ terms.first) FROM terms) AS float8)"  # noqa: S608 (our constants only; values are bound)
        f" / greatest(length(ts_filter({document}, CAST('{{a}}' AS \"char\"[]))), 1)"
    )


def _terms_params(weights: dict[str, float]) -> dict:
    quoted = _quoted(list(weights))
    return {
        "firsts": [q + ":A" for q in quoted],
        "anywheres": quoted,
        "weights": list(weights.values()),
        "total": sum(weights.values()) or 1.0,
    }


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


@functools.cache
def _harvested_statement() -> sa.TextClause:
    names = ", ".join(
        f"{'t' if column.table is CommunicationThread.__table__ else 'h'}.{column.key}"
        for column in _CANDIDATE_COLUMNS
    )
    sql = (
        f"WITH {_TERMS}, recent AS (SELECT id FROM harvested_replies "  # noqa: S608 (our constants only; values are bound)
        "WHERE document @@ CAST(:query AS tsquery) ORDER BY replied_at DESC "
        f"LIMIT {RECENT_MATCHES}) "
        f"SELECT {names}, {_coverage_sql('h.document')} * "
        f"power({_fit_sql('h.document')}, {FIT_POWER}) AS rank "
        "FROM harvested_replies h JOIN recent ON recent.id = h.id "
        "JOIN communication_thread t ON t.id = h.thread_id"
    )
    typed = [sa.column(column.key, column.type) for column in _CANDIDATE_COLUMNS]
    return sa.text(sql).columns(*typed, sa.column("rank", sa.Float))


def harvested_pg(lexemes: dict[str, float], weights: dict[str, float]) -> list:
    """The 1,000 most recent harvested replies sharing a lexeme, each with its share:
    of the question's weight (coverage) times, to ``FIT_POWER``, the share of the
    question it answered that this one asks too (fit). ``weights`` has the same
    lexemes as ``lexemes``, weighed by rarity."""
    params = _terms_params(weights) | {"query": " | ".join(_quoted(list(lexemes)))}
    return db.session.execute(_harvested_statement(), params).all()


@functools.cache
def _template_ranks_statement() -> sa.TextClause:
    # OFFSET 0 keeps the documents made once per template: pulled up into the outer
    # query, each lexeme's test would make them again.
    config = "CASE WHEN language LIKE 'en%' THEN 'english'::regconfig ELSE 'dutch'::regconfig END"
    sql = (
        f"WITH {_TERMS}, documents AS (SELECT id, setweight(to_tsvector({config}, "  # noqa: S608 (our constants only; values are bound)
        "concat_ws(' ', display_name, description)), 'A') || setweight(to_tsvector("
        f"{config}, concat_ws(' ', subject_template, message_template)), 'B') AS document "
        "FROM communication_template WHERE id IN :ids OFFSET 0) "
        f"SELECT id, {_coverage_sql('document')} AS rank FROM documents"
    )
    return (
        sa.text(sql)
        .bindparams(sa.bindparam("ids", expanding=True))
        .columns(sa.column("id", CommunicationTemplate.__table__.c.id.type), sa.column("rank"))
    )


def template_ranks_pg(weights: dict[str, float], templates: dict) -> dict[uuid.UUID, float]:
    if not templates:
        return {}
    rows = db.session.execute(
        _template_ranks_statement(), _terms_params(weights) | {"ids": list(templates)}
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
