"""Who may see and change which threads, and who hears about them live.

- Managers and admins: every thread.
- Agents and team leads: threads of their team, threads not yet given to a team,
  and threads assigned to them personally.
- Technicians: threads about orders they are the technician for (the lead or on
  the visit's crew).

Assigning follows the same rule: a thread goes only to staff who may open it once
it is theirs (:func:`may_be_assigned`), never to a partner's portal user or to a
technician who is not on its visit.

A customer (contact) is seen through their conversations: whoever may open one
of them may see the customer, and desk staff may also see customers nobody is
talking to yet (made by an order or a form). A customer whose every
conversation is another team's is that team's.

The list query, the single-thread check and the Socket.IO rooms all come from
here, so what a person can open, what they see listed and what they are told
about live always agree. A live connection joins the rooms of
:func:`connection_rooms`; a thread's events go to :func:`thread_rooms`. A
technician's connection joins only their own user room, and a thread reaches it
only by naming them as one of the technicians of its order's visit: a team or
role room would carry every conversation of that team or role.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import CommunicationThread, Contact, Order, User, Visit, VisitTechnician
from app.platform.models.enums import Role
from app.platform.realtime import role_room, team_room, user_room

SEE_EVERYTHING = (Role.MANAGER, Role.ADMIN)
DESK_ROLES = (Role.AGENT, Role.TEAM_LEAD)
# Who may be given a thread without being on its visit: whoever has it may open it.
ASSIGNABLE_STAFF = DESK_ROLES + SEE_EVERYTHING


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
    if user.role == Role.TECHNICIAN:
        return user.id in visit_technician_ids(thread)
    return False


def visit_technician_ids(thread: CommunicationThread) -> set[uuid.UUID]:
    """The technicians of the thread's order: its lead and the visit's crew."""
    order = thread.order
    if order is None:
        return set()
    ids = set(order.visit.technician_ids) if order.visit is not None else set()
    if order.assigned_technician_id is not None:
        ids.add(order.assigned_technician_id)
    return ids


def may_be_assigned(user: User, thread: CommunicationThread) -> bool:
    """Whether ``thread`` may be given to ``user``: an active staff member who may
    open it once it is theirs. A technician only for a visit they are on; a
    partner's portal user never (the portal is not the inbox)."""
    if not user.is_active_account:
        return False
    if user.role in ASSIGNABLE_STAFF:
        return True
    return user.role == Role.TECHNICIAN and can_access_thread(user, thread)


def can_see_contact(user: User, contact: Contact) -> bool:
    """Whether ``user`` may see ``contact`` (and name them on a new thread)."""
    clause = visible_threads_clause(user)
    if clause is None:
        return True
    threads = sa.select(CommunicationThread.id).where(CommunicationThread.contact_id == contact.id)
    if db.session.scalar(threads.where(clause).limit(1)) is not None:
        return True
    return user.role in DESK_ROLES and db.session.scalar(threads.limit(1)) is None


def connection_rooms(user: User) -> list[str]:
    """The Socket.IO rooms a live connection of ``user`` joins.

    Role and team rooms are desk rooms: every thread of the team (or, for an
    unteamed thread, of every desk role) is published there, which is exactly
    what the desk may open. A technician may open only their visits' threads, so
    they hear them in their own room alone. Partners' portal users get no live
    connection at all (refused at connect).
    """
    rooms = [user_room(user.id)]
    if user.role in SEE_EVERYTHING:
        rooms.append(role_room(user.role))
    elif user.role in DESK_ROLES:
        rooms.append(role_room(user.role))
        if user.team_id is not None:
            rooms.append(team_room(user.team_id))
    return rooms


def thread_rooms(thread: CommunicationThread) -> list[str]:
    """The Socket.IO rooms whose members may see ``thread`` (see :func:`connection_rooms`)."""
    rooms = [role_room(role) for role in SEE_EVERYTHING]
    if thread.assigned_team_id is None:
        rooms.extend(role_room(role) for role in DESK_ROLES)
    else:
        rooms.append(team_room(thread.assigned_team_id))
    assignee = thread.assigned_to
    # Desk staff may open what is assigned to them; anyone else assigned (a
    # technician, a row from before assignees were checked) hears it only as one
    # of the visit's technicians, below.
    if assignee is not None and assignee.role in DESK_ROLES:
        rooms.append(user_room(assignee.id))
    rooms.extend(user_room(technician_id) for technician_id in visit_technician_ids(thread))
    return rooms
