"""The variables a template may use, each with a human name, and where the app finds them.

A known variable is resolved from the thread: its contact, its order, the order's
planned visit (date, time window, technician), the agent sending, or the thread
itself. Any other name a template declares is typed by the sender; ``label_for``
gives those a human name as well, so the composer never shows ``visit_time``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.conversations.message_templates.visit_moment import (
    AMSTERDAM,
    amsterdam_today,
    parse_time_window,
    visit_moment,
    window_text_of,
    window_words,
    written_date,
)
from app.platform.extensions import db
from app.platform.labels import LABELS, label
from app.platform.models import CommunicationThread, Order, User
from app.platform.models.enums import ArticleType, OrderStatus
from app.platform.ui import local_money

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

# Human names of variables the sender types (declared by templates, not resolved).
TYPED_LABELS = {
    "preparation_notes": _l("Preparation notes"),
    "response_date": _l("Reply by (date)"),
    "fix_date": _l("Date of the fix"),
    "next_opening": _l("Next opening time"),
    "eta": _l("Expected arrival"),
}


@dataclass(frozen=True)
class VariableContext:
    thread: CommunicationThread
    agent: User | None
    language: str


@dataclass(frozen=True)
class Variable:
    """A variable the app fills in itself: its human name, how, and why it may fail."""

    name: str
    label: str
    source: str  # where the value comes from: contact, order, visit, agent, thread, company
    description: str
    sample: str
    value: Callable[[VariableContext], object]
    missing: Callable[[VariableContext], str]


def label_for(name: str) -> str:
    """The human name of any variable: ``visit_date`` -> "Visit date"."""
    if name in KNOWN_VARIABLES:
        return str(KNOWN_VARIABLES[name].label)
    return str(TYPED_LABELS.get(name) or name.replace("_", " ").strip().capitalize())


# --- how values are found ---------------------------------------------------------


def _contact_missing(what: Any) -> Callable[[VariableContext], str]:
    def reason(ctx: VariableContext) -> str:
        if ctx.thread.contact is None:
            return _("this thread has no contact")
        return _("the contact has no %(what)s", what=what)

    return reason


def _order_missing(what: Any) -> Callable[[VariableContext], str]:
    def reason(ctx: VariableContext) -> str:
        if ctx.thread.order is None:
            return _("this thread has no linked order")
        return _("order %(order)s has no %(what)s", order=ctx.thread.order.order_number, what=what)

    return reason


def _contact(attr: str) -> Callable[[VariableContext], object]:
    return lambda ctx: getattr(ctx.thread.contact, attr) if ctx.thread.contact else None


def _from_order(read: Callable[[Order], object]) -> Callable[[VariableContext], object]:
    return lambda ctx: read(ctx.thread.order) if ctx.thread.order is not None else None


def _order_status(ctx: VariableContext) -> str | None:
    order = ctx.thread.order
    if order is None or order.status is None:
        return None
    labels = ORDER_STATUS_LABELS.get(ctx.language[:2].lower(), ORDER_STATUS_LABELS["nl"])
    return labels.get(order.status, str(order.status))


def _scheduled_date(ctx: VariableContext) -> str | None:
    """In the message's language: "02-12-2026", "2 December 2026"."""
    order = ctx.thread.order
    if order is None or order.scheduled_date is None:
        return None
    return written_date(order.scheduled_date, ctx.language)


def _address(order: Order) -> str | None:
    return order.installation_address.one_line() if order.installation_address else None


def _time_window(ctx: VariableContext) -> str | None:
    """The planned window ("08:00-12:00"), else the part of day the customer asked for,
    in the template's language ("ochtend", not the partner API's "morning")."""
    order = ctx.thread.order
    if order is None:
        return None
    text = window_text_of(order)
    if text in LABELS["time_preference"]:
        with force_locale(ctx.language[:2].lower() or "nl"):
            return str(label(text, "time_preference"))
    return text


