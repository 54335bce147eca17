"""Small factories for test data: plain functions, explicit values, one flush each."""

from __future__ import annotations

import itertools
from datetime import timedelta

from app.integrations.registry import PROVIDERS
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    CommunicationChannel,
    CommunicationMessage,
    CommunicationTemplate,
    CommunicationThread,
    Contact,
    Integration,
    Team,
)
from app.platform.models.enums import ChannelType, MessageType, TemplateCategory

_counter = itertools.count(1)


def channel(channel_type: ChannelType = ChannelType.WHATSAPP_BUSINESS, **fields):
    record = CommunicationChannel(
        channel_type=channel_type,
        channel_name=fields.pop("channel_name", f"{channel_type.value} {next(_counter)}"),
        **fields,
    )
    db.session.add(record)
    db.session.flush()
    return record


def contact(**fields):
    n = next(_counter)
    record = Contact(
        display_name=fields.pop("display_name", f"Klant {n}"),
        email=fields.pop("email", f"klant{n}@example.nl"),
        phone=fields.pop("phone", f"+3161234{n:04d}"),
        **fields,
    )
    db.session.add(record)
    db.session.flush()
    return record


def thread(channel_record=None, contact_record=None, *, minutes_ago: int = 0, **fields):
    when = utcnow() - timedelta(minutes=minutes_ago)
    record = CommunicationThread(
        thread_subject=fields.pop("thread_subject", f"Vraag {next(_counter)}"),
        channel_id=channel_record.id if channel_record else None,
        contact_id=contact_record.id if contact_record else None,
        last_message_at=when,
        created_at=when,
        **fields,
    )
    db.session.add(record)
    db.session.flush()
    return record


def message(thread_record, content: str = "Hallo", **fields):
    record = CommunicationMessage(
        thread_id=thread_record.id,
        channel_id=thread_record.channel_id,
        message_type=fields.pop("message_type", MessageType.INCOMING),
        message_content=content,
        **fields,
    )
    db.session.add(record)
    db.session.flush()
    return record


def team(name: str | None = None):
    n = next(_counter)
    record = Team(name=name or f"Team {n}", slug=f"team-{n}")
    db.session.add(record)
    db.session.flush()
    return record


def template(body: str = "Hallo {{customer_name}}", **fields):
    record = CommunicationTemplate(
        template_name=fields.pop("template_name", f"Template {next(_counter)}"),
        template_category=fields.pop("template_category", TemplateCategory.CUSTOMER_SERVICE),
        message_template=body,
        **fields,
    )
    db.session.add(record)
    db.session.flush()
    return record


def integration(provider: str = "stripe", **fields):
    """An active integration with ``provider``, named, filed and authenticated as the
    registry has it; ``credentials`` as given."""
    known = PROVIDERS[provider]
    record = Integration(
        provider=provider,
        name=fields.pop("name", known.name),
        category=fields.pop("category", known.category),
        auth_method=fields.pop("auth_method", known.auth_method),
        status=fields.pop("status", "active"),
        config=fields.pop("config", {}),
        **fields,
    )
    db.session.add(record)
    db.session.flush()
    return record
