"""Inline edits of a thread by a person: status, priority, assignee, tags.

Edits are compare-and-set on ``lock_version``, so two people changing the same
thread cannot silently overwrite each other; each change is written into the
timeline as a system line.

A technician may open the conversations of their own visits, and change in them
only what the visit needs: whether it is in hand or waits on the customer or on
the office. Priority, tags, the assignee and resolving, closing or escalating
are the desk's (:func:`refuse_beyond_the_visit`). An assignee is someone who
may open the conversation once it is theirs
(:func:`app.conversations.inbox.access.may_be_assigned`).
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask_babel import gettext as _

from app.conversations.business_time import clock as sla_clock
from app.conversations.core import (
    announce_change,
    assign,
    end_for_status_change,
    record_status_line,
)
from app.conversations.inbox.access import (
    ASSIGNABLE_STAFF,
    DESK_ROLES,
    may_be_assigned,
    visit_technician_ids,
)
from app.conversations.workspace.services import InvalidInput
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationThread, User
from app.platform.models.enums import Priority, Role, ThreadStatus
from app.platform.system_texts import SystemText, priority_label, status_label, text

MAX_TAGS = 20

# What a technician may set on their visit's conversation (see the module notes).
TECHNICIAN_STATUSES = (
    ThreadStatus.OPEN,
    ThreadStatus.IN_PROGRESS,
    ThreadStatus.WAITING_CUSTOMER,
    ThreadStatus.WAITING_INTERNAL,
)
DESK_FIELDS = ("priority", "assigned_to_user_id", "tags")


class NotTheVisitsToChange(Exception):
    """A technician asked to change what only the desk changes; ``fields`` say what."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(fields.values()))
        self.fields = fields


class StaleEdit(Exception):
    """The thread changed since the editor loaded it."""

    def __init__(self, current_version: int) -> None:
        super().__init__("the thread was changed by someone else")
        self.current_version = current_version


def update_thread(
    thread: CommunicationThread,
    actor: User,
    *,
    expected_version: int | None,
    changes: dict,
) -> list[SystemText]:
    """Apply status/priority/assignee/tag changes made by a person.

    ``expected_version`` is the ``lock_version`` the person saw; if the thread
    changed since, nothing is applied and :class:`StaleEdit` is raised. Each
    change is written to the timeline as a system line. Returns those lines.
    """
    values = validate_changes(changes, thread)
    refuse_beyond_the_visit(thread, actor, values)
    if expected_version is None:
        raise InvalidInput({"lock_version": "required: reload the thread and try again"})
    # Compare-and-set: concurrent editors cannot both win.
    bumped = db.session.execute(
        sa.update(CommunicationThread)
        .where(
            CommunicationThread.id == thread.id,
            CommunicationThread.lock_version == expected_version,
        )
        .values(lock_version=CommunicationThread.lock_version + 1)
        .execution_options(synchronize_session=False)
    )
    if bumped.rowcount != 1:
        db.session.rollback()
        current = db.session.scalar(
            sa.select(CommunicationThread.lock_version).where(CommunicationThread.id == thread.id)
        )
        raise StaleEdit(current or 0)
    db.session.refresh(thread, ["lock_version"])
    return apply_changes(thread, actor, values)


def apply_changes(thread: CommunicationThread, actor: User, values: dict) -> list[SystemText]:
    """Apply checked ``values`` (from :func:`validate_changes`) and write their lines.

    The caller has settled the version: :func:`update_thread` by compare-and-set,
    a bulk action by bumping it in its own transaction.
    """
    lines = []
    if "status" in values and values["status"] != thread.status:
        if thread.is_snoozed:
            # Whoever sets the status has acted on the conversation: it is awake.
            end_for_status_change(thread, actor)
        lines.append(
            text(
                "edit.status",
                actor=actor.name,
                old=status_label(thread.status),
                new=status_label(values["status"]),
            )
        )
        previous_status = thread.status
        thread.status = values["status"]
        # Pause, resume, resolve or escalate the SLA clock to match.
        sla_clock.status_changed(thread, previous_status, utcnow())
    if "priority" in values and values["priority"] != thread.priority:
        lines.append(
            text(
                "edit.priority",
                actor=actor.name,
                old=priority_label(thread.priority),
                new=priority_label(values["priority"]),
            )
        )
        thread.priority = values["priority"]
    if "assignee" in values and values["assignee"] != thread.assigned_to:
        assignee = values["assignee"]
        # Desk staff take the thread into their team's queue. A technician (who has
        # it through their visit) or a manager leaves it with the team that works
        # it, so the desk that handed it on keeps it in view.
        team = (
            assignee.team
            if assignee is not None and assignee.team_id and assignee.role in DESK_ROLES
            else thread.assigned_team
        )
        assign(
            thread,
            team=team,
            user=assignee,
            reason=text("routing.manual", actor=actor.name),
            announce=None,
            by_user_id=actor.id,
        )
        if assignee is None:
            lines.append(text("edit.unassigned", actor=actor.name))
        elif assignee.id == actor.id:  # "assign to me": not "Anouk assigned … to Anouk"
            lines.append(text("edit.took", actor=actor.name))
        else:
            lines.append(text("edit.assigned", actor=actor.name, assignee=assignee.name))
    # Compared as the form normalises them, so a save of other fields never
    # writes "set the tags to …" for tags that were only stored in another order.
    if "tags" in values and values["tags"] != _normalised_tags(thread):
        thread.tags = values["tags"]
        tags = ", ".join(values["tags"]) if values["tags"] else text("tags.none")
        lines.append(text("edit.tags", actor=actor.name, tags=tags))
    now = utcnow()
    for line in lines:
        record_status_line(thread, line, author_id=actor.id, at=now)
    announce_change(thread, "edit")
    return lines


