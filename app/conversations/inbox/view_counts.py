"""The live counts beside saved views: conversations each view would list now.

All of a viewer's views are counted in one statement (a count subquery per
view, each with exactly the conditions the list uses, ``thread_conditions``,
and capped like the tab counts, ``app.conversations.inbox.counts.COUNT_CAP``),
and the result is kept in Redis per viewer. A kept result is used only while
the inbox has not changed since: every new message and thread change bumps
one generation number (:func:`inbox_changed`, called by the listener that
also tells browsers to refresh), so a list refreshed by that event shows the
new count, while repeated refreshes without a change cost nothing. Counts
that move with the clock alone (Overdue) are kept at most
``VIEW_COUNTS_CACHE_SECONDS``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime

import sqlalchemy as sa
from redis.exceptions import RedisError

from app.conversations.inbox.counts import capped_count
from app.conversations.inbox.services import InboxQuery, InvalidQuery, thread_conditions
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.jobs.coalescing import hold
from app.platform.jobs.queues import broker
from app.platform.models import SavedView, User

VIEW_COUNTS_CACHE_SECONDS = 15
GENERATION_KEY = "switchboard:inbox-generation"

log = logging.getLogger(__name__)


def inbox_changed() -> None:
    """Mark every kept view count stale (a conversation was added or changed).

    A batch job marks them once for all its events (:mod:`app.platform.jobs.coalescing`),
    before any of its live updates goes out, so a list refreshed by one shows
    the new counts.
    """
    if not hold("inbox-generation", _bump_generation, early=True):
        _bump_generation()


def _bump_generation(_held: list | None = None) -> None:
    try:
        broker().connection.incr(GENERATION_KEY)
    except RedisError:
        log.warning("could not mark saved-view counts stale", exc_info=True)


def cached_view_counts(viewer: User, views: list[SavedView]) -> dict[str, int]:
    """:func:`view_counts` by view id (str), reused while the inbox is unchanged."""
    if not views:
        return {}
    key = f"switchboard:view-counts:{viewer.id}"
    # The views themselves are part of the key: a new or edited view counts afresh.
    signature = hashlib.sha256(
        json.dumps([[str(v.id), v.query] for v in views], sort_keys=True).encode()
    ).hexdigest()
    connection = broker().connection
    try:
        generation, cached = connection.mget([GENERATION_KEY, key])
    except RedisError:
        log.warning("saved-view counts cache unavailable; counting afresh", exc_info=True)
        return view_counts(viewer, views)
    generation = int(generation or 0)
    if cached:
        kept = json.loads(cached)
        if kept["generation"] == generation and kept["signature"] == signature:
            return kept["counts"]
    counts = view_counts(viewer, views)
    entry = {"generation": generation, "signature": signature, "counts": counts}
    try:
        connection.set(key, json.dumps(entry), ex=VIEW_COUNTS_CACHE_SECONDS)
    except RedisError:
        log.warning("saved-view counts not cached", exc_info=True)
    return counts


def view_counts(
    viewer: User, views: list[SavedView], now: datetime | None = None
) -> dict[str, int]:
    """How many conversations each view lists for ``viewer`` (up to ``COUNT_CAP`` + 1),
    in one round trip."""
    if not views:
        return {}
    now = now or utcnow()
    subqueries = []
    for view in views:
        # Stored queries were checked when saved; parsed again in case the
        # inbox's filters changed since (a value it no longer knows counts nothing).
        try:
            query = InboxQuery.from_args(view.query)
        except InvalidQuery:
            log.warning("saved view %s holds a query the inbox refuses", view.id)
            subqueries.append(sa.literal(0))
            continue
        subqueries.append(capped_count(*thread_conditions(viewer, query, now)))
    figures = db.session.execute(sa.select(*subqueries)).one()
    return {str(view.id): figure for view, figure in zip(views, figures, strict=True)}
