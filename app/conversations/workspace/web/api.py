"""JSON API for threads and messages."""

from __future__ import annotations

import base64
import binascii
import json
import uuid

from flask import Blueprint, jsonify, request
from flask_login import current_user

from app.conversations.core import announce_change
from app.conversations.inbox.services import InboxQuery, InvalidQuery, list_threads, thread_to_dict
from app.conversations.order_hooks import (
    AlreadyTold,
    claim_for_template,
    record_notice_message,
)
from app.conversations.workspace.creation import NamedRecordHidden, open_thread
from app.conversations.workspace.editing import NotTheVisitsToChange, StaleEdit, update_thread
from app.conversations.workspace.presenters import message_to_dict
from app.conversations.workspace.services import (
    AccessDenied,
    InvalidInput,
    ThreadNotFound,
    add_note,
    compose_reply,
    load_thread,
    reachable_channels,
)
from app.conversations.workspace.technician_replies import TechnicianMayNotWrite
from app.conversations.workspace.timeline import find_message, thread_messages
from app.platform.auth.decorators import STAFF_DESK_ROLES
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.json_api.auth import api_role_required, guard_json_api
from app.platform.json_api.errors import ApiError
from app.platform.models.enums import MessageType
from app.platform.security.bodies import loads as load_json
from app.platform.transactions import commit
from app.platform.typed_dates import cursor_moment

bp = guard_json_api(Blueprint("communication_api", __name__, url_prefix="/api/communication"))

CHANNEL_ARG = {
    "email": "email",
    "email_outlook": "email",
    "whatsapp": "whatsapp",
    "whatsapp_business": "whatsapp",
    "sms": "sms",
    "tasks": "tasks",
    "internal_task": "tasks",
}


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    return body


def _invalid(exc: InvalidInput) -> ApiError:
    return ApiError(422, "validation_failed", "Some fields are not valid.", exc.fields)


def _thread(thread_id: str):
    try:
        return load_thread(thread_id, current_user)
    except ThreadNotFound as exc:
        raise ApiError(404, "not_found", "No thread with that id.") from exc
    except AccessDenied as exc:
        raise ApiError(403, "forbidden", "This thread belongs to another team.") from exc


def _limit() -> int:
    try:
        return min(max(int(request.args.get("limit", 50)), 1), 200)
    except ValueError as exc:
        raise ApiError(
            422,
            "validation_failed",
            "limit must be a whole number.",
            {"limit": "a whole number from 1 to 200"},
        ) from exc


@bp.get("/threads")
def threads():
    args = request.args.to_dict()
    if args.get("assigned") == "me":
        args["filter"] = "mine"
    elif args.get("overdue") == "1":
        args["filter"] = "overdue"
    elif args.get("channel"):
        if args["channel"] not in CHANNEL_ARG:
            raise ApiError(
                422,
                "validation_failed",
                "Unknown channel filter.",
                {"channel": "must be one of email, whatsapp, sms, tasks"},
            )
        args["filter"] = CHANNEL_ARG[args["channel"]]
    try:
        query = InboxQuery.from_args(args)
        page = list_threads(current_user, query, cursor=args.get("cursor") or None, limit=_limit())
    except InvalidQuery as exc:
        raise ApiError(422, "validation_failed", str(exc), {exc.field: exc.message}) from exc
    return jsonify(data=[thread_to_dict(t) for t in page.threads], next_cursor=page.next_cursor)


@bp.post("/threads")
# A technician's conversations are those of their visits, opened from /m/; one
# they started here, without an order of theirs, they could not open again.
@api_role_required(*STAFF_DESK_ROLES, message="Opening conversations by hand is desk work.")
def create_thread():
    body = _json_body()
    try:
        thread = open_thread(
            current_user,
            subject=body.get("subject"),
            contact_id=body.get("contact_id"),
            channel_type=body.get("channel"),
            thread_type=body.get("thread_type"),
            priority=body.get("priority"),
            order_id=body.get("order_id"),
            tags=body.get("tags"),
        )
    except InvalidInput as exc:
        db.session.rollback()
        raise _invalid(exc) from exc
    except NamedRecordHidden as exc:
        db.session.rollback()
        raise ApiError(403, "forbidden", "You may not see what you named.", exc.fields) from exc
    commit()
    return jsonify(data=_thread_detail(thread)), 201


@bp.get("/threads/<thread_id>")
def get_thread(thread_id):
    return jsonify(data=_thread_detail(_thread(thread_id)))


