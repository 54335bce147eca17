"""Filling a template's ``{{placeholders}}`` from a thread, its contact and its order.

Template text is written by people in the admin pages, so it is treated as data:
placeholders are replaced by plain string substitution, in one pass, and never
handed to Jinja or ``eval``. ``{{ 7*7 }}`` stays ``{{ 7*7 }}`` (and is refused
when saving or sending, as it is no placeholder).

Known variables (the admin form lists them as help):

==========================  ===================================================
``customer_name``           the thread contact's display name
``customer_first_name``     the contact's first name
``customer_email``          the contact's e-mail address
``customer_phone``          the contact's phone number (E.164)
``order_id``                the linked order's number, e.g. ``CC-2026-00042``
``order_status``            the order's status, in the template's language
``installation_date``       the order's scheduled date, ``dd-mm-yyyy``
``installation_address``    the order's installation address on one line
``agent_name``              the name of the person sending
``company_name``            ``ChargeCars``
``thread_subject``          the thread's subject
==========================  ===================================================

A template may declare further names in its ``variables`` list (``order_total``,
``time_window``); the sender fills those in as overrides. Sending is refused,
with every problem named, when a placeholder is unknown or has no value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from markupsafe import escape

from app.models import CommunicationTemplate, CommunicationThread, User
from app.models.enums import OrderStatus

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
VARIABLE_NAME = re.compile(r"[a-z_][a-z0-9_]*")
# Anything between double braces; what PLACEHOLDER does not accept is malformed.
_BRACED = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)

COMPANY_NAME = "ChargeCars"

ORDER_STATUS_LABELS: dict[str, dict[OrderStatus, str]] = {
    "nl": {
        OrderStatus.NEW: "Nieuw",
        OrderStatus.QUOTE_SENT: "Offerte verstuurd",
        OrderStatus.APPROVED: "Goedgekeurd",
        OrderStatus.SCHEDULED: "Ingepland",
        OrderStatus.IN_PROGRESS: "In uitvoering",
        OrderStatus.COMPLETED: "Afgerond",
        OrderStatus.ON_HOLD: "In de wacht",
        OrderStatus.CANCELLED: "Geannuleerd",
    },
    "en": {
        OrderStatus.NEW: "New",
        OrderStatus.QUOTE_SENT: "Quote sent",
        OrderStatus.APPROVED: "Approved",
        OrderStatus.SCHEDULED: "Scheduled",
        OrderStatus.IN_PROGRESS: "In progress",
        OrderStatus.COMPLETED: "Completed",
        OrderStatus.ON_HOLD: "On hold",
        OrderStatus.CANCELLED: "Cancelled",
    },
}


class TemplateRenderError(ValueError):
    """A template cannot be filled in: ``fields`` maps ``variables.<name>`` to why."""

    def __init__(self, message: str, fields: dict[str, str]):
        super().__init__(message)
        self.message = message
        self.fields = fields


@dataclass
class RenderedMessage:
    subject: str | None
    body: str
    html: str | None


@dataclass(frozen=True)
class _Context:
    thread: CommunicationThread
    agent: User | None
    language: str


@dataclass(frozen=True)
class Variable:
    """A variable the app fills in itself: how, and what to say when it cannot."""

    name: str
    description: str
    sample: str
    value: Callable[[_Context], object]
    missing: Callable[[_Context], str]


def _contact_missing(what: str) -> Callable[[_Context], str]:
    def reason(ctx: _Context) -> str:
        if ctx.thread.contact is None:
            return "this thread has no contact"
        return f"the contact has no {what}"

    return reason


def _order_missing(what: str) -> Callable[[_Context], str]:
    def reason(ctx: _Context) -> str:
        if ctx.thread.order is None:
            return "this thread has no linked order"
        return f"order {ctx.thread.order.order_number} has no {what}"

    return reason


def _contact(attr: str) -> Callable[[_Context], object]:
    return lambda ctx: getattr(ctx.thread.contact, attr) if ctx.thread.contact else None


def _order_status(ctx: _Context) -> str | None:
    order = ctx.thread.order
    if order is None or order.status is None:
        return None
    labels = ORDER_STATUS_LABELS.get(ctx.language[:2].lower(), ORDER_STATUS_LABELS["nl"])
    return labels.get(order.status, str(order.status))


def _installation_date(ctx: _Context) -> str | None:
    order = ctx.thread.order
    if order is None or order.scheduled_date is None:
        return None
    return order.scheduled_date.strftime("%d-%m-%Y")


def _installation_address(ctx: _Context) -> str | None:
    order = ctx.thread.order
    if order is None or order.installation_address is None:
        return None
    return order.installation_address.one_line()


VARIABLES: tuple[Variable, ...] = (
    Variable(
        "customer_name",
        "Contact's full name",
        "Jan de Vries",
        _contact("display_name"),
        _contact_missing("name"),
    ),
    Variable(
        "customer_first_name",
        "Contact's first name",
        "Jan",
        _contact("first_name"),
        _contact_missing("first name"),
    ),
    Variable(
        "customer_email",
        "Contact's e-mail address",
        "jan.devries@example.nl",
        _contact("email"),
        _contact_missing("e-mail address"),
    ),
    Variable(
        "customer_phone",
        "Contact's phone number",
        "+31612345678",
        _contact("phone"),
        _contact_missing("phone number"),
    ),
    Variable(
        "order_id",
        "Order number of the linked order",
        "CC-2026-00042",
        lambda ctx: ctx.thread.order.order_number if ctx.thread.order else None,
        _order_missing("order number"),
    ),
    Variable(
        "order_status",
        "Status of the linked order",
        "Ingepland",
        _order_status,
        _order_missing("status"),
    ),
    Variable(
        "installation_date",
        "Scheduled installation date (dd-mm-yyyy)",
        "14-05-2026",
        _installation_date,
        _order_missing("installation date yet"),
    ),
    Variable(
        "installation_address",
        "Installation address on one line",
        "Stationsstraat 12, 3511 AB Utrecht",
        _installation_address,
        _order_missing("installation address"),
    ),
    Variable(
        "agent_name",
        "Name of the person sending",
        "Anouk Jansen",
        lambda ctx: ctx.agent.name if ctx.agent else None,
        lambda ctx: "no sending agent is known",
    ),
    Variable(
        "company_name",
        "Company name",
        COMPANY_NAME,
        lambda ctx: COMPANY_NAME,
        lambda ctx: "no company name is configured",
    ),
    Variable(
        "thread_subject",
        "Subject of the conversation",
        "Vraag over mijn laadpaal",
        lambda ctx: ctx.thread.thread_subject,
        lambda ctx: "this thread has no subject",
    ),
)
KNOWN_VARIABLES: dict[str, Variable] = {variable.name: variable for variable in VARIABLES}


def placeholders_in(*texts: str | None) -> list[str]:
    """The placeholder names used in ``texts``, each once, in order of appearance."""
    found: dict[str, None] = {}
    for text in texts:
        for name in PLACEHOLDER.findall(text or ""):
            found.setdefault(name, None)
    return list(found)


def malformed_placeholders(text: str | None) -> list[str]:
    """Double-braced snippets that are no valid placeholder, e.g. ``{{ 7*7 }}``."""
    return [
        match.group(0)
        for match in _BRACED.finditer(text or "")
        if not PLACEHOLDER.fullmatch(match.group(0))
    ]


def malformed_message(snippet: str) -> str:
    return (
        f"{snippet} is not a placeholder: use lowercase letters, digits and _ "
        "between double braces, like {{customer_name}}"
    )


def render_text(text: str, values: dict[str, str]) -> str:
    """Replace each ``{{name}}`` found in ``values``; leave everything else as written.

    One pass of plain substitution: a value that itself contains ``{{...}}`` is
    not expanded again, and nothing is ever evaluated.
    """

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        return values[name] if name in values else match.group(0)

    return PLACEHOLDER.sub(substitute, text)


def _as_value(raw: object) -> str | None:
    """A usable value, or None for nothing/blank."""
    if raw is None:
        return None
    text = str(raw)
    return text if text.strip() else None


def variables_for_thread(
    thread: CommunicationThread, agent: User | None = None, *, language: str = "nl"
) -> dict[str, str | None]:
    """Every known variable and its value for ``thread`` (None: no value)."""
    ctx = _Context(thread=thread, agent=agent, language=language or "nl")
    return {variable.name: _as_value(variable.value(ctx)) for variable in VARIABLES}


def sample_values(agent_name: str | None = None) -> dict[str, str]:
    """Example values of the known variables, for previews in the admin pages."""
    values = {variable.name: variable.sample for variable in VARIABLES}
    if agent_name:
        values["agent_name"] = agent_name
    return values


def is_variable_name(name: object) -> bool:
    return isinstance(name, str) and VARIABLE_NAME.fullmatch(name) is not None


def declared_names(variables: Iterable[object] | None) -> list[str]:
    """The valid names in a template's ``variables`` document."""
    return [name for name in (variables or []) if is_variable_name(name)]


