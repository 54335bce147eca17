"""Which templates an agent may use in a conversation, and how the composer offers them.

The composer's template select and the "/" list of canned responses show the
same templates: those of the selected channel (and the "any channel" ones), and
past WhatsApp's 24-hour window only the approved ones. A chosen template is
offered as one input per variable, prefilled from the thread
(:func:`app.conversations.message_templates.rendering.template_inputs`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.conversations.channels.whatsapp.window import WindowState, closed_notice, service_window
from app.conversations.languages import DEFAULT_LANGUAGE, customer_language
from app.conversations.languages.hints import language_name
from app.conversations.message_templates.rendering import TemplateInputs, template_inputs
from app.platform.models import (
    CommunicationChannel,
    CommunicationTemplate,
    CommunicationThread,
    User,
)
from app.platform.models.enums import ChannelType

VARIABLE_PREFIX = "variables."


@dataclass
class UsableTemplates:
    templates: list[CommunicationTemplate]
    window_notice: str | None  # set when only approved WhatsApp templates may be sent
    window: WindowState | None = None  # WhatsApp's 24-hour window, on a WhatsApp channel


def usable_templates(
    thread: CommunicationThread,
    channel: CommunicationChannel | None,
    templates: list[CommunicationTemplate],
) -> UsableTemplates:
    """``templates`` (already filtered by channel type) narrowed by WhatsApp's window."""
    if channel is None or channel.channel_type != ChannelType.WHATSAPP_BUSINESS:
        return UsableTemplates(templates, None)
    window = service_window(thread)
    if window.is_open:
        return UsableTemplates(templates, None, window)
    approved = [template for template in templates if template.whatsapp_template_name]
    return UsableTemplates(approved, closed_notice(window), window)


def typed_variables(form: Mapping[str, object]) -> dict[str, str]:
    """What the sender typed into the variable inputs (``variables.<name>`` fields)."""
    return {
        key.removeprefix(VARIABLE_PREFIX): str(value)
        for key, value in form.items()
        if key.startswith(VARIABLE_PREFIX) and value is not None
    }


def chosen_template(
    templates: list[CommunicationTemplate], template_id: object
) -> CommunicationTemplate | None:
    return next((t for t in templates if str(t.id) == str(template_id or "")), None)


def composer_state(
    template: CommunicationTemplate | None,
    thread: CommunicationThread,
    agent: User,
    form: Mapping[str, object],
) -> TemplateInputs | None:
    """The chosen template's inputs and text for the composer (None: no template)."""
    if template is None:
        return None
    return template_inputs(template, thread, agent, typed_variables(form))


def is_approved_for(template: CommunicationTemplate, channel: CommunicationChannel | None) -> bool:
    """An approved WhatsApp template: chosen in the select, never pasted as free text."""
    return bool(
        template.whatsapp_template_name
        and channel is not None
        and channel.channel_type == ChannelType.WHATSAPP_BUSINESS
    )


def canned_items(
    thread: CommunicationThread,
    channel: CommunicationChannel | None,
    templates: list[CommunicationTemplate],
    agent: User,
) -> list[dict]:
    """The "/" list: every usable template, with its text when it can be pasted as is.

    ``language`` names the template's language (in the agent's) when the
    customer is answered in another language than Dutch; None otherwise.

    ``text`` is None for an approved WhatsApp template (it must be sent as
    approved) and for a template still missing a value (the composer then shows
    its inputs).
    """
    # For a customer answered in another language, each template names its own.
    named = customer_language(thread.contact) != DEFAULT_LANGUAGE
    items = []
    for template in templates:
        approved = is_approved_for(template, channel)
        state = None if approved else template_inputs(template, thread, agent)
        items.append(
            {
                "id": str(template.id),
                "name": template.display_name,
                "internal_name": template.template_name,
                "description": template.description or "",
                "kind": "approved" if approved else "text",
                "text": state.draft.body if state is not None and state.complete else None,
                "missing": state.missing_labels if state is not None else [],
                "language": language_name(template.language) if named else None,
            }
        )
    return items