@bp.put("/threads/<thread_id>")
def put_thread(thread_id):
    thread = _thread(thread_id)
    body = _json_body()
    changes = {
        k: body[k] for k in ("status", "priority", "assigned_to_user_id", "tags") if k in body
    }
    if not changes:
        raise ApiError(
            422,
            "validation_failed",
            "Nothing to change.",
            {"status": "give at least one of status, priority, assigned_to_user_id, tags"},
        )
    version = body.get("lock_version", thread.lock_version)
    if not isinstance(version, int):
        raise ApiError(
            422,
            "validation_failed",
            "lock_version must be a whole number.",
            {"lock_version": "a whole number"},
        )
    try:
        update_thread(thread, current_user, expected_version=version, changes=changes)
    except StaleEdit as exc:
        raise ApiError(
            409,
            "stale_edit",
            "The thread was changed since you loaded it; "
            f"reload it (lock_version is now {exc.current_version}) and try again.",
        ) from exc
    except InvalidInput as exc:
        db.session.rollback()
        raise _invalid(exc) from exc
    except NotTheVisitsToChange as exc:
        db.session.rollback()
        raise ApiError(
            403, "forbidden", "A technician changes only what their visit needs.", exc.fields
        ) from exc
    commit()
    return jsonify(data=_thread_detail(thread))


def _thread_detail(thread) -> dict:
    data = thread_to_dict(thread)
    data["messages"] = [message_to_dict(m) for m in thread_messages(thread)]
    return data


@bp.get("/messages")
def messages():
    thread_id = request.args.get("thread_id")
    if not thread_id:
        raise ApiError(
            422, "validation_failed", "thread_id is required.", {"thread_id": "required"}
        )
    thread = _thread(thread_id)
    limit = _limit()
    after = None
    if request.args.get("cursor"):
        after = _decode_message_cursor(request.args["cursor"])
    rows = thread_messages(thread, after=after, limit=limit + 1)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = base64.urlsafe_b64encode(
            json.dumps([last.created_at.isoformat(), str(last.id)]).encode()
        ).decode()
    return jsonify(data=[message_to_dict(m) for m in rows], next_cursor=next_cursor)


def _decode_message_cursor(cursor: str):
    try:
        stamp, ident = load_json(base64.urlsafe_b64decode(cursor.encode()))
        return cursor_moment(stamp), uuid.UUID(ident)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise ApiError(422, "validation_failed", "Invalid cursor.", {"cursor": "invalid"}) from exc


@bp.post("/messages")
def post_message():
    body = _json_body()
    if not body.get("thread_id"):
        raise ApiError(
            422, "validation_failed", "thread_id is required.", {"thread_id": "required"}
        )
    thread = _thread(str(body["thread_id"]))
    variables = body.get("variables")
    if variables is not None and (
        not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values())
    ):
        raise ApiError(
            422,
            "validation_failed",
            "variables must map names to strings.",
            {"variables": "an object of strings"},
        )
    try:
        if body.get("internal"):
            message = add_note(thread, current_user, body.get("content"))
        else:
            # "On my way" reaches a visit's customer once, also when sent from here.
            notice_id = claim_for_template(thread.order_id, body.get("template_id"))
            message = compose_reply(
                thread,
                current_user,
                content=body.get("content"),
                channel_id=_channel_id_for(thread, body.get("channel")),
                subject=body.get("subject"),
                template_id=body.get("template_id"),
                variables=variables,
            )
            if notice_id is not None:
                record_notice_message(notice_id, message.id)
    except InvalidInput as exc:
        db.session.rollback()
        raise _invalid(exc) from exc
    except TechnicianMayNotWrite as exc:
        db.session.rollback()
        raise ApiError(403, exc.code, str(exc)) from exc
    except AlreadyTold as exc:
        db.session.rollback()
        raise ApiError(
            409,
            "already_sent",
            "The customer was already told today that the technician is on the way.",
            {"template_id": "sent once per visit day"},
        ) from exc
    # As stored (pending): the send job may take it the moment the commit is done.
    data = message_to_dict(message)
    commit()
    return jsonify(data=data), 201


def _channel_id_for(thread, channel: str | None):
    """The API names channels by type ("whatsapp_business"); map to a reachable one."""
    if not channel:
        return None
    wanted = {"email": "email_outlook", "whatsapp": "whatsapp_business"}.get(channel, channel)
    for candidate in reachable_channels(thread):
        if candidate.channel_type.value == wanted:
            return candidate.id
    raise ApiError(
        422,
        "validation_failed",
        "The contact cannot be reached on that channel.",
        {"channel": f"not reachable: {channel}"},
    )


@bp.put("/messages/<message_id>")
def put_message(message_id):
    try:
        message = find_message(uuid.UUID(message_id))
    except ValueError:
        message = None
    if message is None:
        raise ApiError(404, "not_found", "No message with that id.")
    _thread(str(message.thread_id))
    body = _json_body()
    if body.get("read") is True and message.message_type == MessageType.INCOMING:
        message.read_at = message.read_at or utcnow()
    elif "content" in body and message.message_type == MessageType.INTERNAL_NOTE:
        if message.sender_user_id != current_user.id:
            raise ApiError(403, "forbidden", "Only the author can edit a note.")
        content = (body.get("content") or "").strip()
        if not content:
            raise ApiError(
                422, "validation_failed", "A note cannot be empty.", {"content": "required"}
            )
        message.message_content = content
        announce_change(message.thread, "message", message_id=message.id)
    else:
        raise ApiError(
            422,
            "validation_failed",
            "Set read=true on an inbound message, or content on your own note.",
            {"read": "only inbound messages", "content": "only your own notes"},
        )
    commit()
    return jsonify(data=message_to_dict(message))
