"""Full-text search over threads: subject, contact and every message.

What a query means (words by stemmed prefix, phone numbers in any common Dutch
form) is decided once, in ``app.conversations.inbox.search_terms``; this module asks each
backend for it. PostgreSQL keeps a ``tsvector`` per thread (GIN-indexed),
extended as messages arrive, and is asked with ``to_tsquery``. SQLite has no
such index; there a Python function registered on each connection reads the same
document (subject, contact, messages) and applies the same stemmer and the same
rules, which is fine at the sizes SQLite serves (``make run``, tests).
"""

from __future__ import annotations

import functools
import json
import sqlite3
import uuid

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.conversations.inbox.search_terms import (
    DASH_BEFORE_DIGIT_SQL,
    Document,
    PhoneTerm,
    Term,
    WordTerm,
    loosen_numbers,
    parse_query,
    tsquery_source,
)
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread, Contact

# Dutch stemming: customers and agents write Dutch; e-mail addresses and
# numbers pass through the parser unchanged.
TEXT_SEARCH_CONFIG = "dutch"
SQLITE_MATCH_FUNCTION = "switchboard_search_match"

# The contact's part of a thread's document, over a ``contacts`` row aliased ``c``:
# name, e-mail whole and split at @ and dots (so "piet@voorbeeld" matches), the
# phone as stored, as digits, and in national form (0612345678) with that form's
# endings of 6+ digits (88493461, 849346…: a partial number is found by prefix).
# ``search_terms.phone_lexemes`` is the same rule for SQLite.
CONTACT_DOCUMENT_SQL = r"""(
    coalesce(c.display_name, '') || ' ' || coalesce(c.email, '') || ' ' ||
    coalesce(translate(c.email, '@.', '  '), '') || ' ' || coalesce(c.phone, '') || ' ' ||
    coalesce(regexp_replace(c.phone, '\D', '', 'g'), '') || ' ' ||
    coalesce((SELECT string_agg(right(n.national, k), ' ')
              FROM (SELECT CASE WHEN p.d LIKE '0031%' THEN '0' || substr(p.d, 5)
                                WHEN p.d LIKE '31%' THEN '0' || substr(p.d, 3)
                                WHEN p.d LIKE '0%' THEN p.d END AS national
                    FROM (SELECT regexp_replace(c.phone, '\D', '', 'g') AS d) AS p) AS n,
                   generate_series(least(6, length(n.national)), length(n.national)) AS k),
             ''))"""


def is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def search_clause(query: str) -> sa.ColumnElement[bool] | None:
    """A WHERE clause for threads matching ``query`` (None when nothing to search)."""
    terms = parse_query(query)
    if not terms:
        return None
    if is_postgresql():
        return CommunicationThread.search_vector.op("@@")(
            sa.func.to_tsquery(TEXT_SEARCH_CONFIG, tsquery_source(terms))
        )
    return _sqlite_clause(terms)


def finds_few(query: str) -> bool:
    """Whether ``query`` names something specific: a phone number, an address, a code.

    Such a query matches a handful of threads, but PostgreSQL's estimate for a
    prefix term it has no statistics for is a fixed share of the table, so it may
    walk the urgency index for them and read every thread (11–18 s at 2 M
    threads). ``list_threads`` then orders so that the full-text index is asked.
    """
    return any(
        isinstance(term, PhoneTerm) or any(c.isdigit() or c == "@" for c in term.text)
        for term in parse_query(query)
    )


def _sqlite_clause(terms: list[Term]) -> sa.ColumnElement[bool]:
    thread = CommunicationThread
    contact_text = (
        sa.select(
            sa.func.coalesce(Contact.display_name, "") + " " + sa.func.coalesce(Contact.email, "")
        )
        .where(Contact.id == thread.contact_id)
        .scalar_subquery()
    )
    phone = sa.select(Contact.phone).where(Contact.id == thread.contact_id).scalar_subquery()
    messages = (
        sa.select(sa.func.group_concat(CommunicationMessage.message_content, " "))
        .where(CommunicationMessage.thread_id == thread.id)
        .scalar_subquery()
    )
    document = (
        sa.func.coalesce(thread.thread_subject, "")
        + " "
        + sa.func.coalesce(contact_text, "")
        + " "
        + sa.func.coalesce(messages, "")
    )
    encoded = json.dumps([_term_as_json(term) for term in terms])
    return getattr(sa.func, SQLITE_MATCH_FUNCTION)(document, phone, encoded) == 1


def _term_as_json(term: Term) -> dict:
    if isinstance(term, WordTerm):
        return {"word": term.text}
    return {"forms": list(term.forms), "as_typed": term.as_typed}


def _term_from_json(data: dict) -> Term:
    if "word" in data:
        return WordTerm(data["word"])
    return PhoneTerm(tuple(data["forms"]), data["as_typed"])


def _sqlite_match(document: str | None, phone: str | None, encoded: str) -> int:
    terms = [_term_from_json(item) for item in json.loads(encoded)]
    return int(Document(document or "", phone).matches(terms))


