"""Reading the audit log: filters from a query string, and pages of entries, newest first."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from app.platform.extensions import db
from app.platform.models import AuditLog, User
from app.platform.typed_dates import DateRefused, parse_day
from app.platform.ui import DISPLAY_ZONE

PAGE_SIZE = 50
# The "who" filter's value for entries no person made (jobs, webhooks, commands).
NOBODY = "system"
MAX_NAME = 64  # as long as table_name and action can be


@dataclass(frozen=True)
class AuditFilter:
    """What the page was asked to show; every part optional."""

    user: str | None = None  # a user's id, or NOBODY
    area: str | None = None  # a table name
    action: str | None = None
    record: uuid.UUID | None = None
    since: date | None = None  # Amsterdam days, both ends included
    until: date | None = None

    def query_args(self) -> dict[str, str]:
        """The filter as the form's query string (for links to further pages)."""
        values = {
            "user": self.user,
            "area": self.area,
            "action": self.action,
            "record": str(self.record) if self.record else None,
            "from": self.since.isoformat() if self.since else None,
            "to": self.until.isoformat() if self.until else None,
        }
        return {key: value for key, value in values.items() if value}


def parse_filter(args: Mapping[str, str]) -> tuple[AuditFilter, dict[str, str]]:
    """The filter in ``args`` (a query string), and a message per field that is not valid."""
    errors: dict[str, str] = {}
    user = (args.get("user") or "").strip() or None
    if user and user != NOBODY and _uuid(user) is None:
        errors["user"] = _("Choose a person from the list.")
    area = (args.get("area") or "").strip() or None
    action = (args.get("action") or "").strip() or None
    for name, value in (("area", area), ("action", action)):
        if value and len(value) > MAX_NAME:
            errors[name] = _("At most %(count)d characters.", count=MAX_NAME)
    record_text = (args.get("record") or "").strip()
    record = _uuid(record_text) if record_text else None
    if record_text and record is None:
        errors["record"] = _("A record id looks like 3f2a…: 32 hexadecimal digits with dashes.")
    since = _day(args, "from", errors)
    until = _day(args, "to", errors)
    if since and until and until < since:
        errors["to"] = _("The last day comes before the first.")
    return AuditFilter(user, area, action, record, since, until), errors


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _day(args: Mapping[str, str], name: str, errors: dict[str, str]) -> date | None:
    try:
        return parse_day(args.get(name))
    except DateRefused as exc:
        errors[name] = str(exc)
        return None


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=DISPLAY_ZONE)


@dataclass(frozen=True)
class AuditPage:
    """One page of entries, each with the name of who made it (None: nobody, or gone)."""

    entries: list[tuple[AuditLog, str | None]] = field(default_factory=list)
    # The id to pass as ``before`` for the next (older) page; None on the last page.
    next_before: str | None = None


def entries_page(f: AuditFilter, before: str | None = None) -> AuditPage:
    """The entries matching ``f``, newest first, ``PAGE_SIZE`` at a time (keyset on time, id)."""
    query = (
        sa.select(AuditLog, User.name)
        .outerjoin(User, User.id == AuditLog.changed_by_user_id)
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .limit(PAGE_SIZE + 1)
    )
    if f.user == NOBODY:
        query = query.where(AuditLog.changed_by_user_id.is_(None))
    elif f.user:
        query = query.where(AuditLog.changed_by_user_id == uuid.UUID(f.user))
    if f.area:
        query = query.where(AuditLog.table_name == f.area)
    if f.action:
        query = query.where(AuditLog.action == f.action)
    if f.record:
        query = query.where(AuditLog.record_id == f.record)
    if f.since:
        query = query.where(AuditLog.created_at >= _local_midnight(f.since))
    if f.until:
        query = query.where(AuditLog.created_at < _local_midnight(f.until + timedelta(days=1)))
    anchor = db.session.get(AuditLog, _uuid(before)) if before and _uuid(before) else None
    if anchor is not None:
        query = query.where(
            sa.tuple_(AuditLog.created_at, AuditLog.id) < sa.tuple_(anchor.created_at, anchor.id)
        )
    rows = [(entry, name) for entry, name in db.session.execute(query)]
    page = rows[:PAGE_SIZE]
    next_before = str(page[-1][0].id) if len(rows) > PAGE_SIZE else None
    return AuditPage(page, next_before)


def people() -> list[tuple[str, str]]:
    """(id, name) of every user, for the "who" filter; staff are few."""
    return [
        (str(user_id), name)
        for user_id, name in db.session.execute(
            sa.select(User.id, User.name).order_by(sa.func.lower(User.name))
        )
    ]


def actions(area: str | None = None) -> list[str]:
    """The actions the log holds (of one area, when given), for the "action" filter."""
    query = sa.select(AuditLog.action).distinct().order_by(AuditLog.action)
    if area:
        query = query.where(AuditLog.table_name == area)
    return list(db.session.scalars(query))
