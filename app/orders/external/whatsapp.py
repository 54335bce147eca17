"""``send-whatsapp``: text and template sends, queued on the customer's thread.

The body is checked into a :class:`WhatsAppSend`; :func:`queue_whatsapp` finds or
creates the contact by phone and their WhatsApp thread, adds a pending outbound
message and queues the normal send job for after the commit, so an API send
travels exactly the path of a reply typed in the inbox.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlalchemy as sa

from app.conversations.channels.whatsapp.limits import MAX_TEXT_LENGTH
from app.conversations.contacts.phones import normalise_phone
from app.conversations.contacts.services import contact_for_phone
from app.conversations.core import channel_of_type, post_outbound, subject_from, thread_for_contact
from app.orders.external.validation import InvalidRequest
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationTemplate, User
from app.platform.models.enums import ChannelType

TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
MAX_PARAMETERS = 20


@dataclass
class WhatsAppSend:
    phone: str
    kind: str  # "text" or "template"
    text: str | None = None
    template_name: str | None = None
    language: str = "nl"
    parameters: list[str] = field(default_factory=list)
    reply_to: str | None = None

    def content(self) -> str:
        """What the thread shows for this message."""
        if self.kind == "text":
            return self.text or ""
        shown = " | ".join(self.parameters)
        return f"Template {self.template_name} ({self.language})" + (f": {shown}" if shown else "")


def parse_send_whatsapp(body: dict) -> WhatsAppSend:
    """The request as a WhatsAppSend; InvalidRequest naming every wrong field."""
    errors: dict[str, str] = {}
    raw_to = body.get("to")
    # Callers write the number as a string; a JSON number is the same number,
    # however it is written (31612345678.0 is 31612345678, to JSON and JSON Schema).
    if isinstance(raw_to, float) and raw_to.is_integer():
        raw_to = int(raw_to)
    if isinstance(raw_to, int) and not isinstance(raw_to, bool):
        raw_to = str(raw_to)
    phone = normalise_phone(raw_to) if isinstance(raw_to, str) else None
    if phone is None:
        errors["to"] = "required: a phone number, e.g. 31687654321 or +31687654321"
    kind = body.get("type")
    send = WhatsAppSend(phone=phone or "", kind=kind if isinstance(kind, str) else "")
    if kind == "text":
        _text(body.get("text"), send, errors)
    elif kind == "template":
        _template(body.get("template"), send, errors)
    else:
        errors["type"] = "must be text or template"
    context = body.get("context")
    if context is not None:
        reply_to = context.get("message_id") if isinstance(context, dict) else None
        if not isinstance(reply_to, str) or not reply_to.strip():
            errors["context.message_id"] = "must be the id of the message answered"
        else:
            send.reply_to = reply_to.strip()
    if errors:
        raise InvalidRequest(errors)
    return send


def _text(text, send: WhatsAppSend, errors: dict[str, str]) -> None:
    value = text.get("body") if isinstance(text, dict) else None
    if not isinstance(value, str) or not value.strip():
        errors["text.body"] = "required"
    elif len(value) > MAX_TEXT_LENGTH:
        errors["text.body"] = f"at most {MAX_TEXT_LENGTH} characters"
    else:
        send.text = value.strip()


def _template(template, send: WhatsAppSend, errors: dict[str, str]) -> None:
    if not isinstance(template, dict):
        errors["template"] = "required for type template"
        return
    name = template.get("name")
    if not isinstance(name, str) or not TEMPLATE_NAME.match(name):
        errors["template.name"] = "required: the approved template's name (a-z, 0-9, _)"
    send.template_name = name if isinstance(name, str) else None
    language = template.get("language", {"code": "nl"})
    code = language.get("code") if isinstance(language, dict) else None
    if not isinstance(code, str) or not LANGUAGE_CODE.match(code):
        errors["template.language.code"] = "a language code such as nl or en_US"
    else:
        send.language = code
    components = template.get("components", [])
    if not isinstance(components, list):
        errors["template.components"] = "must be a list"
        return
    for index, component in enumerate(components):
        path = f"template.components[{index}]"
        # Only body text parameters can be sent on; a header image would need media.
        if not isinstance(component, dict) or component.get("type") != "body":
            errors[f"{path}.type"] = "only body components are supported"
            continue
        parameters = component.get("parameters") or []
        if not isinstance(parameters, list):
            errors[f"{path}.parameters"] = "must be a list"
            continue
        for position, parameter in enumerate(parameters):
            text = parameter if isinstance(parameter, dict) else {}
            if text.get("type") != "text" or not isinstance(text.get("text"), str):
                errors[f"{path}.parameters[{position}]"] = 'must be {"type": "text", "text": ...}'
            else:
                send.parameters.append(text["text"])
    if len(send.parameters) > MAX_PARAMETERS:
        errors["template.components"] = f"at most {MAX_PARAMETERS} parameters"


def queue_whatsapp(send: WhatsAppSend, sender: User) -> CommunicationMessage:
    """Add the pending message and queue its send after the commit; the caller commits."""
    contact = contact_for_phone(send.phone)
    channel = channel_of_type(ChannelType.WHATSAPP_BUSINESS)
    # A thread started by an API send is created resolved: nothing is owed to
    # the customer until they write, and their reply reopens it.
    thread = thread_for_contact(contact, channel, subject=subject_from(send.content()))
    return post_outbound(
        thread,
        channel_id=channel.id,
        body=send.content(),
        recipient={"phone": contact.phone, "name": contact.display_name},
        author_id=sender.id,
        template_id=_approved_template_id(send.template_name),
        extra=_extra(send),
    )


def _extra(send: WhatsAppSend) -> dict:
    """Metadata the send job reads: the message answered, and the template to use."""
    extra = {"reply_to": send.reply_to, "source": "external_api"}
    if send.kind == "template":
        extra.update(
            template_name=send.template_name,
            template_language=send.language,
            template_parameters=send.parameters,
        )
    return extra


def _approved_template_id(name: str | None):
    """Our template mapped to that WhatsApp template, so the send job names it."""
    if not name:
        return None
    return db.session.scalar(
        sa.select(CommunicationTemplate.id)
        .where(
            CommunicationTemplate.whatsapp_template_name == name,
            CommunicationTemplate.is_active.is_(True),
        )
        .limit(1)
    )
