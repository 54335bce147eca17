"""``send-email`` and ``send-bulk-email`` bodies, checked field by field."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.conversations.channels.email.bulk import AUDIENCES
from app.conversations.channels.email.settings import UnknownTemplate, template_id_for
from app.orders.external.validation import InvalidRequest, email_address, optional_text, send_at

MAX_DYNAMIC_DATA_BYTES = 64 * 1024
MAX_CATEGORY_LENGTH = 255  # SendGrid's limit per category


@dataclass
class EmailSend:
    to: str
    template_key: str
    dynamic_data: dict = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)
    name: str | None = None
    send_at: int | None = None


@dataclass
class BulkSend:
    list_id: str
    template_key: str
    send_at: int | None = None


def parse_send_email(body: dict, config: Mapping) -> EmailSend:
    errors: dict[str, str] = {}
    to = email_address(body.get("to"), "to", errors)
    template_key = _template(body.get("template_id"), config, errors)
    dynamic_data = body.get("dynamic_data", {})
    if not isinstance(dynamic_data, dict):
        errors["dynamic_data"] = "must be an object"
    elif len(json.dumps(dynamic_data)) > MAX_DYNAMIC_DATA_BYTES:
        errors["dynamic_data"] = f"at most {MAX_DYNAMIC_DATA_BYTES // 1024} KB"
    category = optional_text(body.get("category"), "category", errors, MAX_CATEGORY_LENGTH)
    if category and not category.isascii():
        errors["category"] = "SendGrid categories must be ASCII"
    name = optional_text(body.get("name"), "name", errors, 255)
    moment = send_at(body.get("send_at"), "send_at", errors)
    if errors:
        raise InvalidRequest(errors)
    return EmailSend(
        to=to,
        template_key=template_key,
        dynamic_data=dynamic_data,
        categories=[category] if category else ["transactional"],
        name=name,
        send_at=moment,
    )


def parse_send_bulk(body: dict, config: Mapping) -> BulkSend:
    errors: dict[str, str] = {}
    list_id = body.get("list_id")
    if not isinstance(list_id, str) or list_id not in AUDIENCES:
        errors["list_id"] = f"unknown list; use one of: {', '.join(sorted(AUDIENCES))}"
    template_key = _template(body.get("template_id"), config, errors)
    moment = send_at(body.get("send_at"), "send_at", errors)
    if errors:
        raise InvalidRequest(errors)
    return BulkSend(list_id=list_id, template_key=template_key, send_at=moment)


def _template(value, config: Mapping, errors: dict[str, str]) -> str | None:
    if not isinstance(value, str) or not value.strip():
        errors["template_id"] = "required"
        return None
    try:
        template_id_for(value.strip(), config)
    except UnknownTemplate as exc:
        errors["template_id"] = str(exc)
        return None
    return value.strip()