def _template_texts(template: CommunicationTemplate) -> dict[str, str | None]:
    return {
        "subject_template": template.subject_template,
        "message_template": template.message_template,
        "html_template": template.html_template,
    }


def render_for_thread(
    template: CommunicationTemplate,
    thread: CommunicationThread,
    agent: User | None = None,
    overrides: dict[str, str] | None = None,
) -> RenderedMessage:
    """Fill ``template`` in for ``thread``; refuse if any placeholder cannot be filled.

    ``overrides`` win over the thread's values and may name any variable. The
    error names every unknown placeholder and every one left without a value.
    """
    texts = _template_texts(template)
    given = {name: value for name, raw in (overrides or {}).items() if (value := _as_value(raw))}
    ctx = _Context(thread=thread, agent=agent, language=template.language or "nl")
    known = variables_for_thread(thread, agent, language=ctx.language)
    declared = set(declared_names(template.variables))

    problems: list[str] = []
    fields: dict[str, str] = {}
    for field, text in texts.items():
        for snippet in malformed_placeholders(text):
            fields.setdefault(field, malformed_message(snippet))
            problems.append(malformed_message(snippet))

    values: dict[str, str] = {}
    for name in placeholders_in(*texts.values()):
        if name in given:
            values[name] = given[name]
        elif known.get(name) is not None:
            values[name] = known[name]
        elif name in KNOWN_VARIABLES:
            reason = KNOWN_VARIABLES[name].missing(ctx)
            fields[f"variables.{name}"] = reason
            problems.append(f"{{{{{name}}}}} has no value: {reason}")
        elif name in declared:
            fields[f"variables.{name}"] = "fill in a value"
            problems.append(f"{{{{{name}}}}} has no value: fill it in before sending")
        else:
            fields[f"variables.{name}"] = "unknown placeholder"
            problems.append(f"Unknown placeholder {{{{{name}}}}}")
    if problems:
        raise TemplateRenderError("; ".join(problems) + ".", fields)

    return _fill(texts, values)


