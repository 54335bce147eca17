"""JSON API for tasks: list, create, read and partial update."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user

from app.conversations.tasks.board import InvalidCursor, list_tasks
from app.conversations.tasks.services import (
    StaleTaskError,
    TaskForbidden,
    TaskNotFound,
    create_task,
    load_task,
    publish_task_outcome,
    task_creator,
    update_task,
)
from app.conversations.tasks.validation import (
    EDITABLE_FIELDS,
    TaskValidationError,
    parse_task_list_args,
)
from app.platform.extensions import db
from app.platform.json_api.auth import guard_json_api
from app.platform.json_api.errors import ApiError
from app.platform.models import InternalTask, User
from app.platform.transactions import commit

bp = guard_json_api(Blueprint("tasks_api", __name__, url_prefix="/api/tasks"))

# Fields of the task as GET shows it: a client may send a task back whole, and
# these are ignored rather than refused. Anything else unknown is a 422.
READ_ONLY_FIELDS = frozenset(
    {"id", "assigned_to", "created_by", "completed_at", "next_reminder_at"}
    | {"created_at", "updated_at"}
)


def _person(user: User | None) -> dict | None:
    return {"id": str(user.id), "name": user.name} if user else None


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value else None


def task_to_dict(task: InternalTask) -> dict:
    """A task as the JSON API shows it."""
    created_by = task_creator(task)
    return {
        "id": str(task.id),
        "task_title": task.task_title,
        "task_description": task.task_description,
        "task_type": task.task_type.value,
        "priority": task.priority.value,
        "status": task.status.value,
        "assigned_to": _person(task.assigned_to),
        "assigned_team_id": str(task.assigned_team_id) if task.assigned_team_id else None,
        "created_by": _person(created_by),
        "thread_id": str(task.thread_id) if task.thread_id else None,
        "order_id": str(task.order_id) if task.order_id else None,
        "due_date": _iso(task.due_date),
        "due_time": task.due_time,
        "completed_at": _iso(task.completed_at),
        "completion_notes": task.completion_notes,
        "reminder_settings": dict(task.reminder_settings or {}),
        "next_reminder_at": _iso(task.next_reminder_at),
        "lock_version": task.lock_version,
        "created_at": _iso(task.created_at),
        "updated_at": _iso(task.updated_at),
    }


def _invalid(fields: dict[str, str]) -> ApiError:
    return ApiError(422, "validation_failed", "Some fields are not valid.", fields)


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(422, "invalid_json", "Send a JSON object (Content-Type: application/json).")
    unknown = set(body) - set(EDITABLE_FIELDS) - READ_ONLY_FIELDS - {"lock_version"}
    if unknown:
        raise _invalid({name: "unknown field" for name in sorted(unknown)})
    return {name: body[name] for name in EDITABLE_FIELDS if name in body}


def _task(task_id: str):
    try:
        ident = uuid.UUID(task_id)
    except ValueError as exc:
        raise ApiError(404, "not_found", "No such task.") from exc
    try:
        return load_task(current_user, ident)
    except TaskNotFound as exc:
        raise ApiError(404, "not_found", "No such task.") from exc
    except TaskForbidden as exc:
        raise ApiError(403, "forbidden", "You cannot see or change this task.") from exc


@bp.get("")
def index():
    try:
        query = parse_task_list_args(request.args)
    except TaskValidationError as exc:
        raise _invalid(exc.fields) from exc
    try:
        page = list_tasks(
            current_user,
            status=query.status,
            assigned_to_me=query.assigned_to_me,
            overdue=query.overdue,
            thread_id=query.thread_id,
            cursor=query.cursor,
            limit=query.limit,
        )
    except InvalidCursor as exc:
        raise ApiError(422, "invalid_cursor", str(exc), {"cursor": "invalid"}) from exc
    return jsonify(data=[task_to_dict(t) for t in page.tasks], next_cursor=page.next_cursor)


@bp.post("")
def create():
    changes = _json_body()
    try:
        outcome = create_task(current_user, changes)
    except TaskValidationError as exc:
        db.session.rollback()
        raise _invalid(exc.fields) from exc
    commit()
    publish_task_outcome(outcome)
    return jsonify(data=task_to_dict(outcome.task)), 201


@bp.get("/<task_id>")
def show(task_id: str):
    return jsonify(data=task_to_dict(_task(task_id)))


@bp.put("/<task_id>")
def update(task_id: str):
    task = _task(task_id)
    body = request.get_json(silent=True)
    changes = _json_body()
    expected = body.get("lock_version")
    if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int)):
        raise _invalid({"lock_version": "must be a whole number"})
    try:
        outcome = update_task(current_user, task, changes, expected_lock_version=expected)
    except TaskValidationError as exc:
        db.session.rollback()
        raise _invalid(exc.fields) from exc
    except StaleTaskError as exc:
        db.session.rollback()
        raise ApiError(
            409,
            "stale_task",
            str(exc),
            {"lock_version": f"is now {exc.current_version}; you sent {expected}"},
        ) from exc
    commit()
    publish_task_outcome(outcome)
    return jsonify(data=task_to_dict(outcome.task))
