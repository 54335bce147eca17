"""Saved views: inbox filters and search kept under a name, private or shared.

A view stores inbox URL arguments (the keys of :data:`QUERY_KEYS`), checked
with the same parser as the inbox's own query string, so a view can hold
nothing the inbox would not accept from its URL (never SQL). Opening a view is
following a link with those arguments.

Who sees a view: its owner; when shared with a team, that team's members;
when shared with everyone (managers and admins only), the whole desk. Who may
change it: its owner; a shared one also a manager or admin, or the team lead
of the team it is shared with.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from app.conversations.inbox.access import SEE_EVERYTHING
from app.conversations.inbox.services import InboxQuery, InvalidQuery
from app.platform.audit.records import record_change
from app.platform.extensions import db
from app.platform.models import SavedView, User
from app.platform.models.enums import Role
from app.platform.models.saved_views import NAME_MAX_LENGTH

# The inbox URL arguments a view may hold (InboxQuery.from_args reads these).
QUERY_KEYS = ("filter", "status", "priority", "team", "tag", "q", "sort")

PRIVATE, TEAM, EVERYONE = "private", "team", "everyone"
VISIBILITIES = (PRIVATE, TEAM, EVERYONE)


class SavedViewError(ValueError):
    """A view that cannot be saved as asked; ``field`` names the input at fault."""

    def __init__(self, field: str, message) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ViewChoice:
    """A visibility the person saving may choose, with its label."""

    value: str
    label: str


def visibility_choices(user: User) -> list[ViewChoice]:
    """What ``user`` may share a view with: themselves, their team, everyone."""
    choices = [ViewChoice(PRIVATE, str(_l("Only me")))]
    if user.team_id is not None:
        choices.append(ViewChoice(TEAM, str(_l("My team (%(team)s)", team=user.team.name))))
    if user.role in SEE_EVERYTHING:
        choices.append(ViewChoice(EVERYONE, str(_l("Everyone"))))
    return choices


def parse_view_query(args: Mapping[str, str]) -> dict[str, str]:
    """The inbox arguments of a view, normalised; unknown keys and bad values refused."""
    for key in args:
        if key not in QUERY_KEYS:
            raise SavedViewError(key, _l("is not an inbox filter"))
    try:
        query = InboxQuery.from_args(args)
    except InvalidQuery as exc:
        raise SavedViewError(exc.field, exc.message) from exc
    return query.as_args()


def visible_views_clause(viewer: User) -> sa.ColumnElement[bool]:
    """Views ``viewer`` sees: their own and those shared with their team or everyone."""
    shared_with = [SavedView.team_id.is_(None)]
    if viewer.team_id is not None:
        shared_with.append(SavedView.team_id == viewer.team_id)
    return sa.or_(
        SavedView.owner_id == viewer.id,
        sa.and_(SavedView.shared.is_(True), sa.or_(*shared_with)),
    )


def visible_views(viewer: User) -> list[SavedView]:
    """The sidebar's views: the viewer's own in their order, then shared ones by name."""
    others_last = sa.case((SavedView.owner_id == viewer.id, 0), else_=1)
    return list(
        db.session.scalars(
            sa.select(SavedView)
            .where(visible_views_clause(viewer))
            .order_by(others_last, SavedView.position, SavedView.name, SavedView.id)
        )
    )


def find_view(viewer: User, view_id: uuid.UUID) -> SavedView | None:
    """The view with ``view_id`` if ``viewer`` may see it."""
    return db.session.scalar(
        sa.select(SavedView).where(SavedView.id == view_id, visible_views_clause(viewer))
    )


def can_edit(user: User, view: SavedView) -> bool:
    if view.owner_id == user.id:
        return True
    if not view.shared:
        return False
    if user.role in SEE_EVERYTHING:
        return True
    return user.role == Role.TEAM_LEAD and view.team_id is not None and view.team_id == user.team_id


def save_view(owner: User, name: str, visibility: str, args: Mapping[str, str]) -> SavedView:
    """Keep ``args`` (the inbox's current filters and search) as ``name``.

    Added to the session and flushed; the caller commits.
    """
    name = _checked_name(owner.id, name)
    shared, team_id = _sharing(owner, visibility)
    last = db.session.scalar(
        sa.select(sa.func.max(SavedView.position)).where(SavedView.owner_id == owner.id)
    )
    view = SavedView(
        owner_id=owner.id,
        name=name,
        shared=shared,
        team_id=team_id,
        query=parse_view_query(args),
        position=(last or 0) + 1,
    )
    db.session.add(view)
    _flush_unique_name()
    return view


def update_view(editor: User, view: SavedView, name: str, visibility: str | None) -> None:
    """Rename ``view``; its owner may also change who sees it. The caller commits."""
    if not can_edit(editor, view):
        raise PermissionError("not allowed to change this view")
    before = {"name": view.name, "shared": view.shared, "team_id": view.team_id}
    view.name = _checked_name(view.owner_id, name, keep=view.id)
    if visibility is not None:
        if editor.id != view.owner_id:
            raise SavedViewError("visibility", _l("only the owner can change who sees a view"))
        view.shared, view.team_id = _sharing(editor, visibility)
    _flush_unique_name()
    if editor.id != view.owner_id:
        # A manager or team lead changing a colleague's shared view: on the record.
        record_change("saved_views", view.id, "update", {"before": before, "name": view.name})


def delete_view(editor: User, view: SavedView) -> None:
    """Remove ``view``. The caller commits."""
    if not can_edit(editor, view):
        raise PermissionError("not allowed to delete this view")
    if editor.id != view.owner_id:
        record_change(
            "saved_views", view.id, "delete", {"name": view.name, "owner_id": view.owner_id}
        )
    db.session.delete(view)


def _checked_name(owner_id: uuid.UUID, name: str, keep: uuid.UUID | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise SavedViewError("name", _l("is required"))
    if len(name) > NAME_MAX_LENGTH:
        raise SavedViewError("name", _l("is longer than %(max)d characters", max=NAME_MAX_LENGTH))
    taken = sa.select(SavedView.id).where(
        SavedView.owner_id == owner_id, sa.func.lower(SavedView.name) == name.lower()
    )
    if keep is not None:
        taken = taken.where(SavedView.id != keep)
    if db.session.scalar(taken.limit(1)) is not None:
        raise SavedViewError("name", _l("you already have a view with this name"))
    return name


def _flush_unique_name() -> None:
    # Two tabs saving the same name at once: the unique key decides, not the check above.
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise SavedViewError("name", _l("you already have a view with this name")) from exc


def _sharing(owner: User, visibility: str) -> tuple[bool, uuid.UUID | None]:
    """(shared, team_id) for ``visibility``, refused when ``owner`` may not share so."""
    if visibility not in VISIBILITIES:
        raise SavedViewError(
            "visibility", _l("must be one of %(values)s", values=", ".join(VISIBILITIES))
        )
    if visibility == PRIVATE:
        return False, None
    if visibility == TEAM:
        if owner.team_id is None:
            raise SavedViewError("visibility", _l("you are not in a team to share with"))
        return True, owner.team_id
    if owner.role not in SEE_EVERYTHING:
        raise SavedViewError("visibility", _l("only managers and admins share with everyone"))
    return True, None