def _fill(texts: dict[str, str | None], values: dict[str, str]) -> RenderedMessage:
    # A subject is one line (a value with line breaks must not add mail headers);
    # the HTML version gets values escaped, so a name like "<b>" stays text.
    subject_values = {name: " ".join(value.split()) for name, value in values.items()}
    html_values = {name: str(escape(value)) for name, value in values.items()}
    subject = texts["subject_template"]
    html = texts["html_template"]
    return RenderedMessage(
        subject=render_text(subject, subject_values) if subject else None,
        body=render_text(texts["message_template"] or "", values),
        html=render_text(html, html_values) if html else None,
    )


@dataclass(frozen=True)
class PlaceholderUse:
    """How the admin preview sees one placeholder: ``known``, ``declared`` or ``unknown``."""

    name: str
    kind: str
    description: str


@dataclass
class SamplePreview:
    rendered: RenderedMessage
    placeholders: list[PlaceholderUse]
    malformed: list[str]


def render_sample(
    subject: str | None,
    body: str | None,
    html: str | None,
    declared: Iterable[object] | None = None,
    agent_name: str | None = None,
) -> SamplePreview:
    """Fill texts being edited with example values, reporting what each placeholder is.

    Declared extra variables show as ``[name]``; unknown ones stay as written so
    the author sees them in place.
    """
    texts = {"subject_template": subject, "message_template": body, "html_template": html}
    samples = sample_values(agent_name)
    extra = set(declared_names(declared))
    uses: list[PlaceholderUse] = []
    values: dict[str, str] = {}
    for name in placeholders_in(subject, body, html):
        if name in KNOWN_VARIABLES:
            values[name] = samples[name]
            uses.append(PlaceholderUse(name, "known", KNOWN_VARIABLES[name].description))
        elif name in extra:
            values[name] = f"[{name}]"
            uses.append(PlaceholderUse(name, "declared", "Filled in by the sender"))
        else:
            uses.append(PlaceholderUse(name, "unknown", "Not a known or declared variable"))
    malformed = [snippet for text in texts.values() for snippet in malformed_placeholders(text)]
    return SamplePreview(rendered=_fill(texts, values), placeholders=uses, malformed=malformed)
