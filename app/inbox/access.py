"""Who may see and change which threads, and who hears about them live.

- Managers and admins: every thread.
- Agents and team leads: threads of their team, threads not yet given to a team,
  and threads assigned to them personally.
- Technicians: threads about orders they are the technician for.

A customer (contact) is seen through their conversations: whoever may open one
of them may see the customer, and desk staff may also see customers nobody is
talking to yet (made by an order or a form). A customer whose every
conversation is another team's is that team's.

The list query, the single-thread check and the Socket.IO rooms all come from
here, so what a person can open, what they see listed and what they are told
about live always agree.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.extensions import db
from app.models import CommunicationThread, Contact, Order, User, Visit, VisitTechnician
from app.models.enums import Role
from app.realtime import role_room, team_room, user_room

SEE_EVERYTHING = (Role.MANAGER, Role.ADMIN)
DESK_ROLES = (Role.AGENT, Role.TEAM_LEAD)


def visible_threads_clause(user: User) -> sa.ColumnElement[bool] | None:
    """A WHERE clause limiting threads to what ``user`` may see (None: no limit)."""
    if user.role in SEE_EVERYTHING:
        return None
    if user.role in DESK_ROLES:
        allowed = [
            CommunicationThread.assigned_team_id.is_(None),
            CommunicationThread.assigned_to_user_id == user.id,
        ]
        if user.team_id is not None:
            allowed.append(CommunicationThread.assigned_team_id == user.team_id)
        return sa.or_(*allowed)
    return CommunicationThread.order_id.in_(_visited_orders(user))


def _visited_orders(user: User) -> sa.Select:
    """A technician's orders: those they lead and those on whose visit crew they are."""
    on_crew = (
        sa.select(Visit.order_id)
        .join(VisitTechnician, VisitTechnician.visit_id == Visit.id)
        .where(VisitTechnician.technician_id == user.id)
    )
    return sa.select(Order.id).where(
        sa.or_(Order.assigned_technician_id == user.id, Order.id.in_(on_crew))
    )


def visible_team_ids(user: User) -> list[uuid.UUID] | None:
    """The teams whose threads ``user`` may list by team (None: every team).

    An agent sees their own team's threads; a thread of another team reaches them
    only by being assigned to them personally, which the team filter is not for.
    """
    if user.role in SEE_EVERYTHING:
        return None
    if user.role in DESK_ROLES and user.team_id is not None:
        return [user.team_id]
    return []


def can_access_thread(user: User, thread: CommunicationThread) -> bool:
    if user.role in SEE_EVERYTHING:
        return True
    if user.role in DESK_ROLES:
        return (
            thread.assigned_team_id is None
            or thread.assigned_to_user_id == user.id
            or (user.team_id is not None and thread.assigned_team_id == user.team_id)
        )
    order = thread.order
    if order is None:
        return False
    if order.assigned_technician_id == user.id:
        return True
    return order.visit is not None and user.id in order.visit.technician_ids


def can_see_contact(user: User, contact: Contact) -> bool:
    """Whether ``user`` may see ``contact`` (and name them on a new thread)."""
    clause = visible_threads_clause(user)
    if clause is None:
        return True
    threads = sa.select(CommunicationThread.id).where(CommunicationThread.contact_id == contact.id)
    if db.session.scalar(threads.where(clause).limit(1)) is not None:
        return True
    return user.role in DESK_ROLES and db.session.scalar(threads.limit(1)) is None


def thread_rooms(thread: CommunicationThread) -> list[str]:
    """The Socket.IO rooms whose members may see ``thread``."""
    rooms = [role_room(role) for role in SEE_EVERYTHING]
    if thread.assigned_team_id is None:
        rooms.extend(role_room(role) for role in DESK_ROLES)
    else:
        rooms.append(team_room(thread.assigned_team_id))
    if thread.assigned_to_user_id is not None:
        rooms.append(user_room(thread.assigned_to_user_id))
    if thread.order is not None and thread.order.assigned_technician_id is not None:
        rooms.append(user_room(thread.order.assigned_technician_id))
    return rooms