def _visit_moment(ctx: VariableContext) -> str | None:
    """ "vandaag tussen 12:00 en 17:00": the visit relative to the day it is sent."""
    order = ctx.thread.order
    if order is None:
        return None
    window = parse_time_window(window_text_of(order))
    return visit_moment(order.scheduled_date, window, amsterdam_today(), ctx.language)


def _visit_hours(ctx: VariableContext) -> str | None:
    """ "tussen 08:00 en 12:00": the planned window alone, in the template's language."""
    order = ctx.thread.order
    if order is None:
        return None
    return window_words(parse_time_window(window_text_of(order)), ctx.language)


def _answer_due(ctx: VariableContext) -> str | None:
    """When our answer is due by the conversation's SLA, Amsterdam time."""
    due = ctx.thread.response_due_at
    if due is None:
        return None
    local = due.astimezone(AMSTERDAM)
    return f"{written_date(local.date(), ctx.language)} {local:%H:%M}"


def _technician(order: Order) -> User | None:
    if order.assigned_technician_id is None:
        return None
    return db.session.get(User, order.assigned_technician_id)


def _technician_attr(attr: str) -> Callable[[Order], object]:
    def read(order: Order) -> object:
        technician = _technician(order)
        return getattr(technician, attr) if technician else None

    return read


def _total(ctx: VariableContext) -> str | None:
    """In the message's language ("€ 1.234,50", "€1,234.50"); an order without an
    amount has no total yet."""
    order = ctx.thread.order
    if order is None or not order.total_amount:
        return None
    return local_money(order.total_amount, order.currency, locale=ctx.language)


def _articles(order: Order) -> str | None:
    lines = [f"{line.quantity}× {line.description}" for line in order.line_items]
    return "\n".join(lines) or None


def _charger_model(order: Order) -> str | None:
    for line in order.line_items:
        if line.article is not None and line.article.article_type == ArticleType.WALLBOX:
            return line.article.name
    return None


def _assignee(ctx: VariableContext) -> str | None:
    return ctx.thread.assigned_to.name if ctx.thread.assigned_to else None


def _agent_name(ctx: VariableContext) -> str | None:
    return ctx.agent.name if ctx.agent else None


def _no_agent(ctx: VariableContext) -> str:
    return _("no sending agent is known")


