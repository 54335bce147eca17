"""JSON API for threads (CONTRACT §6)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import current_user

from app.api.auth import guard_json_api
from app.api.errors import ApiError
from app.inbox.services import FILTERS, InvalidCursor, list_threads, thread_to_dict

bp = guard_json_api(Blueprint("communication_api", __name__, url_prefix="/api/communication"))


@bp.get("/threads")
def threads():
    filter_name = "all"
    if request.args.get("assigned") == "me":
        filter_name = "mine"
    elif request.args.get("overdue") == "1":
        filter_name = "overdue"
    elif request.args.get("channel"):
        filter_name = request.args["channel"]
        if filter_name not in FILTERS:
            raise ApiError(
                422,
                "invalid_filter",
                "Unknown channel filter.",
                {"channel": "must be one of email, whatsapp, sms, tasks"},
            )
    try:
        limit = min(max(int(request.args.get("limit", 50)), 1), 200)
    except ValueError as exc:
        raise ApiError(
            422,
            "invalid_limit",
            "limit must be a whole number.",
            {"limit": "must be a whole number from 1 to 200"},
        ) from exc
    try:
        page = list_threads(
            current_user,
            filter_name=filter_name,
            cursor=request.args.get("cursor") or None,
            limit=limit,
        )
    except InvalidCursor as exc:
        raise ApiError(422, "invalid_cursor", str(exc), {"cursor": "invalid"}) from exc
    return jsonify(data=[thread_to_dict(t) for t in page.threads], next_cursor=page.next_cursor)
