"""The ``/api/v1/external/*`` endpoints.

Signed in by personal bearer token, or session plus CSRF header. Each route
checks the caller's role, then the body, then that the send may land where it
would (:mod:`app.orders.external.access`), calls one service, commits, and answers
202: the provider call happens in a job.
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user
from pydantic import ValidationError
from rq.exceptions import NoSuchJobError
from rq.job import Job

from app.conversations.channels.email.transactional import send_transactional
from app.conversations.contacts.identities import EMAIL, PHONE
from app.orders.external.access import SendRefused, check_send_target
from app.orders.external.email import parse_send_bulk, parse_send_email
from app.orders.external.schemas import SendBulkEmailIn, SendEmailIn, SendWhatsAppIn
from app.orders.external.validation import InvalidRequest
from app.orders.external.whatsapp import parse_send_whatsapp, queue_whatsapp
from app.platform.auth.decorators import STAFF_DESK_ROLES
from app.platform.jobs.queues import broker, enqueue
from app.platform.json_api.auth import api_role_required, guard_json_api
from app.platform.json_api.errors import ApiError
from app.platform.json_api.validation import field_errors
from app.platform.models.enums import ChannelType, Role
from app.platform.transactions import commit

bp = guard_json_api(Blueprint("external_api", __name__, url_prefix="/api/v1/external"))

# Writing to customers is desk work; a technician's token sends nothing.
desk_roles_only = api_role_required(
    *STAFF_DESK_ROLES, message="Sending to customers needs a desk role (agent or above)."
)
# Mailing everyone at once is a manager's decision, not every agent's.
bulk_roles_only = api_role_required(
    Role.MANAGER, Role.ADMIN, message="Bulk e-mail needs the manager or admin role."
)


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    return body


def _parse(parser, schema, *args):
    body = _json_body()
    try:
        parsed = parser(body, *args)
        schema.model_validate(body)
    except InvalidRequest as exc:
        raise ApiError(422, "validation_failed", "Some fields are not valid.", exc.fields) from exc
    except ValidationError as exc:
        raise ApiError(
            422, "validation_failed", "Some fields are not valid.", field_errors(exc)
        ) from exc
    return parsed


def _accepted(message) -> tuple:
    data = {
        "message_id": str(message.id),
        "thread_id": str(message.thread_id),
        "delivery_status": message.delivery_status.value,
    }
    return jsonify(success=True, data=data), 202


def _check_target(kind: str, address: str, channel_type: ChannelType) -> None:
    try:
        check_send_target(current_user, kind, address, channel_type)
    except SendRefused as exc:
        raise ApiError(
            403, "forbidden", str(exc), {"to": "in a conversation you cannot open"}
        ) from exc


@bp.post("/send-whatsapp")
@desk_roles_only
def send_whatsapp():
    send = _parse(parse_send_whatsapp, SendWhatsAppIn)
    _check_target(PHONE, send.phone, ChannelType.WHATSAPP_BUSINESS)
    message = queue_whatsapp(send, current_user)
    commit()
    return _accepted(message)


@bp.post("/send-email")
@desk_roles_only
def send_email():
    send = _parse(parse_send_email, SendEmailIn, current_app.config)
    _check_target(EMAIL, send.to, ChannelType.EMAIL_OUTLOOK)
    message = send_transactional(
        send.to,
        send.template_key,
        send.dynamic_data,
        send.categories,
        send.send_at,
        name=send.name,
        sender_user_id=current_user.id,
    )
    commit()
    return _accepted(message)


@bp.post("/send-bulk-email")
@bulk_roles_only
def send_bulk_email():
    send = _parse(parse_send_bulk, SendBulkEmailIn, current_app.config)
    job = enqueue(
        "app.conversations.channels.email.bulk.send_bulk",
        send.list_id,
        send.template_key,
        send.send_at,
        str(current_user.id),
        queue="bulk",
    )
    data = {
        "job_id": job.id,
        "list_id": send.list_id,
        "status": "queued",
        "progress_url": f"{bp.url_prefix}/bulk-jobs/{job.id}",
    }
    return jsonify(success=True, data=data), 202


# What RQ takes as a job id (rq.job.JOB_ID_PATTERN); anything else names no job,
# and RQ would refuse it with a ValueError (a 500) instead of a lookup.
JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


@bp.get("/bulk-jobs/<job_id>")
@bulk_roles_only
def bulk_job(job_id: str):
    if not JOB_ID.fullmatch(job_id):
        raise ApiError(404, "not_found", "No bulk job with that id (or it has expired).")
    try:
        job = Job.fetch(job_id, connection=broker().connection)
    except NoSuchJobError as exc:
        raise ApiError(404, "not_found", "No bulk job with that id (or it has expired).") from exc
    if job.func_name != "app.conversations.channels.email.bulk.send_bulk":
        raise ApiError(404, "not_found", "No bulk job with that id (or it has expired).")
    meta = job.get_meta()
    data = {
        "job_id": job.id,
        "status": job.get_status().value,
        "total": meta.get("total"),
        "queued": meta.get("queued", 0),
    }
    return jsonify(success=True, data=data)