@sa.event.listens_for(sa.engine.Engine, "connect")
def _register_sqlite_match(dbapi_connection, connection_record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function(
            SQLITE_MATCH_FUNCTION, 3, _sqlite_match, deterministic=True
        )


def append_to_search_document(thread_id: uuid.UUID, text: str) -> None:
    """Add a new message's text to its thread's document (PostgreSQL only)."""
    if not is_postgresql() or not text:
        return
    db.session.execute(
        sa.update(CommunicationThread)
        .where(CommunicationThread.id == thread_id)
        .values(search_vector=_appended(text))
        .execution_options(synchronize_session=False)
    )


def append_on_flush(thread: CommunicationThread, text: str) -> None:
    """Like :func:`append_to_search_document`, riding on the thread's next flush.

    The message's arrival updates the thread's row anyway (preview, times), so
    the document is set in that same ``UPDATE`` instead of a statement (and a
    round trip) of its own. The thread must be stored already. The text waits in
    the session (:func:`waiting_text`) and ``search_vector`` holds
    :data:`TEXTS_WAITING` until the flush puts the expression in its place.
    """
    if not is_postgresql() or not text:
        return
    state = sa.inspect(thread)
    if not state.persistent:
        db.session.flush()
        append_to_search_document(thread.id, text)
        return
    waiting = _waiting(db.session())
    if state.dict.get("search_vector") is not TEXTS_WAITING:
        # Whatever waited before was flushed, written or rolled back with the row.
        waiting[thread] = []
    waiting.setdefault(thread, []).append(text)
    thread.search_vector = TEXTS_WAITING


# What ``search_vector`` holds while texts wait for the flush: the column itself.
# It marks the row changed at no cost (building the expression for every message
# was 3 % of a worker's time), and were the texts ever missed the document would
# stay as it was, never emptied.
TEXTS_WAITING = CommunicationThread.__table__.c.search_vector
# session.info key: {thread: [texts]} of texts not yet flushed. A thread's list is
# good while its attribute holds TEXTS_WAITING (a flush, a rollback or the writer of
# storing.py takes that away).
_WAITING = "search_texts_waiting"


def _waiting(session: so.Session) -> dict:
    return session.info.setdefault(_WAITING, {})


def waiting_text(thread: CommunicationThread) -> str | None:
    """The one text waiting to join ``thread``'s document, as the statement takes it,
    for a caller that writes the thread's row itself (None: nothing or several).
    Once written, :func:`text_written` takes it out of the session."""
    if sa.inspect(thread).dict.get("search_vector") is not TEXTS_WAITING:
        return None
    texts = _waiting(db.session()).get(thread)
    if texts is None or len(texts) != 1:
        return None
    return loosen_numbers(texts[0])


def text_written(thread: CommunicationThread) -> None:
    _waiting(db.session()).pop(thread, None)


@sa.event.listens_for(so.Session, "before_flush")
def _texts_into_documents(session: so.Session, flush_context, instances) -> None:
    waiting = session.info.get(_WAITING)
    if not waiting:
        return
    for thread, texts in waiting.items():
        if sa.inspect(thread).dict.get("search_vector") is TEXTS_WAITING:
            expression = _appended(texts[0])
            for text in texts[1:]:
                expression = expression.op("||")(_tsvector(text))
            thread.search_vector = expression
    waiting.clear()


@sa.event.listens_for(so.Session, "after_soft_rollback")
def _texts_rolled_back(session: so.Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_WAITING, None)


def _appended(text: str):
    return sa.func.coalesce(
        CommunicationThread.search_vector, sa.literal_column("''::tsvector")
    ).op("||")(_tsvector(text))


# Which threads a rebuild takes: every one, one, or several.
_WHICH = {"all": "", "one": "AND t.id = :id", "some": "AND t.id = ANY(:ids)"}


@functools.cache
def _rebuild_statement(which: str) -> sa.TextClause:
    # Built once per process: every new conversation rebuilds its document, and a
    # text statement made anew works out its cache key each time. One thread (a
    # new conversation's) has its own form: with ``= ANY(:ids)`` PostgreSQL never
    # settled on a generic plan and planned the statement anew each time (0.47 ms,
    # more than running it), where ``= :id`` gets the primary key's plan once.
    only = _WHICH[which]
    return sa.text(
        f"""
        UPDATE communication_thread AS t SET search_vector = to_tsvector(:config,
          regexp_replace(
            coalesce(t.thread_subject, '') || ' ' || {CONTACT_DOCUMENT_SQL} || ' ' ||
            coalesce((SELECT string_agg(m.message_content, ' ')
                      FROM communication_message m WHERE m.thread_id = t.id), ''),
            :dash, ' ', 'g'))
        FROM communication_thread AS t2 LEFT JOIN contacts c ON c.id = t2.contact_id
        WHERE t2.id = t.id {only}
        """  # noqa: S608  (only fixed fragments are interpolated)
    )


def _tsvector(text: str):
    return sa.func.to_tsvector(TEXT_SEARCH_CONFIG, loosen_numbers(text))


def rebuild_search_documents(thread_ids: list[uuid.UUID] | None = None) -> int:
    """Recompute documents from subject, contact and all messages (PostgreSQL only).

    Used after bulk loads and when a thread's subject or contact changes.
    """
    if not is_postgresql():
        return 0
    params: dict = {"config": TEXT_SEARCH_CONFIG, "dash": DASH_BEFORE_DIGIT_SQL}
    if thread_ids is None:
        which = "all"
    elif len(thread_ids) == 1:
        which, params["id"] = "one", next(iter(thread_ids))
    else:
        which, params["ids"] = "some", list(thread_ids)
    result = db.session.execute(_rebuild_statement(which), params)
    return result.rowcount or 0