VARIABLES: tuple[Variable, ...] = (
    Variable(
        "customer_name", _l("Customer name"), "contact", _l("Contact's full name"), "Jan de Vries",
        _contact("display_name"), _contact_missing(_l("name")),
    ),
    Variable(
        "customer_first_name", _l("Customer first name"), "contact",
        _l("Contact's first name"), "Jan",
        _contact("first_name"), _contact_missing(_l("first name")),
    ),
    Variable(
        "customer_email", _l("Customer e-mail"), "contact", _l("Contact's e-mail address"),
        "jan.devries@example.nl", _contact("email"), _contact_missing(_l("e-mail address")),
    ),
    Variable(
        "customer_phone", _l("Customer phone"), "contact", _l("Contact's phone number"),
        "+31612345678", _contact("phone"), _contact_missing(_l("phone number")),
    ),
    Variable(
        "order_id", _l("Order number"), "order", _l("Order number of the linked order"),
        "CC-2026-00042", _from_order(lambda order: order.order_number),
        _order_missing(_l("order number")),
    ),
    Variable(
        "quote_number", _l("Quote number"), "order", _l("Number of the quoted order"),
        "CC-2026-00042",
        _from_order(lambda order: order.order_number), _order_missing(_l("order number")),
    ),
    Variable(
        "order_status", _l("Order status"), "order", _l("Status of the linked order"), "Ingepland",
        _order_status, _order_missing(_l("status")),
    ),
    Variable(
        "order_total", _l("Order total"), "order", _l("Total amount of the order"),
        local_money(1849, locale="nl"), _total, _order_missing(_l("total amount")),
    ),
    Variable(
        "articles", _l("Ordered items"), "order", _l("The order's lines, one per line"),
        "1× Zaptec Go 22 kW", _from_order(_articles), _order_missing(_l("order lines")),
    ),
    Variable(
        "charger_model", _l("Charger model"), "order", _l("The charger on the order"), "Zaptec Go",
        _from_order(_charger_model), _order_missing(_l("charger")),
    ),
    Variable(
        "installation_date", _l("Installation date"), "visit",
        _l("The order's scheduled date, dd-mm-yyyy"), "14-05-2026",
        _scheduled_date, _order_missing(_l("planned visit")),
    ),
    Variable(
        "installation_address", _l("Installation address"), "order",
        _l("Installation address on one line"), "Stationsstraat 12, 3511 AB Utrecht",
        _from_order(_address), _order_missing(_l("installation address")),
    ),
    Variable(
        "visit_date", _l("Visit date"), "visit", _l("Date of the planned visit, dd-mm-yyyy"),
        "14-05-2026", _scheduled_date, _order_missing(_l("planned visit")),
    ),
    Variable(
        "visit_time", _l("Visit time"), "visit", _l("Time window of the planned visit"),
        "ochtend (08:00-12:00)", _time_window, _order_missing(_l("time window")),
    ),
    Variable(
        "visit_moment", _l("Visit day and time"), "visit",
        _l("The planned visit in words, from the day it is sent: today, tomorrow or a date"),
        "vandaag tussen 12:00 en 17:00", _visit_moment, _order_missing(_l("planned visit")),
    ),
    Variable(
        "time_window", _l("Time window"), "visit", _l("Time window of the planned visit"),
        "ochtend (08:00-12:00)", _time_window, _order_missing(_l("time window")),
    ),
    Variable(
        "visit_hours", _l("Visit hours"), "visit",
        _l("The planned visit's time window in words"),
        "tussen 08:00 en 12:00", _visit_hours, _order_missing(_l("time window")),
    ),
    Variable(
        "technician_name", _l("Technician"), "visit", _l("Technician of the planned visit"),
        "Ruben Visser", _from_order(_technician_attr("name")), _order_missing(_l("technician")),
    ),
    Variable(
        "technician_phone", _l("Technician's phone"), "visit",
        _l("Phone of the visit's technician"),
        "+31687654321", _from_order(_technician_attr("phone")),
        _order_missing(_l("technician with a phone number")),
    ),
    Variable(
        "agent_name", _l("Your name"), "agent", _l("Name of the person sending"), "Anouk Jansen",
        _agent_name, _no_agent,
    ),
    Variable(
        "team_contact", _l("Contact person"), "agent", _l("The customer's contact: the sender"),
        "Anouk Jansen", _agent_name, _no_agent,
    ),
    Variable(
        "assignee_name", _l("Assigned agent"), "thread", _l("Who the conversation is assigned to"),
        "Anouk Jansen", _assignee, lambda ctx: _("this conversation is not assigned"),
    ),
    Variable(
        "answer_due", _l("Answer due"), "thread",
        _l("When our answer is due by the conversation's SLA, dd-mm-yyyy hh:mm"),
        "26-11-2026 16:00", _answer_due,
        lambda ctx: _("no answer is due in this conversation"),
    ),
    Variable(
        "company_name", _l("Company name"), "company", _l("Company name"), COMPANY_NAME,
        lambda ctx: COMPANY_NAME, lambda ctx: _("no company name is configured"),
    ),
    Variable(
        "thread_subject", _l("Conversation subject"), "thread", _l("Subject of the conversation"),
        "Vraag over mijn laadpaal", lambda ctx: ctx.thread.thread_subject,
        lambda ctx: _("this thread has no subject"),
    ),
)
KNOWN_VARIABLES: dict[str, Variable] = {variable.name: variable for variable in VARIABLES}
