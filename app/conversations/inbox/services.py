"""Listing threads for the inbox and the JSON API.

Two orders, both keyset-paginated so page 400 costs what page 1 costs and rows
never repeat or vanish when new messages arrive between pages:

- ``urgency`` (default): ``(urgency_bucket, urgency_score, id)`` — customers
  waiting on us, most overdue first; then internal tasks and notes by deadline;
  then threads without a deadline; then closed ones (``app.platform.models.urgency``);
- ``newest``: ``(last_message_at, id)`` descending.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from app.conversations.inbox.access import visible_team_ids, visible_threads_clause
from app.conversations.inbox.counts import unread_for
from app.conversations.inbox.search import finds_few, is_postgresql, search_clause
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationChannel, CommunicationThread, Contact, Team, User
from app.platform.models.enums import ChannelType, Priority, ThreadStatus
from app.platform.models.urgency import CLOSED, DEADLINE_BUCKETS, SNOOZED
from app.platform.security.bodies import loads as load_json
from app.platform.typed_dates import cursor_moment
from app.platform.ui import priority_label, status_label

CLOSED_STATUSES = (ThreadStatus.RESOLVED, ThreadStatus.CLOSED)

# Inbox tabs and the channel types each one shows.
CHANNEL_FILTERS: dict[str, tuple[ChannelType, ...]] = {
    "email": (ChannelType.EMAIL_OUTLOOK,),
    "whatsapp": (ChannelType.WHATSAPP_BUSINESS,),
    "sms": (ChannelType.SMS,),
    "tasks": (ChannelType.INTERNAL_TASK, ChannelType.INTERNAL_TICKET, ChannelType.INTERNAL_COMMENT),
}
FILTERS = ("all", "email", "whatsapp", "sms", "tasks", "overdue", "mine", "unassigned", "snoozed")
SORTS = ("urgency", "newest")

# Each thread of a page with who and where it is from (the API's thread_to_dict).
FULL_ROWS = (
    so.joinedload(CommunicationThread.contact),
    so.joinedload(CommunicationThread.channel),
    so.joinedload(CommunicationThread.assigned_to),
)
# Only what an inbox row shows (templates/inbox/_row.html): every joined row was
# read whole, and its JSON documents (the channel's settings, the contact's
# metadata, the thread's references) decoded, ~350 documents a page for nothing.
INBOX_ROWS = (
    so.joinedload(CommunicationThread.contact).load_only(Contact.display_name, Contact.erased_at),
    so.joinedload(CommunicationThread.channel).load_only(CommunicationChannel.channel_type),
    so.joinedload(CommunicationThread.assigned_to).load_only(User.name),
    so.defer(CommunicationThread.external_references),
    so.defer(CommunicationThread.assignment_reason_text),
    so.defer(CommunicationThread.assignment_reason),
)


class InvalidQuery(ValueError):
    """A filter value or cursor that is not valid; ``field`` names which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass
class InboxQuery:
    filter_name: str = "all"
    status: str | None = None
    priority: str | None = None
    team_id: uuid.UUID | None = None
    tag: str | None = None
    q: str | None = None
    sort: str = "urgency"

    @classmethod
    def from_args(cls, args) -> "InboxQuery":
        """Parse query-string arguments, refusing unknown values by name."""
        query = cls(
            filter_name=args.get("filter") or "all",
            status=args.get("status") or None,
            priority=args.get("priority") or None,
            tag=(args.get("tag") or "").strip() or None,
            q=(args.get("q") or "").strip() or None,
            sort=args.get("sort") or "urgency",
        )
        if query.filter_name not in FILTERS:
            raise InvalidQuery("filter", f"must be one of {', '.join(FILTERS)}")
        if query.status and query.status not in ThreadStatus.values():
            raise InvalidQuery("status", f"must be one of {', '.join(ThreadStatus.values())}")
        if query.priority and query.priority not in Priority.values():
            raise InvalidQuery("priority", f"must be one of {', '.join(Priority.values())}")
        if query.sort not in SORTS:
            raise InvalidQuery("sort", f"must be one of {', '.join(SORTS)}")
        if args.get("team"):
            try:
                query.team_id = uuid.UUID(args["team"])
            except ValueError as exc:
                raise InvalidQuery("team", "not a team id") from exc
        return query

    def as_args(self) -> dict[str, str]:
        """The non-default values, for links that keep the current view."""
        values = {
            "filter": self.filter_name if self.filter_name != "all" else None,
            "status": self.status,
            "priority": self.priority,
            "team": str(self.team_id) if self.team_id else None,
            "tag": self.tag,
            "q": self.q,
            "sort": self.sort if self.sort != "urgency" else None,
        }
        return {k: v for k, v in values.items() if v}


