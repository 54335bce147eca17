"""The admin form for a message template, and the labels its pages show."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from app.conversations.message_templates.rendering import declared_names
from app.conversations.message_templates.variables import KNOWN_VARIABLES
from app.platform.models import CommunicationTemplate
from app.platform.models.enums import TemplateBusinessEntity, TemplateCategory, TemplateChannelType

CATEGORY_LABELS = {
    TemplateCategory.CUSTOMER_SERVICE: _l("Customer service"),
    TemplateCategory.INSTALLATION_SCHEDULING: _l("Installation scheduling"),
    TemplateCategory.TECHNICAL_SUPPORT: _l("Technical support"),
    TemplateCategory.SALES_INQUIRY: _l("Sales inquiry"),
    TemplateCategory.COMPLAINT_RESPONSE: _l("Complaint response"),
    TemplateCategory.FOLLOW_UP: _l("Follow-up"),
    TemplateCategory.AUTO_RESPONSE: _l("Auto-response"),
    TemplateCategory.INTERNAL_NOTIFICATION: _l("Internal notification"),
}
CHANNEL_LABELS = {
    TemplateChannelType.EMAIL_OUTLOOK: _l("Email"),
    TemplateChannelType.WHATSAPP_BUSINESS: "WhatsApp",
    TemplateChannelType.SMS: "SMS",
    TemplateChannelType.INTERNAL_COMMENT: _l("Note"),
    TemplateChannelType.ANY: _l("Any channel"),
}
ENTITY_LABELS = {
    TemplateBusinessEntity.ALL: _l("All brands"),
    TemplateBusinessEntity.CHARGECARS: "ChargeCars",
    TemplateBusinessEntity.LADERTHUIS: "LaderThuis",
    TemplateBusinessEntity.METERKASTTHUIS: "MeterkastThuis",
    TemplateBusinessEntity.ZAPTECSHOP: "ZaptecShop",
    TemplateBusinessEntity.RATIOSHOP: "RatioShop",
}


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(member.value, label) for member, label in labels.items()]


class TemplateForm(FlaskForm):
    """Shape only; the services decide what is valid, and name the field if not."""

    display_name = StringField(
        _l("Name"),
        validators=[Length(max=120)],
        description=_l("What agents see, e.g. “Quote follow-up”."),
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Length(max=500)],
        description=_l("When to use it; shown in the composer's template list."),
    )
    template_name = StringField(
        _l("Internal name"),
        validators=[Length(max=120)],
        description=_l("A fixed key, e.g. quote_follow_up; automations refer to it."),
    )
    template_category = SelectField(_l("Category"), choices=_choices(CATEGORY_LABELS))
    channel_type = SelectField(
        _l("Channel"), choices=_choices(CHANNEL_LABELS), default=TemplateChannelType.ANY.value
    )
    business_entity = SelectField(
        _l("Brand"), choices=_choices(ENTITY_LABELS), default=TemplateBusinessEntity.ALL.value
    )
    language = StringField(_l("Language"), default="nl", validators=[Length(max=10)])
    whatsapp_template_name = StringField(
        _l("Approved WhatsApp template"),
        validators=[Optional(), Length(max=120)],
        description=_l("For sends outside WhatsApp's 24-hour window."),
    )
    subject_template = StringField(_l("Subject"), description=_l("E-mail only."))
    message_template = TextAreaField(_l("Message"))
    html_template = TextAreaField(_l("HTML version"), description=_l("Optional, e-mail only."))
    variables = StringField(
        _l("Extra variables"),
        description=_l("Other names the sender fills in, separated by commas."),
    )
    is_active = BooleanField(_l("Active: agents can use it"), default=True)
    version = HiddenField()

    def to_data(self) -> dict[str, Any]:
        """The fields as the services expect them."""
        return {
            "template_name": self.template_name.data,
            "display_name": self.display_name.data,
            "description": self.description.data,
            "template_category": self.template_category.data,
            "channel_type": self.channel_type.data,
            "business_entity": self.business_entity.data,
            "language": self.language.data,
            "whatsapp_template_name": self.whatsapp_template_name.data,
            "subject_template": self.subject_template.data,
            "message_template": self.message_template.data,
            "html_template": self.html_template.data,
            "variables": self.variables.data or "",
            "is_active": bool(self.is_active.data),
        }

    def fill_from(self, template: CommunicationTemplate, version: str) -> None:
        """Show a saved template; only the declared extras go in _l("Extra variables")."""
        self.template_name.data = template.template_name
        self.display_name.data = template.display_name
        self.description.data = template.description
        self.template_category.data = str(template.template_category)
        self.channel_type.data = str(template.channel_type)
        self.business_entity.data = str(template.business_entity)
        self.language.data = template.language
        self.whatsapp_template_name.data = template.whatsapp_template_name
        self.subject_template.data = template.subject_template
        self.message_template.data = template.message_template
        self.html_template.data = template.html_template
        extras = [n for n in declared_names(template.variables) if n not in KNOWN_VARIABLES]
        self.variables.data = ", ".join(extras)
        self.is_active.data = template.is_active
        self.version.data = version

    def add_errors(self, fields: dict[str, str]) -> list[str]:
        """Attach service errors to their fields; return those that fit no field."""
        leftover = []
        for name, message in fields.items():
            field = self._fields.get(name)
            if field is None:
                leftover.append(f"{name}: {message}")
                continue
            if not isinstance(field.errors, list):
                field.errors = []
            field.errors.append(message[:1].upper() + message[1:])
        return leftover
