"""Bulk actions on the inbox list: one change applied to many conversations at once.

One request names the threads and one action (assign to a person or a team,
status, priority, add a tag, snooze, mark read for the person acting).
Everything happens in the caller's one transaction, through the same writers
an edit of one conversation uses (:func:`app.conversations.workspace.editing.apply_changes`,
:mod:`app.conversations.core`), so the
timeline lines, SLA clock and live updates are the same; events go out after
the commit. Each thread is checked on its own: one the person may not open
(``app.conversations.inbox.access``), or one the action cannot apply to (snoozing a closed
conversation), is refused with a reason and the others still change.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from app.conversations.core import announce_change, assign, mark_read, record_status_line
from app.conversations.inbox.access import ASSIGNABLE_STAFF, can_access_thread
from app.conversations.workspace.editing import MAX_TAGS, apply_changes, validate_changes
from app.conversations.workspace.services import InvalidInput
from app.conversations.workspace.snooze_options import snooze_thread, wake_time
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationThread, Team, ThreadRead, User
from app.platform.system_texts import text
from app.platform.typed_dates import parse_moment

# One page of the inbox is 50; "select all" over a few pages stays well under this.
MAX_THREADS = 200
ACTIONS = ("assign", "status", "priority", "tag", "snooze", "read")
# Per person, not the conversation's: open header forms stay valid (no lock_version bump).
PERSONAL_ACTIONS = ("read",)


@dataclass(frozen=True)
class BulkAction:
    """A checked request: the threads and what to do to them."""

    thread_ids: list[uuid.UUID]
    action: str
    values: dict = field(default_factory=dict)


@dataclass
class BulkResult:
    changed: list[CommunicationThread] = field(default_factory=list)
    # Already as asked (the status was already "resolved", the tag already there).
    unchanged: list[CommunicationThread] = field(default_factory=list)
    refused: list[tuple[CommunicationThread, str]] = field(default_factory=list)


def parse_bulk(form: Mapping) -> BulkAction:
    """Check a bulk form; :class:`InvalidInput` naming each bad field."""
    raw_ids = [value for value in form.getlist("thread_ids") if value]
    if not raw_ids:
        raise InvalidInput({"thread_ids": _("select at least one conversation")})
    if len(raw_ids) > MAX_THREADS:
        raise InvalidInput(
            {"thread_ids": _("at most %(count)s conversations at once", count=MAX_THREADS)}
        )
    try:
        thread_ids = list(dict.fromkeys(uuid.UUID(value) for value in raw_ids))
    except ValueError as exc:
        raise InvalidInput({"thread_ids": _("not a conversation id")}) from exc
    action = form.get("action")
    if action not in ACTIONS:
        raise InvalidInput({"action": _("choose one of %(choices)s", choices=", ".join(ACTIONS))})
    return BulkAction(thread_ids, action, _values(action, form))


def _values(action: str, form: Mapping) -> dict:
    if action == "assign":
        return _assignee(form.get("assign_to") or "")
    if action in ("status", "priority"):
        return validate_changes({action: form.get(action) or ""})
    if action == "tag":
        tag = (form.get("tag") or "").strip().lower()
        if not tag or len(tag) > 40:
            raise InvalidInput({"tag": _("a tag of 1 to 40 characters")})
        return {"tag": tag}
    if action == "read":
        return {"seen": _seen(form)}
    return {"snooze": form.get("snooze"), "snooze_until": form.get("snooze_until")}


def _seen(form: Mapping) -> dict[uuid.UUID, datetime]:
    """The newest customer message each listed row showed (``seen_<id>``), by thread.

    Marking read goes no further: a message that came in after the list was drawn
    stays unread. A row without one (a form from elsewhere) reads up to the newest.
    """
    seen = {}
    for name, value in form.items():
        if not name.startswith("seen_"):
            continue
        try:
            thread_id = uuid.UUID(name.removeprefix("seen_"))
            moment = parse_moment(value, timezone.utc)
        except ValueError as exc:  # DateRefused too: the list only ever writes real times
            raise InvalidInput({name: _("not a date and time")}) from exc
        if moment is None:
            raise InvalidInput({name: _("not a date and time")})
        seen[thread_id] = moment
    return seen


def _assignee(raw: str) -> dict:
    """``user:<id>`` or ``team:<id>`` (the bar's assign choice)."""
    kind, _sep, ident = raw.partition(":")
    try:
        key = uuid.UUID(ident)
    except ValueError:
        key = None
    if kind == "user" and key is not None:
        user = db.session.get(User, key)
        if user is not None and user.is_active and user.role in ASSIGNABLE_STAFF:
            return {"assignee": user}
    if kind == "team" and key is not None:
        team = db.session.get(Team, key)
        if team is not None:
            return {"team": team}
    raise InvalidInput({"assign_to": _("choose a colleague or a team")})


def apply_bulk(actor: User, request: BulkAction) -> BulkResult:
    """Apply ``request`` to each thread ``actor`` may change; the caller commits once.

    Ids that name no conversation refuse the whole request (:class:`InvalidInput`
    on ``thread_ids``): the list offered only real ones.
    """
    threads = {
        thread.id: thread
        for thread in db.session.scalars(
            sa.select(CommunicationThread)
            .options(so.joinedload(CommunicationThread.order))
            .where(CommunicationThread.id.in_(request.thread_ids))
        )
    }
    unknown = [str(i) for i in request.thread_ids if i not in threads]
    if unknown:
        raise InvalidInput(
            {"thread_ids": _("no conversation with id %(ids)s", ids=", ".join(unknown[:5]))}
        )
    if request.action == "snooze":
        _check_snooze_choice(request, threads[request.thread_ids[0]])
    result = BulkResult()
    for thread_id in request.thread_ids:
        thread = threads[thread_id]
        if not can_access_thread(actor, thread):
            result.refused.append((thread, _("no access")))
            continue
        try:
            changed = _apply_one(thread, actor, request)
        except InvalidInput as exc:
            result.refused.append((thread, "; ".join(str(v) for v in exc.fields.values())))
            continue
        if changed:
            if request.action not in PERSONAL_ACTIONS:
                # Open header forms of these threads are now stale, as after an edit.
                thread.lock_version = CommunicationThread.lock_version + 1
            result.changed.append(thread)
        else:
            result.unchanged.append(thread)
    return result


def _check_snooze_choice(request: BulkAction, sample: CommunicationThread) -> None:
    """A bad snooze choice is the request's fault, not each thread's: refuse it whole."""
    wake_time(sample, request.values["snooze"], request.values["snooze_until"], utcnow())


def _apply_one(thread: CommunicationThread, actor: User, request: BulkAction) -> bool:
    values = request.values
    if request.action == "snooze":
        snooze_thread(thread, actor, values["snooze"], values["snooze_until"])
        return True
    if request.action == "tag":
        return bool(_add_tag(thread, actor, values["tag"]))
    if request.action == "read":
        return _mark_read(thread, actor, values["seen"].get(thread.id))
    if request.action == "assign" and "team" in values:
        return _move_to_team(thread, actor, values["team"])
    return bool(apply_changes(thread, actor, values))


def _mark_read(thread: CommunicationThread, actor: User, shown: datetime | None) -> bool:
    """Mark read for ``actor`` up to the newest customer message the row ``shown``
    (else the newest there is); False if that was read already."""
    newest = thread.last_customer_message_at
    if newest is None:
        return False
    if shown is not None:
        newest = min(newest, shown)
    seen = db.session.scalar(
        sa.select(ThreadRead.last_read_at).where(
            ThreadRead.user_id == actor.id, ThreadRead.thread_id == thread.id
        )
    )
    if seen is not None and seen >= newest:
        return False
    mark_read(thread, actor, up_to=newest)
    return True


def _add_tag(thread: CommunicationThread, actor: User, tag: str) -> list:
    tags = sorted({str(t).strip().lower() for t in thread.tags or [] if str(t).strip()})
    if tag in tags:
        return []
    if len(tags) >= MAX_TAGS:
        raise InvalidInput({"tag": _("already has %(count)s tags", count=MAX_TAGS)})
    return apply_changes(thread, actor, {"tags": sorted([*tags, tag])})


def _move_to_team(thread: CommunicationThread, actor: User, team: Team) -> bool:
    """Give the thread to ``team``; its assignee stays only if they are in that team."""
    if thread.assigned_team_id == team.id:
        return False
    current = thread.assigned_to
    keeps = current if current is not None and current.team_id == team.id else None
    assign(
        thread,
        team=team,
        user=keeps,
        reason=text("routing.manual", actor=actor.name),
        announce=None,
        by_user_id=actor.id,
    )
    line = text("edit.team", actor=actor.name, team=team.name)
    record_status_line(thread, line, author_id=actor.id, at=utcnow())
    announce_change(thread, "edit")
    return True
