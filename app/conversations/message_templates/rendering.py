"""Filling a template's ``{{placeholders}}`` from a thread, its contact, order and visit.

Template text is written by people in the admin pages, so it is treated as data:
placeholders are replaced by plain string substitution, in one pass, and never
handed to Jinja or ``eval``. ``{{ 7*7 }}`` stays ``{{ 7*7 }}`` (and is refused
when saving or sending, as it is no placeholder).

The known variables (``customer_name``, ``order_id``, ``visit_date``,
``technician_name``…) and their human names live in
:mod:`app.conversations.message_templates.variables`. A template may declare further names in
its ``variables`` list (``response_date``); the sender types those. Sending is
refused, naming every variable without a value by its human name
("Fill in: Visit date, Order number"), and every unknown placeholder.

:func:`template_inputs` is what the composer shows: one input per placeholder,
prefilled from the thread, with what is still missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import escape

from app.conversations.message_templates.variables import (
    KNOWN_VARIABLES,
    VARIABLES,
    VariableContext,
    label_for,
)
from app.platform.models import CommunicationTemplate, CommunicationThread, User

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
VARIABLE_NAME = re.compile(r"[a-z_][a-z0-9_]*")
# Anything between double braces; what PLACEHOLDER does not accept is malformed.
_BRACED = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


class TemplateRenderError(ValueError):
    """A template cannot be filled in: ``fields`` maps ``variables.<name>`` to why.

    ``missing`` holds the human names of the variables left without a value.
    """

    def __init__(self, message: str, fields: dict[str, str], missing: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields
        self.missing = missing or []


@dataclass
class RenderedMessage:
    subject: str | None
    body: str
    html: str | None


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
    return _(
        "%(snippet)s is not a placeholder: use lowercase letters, digits and _ "
        "between double braces, like {{customer_name}}",
        snippet=snippet,
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
    ctx = VariableContext(thread=thread, agent=agent, language=language or "nl")
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


@dataclass(frozen=True)
class VariableInput:
    """One placeholder as the composer offers it: an input with a human label.

    ``value`` is what the sender typed, else what the thread knows, else "".
    ``source`` says where a value came from (``typed``, ``contact``, ``order``,
    ``visit``…); ``missing`` says why there is none (None when there is one).
    """

    name: str
    label: str
    value: str
    source: str | None
    missing: str | None
    known: bool = True


@dataclass
class TemplateInputs:
    """A template filled in as far as possible, for the composer."""

    inputs: list[VariableInput]
    draft: RenderedMessage  # missing values shown as ``[Visit date]``
    error: TemplateRenderError | None

    @property
    def complete(self) -> bool:
        return self.error is None

    @property
    def missing_labels(self) -> list[str]:
        return self.error.missing if self.error else []


@dataclass
class _Resolution:
    values: dict[str, str]
    inputs: list[VariableInput]
    fields: dict[str, str]
    problems: list[str]
    missing: list[str]


def _resolve(
    template: CommunicationTemplate,
    thread: CommunicationThread,
    agent: User | None,
    overrides: Mapping[str, object] | None,
) -> _Resolution:
    texts = _template_texts(template)
    typed = {name: value for name, raw in (overrides or {}).items() if (value := _as_value(raw))}
    ctx = VariableContext(thread=thread, agent=agent, language=template.language or "nl")
    known = variables_for_thread(thread, agent, language=ctx.language)
    declared = set(declared_names(template.variables))
    result = _Resolution(values={}, inputs=[], fields={}, problems=[], missing=[])
    for field, text in texts.items():
        for snippet in malformed_placeholders(text):
            result.fields.setdefault(field, malformed_message(snippet))
            result.problems.append(malformed_message(snippet))

    for name in placeholders_in(*texts.values()):
        label = label_for(name)
        variable = KNOWN_VARIABLES.get(name)
        if name in typed:
            value, source, reason = typed[name], "typed", None
        elif known.get(name) is not None:
            value, source, reason = known[name], variable.source, None
        elif variable is not None:
            value, source, reason = "", None, variable.missing(ctx)
        elif name in declared:
            value, source, reason = "", None, _("fill in a value")
        else:
            result.fields[f"variables.{name}"] = _("unknown placeholder")
            result.problems.append(_("Unknown placeholder %(name)s", name="{{" + name + "}}"))
            result.inputs.append(VariableInput(name, label, "", None, "unknown", known=False))
            continue
        result.inputs.append(VariableInput(name, label, value or "", source, reason))
        if reason is None:
            result.values[name] = value
        else:
            result.fields[f"variables.{name}"] = reason
            result.missing.append(label)
    return result


def _error(resolution: _Resolution) -> TemplateRenderError | None:
    if not resolution.missing and not resolution.problems:
        return None
    parts = []
    if resolution.missing:
        parts.append(_("Fill in: %(names)s", names=", ".join(resolution.missing)))
    parts += resolution.problems
    return TemplateRenderError(
        "; ".join(parts) + ".", dict(resolution.fields), list(resolution.missing)
    )


def render_for_thread(
    template: CommunicationTemplate,
    thread: CommunicationThread,
    agent: User | None = None,
    overrides: Mapping[str, object] | None = None,
) -> RenderedMessage:
    """Fill ``template`` in for ``thread``; refuse if any placeholder cannot be filled.

    ``overrides`` (what the sender typed) win over the thread's values and may
    name any variable. The error names every variable left without a value by
    its human name ("Fill in: Visit date, Order number") and every unknown one.
    """
    resolution = _resolve(template, thread, agent, overrides)
    error = _error(resolution)
    if error is not None:
        raise error
    return _fill(_template_texts(template), resolution.values)


def template_inputs(
    template: CommunicationTemplate,
    thread: CommunicationThread,
    agent: User | None = None,
    typed: Mapping[str, object] | None = None,
) -> TemplateInputs:
    """The composer's view of ``template``: inputs prefilled from the thread, the text
    as far as it can be filled in, and the error sending would give (None: complete)."""
    resolution = _resolve(template, thread, agent, typed)
    language = (template.language or "nl")[:2]
    placeholders = {
        item.name: _draft_placeholder(item.name, language) for item in resolution.inputs
    }
    draft = _fill(_template_texts(template), {**placeholders, **resolution.values})
    return TemplateInputs(inputs=resolution.inputs, draft=draft, error=_error(resolution))


@lru_cache(maxsize=1024)
def _draft_placeholder(name: str, language: str) -> str:
    """A value still to fill in, as the draft shows it: in the message's own language
    (an English reply reads "[Date of the fix]" on an agent's Dutch screen), since
    the text goes to the customer; the composer's inputs keep the agent's language.
    Kept per name and language: the catalogues are compiled, and switching the locale
    for each placeholder of each chip costs a thread page milliseconds."""
    with force_locale(language):
        return f"[{label_for(name)}]"


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
            uses.append(PlaceholderUse(name, "known", str(KNOWN_VARIABLES[name].description)))
        elif name in extra:
            values[name] = f"[{name}]"
            uses.append(PlaceholderUse(name, "declared", _("Filled in by the sender")))
        else:
            uses.append(PlaceholderUse(name, "unknown", _("Not a known or declared variable")))
    malformed = [snippet for text in texts.values() for snippet in malformed_placeholders(text)]
    return SamplePreview(rendered=_fill(texts, values), placeholders=uses, malformed=malformed)