@dataclass
class ThreadPage:
    threads: list[CommunicationThread]
    next_cursor: str | None
    query: InboxQuery = field(default_factory=InboxQuery)
    # Threads on this page with customer messages the viewer has not seen.
    unread_ids: set[uuid.UUID] = field(default_factory=set)


def _encode_cursor(sort: str, thread: CommunicationThread) -> str:
    if sort == "urgency":
        key = [sort, thread.urgency_bucket, thread.urgency_score, str(thread.id)]
    else:
        key = [sort, thread.last_message_at.isoformat(), str(thread.id)]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _cursor_clause(sort: str, cursor: str) -> sa.ColumnElement[bool]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = load_json(base64.urlsafe_b64decode(padded.encode()))
        if key[0] != sort:
            raise ValueError("cursor of another order")
        if sort == "urgency":
            bucket, score, ident = int(key[1]), int(key[2]), uuid.UUID(key[3])
            return sa.tuple_(
                CommunicationThread.urgency_bucket,
                CommunicationThread.urgency_score,
                CommunicationThread.id,
            ) > sa.tuple_(bucket, score, ident)
        stamp, ident = cursor_moment(key[1]), uuid.UUID(key[2])
        return sa.tuple_(CommunicationThread.last_message_at, CommunicationThread.id) < sa.tuple_(
            stamp, ident
        )
    except (ValueError, TypeError, IndexError, KeyError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidQuery("cursor", "not a cursor this server handed out") from exc


def _tag_clause(tag: str) -> sa.ColumnElement[bool]:
    if db.session.get_bind().dialect.name == "postgresql":
        return CommunicationThread.tags.op("@>")(sa.cast([tag], CommunicationThread.tags.type))
    tags = sa.func.json_each(CommunicationThread.tags).table_valued("value")
    return sa.exists(sa.select(tags.c.value).where(tags.c.value == tag))


def list_threads(
    viewer: User,
    query: InboxQuery | None = None,
    *,
    filter_name: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
    now: datetime | None = None,
    load: tuple = FULL_ROWS,
) -> ThreadPage:
    """One page of the inbox as ``viewer`` may see it; ``load``: what of each row to read."""
    query = query or InboxQuery()
    if filter_name is not None:
        if filter_name not in FILTERS:
            raise InvalidQuery("filter", f"must be one of {', '.join(FILTERS)}")
        query.filter_name = filter_name
    now = now or utcnow()
    thread = CommunicationThread
    if query.sort == "urgency":
        order = (thread.urgency_bucket, thread.urgency_score, thread.id)
    else:
        order = (thread.last_message_at.desc(), thread.id.desc())
    if query.q and is_postgresql():
        # A search's full-text estimate is a fixed share of the table (a prefix has
        # no statistics), big enough at 2 M threads for a parallel plan whose two
        # workers take ~40 ms to start on a busy machine, to read a handful of rows.
        db.session.execute(sa.text("SET LOCAL max_parallel_workers_per_gather = 0"))
    if query.q and is_postgresql() and finds_few(query.q):
        # The same order as expressions no index gives: the few matches come from the
        # full-text index and are sorted, instead of a walk of the order's index that
        # filters every thread (app.conversations.inbox.search.finds_few).
        if query.sort == "urgency":
            order = (thread.urgency_bucket + 0, thread.urgency_score, thread.id)
        else:
            unindexed = thread.last_message_at + sa.literal_column("interval '0'", sa.Interval)
            order = (unindexed.desc(), thread.id.desc())
    conditions = thread_conditions(viewer, query, now)
    if cursor:
        conditions.append(_cursor_clause(query.sort, cursor))
    statement = (
        sa.select(thread, unread_for(viewer).label("unread"))
        .options(*load)
        .order_by(*order)
        .limit(limit + 1)
    )
    if query.q and is_postgresql():
        # The page's ids first, reading only the order's columns, then its rows by
        # key: a rare word's thousands of candidates are then sorted as narrow
        # tuples instead of whole rows (≈ 30 → 18 ms of SQL at 10 M).
        page = sa.select(thread.id).where(*conditions).order_by(*order).limit(limit + 1)
        conditions = [thread.id.in_(page.scalar_subquery())]
    if conditions:
        statement = statement.where(*conditions)
    found = list(db.session.execute(statement).unique())
    has_more = len(found) > limit
    rows = [row[0] for row in found[:limit]]
    unread_ids = {row[0].id for row in found[:limit] if row[1]}
    next_cursor = _encode_cursor(query.sort, rows[-1]) if has_more and rows else None
    return ThreadPage(rows, next_cursor, query, unread_ids)


def thread_conditions(
    viewer: User, query: InboxQuery, now: datetime
) -> list[sa.ColumnElement[bool]]:
    """The WHERE conditions of ``query`` as ``viewer`` may see it (list and view counts)."""
    thread = CommunicationThread
    conditions = []
    visible = visible_threads_clause(viewer)
    if visible is not None:
        conditions.append(visible)
    if query.filter_name in CHANNEL_FILTERS:
        channel_ids = sa.select(CommunicationChannel.id).where(
            CommunicationChannel.channel_type.in_(CHANNEL_FILTERS[query.filter_name])
        )
        conditions.append(thread.channel_id.in_(channel_ids))
    elif query.filter_name == "overdue":
        # These buckets hold exactly the open threads with a deadline, scored by it;
        # the leading IN keeps the index walk in order (customers first).
        conditions += [
            thread.urgency_bucket.in_(DEADLINE_BUCKETS),
            thread.urgency_score < int(now.timestamp()),
        ]
    elif query.filter_name == "mine":
        conditions.append(thread.assigned_to_user_id == viewer.id)
    elif query.filter_name == "unassigned":
        conditions.append(thread.assigned_to_user_id.is_(None))
    if query.filter_name == "snoozed":
        # Their own bucket, ordered by wake time (app.platform.models.urgency).
        conditions.append(thread.urgency_bucket == SNOOZED)
    else:
        # Snoozed threads leave every other list; the bucket comes last, so this
        # is a range on the leading column of each urgency index.
        conditions.append(thread.urgency_bucket < SNOOZED)
    if query.filter_name in ("mine", "unassigned") and not query.status:
        # Like their tab counts: open conversations only, unless a status is chosen.
        # A bucket range, so the walk stays on the (assignee, urgency) indexes.
        conditions.append(thread.urgency_bucket < CLOSED)
    if query.status:
        conditions.append(thread.status == ThreadStatus(query.status))
    if query.priority:
        conditions.append(thread.priority == Priority(query.priority))
    if query.team_id:
        conditions.append(thread.assigned_team_id == query.team_id)
    if query.tag:
        conditions.append(_tag_clause(query.tag))
    if query.q:
        matched = search_clause(query.q)
        if matched is not None:
            conditions.append(matched)
    return conditions


def filter_choices(viewer: User) -> dict[str, list[tuple[str, str]]]:
    """Options for the inbox's filter selects; teams only those ``viewer`` can see."""
    teams_query = sa.select(Team.id, Team.name).order_by(Team.name)
    team_ids = visible_team_ids(viewer)
    if team_ids is not None:
        teams_query = teams_query.where(Team.id.in_(team_ids))
    teams = db.session.execute(teams_query).all()
    return {
        # As the thread header and the rows write them ("open", "laag"): one word, one form.
        "status": [(s, status_label(s)) for s in ThreadStatus.values()],
        "priority": [(p, priority_label(p)) for p in Priority.values()],
        "team": [(str(team_id), name) for team_id, name in teams],
    }


def sla_label(thread: CommunicationThread, now: datetime | None = None) -> tuple[str, str] | None:
    """A short SLA state for a row, with a tone: ("2h overdue", "overdue")."""
    if thread.response_due_at is None or thread.status in CLOSED_STATUSES:
        return None
    now = now or utcnow()
    seconds = (thread.response_due_at - now).total_seconds()
    span = _human_span(abs(seconds))
    if seconds < 0:
        return _("%(span)s overdue", span=span), "overdue"
    tone = "soon" if seconds < 3600 else "ok"
    return _("due in %(span)s", span=span), tone


def _human_span(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return _("%(count)d min", count=max(minutes, 1))
    hours = minutes // 60
    if hours < 48:
        return _("%(count)dh", count=hours)
    return _("%(count)dd", count=hours // 24)


def contact_summary(contact: Contact | None) -> dict | None:
    if contact is None:
        return None
    return {
        "id": str(contact.id),
        "name": contact.display_name,
        "email": contact.email,
        "phone": contact.phone,
    }


def thread_to_dict(thread: CommunicationThread) -> dict:
    """A thread as the JSON API describes it."""
    return {
        "id": str(thread.id),
        "subject": thread.thread_subject,
        "thread_type": thread.thread_type.value,
        "priority": thread.priority.value,
        "status": thread.status.value,
        "channel": thread.channel.channel_type.value if thread.channel else None,
        "contact": contact_summary(thread.contact),
        "assigned_to": (
            {"id": str(thread.assigned_to.id), "name": thread.assigned_to.name}
            if thread.assigned_to
            else None
        ),
        "assigned_team_id": str(thread.assigned_team_id) if thread.assigned_team_id else None,
        "order_id": str(thread.order_id) if thread.order_id else None,
        "last_message_at": thread.last_message_at.isoformat(),
        "response_due_at": thread.response_due_at.isoformat() if thread.response_due_at else None,
        "tags": list(thread.tags or []),
        "lock_version": thread.lock_version,
    }