def refuse_beyond_the_visit(thread: CommunicationThread, actor: User, values: dict) -> None:
    """:class:`NotTheVisitsToChange` when a technician's ``values`` change more than
    their visit needs. A value sent unchanged changes nothing and is let through, so
    a client that sends the whole thread back is not refused for it."""
    if actor.role != Role.TECHNICIAN:
        return
    refused = {}
    if values.get("status", thread.status) != thread.status and (
        values["status"] not in TECHNICIAN_STATUSES
    ):
        refused["status"] = _(
            "a technician may set %(values)s",
            values=", ".join(status.value for status in TECHNICIAN_STATUSES),
        )
    desk_only = _("only the office changes this")
    if values.get("priority", thread.priority) != thread.priority:
        refused["priority"] = desk_only
    if "assignee" in values and values["assignee"] != thread.assigned_to:
        refused["assigned_to_user_id"] = desk_only
    if "tags" in values and values["tags"] != _normalised_tags(thread):
        refused["tags"] = desk_only
    if refused:
        raise NotTheVisitsToChange(refused)


def editable_fields(actor: User) -> tuple[str, ...]:
    """The header's fields ``actor`` may change (the others are shown, not offered)."""
    if actor.role == Role.TECHNICIAN:
        return ("status",)
    return ("status", *DESK_FIELDS)


def offered_statuses(thread: CommunicationThread, actor: User) -> list[str]:
    """The statuses the header offers ``actor``: all, or a technician's and the current one."""
    if actor.role != Role.TECHNICIAN:
        return ThreadStatus.values()
    return [s.value for s in ThreadStatus if s in TECHNICIAN_STATUSES or s == thread.status]


def _normalised_tags(thread: CommunicationThread) -> list[str]:
    return sorted({str(t).strip().lower() for t in thread.tags or [] if str(t).strip()})


def validate_changes(changes: dict, thread: CommunicationThread | None = None) -> dict:
    """The changes as values to apply; :class:`InvalidInput` naming each bad field.

    With ``thread``, an assignee must be someone who may open it once it is
    theirs; without (a bulk action over many), desk staff only."""
    values: dict = {}
    errors: dict[str, str] = {}
    if changes.get("status") is not None:
        try:
            values["status"] = ThreadStatus(changes["status"])
        except ValueError:
            errors["status"] = _(
                "must be one of %(values)s", values=", ".join(ThreadStatus.values())
            )
    if changes.get("priority") is not None:
        try:
            values["priority"] = Priority(changes["priority"])
        except ValueError:
            errors["priority"] = _("must be one of %(values)s", values=", ".join(Priority.values()))
    if "assigned_to_user_id" in changes:
        raw = changes["assigned_to_user_id"]
        if raw in (None, ""):
            values["assignee"] = None
        else:
            try:
                assignee = db.session.get(User, uuid.UUID(str(raw)))
            except ValueError:
                assignee = None
            if assignee is None or not assignee.is_active:
                errors["assigned_to_user_id"] = _("no active user with that id")
            elif thread is not None and assignee == thread.assigned_to:
                values["assignee"] = assignee  # sent back as shown: no change to check
            elif not (
                may_be_assigned(assignee, thread)
                if thread is not None
                else assignee.role in ASSIGNABLE_STAFF
            ):
                errors["assigned_to_user_id"] = _(
                    "%(name)s may not open this conversation", name=assignee.name
                )
            else:
                values["assignee"] = assignee
    if changes.get("tags") is not None:
        raw_tags = changes["tags"]
        if isinstance(raw_tags, str):
            raw_tags = raw_tags.split(",")
        if not isinstance(raw_tags, list) or not all(isinstance(t, str) for t in raw_tags):
            errors["tags"] = _("must be a list of words")
        else:
            tags = sorted({t.strip().lower() for t in raw_tags if t.strip()})
            if len(tags) > MAX_TAGS or any(len(t) > 40 for t in tags):
                errors["tags"] = _(
                    "at most %(count)s tags of at most 40 characters", count=MAX_TAGS
                )
            else:
                values["tags"] = tags
    if errors:
        raise InvalidInput(errors)
    return values


def assignable_users(thread: CommunicationThread | None = None) -> list[User]:
    """Who a thread may be given to: desk staff, the technicians of its visit, and
    whoever has it now (so the dropdown shows who it is and a save of another
    field cannot silently unassign them)."""
    technicians = visit_technician_ids(thread) if thread is not None else set()
    users = list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.is_active_account.is_(True),
                sa.or_(User.role.in_(ASSIGNABLE_STAFF), User.id.in_(technicians)),
            )
            .order_by(User.name)
        )
    )
    current = thread.assigned_to if thread is not None else None
    if current is not None and current not in users:
        users.append(current)
    return users
