"""Our message templates as Meta's approved WhatsApp templates.

A template with a ``whatsapp_template_name`` mirrors one approved at Meta: the
placeholders of its body, in order of appearance, are the approved template's
``{{1}}``, ``{{2}}``, … So the parameters sent are this thread's values for
those placeholders, in that order, and the body we store is what the customer
reads.
"""

from __future__ import annotations

from app.conversations.message_templates.rendering import placeholders_in, variables_for_thread
from app.platform.models import CommunicationTemplate, CommunicationThread, User

EDITED_TEMPLATE = (
    "Outside the 24-hour window WhatsApp sends an approved template exactly as "
    "approved, so its text cannot be edited here."
)


def template_parameters(
    template: CommunicationTemplate,
    thread: CommunicationThread,
    agent: User | None = None,
    overrides: dict[str, str] | None = None,
) -> list[str]:
    """The body parameters for ``template`` in ``thread``, in placeholder order.

    Call after :func:`~app.conversations.message_templates.rendering.render_for_thread` has
    accepted the same inputs: every placeholder then has a value.
    """
    given = {name: str(value) for name, value in (overrides or {}).items() if str(value).strip()}
    known = variables_for_thread(thread, agent, language=template.language or "nl")
    return [
        given.get(name) or known.get(name) or ""
        for name in placeholders_in(template.message_template)
    ]


def same_text(first: str, second: str) -> bool:
    """Equal but for whitespace (a browser's textarea sends CRLF line ends)."""
    return " ".join(first.split()) == " ".join(second.split())
