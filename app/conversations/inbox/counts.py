"""Unread marks and the counts on the inbox tabs.

A conversation is unread for the viewer when a customer wrote after the
viewer last opened it (``thread_reads``, kept by ``app.conversations.core.mark_read``).
The tab counts are of open conversations (resolved and closed ones sit in
urgency bucket 3, ``app.platform.models.urgency``), each one an index range count,
kept briefly per viewer.
A count stops at ``COUNT_CAP`` + 1 rows and the tab then shows "999+": counted
exactly, Overdue and Unassigned visit every matching index entry, hundreds of
thousands at 10 M messages, on every refresh, and no agent acts on the difference
between 12,408 and 12,409.

- Mine: ``ix_communication_thread_assignee_urgency`` on (me, bucket < 3);
- Unassigned: ``ix_communication_thread_unassigned`` (partial: no assignee) on
  (team, bucket < 3), once per team the viewer sees;
- Overdue: ``ix_communication_thread_team_urgency`` on (team, buckets 0–1, score < now),
  likewise, or ``ix_communication_thread_urgency`` for those who see everything.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

import sqlalchemy as sa
from redis.exceptions import RedisError

from app.conversations.inbox.access import DESK_ROLES, SEE_EVERYTHING, visible_threads_clause
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.jobs.queues import broker
from app.platform.models import CommunicationThread, ThreadRead, User
from app.platform.models.urgency import CLOSED, DEADLINE_BUCKETS

# Counted up to this many; above it a tab reads "999+" (:func:`count_label`).
COUNT_CAP = 999
# The counts of a viewer are kept this long: every list refresh (each message,
# each edit, for every agent watching) would otherwise count again.
COUNTS_CACHE_SECONDS = 15

log = logging.getLogger(__name__)


def unread_for(viewer: User) -> sa.ColumnElement[bool]:
    """True for a thread whose customer wrote after ``viewer`` last opened it.

    A correlated look-up of the viewer's one read mark (unique on user and
    thread), not an outer join: PostgreSQL runs it for the rows a page keeps,
    after the sort and limit. Joined, a search it expected to find a few hundred
    threads read all of the viewer's marks into a hash first (450,000 at 10 M
    messages, most of a phone search's time).
    """
    thread = CommunicationThread
    seen_since = (
        sa.select(ThreadRead.id)
        .where(
            ThreadRead.user_id == viewer.id,
            ThreadRead.thread_id == thread.id,
            ThreadRead.last_read_at >= thread.last_customer_message_at,
        )
        .correlate(thread)
    )
    return sa.and_(thread.last_customer_message_at.is_not(None), ~sa.exists(seen_since))


def count_label(count: int) -> str:
    """A count as the inbox shows it: exact up to ``COUNT_CAP``, then "999+"."""
    return f"{COUNT_CAP}+" if count > COUNT_CAP else str(count)


def capped_count(*conditions: sa.ColumnElement[bool]) -> sa.ScalarSelect:
    """The number of threads matching ``conditions``, up to ``COUNT_CAP`` + 1.

    The LIMIT sits under the count, so the index scan stops after that many rows.
    """
    matching = (
        sa.select(sa.literal(1))
        .select_from(CommunicationThread)
        .where(*conditions)
        .limit(COUNT_CAP + 1)
        .subquery()
    )
    return sa.select(sa.func.count()).select_from(matching).scalar_subquery()


def cached_tab_counts(viewer: User) -> dict[str, int]:
    """:func:`tab_counts`, kept in Redis per viewer for ``COUNTS_CACHE_SECONDS``.

    A count may lag a change by that long; the rows themselves never do. When
    Redis does not answer the counts are made afresh, never left out.
    """
    key = _cache_key(viewer)
    connection = broker().connection
    try:
        cached = connection.get(key)
    except RedisError:
        log.warning("inbox counts cache unavailable; counting afresh", exc_info=True)
        return tab_counts(viewer)
    if cached:
        return json.loads(cached)
    counts = tab_counts(viewer)
    try:
        connection.set(key, json.dumps(counts), ex=COUNTS_CACHE_SECONDS)
    except RedisError:
        log.warning("inbox counts not cached", exc_info=True)
    return counts


def recount_tabs(viewer: User) -> dict[str, int]:
    """:func:`tab_counts` afresh, kept for the next list refresh too.

    After the viewer's own change (a bulk action) the tabs must show its effect
    at once, not up to ``COUNTS_CACHE_SECONDS`` later.
    """
    counts = tab_counts(viewer)
    try:
        broker().connection.set(
            _cache_key(viewer), json.dumps(counts), ex=COUNTS_CACHE_SECONDS
        )
    except RedisError:
        log.warning("inbox counts not cached", exc_info=True)
    return counts


def tab_counts(viewer: User, now: datetime | None = None) -> dict[str, int]:
    """Open conversations on the Mine, Unassigned and Overdue tabs (capped), in one round trip."""
    now = now or utcnow()
    thread = CommunicationThread
    parts = _visible_parts(viewer)
    unassigned = [
        capped_count(thread.assigned_to_user_id.is_(None), thread.urgency_bucket < CLOSED, *part)
        for part, personal in parts
        if not personal  # threads assigned to the viewer are never unassigned
    ]
    overdue = [
        capped_count(
            thread.urgency_bucket.in_(DEADLINE_BUCKETS),
            thread.urgency_score < int(now.timestamp()),
            *part,
        )
        for part, _ in parts
    ]
    # Assigned to the viewer: always visible to them, no access condition needed.
    mine = capped_count(thread.assigned_to_user_id == viewer.id, thread.urgency_bucket < CLOSED)
    figures = db.session.execute(sa.select(mine, *unassigned, *overdue)).one()
    # Parts are capped each; a sum over the cap only needs to read as "more than".
    return {
        "mine": figures[0],
        "unassigned": min(sum(figures[1 : 1 + len(unassigned)]), COUNT_CAP + 1),
        "overdue": min(sum(figures[1 + len(unassigned) :]), COUNT_CAP + 1),
    }


def _cache_key(viewer: User) -> str:
    return f"switchboard:inbox-counts:{viewer.id}"


def _visible_parts(viewer: User) -> list[tuple[tuple[sa.ColumnElement[bool], ...], bool]]:
    """What ``viewer`` may see (``app.conversations.inbox.access``) as disjoint parts, each an
    index range.

    Counted as one OR, the database visits every matching row in the table; as
    parts, each is an index-only count on the team (or assignee) index. The
    parts add up to exactly ``visible_threads_clause``: a test holds them to it.
    Each part comes with whether it holds only threads assigned to the viewer.
    """
    thread = CommunicationThread
    if viewer.role in SEE_EVERYTHING:
        return [((), False)]
    if viewer.role not in DESK_ROLES:
        return [((visible_threads_clause(viewer),), False)]
    parts = [((thread.assigned_team_id.is_(None),), False)]
    if viewer.team_id is not None:
        parts.append(((thread.assigned_team_id == viewer.team_id,), False))
    # Assigned to them personally in another team's queue.
    other_team = [thread.assigned_team_id.is_not(None)]
    if viewer.team_id is not None:
        other_team.append(thread.assigned_team_id != viewer.team_id)
    parts.append(((thread.assigned_to_user_id == viewer.id, *other_team), True))
    return parts
