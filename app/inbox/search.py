"""Full-text search over threads: subject, contact and every message.

PostgreSQL keeps a ``tsvector`` per thread (GIN-indexed), extended as messages
arrive; a query matches word prefixes, so "Jans" finds "Jansen" and "laadpal"
finds "laadpalen". SQLite has no such index; there the same search runs as
case-insensitive LIKE over the same fields, which is fine at demo sizes.
"""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa

from app.extensions import db
from app.models import CommunicationMessage, CommunicationThread, Contact

# Dutch stemming: customers and agents write Dutch; e-mail addresses and
# numbers pass through the parser unchanged.
TEXT_SEARCH_CONFIG = "dutch"
TERM = re.compile(r"[\w@.+-]+", re.UNICODE)
MAX_TERMS = 8


def search_terms(query: str) -> list[str]:
    terms = [t.strip(".-+") for t in TERM.findall(query.lower())]
    return [t for t in terms if t][:MAX_TERMS]


# The contact's part of a thread's document, over a ``contacts`` row aliased ``c``:
# name, e-mail whole and split at @ and dots (so "piet@voorbeeld" matches), and
# the phone as stored, as digits, and in national form (0612345678).
CONTACT_DOCUMENT_SQL = r"""(
    coalesce(c.display_name, '') || ' ' || coalesce(c.email, '') || ' ' ||
    coalesce(translate(c.email, '@.', '  '), '') || ' ' || coalesce(c.phone, '') || ' ' ||
    coalesce(regexp_replace(c.phone, '\D', '', 'g'), '') || ' ' ||
    coalesce('0' || substr(regexp_replace(c.phone, '\D', '', 'g'), 3), ''))"""


def _tsquery_literal(terms: list[str]) -> str:
    # Each term quoted as a lexeme with prefix matching, all required.
    quoted = ["'" + term.replace("\\", "").replace("'", "") + "':*" for term in terms]
    return " & ".join(quoted)


def is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def search_clause(query: str) -> sa.ColumnElement[bool] | None:
    """A WHERE clause for threads matching ``query`` (None when nothing to search)."""
    terms = search_terms(query)
    if not terms:
        return None
    if is_postgresql():
        return CommunicationThread.search_vector.op("@@")(
            sa.func.to_tsquery(TEXT_SEARCH_CONFIG, _tsquery_literal(terms))
        )
    clauses = []
    for term in terms:
        pattern = f"%{term}%"
        contact_match = sa.select(Contact.id).where(
            Contact.id == CommunicationThread.contact_id,
            sa.or_(
                sa.func.lower(Contact.display_name).like(pattern),
                sa.func.lower(Contact.email).like(pattern),
                Contact.phone.like(f"%{term.lstrip('0')}%"),
            ),
        )
        message_match = sa.select(CommunicationMessage.id).where(
            CommunicationMessage.thread_id == CommunicationThread.id,
            sa.func.lower(CommunicationMessage.message_content).like(pattern),
        )
        clauses.append(
            sa.or_(
                sa.func.lower(CommunicationThread.thread_subject).like(pattern),
                contact_match.exists(),
                message_match.exists(),
            )
        )
    return sa.and_(*clauses)


def append_to_search_document(thread_id: uuid.UUID, text: str) -> None:
    """Add a new message's text to its thread's document (PostgreSQL only)."""
    if not is_postgresql() or not text:
        return
    db.session.execute(
        sa.update(CommunicationThread)
        .where(CommunicationThread.id == thread_id)
        .values(
            search_vector=sa.func.coalesce(
                CommunicationThread.search_vector, sa.literal_column("''::tsvector")
            ).op("||")(sa.func.to_tsvector(TEXT_SEARCH_CONFIG, text))
        )
        .execution_options(synchronize_session=False)
    )


def rebuild_search_documents(thread_ids: list[uuid.UUID] | None = None) -> int:
    """Recompute documents from subject, contact and all messages (PostgreSQL only).

    Used after bulk loads and when a thread's subject or contact changes.
    """
    if not is_postgresql():
        return 0
    params: dict = {"config": TEXT_SEARCH_CONFIG}
    only = ""
    if thread_ids is not None:
        only, params["ids"] = "AND t.id = ANY(:ids)", list(thread_ids)
    result = db.session.execute(
        sa.text(
            f"""
            UPDATE communication_thread AS t SET search_vector = to_tsvector(:config,
                coalesce(t.thread_subject, '') || ' ' || {CONTACT_DOCUMENT_SQL} || ' ' ||
                coalesce((SELECT string_agg(m.message_content, ' ')
                          FROM communication_message m WHERE m.thread_id = t.id), ''))
            FROM communication_thread AS t2 LEFT JOIN contacts c ON c.id = t2.contact_id
            WHERE t2.id = t.id {only}
            """  # noqa: S608  (only fixed fragments are interpolated)
        ),
        params,
    )
    return result.rowcount or 0
