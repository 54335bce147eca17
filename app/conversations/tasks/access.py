"""Who may see and change which tasks.

- Managers and admins: every task.
- Agents and team leads: tasks assigned to them or to their team, tasks given to
  nobody (no person, no team), and tasks about a conversation they may open.
- Technicians: tasks assigned to them.

Seeing a task is what allows changing it. The board, the API list and the
single-task check all come from here, so they always agree.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.conversations.inbox.access import (
    DESK_ROLES,
    SEE_EVERYTHING,
    can_access_thread,
    visible_threads_clause,
)
from app.platform.models import CommunicationThread, InternalTask, User


def visible_tasks_clause(user: User) -> sa.ColumnElement[bool] | None:
    """A WHERE clause limiting tasks to what ``user`` may see (None: no limit)."""
    if user.role in SEE_EVERYTHING:
        return None
    if user.role not in DESK_ROLES:
        return InternalTask.assigned_to_user_id == user.id
    allowed = [
        InternalTask.assigned_to_user_id == user.id,
        sa.and_(
            InternalTask.assigned_to_user_id.is_(None), InternalTask.assigned_team_id.is_(None)
        ),
    ]
    if user.team_id is not None:
        allowed.append(InternalTask.assigned_team_id == user.team_id)
    threads = sa.select(CommunicationThread.id)
    thread_clause = visible_threads_clause(user)
    if thread_clause is not None:
        threads = threads.where(thread_clause)
    allowed.append(InternalTask.thread_id.in_(threads))
    return sa.or_(*allowed)


def can_access_task(user: User, task: InternalTask) -> bool:
    """Whether ``user`` may see, and so change, ``task``."""
    if user.role in SEE_EVERYTHING:
        return True
    if task.assigned_to_user_id == user.id:
        return True
    if user.role not in DESK_ROLES:
        return False
    if task.assigned_to_user_id is None and task.assigned_team_id is None:
        return True
    if user.team_id is not None and task.assigned_team_id == user.team_id:
        return True
    return task.thread is not None and can_access_thread(user, task.thread)
