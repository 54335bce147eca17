"""The one catalogue of events a partner can subscribe to.

Everything that names a partner event reads it from here: the admin page's
checkboxes (:mod:`app.orders.partners.web.routes`), the configuration validator
(:mod:`app.orders.partners.config`), the OpenAPI enum (:mod:`app.orders.partners.schemas`),
the table in ``docs/partners.md`` (:func:`docs_table`, a test holds the file to
it) and the ``event`` of every callback written
(:mod:`app.orders.deliveries.partner_callbacks`). A new event is one entry below.

It lives in ``deliveries`` because the callbacks are sent from here and the
partners feature already depends on this package, never the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.platform.models.enums import OrderStatus


@dataclass(frozen=True)
class PartnerEvent:
    name: str
    # The admin page's checkbox text, in the reader's language.
    label: object
    # When it is sent, in the partner's words (docs and OpenAPI, English).
    sent_when: str
    # The order status a change to which sends it; None for events not tied to one.
    status: OrderStatus | None = None
    # Another name accepted for the same event (partners built for ``order_completed``).
    alias_of: str | None = None


ORDER_CREATED = "order_created"
VISIT_SCHEDULED = "visit_scheduled"
VISIT_RESCHEDULED = "visit_rescheduled"
VISIT_COMPLETED = "visit_completed"
VISIT_CONFIRMED = "visit_confirmed"
STATUS_CHANGED = "status_changed"
TEST = "test"

EVENTS: tuple[PartnerEvent, ...] = (
    PartnerEvent(
        ORDER_CREATED,
        _l("Order created"),
        "the order is created, through the API, a form, an e-mail or by hand",
        OrderStatus.NEW,
    ),
    PartnerEvent(
        "quote_sent",
        _l("Quote sent"),
        "the order moves to `quote_sent`: the customer has our quote",
        OrderStatus.QUOTE_SENT,
    ),
    PartnerEvent(
        "order_approved",
        _l("Order approved"),
        "the order moves to `approved`",
        OrderStatus.APPROVED,
    ),
    PartnerEvent(
        VISIT_SCHEDULED,
        _l("Visit scheduled"),
        "the order moves to `scheduled`: the installation visit has a date; "
        "also when a later visit (`visit.number` 2 and up: a second day, a return "
        "visit) is planned, the status staying as it is",
        OrderStatus.SCHEDULED,
    ),
    PartnerEvent(
        VISIT_RESCHEDULED,
        _l("Visit rescheduled"),
        "a planned visit moves to another date, time window or technician, or a "
        "later visit's plan is taken back (`visit.date` null); the status stays as it is; "
        "`visit.reason` is `customer` when the customer moved it on their personal page",
    ),
    PartnerEvent(
        VISIT_CONFIRMED,
        _l("Visit confirmed by the customer"),
        "the customer confirmed a planned visit in answer to our reminder the day "
        "before (`visit` says which); the status stays as it is",
    ),
    PartnerEvent(
        "installation_started",
        _l("Installation started"),
        "the order moves to `in_progress`: the technician has started",
        OrderStatus.IN_PROGRESS,
    ),
    PartnerEvent(
        "installation_completed",
        _l("Installation completed"),
        "the order moves to `completed`",
        OrderStatus.COMPLETED,
    ),
    PartnerEvent(
        "order_completed",
        _l("Order completed (same as installation completed)"),
        "the order moves to `completed`; another name for `installation_completed`, "
        "sent under this name when you subscribe to it and not to that one",
        OrderStatus.COMPLETED,
        alias_of="installation_completed",
    ),
    PartnerEvent(
        VISIT_COMPLETED,
        _l("Visit completed (an order with more visits)"),
        "one visit of an order with more than one is done and another follows; "
        "the status stays as it is (the last visit completes the order)",
    ),
    PartnerEvent(
        "order_on_hold",
        _l("Order on hold"),
        "the order moves to `on_hold`",
        OrderStatus.ON_HOLD,
    ),
    PartnerEvent(
        "order_cancelled",
        _l("Order cancelled"),
        "the order moves to `cancelled`",
        OrderStatus.CANCELLED,
    ),
    PartnerEvent(
        STATUS_CHANGED,
        _l("Any status change"),
        "any status change for which you subscribed to no event of its own above",
    ),
    PartnerEvent(
        TEST,
        _l("Test event"),
        'a ChargeCars administrator pressed "Send test event"; the order in it is made up',
    ),
)

EVENT_NAMES: tuple[str, ...] = tuple(event.name for event in EVENTS)
BY_NAME: dict[str, PartnerEvent] = {event.name: event for event in EVENTS}


def is_known(name: str) -> bool:
    return name in BY_NAME


def status_events(status: str) -> tuple[str, ...]:
    """The events tied to a later change to ``status``, in order of preference.

    ``order_created`` is the first status's event only, not a return to ``new``.
    """
    return tuple(
        e.name
        for e in EVENTS
        if e.status is not None and e.status.value == status and e.name != ORDER_CREATED
    )


def docs_table() -> str:
    """The Markdown table of ``docs/partners.md`` (a test holds the file to this)."""
    lines = [
        "| event | sent when | order status |",
        "|---|---|---|",
    ]
    for event in EVENTS:
        status = f"`{event.status.value}`" if event.status else "–"
        lines.append(f"| `{event.name}` | {event.sent_when} | {status} |")
    return "\n".join(lines) + "\n"


def openapi_description() -> str:
    """What each name means, for the ``webhook_events`` field of the OpenAPI document."""
    return "Events to receive at `webhook_url`: " + "; ".join(
        f"`{event.name}`: {event.sent_when}" for event in EVENTS
    )


if __name__ == "__main__":  # python -m app.orders.deliveries.partner_events > table
    print(docs_table(), end="")
