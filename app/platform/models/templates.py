"""Communication templates: reusable messages with ``{{placeholders}}``."""

from __future__ import annotations

from typing import Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.database import Entity, enum_column
from app.platform.extensions import db
from app.platform.models.enums import TemplateBusinessEntity, TemplateCategory, TemplateChannelType


def humanize_template_name(name: str) -> str:
    """``quote_follow_up`` -> "Quote follow-up": a readable name until an admin writes one."""
    words = " ".join(name.replace("_", " ").split())
    words = words.replace("follow up", "follow-up").replace("Follow up", "Follow-up")
    return words[:1].upper() + words[1:]


def _display_name_default(context) -> str:
    return humanize_template_name(context.get_current_parameters()["template_name"])


class CommunicationTemplate(Entity, db.Model):
    """A reusable message with ``{{placeholders}}``.

    ``template_name`` is the internal key (code and approved WhatsApp templates
    refer to it); people see ``display_name`` and ``description``.
    """

    __tablename__ = "communication_template"

    template_name: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    display_name: so.Mapped[str] = so.mapped_column(sa.String(120), default=_display_name_default)
    description: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    template_category: so.Mapped[TemplateCategory] = so.mapped_column(enum_column(TemplateCategory))
    channel_type: so.Mapped[TemplateChannelType] = so.mapped_column(
        enum_column(TemplateChannelType), default=TemplateChannelType.ANY
    )
    subject_template: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    message_template: so.Mapped[str] = so.mapped_column(sa.Text)
    html_template: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    variables: so.Mapped[list[Any]] = so.mapped_column(default=list)
    business_entity: so.Mapped[TemplateBusinessEntity] = so.mapped_column(
        enum_column(TemplateBusinessEntity), default=TemplateBusinessEntity.ALL
    )
    # The approved WhatsApp template this one maps to, for sends outside 24 hours.
    whatsapp_template_name: so.Mapped[Optional[str]] = so.mapped_column(sa.String(120))
    language: so.Mapped[str] = so.mapped_column(sa.String(10), default="nl")
    is_active: so.Mapped[bool] = so.mapped_column(default=True)
    usage_count: so.Mapped[int] = so.mapped_column(default=0)
